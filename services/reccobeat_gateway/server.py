"""Wiring: the upstream client, caches and logic objects behind the servicer."""

from __future__ import annotations

import httpx
from grpc import aio
from prometheus_client import CollectorRegistry
from segue.v1 import common_pb2, reccobeat_gateway_pb2, reccobeat_gateway_pb2_grpc

from services.common.cache import Cache, make_store
from services.common.metrics import CacheMetrics, UpstreamMetrics
from services.common.server import ServiceDefinition
from services.common.upstream_http import RetryPolicy, UpstreamClient
from services.reccobeat_gateway.absent import CachedAbsentIds
from services.reccobeat_gateway.artists import Artists
from services.reccobeat_gateway.client import UPSTREAM, ReccoBeatsClient
from services.reccobeat_gateway.config import Config
from services.reccobeat_gateway.lookup import BatchLookup
from services.reccobeat_gateway.metrics import GatewayMetrics
from services.reccobeat_gateway.recommendations import Recommender
from services.reccobeat_gateway.servicer import ReccoBeatGatewayServicer

SERVICE_NAME = "segue.v1.ReccoBeatGateway"


async def build(
    cfg: Config, registry: CollectorRegistry, *, transport: httpx.AsyncBaseTransport | None = None
) -> ServiceDefinition:
    metrics = GatewayMetrics.create(registry)
    cache_metrics = CacheMetrics.create(registry)
    http = UpstreamClient(
        UPSTREAM,
        cfg.base_url,
        timeout_s=cfg.timeout_s,
        metrics=UpstreamMetrics.create(registry),
        retry=RetryPolicy(max_attempts=cfg.max_attempts),
        transport=transport,
        max_connections=cfg.max_concurrency,
    )
    client = ReccoBeatsClient(http, metrics, max_concurrency=cfg.max_concurrency)
    store = make_store(cfg.server.redis_url)

    def cache(namespace: str) -> Cache:
        return Cache(store, namespace, cache_metrics)

    absent = CachedAbsentIds(cache("rb-absent"), cfg.absent_ttl_s)
    tracks = BatchLookup(
        "track",
        common_pb2.Track,
        client.tracks,
        cache=cache("rb-track"),
        ttl_s=cfg.track_ttl_s,
        absent=absent,
        metrics=metrics,
    )
    features = BatchLookup(
        "features",
        reccobeat_gateway_pb2.TrackFeatures,
        client.audio_features,
        cache=cache("rb-features"),
        ttl_s=cfg.track_ttl_s,
        absent=absent,
        metrics=metrics,
    )
    servicer = ReccoBeatGatewayServicer(
        tracks,
        features,
        Recommender(client, cache("rb-recommendation"), cfg.recommendation_ttl_s, tracks.remember),
        Artists(client, cache("rb-artist"), cfg.artist_ttl_s, tracks.remember),
    )

    def add_to_server(server: aio.Server) -> None:
        reccobeat_gateway_pb2_grpc.add_ReccoBeatGatewayServicer_to_server(servicer, server)

    return ServiceDefinition(
        service_names=[SERVICE_NAME],
        add_to_server=add_to_server,
        closers=[client.aclose, store.close],
    )

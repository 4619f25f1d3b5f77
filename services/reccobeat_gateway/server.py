"""Wiring: the upstream client, caches and logic objects behind the servicer."""

from __future__ import annotations

import asyncio

import httpx
from grpc import aio
from prometheus_client import CollectorRegistry
from segue.v1 import common_pb2, reccobeat_gateway_pb2, reccobeat_gateway_pb2_grpc

from services.common import service_names
from services.common.cache import Cache, RedisStore, make_store
from services.common.metrics import CacheMetrics, SchedulerMetrics, UpstreamMetrics, WorkSharingMetrics
from services.common.redis_client import connect_configured, connect_if_set, warm_up
from services.common.scheduler import make_pacer
from services.common.server import ServiceDefinition
from services.common.singleflight import SingleFlight
from services.common.upstream_http import HedgePolicy, RetryPolicy, UpstreamClient
from services.reccobeat_gateway.absent import BloomAbsentIds, RegistrySettings
from services.reccobeat_gateway.artists import Artists
from services.reccobeat_gateway.client import UPSTREAM, ReccoBeatsClient
from services.reccobeat_gateway.config import Config
from services.reccobeat_gateway.lookup import BatchLookup
from services.reccobeat_gateway.metrics import GatewayMetrics
from services.reccobeat_gateway.recommendations import Recommender
from services.reccobeat_gateway.servicer import ReccoBeatGatewayServicer


async def build(
    cfg: Config, registry: CollectorRegistry, *, transport: httpx.AsyncBaseTransport | None = None
) -> ServiceDefinition:
    metrics = GatewayMetrics.create(registry)
    cache_metrics = CacheMetrics.create(registry)
    sharing = WorkSharingMetrics.create(registry)
    timeouts = cfg.endpoint_timeouts()
    redis = connect_if_set(cfg.server)
    await warm_up(redis)
    pacer = make_pacer(redis, {UPSTREAM: cfg.limits}, metrics=SchedulerMetrics.create(registry), settings=cfg.scheduler)
    http = UpstreamClient(
        UPSTREAM,
        cfg.base_url,
        timeout_s=max(timeouts.values()),
        endpoint_timeouts=timeouts,
        hedge=HedgePolicy(
            enabled=cfg.hedge,
            min_delay_s=cfg.hedge_min_delay_s,
            default_delay_s=cfg.hedge_delay_s,
            endpoint_default_delays_s={"GET /track/recommendation": cfg.recommendation_hedge_delay_s},
            max_token_wait_s=cfg.hedge_max_wait_s,
        ),
        metrics=UpstreamMetrics.create(registry),
        pacer=pacer,
        retry=RetryPolicy(max_attempts=cfg.max_attempts),
        transport=transport,
        max_connections=cfg.max_concurrency,
    )
    client = ReccoBeatsClient(http, metrics, max_concurrency=cfg.max_concurrency)
    store = make_store(redis, cfg.server, cache_metrics)

    def cache(namespace: str) -> Cache:
        return Cache(store, namespace, cache_metrics)

    # The registry's own connection: its pipelines carry long BITFIELD commands, apart from the cache's reads.
    # Set up like the cache's (short timeouts, one retry) and guarded by the cache's breaker and deadline.
    registry_redis = connect_configured(cfg.server) if cfg.server.redis_url else None
    absent = BloomAbsentIds(
        RegistrySettings(
            period_s=cfg.absent_rotation_s,
            generations=cfg.absent_generations,
            capacity=cfg.absent_capacity,
            error_rate=cfg.absent_false_positive_rate,
            recheck_fraction=cfg.absent_recheck_fraction,
        ),
        metrics,
        redis=registry_redis,
        guard=store.guarded if isinstance(store, RedisStore) else None,
    )
    slots = asyncio.Semaphore(cfg.max_concurrency)  # the batched lookups share the upstream's slots
    features = BatchLookup(
        "features",
        reccobeat_gateway_pb2.TrackFeatures,
        client.audio_features,
        cache=cache("rb-features"),
        ttl_s=cfg.track_ttl_s,
        absent=absent,
        metrics=metrics,
        window_s=cfg.batch_window_s,
        slots=slots,
        sharing=sharing,
        max_ids=cfg.max_ids_per_request,
    )
    artist_ids = BatchLookup(
        "artist",
        common_pb2.Artist,
        client.artists,
        cache=cache("rb-artist-id"),
        ttl_s=cfg.track_ttl_s,  # an artist's IDs never change
        absent=absent,
        metrics=metrics,
        window_s=cfg.batch_window_s,
        slots=slots,
        sharing=sharing,
    )
    servicer = ReccoBeatGatewayServicer(
        features,
        artist_ids,
        Recommender(
            client,
            cache("rb-recommendation"),
            cfg.recommendation_ttl_s,
            SingleFlight("reccobeats-recommendation", sharing),
        ),
        Artists(client, cache("rb-artist"), cfg.artist_ttl_s),
    )

    redis_closers = [r.aclose for r in (registry_redis, redis) if r is not None]

    def add_to_server(server: aio.Server) -> None:
        reccobeat_gateway_pb2_grpc.add_ReccoBeatGatewayServicer_to_server(servicer, server)

    return ServiceDefinition(
        service_names=[service_names.RECCOBEAT_GATEWAY],
        add_to_server=add_to_server,
        background=[features.aclose, artist_ids.aclose],  # their batches, cancelled before the clients close
        closers=[client.aclose, store.close, *redis_closers],
    )

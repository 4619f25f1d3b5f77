"""Wiring: the Spotify client, identities, the user-context cache, the ReccoBeat gateway channel, the servicer."""

from __future__ import annotations

import httpx
from grpc import aio
from prometheus_client import CollectorRegistry
from segue.v1 import seed_gatherer_pb2_grpc

from services.common import service_names, stubs
from services.common.cache import Cache, make_store
from services.common.channels import make_channel
from services.common.degradation import SPOTIFY
from services.common.identity import NAMESPACE as IDENTITY_NAMESPACE
from services.common.identity import Identities
from services.common.metrics import CacheMetrics, GrpcMetrics, SchedulerMetrics, UpstreamMetrics, WorkSharingMetrics
from services.common.redis_client import connect_if_set, warm_up
from services.common.scheduler import make_pacer
from services.common.server import ServiceDefinition
from services.common.singleflight import SingleFlight
from services.common.upstream_http import HedgePolicy, UpstreamClient
from services.seed_gatherer.catalog_search import CatalogSearch
from services.seed_gatherer.config import Config
from services.seed_gatherer.discovery import ArtistDiscovery
from services.seed_gatherer.gathering import SeedGatherer
from services.seed_gatherer.phases import PhaseMetrics
from services.seed_gatherer.servicer import SeedGathererServicer
from services.seed_gatherer.spotify_client import SpotifyClient
from services.seed_gatherer.user_context import UserContextLoader


async def build(
    cfg: Config, registry: CollectorRegistry, *, transport: httpx.AsyncBaseTransport | None = None
) -> ServiceDefinition:
    redis = connect_if_set(cfg.server)
    await warm_up(redis)
    pacer = make_pacer(redis, {SPOTIFY: cfg.limits}, metrics=SchedulerMetrics.create(registry), settings=cfg.scheduler)
    http = UpstreamClient(
        SPOTIFY,
        cfg.spotify_base_url,
        timeout_s=cfg.spotify_timeout_s,
        metrics=UpstreamMetrics.create(registry),
        hedge=HedgePolicy(enabled=cfg.spotify_hedge, spare_only=True),
        pacer=pacer,
        transport=transport,
    )
    spotify = SpotifyClient(http, extended_quota=cfg.spotify_extended_quota)
    cache_metrics = CacheMetrics.create(registry)
    store = make_store(redis, cfg.server, cache_metrics)
    sharing = WorkSharingMetrics.create(registry)
    identities = Identities(http, Cache(store, IDENTITY_NAMESPACE, cache_metrics), cfg.identity)
    contexts = UserContextLoader(
        spotify,
        Cache(store, "seed_gatherer", cache_metrics),
        ttl_s=cfg.user_context_ttl_s,
        tracks_limit=cfg.top_tracks_limit,
        artists_limit=cfg.top_artists_limit,
        flights=SingleFlight("user-context", sharing),
    )
    channel = make_channel(
        cfg.reccobeat_gateway_addr,
        metrics=GrpcMetrics.create(registry, "client"),
        default_timeout_s=cfg.peer_timeout_s,
        connect_timeout_s=cfg.peer_connect_timeout_s,
        security=cfg.server.security,
    )
    gateway = stubs.reccobeat_gateway(channel)
    phases = PhaseMetrics.create(registry)
    search = CatalogSearch(spotify, Cache(store, "seed_gatherer", cache_metrics), cfg.search_cache_ttl_s)
    discovery = ArtistDiscovery(
        search,
        gateway,
        Cache(store, "seed_gatherer", cache_metrics),
        cfg.discovery,
        phases,
        SingleFlight("artist-discovery", sharing),
    )
    servicer = SeedGathererServicer(SeedGatherer(identities, contexts, search, gateway, phases), discovery)

    def add_to_server(server: aio.Server) -> None:
        seed_gatherer_pb2_grpc.add_SeedGathererServicer_to_server(servicer, server)

    return ServiceDefinition(
        service_names=[service_names.SEED_GATHERER],
        add_to_server=add_to_server,
        closers=[http.aclose, store.close, channel.close, *([redis.aclose] if redis else [])],
    )

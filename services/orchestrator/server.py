"""Wires the orchestrator: caller authentication, identity, quotas, peer channels, the session cache, the servicer."""

from __future__ import annotations

from prometheus_client import CollectorRegistry
from segue.v1 import orchestrator_pb2_grpc

from services.common import service_names
from services.common.cache import Cache, make_store
from services.common.identity import NAMESPACE as IDENTITY_NAMESPACE
from services.common.identity import Identities
from services.common.metrics import CacheMetrics, GrpcMetrics, SchedulerMetrics, UpstreamMetrics
from services.common.redis_client import connect_if_set
from services.common.scheduler import BudgetView, make_pacer
from services.common.server import ServiceDefinition
from services.common.upstream_http import UpstreamClient
from services.orchestrator.admission import Admission, Quotas
from services.orchestrator.callers import CallerAuthenticator, CallerAuthInterceptor
from services.orchestrator.config import Config
from services.orchestrator.metrics import RecommendMetrics
from services.orchestrator.overload import Overload, OverloadMetrics
from services.orchestrator.peers import Peers
from services.orchestrator.popular import PopularMoods, RecentPrompts
from services.orchestrator.prefetch import BackgroundWork
from services.orchestrator.servicer import OrchestratorServicer
from services.orchestrator.sessions import SessionStore


async def build(cfg: Config, registry: CollectorRegistry) -> ServiceDefinition:
    authenticator = CallerAuthenticator(cfg.callers)  # reads the JWT key files: a bad one fails the start
    peers = Peers.connect(
        cfg.llm_gateway_addr,
        cfg.seed_gatherer_addr,
        cfg.reccobeat_gateway_addr,
        cfg.peer_timeout_s,
        GrpcMetrics.create(registry, "client"),
        cfg.server.security,
        connect_timeout_s=cfg.peer_connect_timeout_s,
    )
    cache_metrics = CacheMetrics.create(registry)
    redis = connect_if_set(cfg.server)
    store = make_store(redis, cfg.server, cache_metrics)
    # Admission reads the gateways' shared upstream budget (read-only); without Redis every pass goes in full.
    overload = Overload(
        BudgetView(redis) if redis is not None else None,
        cfg.llm_mood_budget_s,
        OverloadMetrics.create(registry),
        target_s=cfg.overload_target_s,
    )
    # The identity check's GET /me goes through the same shared Spotify budget as the seed gatherer's calls.
    pacer = make_pacer(
        redis, {"spotify": cfg.spotify_limit.limits}, metrics=SchedulerMetrics.create(registry), settings=cfg.scheduler
    )
    spotify = UpstreamClient(
        "spotify",
        cfg.spotify_base_url,
        timeout_s=cfg.spotify_timeout_s,
        metrics=UpstreamMetrics.create(registry),
        pacer=pacer,
    )
    identities = Identities(spotify, Cache(store, IDENTITY_NAMESPACE, cache_metrics), cfg.identity)
    quotas = Quotas()
    recent = RecentPrompts(cfg.popular.window_s)
    servicer = OrchestratorServicer(
        peers,
        SessionStore(Cache(store, "orchestrator", cache_metrics), cfg.session_ttl_s, cfg.repeat_ttl_s),
        Admission(identities, quotas, cfg.caller_quota, cfg.user_quota),
        BackgroundWork(quotas, cfg.prefetch_max_inflight, cfg.prefetch_user_quota),
        cfg.recommend_timeout_s,
        cfg.prefetch_timeout_s,
        RecommendMetrics.create(registry),
        recent,
        overload=overload,
        max_deadline_s=cfg.server.max_deadline_s,
    )
    popular = PopularMoods(peers, cfg.popular, recent, registry)
    popular.start()
    return ServiceDefinition(
        service_names=[service_names.ORCHESTRATOR],
        add_to_server=lambda server: orchestrator_pb2_grpc.add_OrchestratorServicer_to_server(servicer, server),
        background=[popular.stop, servicer.close],  # stopped before the peers and clients they use are closed
        closers=[peers.close, spotify.aclose, store.close, *([redis.aclose] if redis else [])],
        public=True,
        admission=[CallerAuthInterceptor(authenticator)],
        callers=cfg.callers.describe(),
    )

"""Wires the orchestrator: peer channels, the session cache, the servicer."""

from __future__ import annotations

from prometheus_client import CollectorRegistry
from segue.v1 import orchestrator_pb2_grpc

from services.common.cache import Cache, make_store
from services.common.metrics import CacheMetrics, GrpcMetrics
from services.common.server import ServiceDefinition
from services.orchestrator.config import Config
from services.orchestrator.metrics import RecommendMetrics
from services.orchestrator.peers import Peers
from services.orchestrator.servicer import OrchestratorServicer
from services.orchestrator.sessions import SessionStore


async def build(cfg: Config, registry: CollectorRegistry) -> ServiceDefinition:
    peers = Peers.connect(
        cfg.llm_gateway_addr,
        cfg.seed_gatherer_addr,
        cfg.reccobeat_gateway_addr,
        cfg.peer_timeout_s,
        GrpcMetrics.create(registry, "client"),
    )
    store = make_store(cfg.server.redis_url)
    sessions = SessionStore(Cache(store, "orchestrator", CacheMetrics.create(registry)), cfg.session_ttl_s)
    servicer = OrchestratorServicer(
        peers, sessions, cfg.recommend_timeout_s, cfg.prefetch_timeout_s, RecommendMetrics.create(registry)
    )
    return ServiceDefinition(
        service_names=["segue.v1.Orchestrator"],
        add_to_server=lambda server: orchestrator_pb2_grpc.add_OrchestratorServicer_to_server(servicer, server),
        closers=[peers.close, store.close],
    )

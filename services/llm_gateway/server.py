"""Wiring: the Gemini client, the response cache and the servicer, with closers for a clean stop."""

from __future__ import annotations

from grpc import aio
from prometheus_client import CollectorRegistry
from segue.v1 import llm_gateway_pb2_grpc

from services.common import service_names
from services.common.cache import Cache, make_store
from services.common.metrics import CacheMetrics, SchedulerMetrics, WorkSharingMetrics
from services.common.redis_client import connect_if_set, warm_up
from services.common.scheduler import SharedScheduler
from services.common.server import ServiceDefinition
from services.common.upstream_http import Pacer
from services.llm_gateway.budget import GeminiBudget, LocalGeminiBudget, PacerGeminiBudget
from services.llm_gateway.config import Config
from services.llm_gateway.gemini import UPSTREAM, GeminiClient
from services.llm_gateway.metrics import LlmMetrics
from services.llm_gateway.mood import BundleSettings, MoodAnalyzer
from services.llm_gateway.servicer import LlmGatewayServicer
from services.llm_gateway.tasks import TaskRunner


async def build(cfg: Config, registry: CollectorRegistry) -> ServiceDefinition:
    """Tests point the gateway at a fake Gemini through cfg.gemini_base_url."""
    redis = connect_if_set(cfg.server)
    await warm_up(redis)
    pacer: Pacer
    budget: GeminiBudget
    if redis is None:
        # One process: the local 429 pause, and this process's own count of requests, decide bundling.
        pacer = budget = LocalGeminiBudget(cfg.gemini_local_rpm)
    else:
        # Every replica: requests and tokens per minute in Redis, and bundling decided from that budget.
        scheduler = SharedScheduler(
            redis, {UPSTREAM: cfg.limits}, metrics=SchedulerMetrics.create(registry), settings=cfg.scheduler
        )
        pacer, budget = scheduler, PacerGeminiBudget(scheduler)
    gemini = GeminiClient(
        api_key=cfg.gemini_api_key,
        base_url=cfg.gemini_base_url,
        model=cfg.gemini_model,
        api_version=cfg.gemini_api_version,
        timeout_s=cfg.llm_timeout_s,
        max_attempts=cfg.llm_max_attempts,
        metrics=LlmMetrics.create(registry),
        pacer=pacer,
    )
    cache_metrics = CacheMetrics.create(registry)
    store = make_store(redis, cfg.server, cache_metrics)
    cache = Cache(store, "llm", cache_metrics)
    mood = MoodAnalyzer(
        gemini,
        cache,
        cfg.llm_cache_ttl_s,
        budget=budget,
        bundling=BundleSettings(window_s=cfg.bundle_window_s, max_prompts=cfg.bundle_max_prompts),
        sharing=WorkSharingMetrics.create(registry),
    )
    servicer = LlmGatewayServicer(mood, TaskRunner(gemini, cache, cfg.llm_cache_ttl_s, cfg.llm_max_prompt_chars))

    def add_to_server(server: aio.Server) -> None:
        llm_gateway_pb2_grpc.add_LlmGatewayServicer_to_server(servicer, server)

    return ServiceDefinition(
        service_names=[service_names.LLM_GATEWAY],
        add_to_server=add_to_server,
        background=[mood.aclose],  # its bundles still waiting, cancelled before the clients close
        closers=[gemini.aclose, store.close, *([redis.aclose] if redis else [])],
    )

"""The four services started in this process against the simulator, the orchestrator's stub to call them."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

from grpc import aio
from segue.v1 import (
    orchestrator_pb2_grpc,
)

from services.common import stubs
from services.llm_gateway import config as llm_config
from services.llm_gateway import server as llm_server
from services.orchestrator import config as orchestrator_config
from services.orchestrator import server as orchestrator_server
from services.reccobeat_gateway import config as recco_config
from services.reccobeat_gateway import server as recco_server
from services.seed_gatherer import config as seeds_config
from services.seed_gatherer import server as seeds_server
from sim.testing import RunningSim, running_sim
from tests.unit.inprocess import LOOPBACK, Served, serving

Stub = Callable[[aio.Channel], Any]


@dataclass
class InProcessMesh:
    stub: orchestrator_pb2_grpc.OrchestratorAsyncStub
    services: dict[str, Served[Any]]
    sim: RunningSim


@asynccontextmanager
async def in_process_mesh(
    extra_env: Mapping[str, Mapping[str, str]] | None = None, profile: str | Path = "fast"
) -> AsyncIterator[InProcessMesh]:
    """`extra_env`: more environment for a service, by name (e.g. {"llm_gateway": {...}}); `profile`: the
    simulator's (a name or a file)."""
    extra = extra_env or {}
    async with running_sim(profile) as sim, AsyncExitStack() as stack:

        async def serve(name: str, config: ModuleType, server: ModuleType, stub: Stub, env: dict[str, str]) -> Any:
            cfg = config.from_env({**LOOPBACK, **env, **extra.get(name, {})})
            return await stack.enter_async_context(serving(cfg, server.build, stub))

        recco = await serve(
            "reccobeat_gateway",
            recco_config,
            recco_server,
            stubs.reccobeat_gateway,
            {"RECCOBEAT_BASE_URL": sim.reccobeats_url},
        )
        llm = await serve(
            "llm_gateway",
            llm_config,
            llm_server,
            stubs.llm_gateway,
            {"GEMINI_BASE_URL": sim.gemini_url, "GEMINI_API_KEY": "unit-test-key"},
        )
        seeds = await serve(
            "seed_gatherer",
            seeds_config,
            seeds_server,
            stubs.seed_gatherer,
            {"SPOTIFY_BASE_URL": sim.spotify_url, "RECCOBEAT_GATEWAY_ADDR": recco.address},
        )
        orchestrator = await serve(
            "orchestrator",
            orchestrator_config,
            orchestrator_server,
            stubs.orchestrator,
            {
                "SPOTIFY_BASE_URL": sim.spotify_url,
                "LLM_GATEWAY_ADDR": llm.address,
                "SEED_GATHERER_ADDR": seeds.address,
                "RECCOBEAT_GATEWAY_ADDR": recco.address,
            },
        )
        yield InProcessMesh(
            orchestrator.stub,
            {"reccobeat_gateway": recco, "llm_gateway": llm, "seed_gatherer": seeds, "orchestrator": orchestrator},
            sim,
        )

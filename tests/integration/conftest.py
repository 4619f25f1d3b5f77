"""Integration fixtures: the whole mesh as real processes — simulator, a private redis-server, four services."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
import pytest_asyncio
from grpc import aio
from segue.v1 import orchestrator_pb2_grpc

from segue_cli.mesh import Mesh, MeshOptions, running_mesh
from services.common import stubs
from tests.integration.probes import eventually, scraped

# A mood the orchestrator keeps warm in the background (one pass at start, none again during the tests).
POPULAR_MOOD = "calm piano for a quiet evening"


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def mesh(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Mesh]:
    options = MeshOptions(
        profile="fast",
        redis="spawn",
        log_dir=tmp_path_factory.mktemp("mesh-logs"),
        # A test that empties Redis means it: no process-local copy stands in (tests/chaos covers those).
        service_env={"CACHE_LOCAL_COPY_S": "0"},
        one_service_env={"orchestrator": {"POPULAR_MOODS": POPULAR_MOOD, "POPULAR_MOODS_INTERVAL_S": "3600"}},
    )
    async with running_mesh(options) as running:

        async def warmed() -> bool:
            return await scraped(running.metrics_ports["orchestrator"], "segue_popular_mood_passes_total") >= 1

        # The start-up pass ends before any test counts upstream calls.
        await eventually(warmed, "the popular-moods job finished its first pass")
        yield running


@pytest_asyncio.fixture(loop_scope="session")
async def orchestrator(mesh: Mesh) -> AsyncIterator[orchestrator_pb2_grpc.OrchestratorAsyncStub]:
    async with aio.insecure_channel(mesh.orchestrator) as channel:
        yield stubs.orchestrator(channel)


@pytest_asyncio.fixture(loop_scope="session")
async def sim_http(mesh: Mesh) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=mesh.sim_url, timeout=10) as client:
        yield client

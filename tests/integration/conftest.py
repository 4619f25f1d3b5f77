"""Integration fixtures: the whole mesh as real processes — simulator, a private redis-server, four services."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
import pytest_asyncio
from grpc import aio
from segue.v1 import orchestrator_pb2_grpc

from segue_cli.mesh import Mesh, MeshOptions, running_mesh


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def mesh(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Mesh]:
    options = MeshOptions(profile="fast", redis="spawn", log_dir=tmp_path_factory.mktemp("mesh-logs"))
    async with running_mesh(options) as running:
        yield running


@pytest_asyncio.fixture(loop_scope="session")
async def orchestrator(mesh: Mesh) -> AsyncIterator[orchestrator_pb2_grpc.OrchestratorStub]:
    async with aio.insecure_channel(mesh.orchestrator) as channel:
        yield orchestrator_pb2_grpc.OrchestratorStub(channel)


@pytest_asyncio.fixture(loop_scope="session")
async def sim_http(mesh: Mesh) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=mesh.sim_url, timeout=10) as client:
        yield client

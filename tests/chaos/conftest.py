"""The chaos suite's mesh: real processes on loopback — simulator, a private redis-server, four services.

Separate from the integration tests' mesh: these tests stop, freeze, empty and restart its parts.
Every test leaves it whole again (a fault always heals, even when the test fails).
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
import pytest_asyncio

from segue_cli.mesh import Mesh, MeshOptions, running_mesh
from tests.chaos.traffic import CHAOS_ENV


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def chaos_mesh(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Mesh]:
    options = MeshOptions(
        profile="fast",
        redis="spawn",
        log_dir=tmp_path_factory.mktemp("chaos-logs"),
        redis_maxmemory="32mb",
        service_env=CHAOS_ENV,
    )
    async with running_mesh(options) as running:
        yield running

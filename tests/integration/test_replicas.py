"""Two processes of each gateway sharing one Redis: Recommend works through them, and both serve calls.

The orchestrator and the seed gatherer dial every replica of a gateway as one `ipv4:` target, which
the channels' round_robin policy spreads calls over (services.common.channels). Each replica's own
/metrics says how many calls it answered.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio
from grpc import aio

from segue_cli.client import recommend_request
from segue_cli.mesh import GATEWAYS, PROTO_NAMES, Mesh, MeshOptions, running_mesh
from services.common import stubs
from tests.integration.probes import scraped

pytestmark = [pytest.mark.integration, pytest.mark.asyncio(loop_scope="module")]

PROMPTS = (
    "rainy sunday, slow jazz, nothing sad",
    "upbeat indie for a morning run",
    "late night drive through the city, synthwave",
    "calm acoustic focus music for studying",
    "gym, heavy and loud",
    "sunny afternoon, happy pop",
)


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def replicated(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Mesh]:
    options = MeshOptions(
        profile="fast",
        redis="spawn",
        replicas=2,
        log_dir=Path(tmp_path_factory.mktemp("replica-logs")),
        service_env={"CACHE_LOCAL_COPY_S": "0"},
    )
    async with running_mesh(options) as mesh:
        yield mesh


async def served(mesh: Mesh, instance: str, service: str) -> float:
    """Calls of the service's own methods (not health checks) one replica answered, whatever their status."""
    return await scraped(mesh.metrics_ports[instance], "grpc_server_handled_total", grpc_service=PROTO_NAMES[service])


async def test_recommend_through_two_replicas_of_each_gateway_uses_both(replicated: Mesh) -> None:
    assert all(len(replicated.instances(g)) == 2 for g in GATEWAYS)
    answered: list[int] = []
    async with aio.insecure_channel(replicated.orchestrator) as channel:
        stub = stubs.orchestrator(channel)
        for i, prompt in enumerate(PROMPTS):
            token = (("x-spotify-token", f"user-{20 + i}-replicas"),)
            response = await stub.Recommend(recommend_request(prompt, "", 10, ""), metadata=token, timeout=60)
            answered.append(len(response.tracks))
            counts = {
                instance: await served(replicated, instance, gateway)
                for gateway in GATEWAYS
                for instance in replicated.instances(gateway)
            }
            if i >= 1 and all(counts.values()):
                break

    assert answered and all(n == 10 for n in answered), answered
    idle = [instance for instance, n in counts.items() if n == 0]
    assert not idle, f"these replicas answered no call after {len(answered)} requests: {idle} ({counts})"

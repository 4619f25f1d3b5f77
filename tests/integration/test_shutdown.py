"""SIGTERM on a real orchestrator process: NOT_SERVING at once, in-flight calls still complete, clean exit."""

from __future__ import annotations

import asyncio
import signal
from pathlib import Path

import pytest
from grpc import aio
from grpc_health.v1 import health_pb2, health_pb2_grpc
from segue.v1 import orchestrator_pb2

from segue_cli.mesh import Mesh, free_port, spawn_service, stop_process, wait_serving
from services.common import stubs
from tests.integration.probes import eventually

pytestmark = [pytest.mark.integration, pytest.mark.asyncio(loop_scope="session")]


async def health_status(stub: health_pb2_grpc.HealthStub) -> int:
    reply = await stub.Check(health_pb2.HealthCheckRequest(service="segue.v1.Orchestrator"), timeout=2)
    return int(reply.status)


async def test_sigterm_drains_while_in_flight_calls_complete(mesh: Mesh, tmp_path: Path) -> None:
    port = free_port()
    env = {
        "METRICS_PORT": "-1",
        "REDIS_URL": mesh.redis_url,
        "SPOTIFY_BASE_URL": mesh.base_urls["spotify"],
        "LLM_GATEWAY_ADDR": mesh.addresses["llm_gateway"],
        "SEED_GATHERER_ADDR": mesh.addresses["seed_gatherer"],
        "RECCOBEAT_GATEWAY_ADDR": mesh.addresses["reccobeat_gateway"],
        # NOT_SERVING is visible only until the drain delay ends and the server stops taking calls:
        # long enough for a loaded machine to poll it.
        "DRAIN_DELAY_S": "3.0",
        "SHUTDOWN_GRACE_S": "20",
    }
    log_path = tmp_path / "orchestrator.log"
    proc = spawn_service("orchestrator", port, env, log_path)
    try:
        async with aio.insecure_channel(f"127.0.0.1:{port}") as channel:
            health = health_pb2_grpc.HealthStub(channel)
            await wait_serving("orchestrator", f"127.0.0.1:{port}", proc, log_path, timeout_s=30)
            assert await health_status(health) == health_pb2.HealthCheckResponse.SERVING

            stub = stubs.orchestrator(channel)
            request = orchestrator_pb2.RecommendRequest(
                user_id="simuser31", mood_prompt="a unique prompt for draining: melancholy cello at dusk", size=5
            )
            call = stub.RecommendStream(
                orchestrator_pb2.RecommendStreamRequest(request=request),
                metadata=(("x-spotify-token", "user-31-drain"),),
                timeout=60,
            )
            first = await call.read()
            assert first.HasField("progress"), "the call is in flight"

            async def not_serving() -> bool:
                return await health_status(health) == health_pb2.HealthCheckResponse.NOT_SERVING

            proc.send_signal(signal.SIGTERM)
            await eventually(not_serving, "health reports NOT_SERVING after SIGTERM")

            rest = []
            while (event := await call.read()) != aio.EOF:
                rest.append(event)
            assert rest[-1].HasField("result")
            assert len(rest[-1].result.tracks) == 5
        assert await asyncio.get_running_loop().run_in_executor(None, proc.wait, 30) == 0
    finally:
        stop_process(proc)

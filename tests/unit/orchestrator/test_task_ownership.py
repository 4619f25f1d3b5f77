"""No orchestrator task outlives what it serves: a stream the client cancels, a failed mood step, a shutdown
with a prefetch in flight. The four services run in this process against the simulator; an upstream made
slow by the simulator's faults keeps the work in flight for far longer than any of these tests waits."""

from __future__ import annotations

import asyncio
import gc
import logging
from collections.abc import AsyncIterator, Collection
from typing import Any

import grpc
import pytest
from grpc import aio
from segue.v1 import orchestrator_pb2

from tests.unit.orchestrator.inprocess_mesh import InProcessMesh, in_process_mesh
from tests.unit.waiting import until

STALL_S = 600.0  # an upstream this slow never answers while a test waits (at most tests.unit.waiting's patience)


@pytest.fixture
async def mesh() -> AsyncIterator[InProcessMesh]:
    async with in_process_mesh() as running:
        yield running
        running.sim.set_faults(clear=True)


def token(user: int) -> tuple[tuple[str, str], ...]:
    return (("x-spotify-token", f"user-{user}-ownership"),)


def stream_request(prompt: str, user: int) -> orchestrator_pb2.RecommendStreamRequest:
    request = orchestrator_pb2.RecommendRequest(user_id=f"simuser{user}", mood_prompt=prompt, size=5)
    return orchestrator_pb2.RecommendStreamRequest(request=request)


# Not work of a call: a gRPC server's wait for the next call of a method (a new one follows each call).
LISTENERS = {"AioServer._request_call", "AioServer._request_registered_call"}


def ours(tasks: Collection[asyncio.Task[Any]]) -> set[asyncio.Task[Any]]:
    """The tasks doing the services' work: the simulator's (aiohttp's) are the outside world's."""
    found = set()
    for task in tasks:
        coro = task.get_coro()
        name = getattr(coro, "__qualname__", "")
        if name not in LISTENERS and "aiohttp" not in getattr(getattr(coro, "cr_code", None), "co_filename", ""):
            found.add(task)
    return found


def named(prefix: str) -> list[asyncio.Task[Any]]:
    return [t for t in asyncio.all_tasks() if t.get_name().startswith(prefix)]


# Patient timeouts on the way to Spotify: a stalled pass left running would run for 110s, well past the
# patience of tests.unit.waiting, instead of failing over after a few seconds.
PATIENT = {"orchestrator": {"PEER_TIMEOUT_S": "110"}, "seed_gatherer": {"SPOTIFY_TIMEOUT_S": "110"}}


async def test_a_stream_the_client_cancels_leaves_no_task_behind() -> None:
    async with in_process_mesh(PATIENT) as mesh:
        try:
            await cancel_a_stream_mid_pass(mesh)
        finally:
            mesh.sim.set_faults(clear=True)


async def cancel_a_stream_mid_pass(mesh: InProcessMesh) -> None:
    # A first pass for this user: its identity and context are cached, the channels and the sim are warm.
    first = mesh.stub.RecommendStream(stream_request("warm up: rainy sunday, slow jazz", 5), metadata=token(5))
    assert [m async for m in first][-1].HasField("result")
    await until(lambda: not named("warm-user-context"), "the first pass's side work ended")
    before = ours(asyncio.all_tasks())
    orchestrator = mesh.services["orchestrator"]
    totals = orchestrator.metric("segue_recommend_phase_seconds_count", phase="total")

    # Spotify stalls: the pass reads the mood (no Spotify in it), then waits in GatherSeeds' searches.
    mesh.sim.set_faults(upstream="spotify", extra_latency_s=STALL_S)
    request = stream_request("bright brass for a summer parade", 5)
    call = mesh.stub.RecommendStream(request, metadata=token(5), timeout=115)
    first_event = await call.read()
    assert first_event.HasField("progress") and first_event.progress.phase == orchestrator_pb2.PHASE_MOOD_ANALYZED
    assert call.cancel()
    assert await call.code() == grpc.StatusCode.CANCELLED

    await until(lambda: ours(asyncio.all_tasks()) <= before, "every task the cancelled stream started has ended")
    assert orchestrator.metric("segue_recommend_phase_seconds_count", phase="total") == totals, (
        "the run was cancelled, not left to finish"
    )


async def test_a_failed_mood_step_leaves_no_warm_up_running() -> None:
    # The LLM gateway wants a mesh credential the orchestrator lacks: the mood step fails UNAUTHENTICATED
    # (no fallback for that), while the warm-up of the user's context is in flight.
    credential = {"MESH_CREDENTIAL": "unit-test-mesh-credential-only-the-llm-gateway-knows"}
    async with in_process_mesh({"llm_gateway": credential}) as mesh:
        try:
            # ReccoBeats stalls: the warm-up loads the user's context, then waits for its tracks' features.
            mesh.sim.set_faults(upstream="reccobeats", extra_latency_s=STALL_S)
            request = orchestrator_pb2.RecommendRequest(user_id="simuser7", mood_prompt="calm piano", size=5)
            with pytest.raises(aio.AioRpcError) as exc:
                await mesh.stub.Recommend(request, metadata=token(7), timeout=30)
            assert exc.value.code() == grpc.StatusCode.UNAUTHENTICATED
            assert named("warm-user-context") == [], "the warm-up was cancelled and awaited before the error left"
            # The seed gatherer saw the warm-up go out and then be cancelled, not finish.
            seeds = mesh.services["seed_gatherer"]
            warm = {"grpc_type": "unary", "grpc_service": "segue.v1.SeedGatherer", "grpc_method": "WarmUserContext"}
            assert seeds.metric("grpc_server_handled_total", **warm, grpc_code="OK") == 0
        finally:
            mesh.sim.set_faults(clear=True)


async def test_shutdown_with_a_prefetch_in_flight_cancels_and_awaits_it_before_closing_the_peers(
    mesh: InProcessMesh, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    loop_errors: list[dict[str, object]] = []
    asyncio.get_running_loop().set_exception_handler(lambda _, ctx: loop_errors.append(ctx))
    seeds = mesh.services["seed_gatherer"]
    warm = {"grpc_type": "unary", "grpc_service": "segue.v1.SeedGatherer", "grpc_method": "WarmUserContext"}

    # ReccoBeats stalls: the prefetch's warm-up loads the user's context, then waits for its tracks' features.
    mesh.sim.set_faults(upstream="reccobeats", extra_latency_s=STALL_S)
    reply = await mesh.stub.Prefetch(orchestrator_pb2.PrefetchRequest(user_id="simuser8"), metadata=token(8))
    assert reply.accepted
    [prefetch] = named("prefetch:")
    await until(lambda: seeds.metric("grpc_server_started_total", **warm) == 1, "the warm-up reached the peer")

    await mesh.services["orchestrator"].running.shutdown(drain_delay_s=0, grace_s=0)

    assert prefetch.cancelled(), "the prefetch was cancelled and had ended when shutdown returned"
    gc.collect()
    assert loop_errors == [], "nothing was destroyed pending, no exception went unretrieved"
    troubles = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
    assert not [m for m in troubles if "prefetch" in m or "closing" in m or "Task" in m], troubles
    assert seeds.metric("grpc_server_handled_total", **warm, grpc_code="OK") == 0

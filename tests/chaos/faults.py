"""The faults of an operator's bad day, each as `inject` (the fault starts) and `heal` (it ends).

Each acts on a running mesh (segue_cli.mesh.Mesh): Redis frozen or killed, a service killed or sent
SIGTERM and started again on its port, a flood of Prefetch calls, and upstream 5xx bursts and 429 storms
set through the simulator's /__sim/faults. The chaos tests and `python -m tests.chaos.measure` share them.
"""

from __future__ import annotations

import asyncio
import signal
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
from grpc import aio
from segue.v1 import orchestrator_pb2

from segue_cli.mesh import Mesh
from services.common import stubs

Step = Callable[[Mesh], Awaitable[None]]


@dataclass
class Fault:
    name: str
    inject: Step
    heal: Step
    # What the fault should leave in answers while it lasts (a warning's "CODE component" prefix), if anything.
    expect_warning: str = ""
    state: dict[str, Any] = field(default_factory=dict)


def redis_frozen() -> Fault:
    async def inject(mesh: Mesh) -> None:
        mesh.freeze_redis()

    async def heal(mesh: Mesh) -> None:
        mesh.thaw_redis()

    return Fault("redis frozen (SIGSTOP)", inject, heal, "WARNING_CODE_UPSTREAM_UNAVAILABLE cache")


def redis_restarted_empty() -> Fault:
    async def heal(mesh: Mesh) -> None:
        await mesh.start_redis()

    return Fault("redis killed, restarted empty", lambda mesh: mesh.kill_redis(), heal, "")


def service_down(name: str, sig: signal.Signals, expect_warning: str = "") -> Fault:
    async def inject(mesh: Mesh) -> None:
        await mesh.stop_service(name, sig)

    async def heal(mesh: Mesh) -> None:
        await mesh.start_service(name)

    how = "killed" if sig == signal.SIGKILL else "SIGTERM"
    return Fault(f"{name} {how}, restarted", inject, heal, expect_warning)


def _sim_faults(name: str, bodies: list[dict[str, Any]], expect_warning: str = "") -> Fault:
    async def post(mesh: Mesh, payload: dict[str, Any]) -> None:
        async with httpx.AsyncClient(timeout=10) as http:
            (await http.post(f"{mesh.sim_url}/__sim/faults", json=payload)).raise_for_status()

    async def inject(mesh: Mesh) -> None:
        for body in bodies:
            await post(mesh, body)

    async def heal(mesh: Mesh) -> None:
        await post(mesh, {"clear": True})

    return Fault(name, inject, heal, expect_warning)


def upstream_5xx_burst(error_rate: float = 0.5) -> Fault:
    return _sim_faults(f"upstream 5xx burst ({error_rate:.0%} of calls, all upstreams)", [{"error_rate": error_rate}])


# All three: a new user's token whose GET /me is answered 429 goes on unverified, a playlist from the prompt
# alone with a warning (services.orchestrator.admission.Unverified), not a refusal. Such a request needs the
# LLM's reading of the prompt (the artists it names): when Gemini's 429s outlast its retries too, a prompt
# naming no artist leaves nothing to start from (UNAVAILABLE) — see tests/chaos/test_faults.py.
STORMED = ("spotify", "reccobeats", "gemini")


def upstream_429_storm(rate: float = 0.5, retry_after_s: float = 1.0, upstreams: tuple[str, ...] = STORMED) -> Fault:
    bodies = [{"upstream": u, "rate_limit_rate": rate, "retry_after_s": retry_after_s} for u in upstreams]
    name = f"upstream 429 storm ({rate:.0%} of {' and '.join(upstreams)} calls, Retry-After {retry_after_s:g}s)"
    return _sim_faults(name, bodies)


def prefetch_flood(calls: int = 2000, concurrency: int = 200) -> Fault:
    """`calls` Prefetch calls for as many users, `concurrency` at a time: the whole flood takes a few seconds."""
    fault = Fault(f"Prefetch flood ({calls} calls)", lambda mesh: _noop(), lambda mesh: _noop())

    async def flood(mesh: Mesh) -> None:
        sent = iter(range(calls))
        codes: dict[str, int] = {}
        async with aio.insecure_channel(mesh.orchestrator) as channel:
            stub = stubs.orchestrator(channel)

            async def sender() -> None:
                for n in sent:
                    request = orchestrator_pb2.PrefetchRequest(user_id=f"simuser{50_000 + n}")
                    try:
                        await stub.Prefetch(
                            request, metadata=(("x-spotify-token", f"user-{50_000 + n}-flood"),), timeout=10
                        )
                        code = "OK"
                    except aio.AioRpcError as exc:
                        code = exc.code().name
                    codes[code] = codes.get(code, 0) + 1

            await asyncio.gather(*(sender() for _ in range(concurrency)))
        fault.state["prefetch_codes"] = codes

    async def inject(mesh: Mesh) -> None:
        fault.state["task"] = asyncio.create_task(flood(mesh))

    async def heal(mesh: Mesh) -> None:
        await fault.state["task"]

    fault.inject, fault.heal = inject, heal
    return fault


async def _noop() -> None:
    return None

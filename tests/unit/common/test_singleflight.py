"""SingleFlight: one execution per key, shared by every concurrent caller, and each known pitfall."""

from __future__ import annotations

import asyncio

import pytest
from prometheus_client import CollectorRegistry

from services.common import call_context
from services.common.errors import DeadlineExceeded, UpstreamError
from services.common.metrics import WorkSharingMetrics
from services.common.singleflight import SingleFlight


class Work:
    """Counts its runs; each run blocks until released, then answers or fails."""

    def __init__(self) -> None:
        self.runs = 0
        self.cancelled = 0
        self.release = asyncio.Event()
        self.started = asyncio.Event()
        self.fail_with: BaseException | None = None

    async def __call__(self) -> str:
        self.runs += 1
        self.started.set()
        try:
            await self.release.wait()
        except asyncio.CancelledError:
            self.cancelled += 1
            raise
        if self.fail_with is not None:
            raise self.fail_with
        return f"answer-{self.runs}"


async def settle() -> None:
    for _ in range(5):
        await asyncio.sleep(0)


def flights() -> tuple[SingleFlight[str, str], CollectorRegistry]:
    registry = CollectorRegistry()
    return SingleFlight("test", WorkSharingMetrics.create(registry)), registry


async def test_concurrent_callers_share_one_execution_and_the_entry_goes_when_it_finishes() -> None:
    sf, registry = flights()
    work = Work()
    callers = [asyncio.create_task(sf.do("k", work)) for _ in range(100)]
    await work.started.wait()
    await settle()
    work.release.set()
    assert await asyncio.gather(*callers) == ["answer-1"] * 100
    assert work.runs == 1
    assert not sf.in_flight("k")
    assert registry.get_sample_value("segue_singleflight_calls_total", {"flight": "test", "role": "joined"}) == 99
    assert registry.get_sample_value("segue_singleflight_calls_total", {"flight": "test", "role": "led"}) == 1
    # Finished work is not joined: the next call runs it again.
    again = Work()
    again.release.set()
    assert await sf.do("k", again) == "answer-1" and again.runs == 1


async def test_different_keys_do_not_share() -> None:
    sf, _ = flights()
    work = Work()
    work.release.set()
    assert await asyncio.gather(sf.do("a", work), sf.do("b", work)) == ["answer-1", "answer-2"]


async def test_a_failure_reaches_every_joiner_as_the_real_exception() -> None:
    sf, _ = flights()
    work = Work()
    boom = UpstreamError("reccobeats", "503 after 3 attempts", 503)
    work.fail_with = boom
    callers = [asyncio.create_task(sf.do("k", work)) for _ in range(5)]
    await work.started.wait()
    work.release.set()
    results = await asyncio.gather(*callers, return_exceptions=True)
    assert all(r is boom for r in results)  # nobody is told "success"
    assert work.runs == 1 and not sf.in_flight("k")


async def test_the_leaders_cancellation_does_not_poison_the_joiners() -> None:
    sf, _ = flights()
    work = Work()
    leader = asyncio.create_task(sf.do("k", work))
    await work.started.wait()
    joiner = asyncio.create_task(sf.do("k", work))
    await settle()
    leader.cancel()
    await settle()
    assert work.cancelled == 0 and sf.in_flight("k")  # the shared work carries on for the joiner
    work.release.set()
    assert await joiner == "answer-1"
    with pytest.raises(asyncio.CancelledError):
        await leader


async def test_a_cancelled_joiner_neither_removes_the_key_nor_cancels_the_work() -> None:
    sf, _ = flights()
    work = Work()
    leader = asyncio.create_task(sf.do("k", work))
    await work.started.wait()
    joiner = asyncio.create_task(sf.do("k", work))
    await settle()
    joiner.cancel()
    await settle()
    assert sf.in_flight("k") and work.cancelled == 0
    late = asyncio.create_task(sf.do("k", work))  # still joins: no duplicate run while the first is in flight
    await settle()
    work.release.set()
    assert await leader == "answer-1" and await late == "answer-1"
    assert work.runs == 1


async def test_when_the_last_waiter_goes_the_work_is_cancelled_and_forgotten() -> None:
    sf, _ = flights()
    work = Work()
    callers = [asyncio.create_task(sf.do("k", work)) for _ in range(3)]
    await work.started.wait()
    await settle()
    for caller in callers:
        caller.cancel()
    await settle()
    assert work.cancelled == 1
    assert not sf.in_flight("k")
    fresh = Work()
    fresh.release.set()
    assert await sf.do("k", fresh) == "answer-1"  # a new call starts fresh work, not the cancelled one


async def test_a_joiner_with_more_time_redoes_work_that_ran_out_of_the_leaders_deadline() -> None:
    sf, _ = flights()
    runs: list[float | None] = []

    async def work() -> str:
        runs.append(call_context.time_remaining())
        if len(runs) == 1:
            await gate.wait()
            raise DeadlineExceeded("no time left to call upstream")
        return "second try"

    gate = asyncio.Event()

    async def call(deadline_s: float) -> str:
        call_context.set_deadline_in(deadline_s)
        return await sf.do("k", work)

    leader = asyncio.create_task(call(30))
    await settle()
    joiner = asyncio.create_task(call(300))
    await settle()
    gate.set()
    with pytest.raises(DeadlineExceeded):
        await leader  # the leader's own deadline: its failure is its own
    assert await joiner == "second try"
    assert len(runs) == 2 and runs[1] is not None and runs[1] > 30  # redone under the joiner's deadline


async def test_a_joiner_with_less_time_shares_the_deadline_failure() -> None:
    sf, _ = flights()
    gate = asyncio.Event()
    runs = 0

    async def work() -> str:
        nonlocal runs
        runs += 1
        await gate.wait()
        raise DeadlineExceeded("no time left")

    async def call(deadline_s: float) -> str:
        call_context.set_deadline_in(deadline_s)
        return await sf.do("k", work)

    leader = asyncio.create_task(call(300))
    await settle()
    joiner = asyncio.create_task(call(30))
    await settle()
    gate.set()
    results = await asyncio.gather(leader, joiner, return_exceptions=True)
    assert all(isinstance(r, DeadlineExceeded) for r in results) and runs == 1

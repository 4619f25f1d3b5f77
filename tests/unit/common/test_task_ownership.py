"""Every task has an owner that cancels and awaits it: fan-outs, side work, streamed calls, background work,
and the order a service releases things in at shutdown."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
from typing import Any

import pytest

from services.common.background import BackgroundTasks, shut_down
from services.common.errors import InvalidArgument, UpstreamError
from services.common.fanout import alongside, gather_tolerant, task_group
from services.common.streams import Finished, as_events


class Branch:
    """A branch of a fan-out that waits until released; records whether it was cancelled and had ended."""

    def __init__(self) -> None:
        self.started = asyncio.Event()
        self.release = asyncio.Event()
        self.cancelled = False
        self.ended = False

    async def __call__(self) -> str:
        self.started.set()
        try:
            await self.release.wait()
            return "answered"
        except asyncio.CancelledError:
            self.cancelled = True
            raise
        finally:
            self.ended = True


@pytest.fixture
async def loop_errors() -> list[dict[str, Any]]:
    """What the loop would report: a task destroyed while pending, an exception nobody retrieved."""
    found: list[dict[str, Any]] = []
    asyncio.get_running_loop().set_exception_handler(lambda _, ctx: found.append(ctx))
    return found


async def test_an_error_in_one_branch_cancels_its_siblings_and_is_raised_as_itself() -> None:
    sibling, other = Branch(), Branch()

    async def failing() -> None:
        await sibling.started.wait()
        raise UpstreamError("spotify", "503")

    with pytest.raises(UpstreamError, match="503"):  # itself, not an ExceptionGroup
        async with task_group() as group:
            group.create_task(sibling())
            group.create_task(other())
            group.create_task(failing())
    assert sibling.cancelled and other.cancelled and sibling.ended and other.ended


async def test_a_tolerant_fan_out_answers_around_a_failed_step_and_a_fatal_one_cancels_the_rest() -> None:
    async def fails() -> str:
        raise UpstreamError("spotify", "503")

    async def answers() -> str:
        return "ok"

    results = await gather_tolerant([fails, answers])
    assert isinstance(results[0], UpstreamError) and results[1] == "ok"

    waiting = Branch()

    async def refused() -> str:
        await waiting.started.wait()
        raise InvalidArgument("user_id is not valid")

    with pytest.raises(InvalidArgument):
        await gather_tolerant([waiting, refused])
    assert waiting.cancelled and waiting.ended


async def test_side_work_is_cancelled_and_awaited_when_its_block_fails_or_ends() -> None:
    side = Branch()
    with pytest.raises(UpstreamError):
        async with alongside(side(), "side") as task:
            await side.started.wait()
            raise UpstreamError("llm", "mood failed")
    assert side.cancelled and side.ended and task.done(), "ended before the block's error left"

    finished = Branch()
    finished.release.set()
    async with alongside(finished(), "side") as task:
        await finished.started.wait()
        await asyncio.sleep(0)  # it answers while the block runs
    assert not finished.cancelled and task.result() == "answered"

    still = Branch()
    async with alongside(still(), "side") as task:
        await still.started.wait()
    assert still.cancelled and task.cancelled(), "a block that ends cuts what still runs beside it"


async def test_a_streamed_call_yields_its_events_in_order_then_its_result_or_its_error() -> None:
    async def run(emit: Any) -> str:
        for i in range(3):
            emit(i)
            await asyncio.sleep(0)
        return "done"

    assert [item async for item in as_events(run)] == [0, 1, 2, Finished("done")]

    async def fails(emit: Any) -> str:
        emit("started")
        raise UpstreamError("spotify", "503")

    seen: list[object] = []
    with pytest.raises(UpstreamError):
        async for item in as_events(fails):
            seen.append(item)
    assert seen == ["started"]


async def test_a_consumer_that_stops_early_cancels_the_call_and_waits_for_it(loop_errors: list[Any]) -> None:
    call = Branch()

    async def run(emit: Any) -> str:
        emit("started")
        return await call()

    # Closed (a client that hangs up between two messages): the call has ended when aclose returns.
    async with contextlib.aclosing(as_events(run)) as events:
        async for item in events:
            assert item == "started"
            break
    assert call.cancelled and call.ended

    # Cancelled while waiting for the next event (a client that hangs up while the call works).
    call = Branch()

    async def consume() -> None:
        async with contextlib.aclosing(as_events(run)) as events:
            async for _ in events:
                pass

    consumer = asyncio.create_task(consume())
    await call.started.wait()
    consumer.cancel()
    with pytest.raises(asyncio.CancelledError):
        await consumer
    assert call.cancelled and call.ended
    gc.collect()
    assert loop_errors == []


async def test_background_tasks_are_cancelled_and_awaited_at_close_and_a_failure_is_logged_once(
    caplog: pytest.LogCaptureFixture, loop_errors: list[Any]
) -> None:
    tasks = BackgroundTasks("unit")
    waiting = Branch()

    async def fails() -> None:
        raise RuntimeError("a bug in background work")

    tasks.spawn(waiting(), "waits")
    failed = tasks.spawn(fails(), "fails")
    await asyncio.wait([failed])
    await waiting.started.wait()
    assert len(tasks) == 1
    failures = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert [r.getMessage() for r in failures] == ["background task unit:fails failed"]

    await tasks.close()
    assert waiting.cancelled and waiting.ended and len(tasks) == 0
    await tasks.close()  # a second close is harmless
    gc.collect()
    assert loop_errors == [], "the failure was retrieved, nothing was destroyed pending"


async def test_shutdown_stops_background_work_before_closing_clients_and_goes_on_past_a_failure(
    caplog: pytest.LogCaptureFixture,
) -> None:
    order: list[str] = []
    work = BackgroundTasks("unit")
    job = Branch()
    work.spawn(job(), "job")
    await job.started.wait()

    async def stop_work() -> None:
        await work.close()
        order.append(f"work stopped (cancelled: {job.cancelled})")

    async def broken_client() -> None:
        order.append("broken client")
        raise OSError("already closed")

    async def peers() -> None:
        order.append(f"peers closed (job ended: {job.ended})")

    await shut_down([stop_work], [broken_client, peers])
    assert order == ["work stopped (cancelled: True)", "broken client", "peers closed (job ended: True)"]
    assert any("closing" in r.getMessage() and r.exc_info for r in caplog.records)

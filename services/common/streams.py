"""A call that reports progress, served as a stream: its events as they come, then its result.

The events travel on a queue closed by an end marker (the result or the error). The call runs as a task of a
TaskGroup the stream owns, so a consumer that stops early — a client that hangs up cancels or closes the
stream — cancels the call and waits until it has ended: nothing outlives the stream.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncGenerator, Awaitable, Callable
from dataclasses import dataclass
from typing import Generic, TypeVar

from services.common.fanout import task_group

E = TypeVar("E")
R = TypeVar("R")
M = TypeVar("M")


@dataclass(frozen=True)
class Finished(Generic[R]):
    """The last item of a stream: the call's result."""

    result: R


@dataclass(frozen=True)
class _End(Generic[R]):
    result: Finished[R] | None = None
    error: Exception | None = None


async def as_events(run: Callable[[Callable[[E], None]], Awaitable[R]]) -> AsyncGenerator[E | Finished[R], None]:
    """Each event `run(emit)` emits, then `Finished(result)`; the call's error is raised as itself, after the
    events it emitted. Use under `contextlib.aclosing`, so a consumer that stops closes the stream at once."""
    queue: asyncio.Queue[E | _End[R]] = asyncio.Queue()

    async def produce() -> None:
        try:
            queue.put_nowait(_End(result=Finished(await run(queue.put_nowait))))
        except Exception as exc:  # handed to the consumer: a failing task would cancel the consumer itself
            queue.put_nowait(_End(error=exc))

    async with task_group() as group:
        group.create_task(produce(), name="streamed-call")
        while not isinstance(item := await queue.get(), _End):
            yield item
    if item.error is not None:
        raise item.error
    assert item.result is not None
    yield item.result


async def as_messages(
    run: Callable[[Callable[[E], None]], Awaitable[R]], event: Callable[[E], M], result: Callable[[R], M]
) -> AsyncGenerator[M, None]:
    """What a server-streaming handler yields for `run`: each event, then the result, as stream messages. Use
    under `contextlib.aclosing` too: a caller that hangs up closes the stream, which cancels the run at once."""
    async with contextlib.aclosing(as_events(run)) as events:
        async for item in events:
            yield result(item.result) if isinstance(item, Finished) else event(item)

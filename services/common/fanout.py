"""Fan-outs with asyncio.TaskGroup: every task has an owner that cancels and awaits it.

- `task_group()`: a TaskGroup whose first failure is raised as itself (not as an ExceptionGroup), after the
  siblings were cancelled and awaited, so the error interceptor still maps it to its status.
- `gather_tolerant` (and `tolerant`, one such step): independent steps run together; one step's trouble
  costs only that step. A step's SegueError comes back in place of its result (the caller degrades around
  it); an error about the request itself (`fatal`, e.g. a rejected token) cancels the rest and is raised
  as itself.
- `alongside`: side work that runs while a block runs and never outlives it.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine, Sequence
from contextlib import asynccontextmanager
from typing import Any, TypeVar

from services.common.errors import InvalidArgument, SegueError, Unauthenticated

T = TypeVar("T")
FATAL: tuple[type[SegueError], ...] = (Unauthenticated, InvalidArgument)


@asynccontextmanager
async def task_group() -> AsyncIterator[asyncio.TaskGroup]:
    """`async with task_group() as group`: asyncio.TaskGroup, but the first error (a task's or the block's) is
    raised as itself once every task has ended; cancellation propagates as usual."""
    try:
        async with asyncio.TaskGroup() as group:
            yield group
    except BaseExceptionGroup as caught:
        raise caught.exceptions[0] from None


async def tolerant(pending: Awaitable[T], fatal: tuple[type[SegueError], ...] = FATAL) -> T | SegueError:
    """One step of a tolerant fan-out: its SegueError in place of its result, unless it is `fatal`."""
    try:
        return await pending
    except fatal:
        raise
    except SegueError as exc:
        return exc


async def gather_tolerant(
    steps: Sequence[Callable[[], Awaitable[T]]],
    *,
    limit: int | None = None,
    fatal: tuple[type[SegueError], ...] = FATAL,
) -> list[T | SegueError]:
    """Run every step concurrently, at most `limit` at a time; results in the order of `steps`."""
    slots = asyncio.Semaphore(limit) if limit else None

    async def guarded(step: Callable[[], Awaitable[T]]) -> T | SegueError:
        if slots is None:
            return await tolerant(step(), fatal)
        async with slots:
            return await tolerant(step(), fatal)

    async with task_group() as group:
        tasks = [group.create_task(guarded(step)) for step in steps]
    return [task.result() for task in tasks]


@asynccontextmanager
async def alongside(work: Coroutine[Any, Any, T], name: str) -> AsyncIterator[asyncio.Task[T]]:
    """Run `work` beside the block; when the block ends, however it ends, `work` still running is cancelled
    and awaited. `work` handles its own errors: one escaping it would cancel the block."""
    async with task_group() as group:
        task = group.create_task(work, name=name)
        try:
            yield task
        finally:
            task.cancel()


def failures(results: Sequence[object]) -> list[SegueError]:
    return [r for r in results if isinstance(r, SegueError)]

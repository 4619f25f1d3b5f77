"""Fan-outs with asyncio.TaskGroup: independent steps run together; one step's trouble costs only that step.

A step's SegueError comes back in place of its result (the caller degrades around it); an error about the
request itself (`fatal`, e.g. a rejected token) cancels the rest and is raised as itself, not as an
ExceptionGroup, so the error interceptor still maps it to its status.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from typing import TypeVar

from services.common.errors import InvalidArgument, SegueError, Unauthenticated

T = TypeVar("T")
FATAL: tuple[type[SegueError], ...] = (Unauthenticated, InvalidArgument)


async def gather_tolerant(
    steps: Sequence[Callable[[], Awaitable[T]]],
    *,
    limit: int | None = None,
    fatal: tuple[type[SegueError], ...] = FATAL,
) -> list[T | SegueError]:
    """Run every step concurrently, at most `limit` at a time; results in the order of `steps`."""
    slots = asyncio.Semaphore(limit) if limit else None

    async def guarded(step: Callable[[], Awaitable[T]]) -> T | SegueError:
        try:
            if slots is None:
                return await step()
            async with slots:
                return await step()
        except fatal:
            raise
        except SegueError as exc:
            return exc

    try:
        async with asyncio.TaskGroup() as group:
            tasks = [group.create_task(guarded(step)) for step in steps]
    except* fatal as caught:
        raise caught.exceptions[0] from None
    return [task.result() for task in tasks]


def failures(results: Sequence[object]) -> list[SegueError]:
    return [r for r in results if isinstance(r, SegueError)]

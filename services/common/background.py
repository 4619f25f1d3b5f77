"""Work nobody waits for, owned all the same, and the order a service releases things in at shutdown.

`BackgroundTasks` holds the tasks a service starts and does not await (a prefetch, a periodic job): a
task's unexpected failure is logged when it happens, and `close()` cancels what still runs and waits
until it has ended. `shut_down` is the one closer the server bootstrap runs after the server stopped
taking calls: background work first, so none of it races the closing of the clients it uses (peer
channels, Redis, HTTP clients), then those clients.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Coroutine, Sequence
from typing import Any

log = logging.getLogger(__name__)

Close = Callable[[], Awaitable[Any]]


class BackgroundTasks:
    def __init__(self, owner: str) -> None:
        self._owner = owner
        self._tasks: set[asyncio.Task[None]] = set()

    def __len__(self) -> int:
        return len(self._tasks)

    def spawn(self, work: Coroutine[Any, Any, None], name: str) -> asyncio.Task[None]:
        task = asyncio.get_running_loop().create_task(work, name=f"{self._owner}:{name}")
        self._tasks.add(task)
        task.add_done_callback(self._ended)
        return task

    def _ended(self, task: asyncio.Task[None]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and (exc := task.exception()) is not None:
            log.error("background task %s failed", task.get_name(), exc_info=exc)

    async def close(self) -> None:
        """Cancel every task still running and wait until each has ended (those started meanwhile too)."""
        while self._tasks:
            running = list(self._tasks)
            for task in running:
                task.cancel()
            await asyncio.wait(running)


async def shut_down(background: Sequence[Close], clients: Sequence[Close]) -> None:
    """Stop the background work (each closer cancels and awaits its own), then close the clients, in order.

    One that fails is logged and the rest still run: a shutdown releases everything it can.
    """
    for close in (*background, *clients):
        try:
            await close()
        except Exception:
            log.exception("closing %s failed", getattr(close, "__qualname__", close))

"""Single-flight: identical work in flight is done once, and every caller asking for it meanwhile joins it.

The work runs in its own task, started in the first caller's context (its request id, lane and
deadline). Callers wait on it through `asyncio.shield`, so a caller that goes away (cancelled, its
deadline passed) never cancels work others still wait for; only when the last waiter is gone is the
work cancelled — nobody would read its answer. A failure reaches every waiter as the real exception.
The entry is removed when the work finishes (or is given up), never by a waiter leaving early, so a
new call after that starts fresh work instead of joining finished or cancelled work.

Known pitfalls this avoids (see ../shared/reference/reliability-notes.md §2): the leader's
cancellation poisoning its joiners, a cancelled waiter removing the key (which lets a duplicate run
concurrently), and joiners told "success" when the work failed.

One more: the work inherits the first caller's deadline. A joiner with more time left that sees the
work run out of time (DeadlineExceeded) starts it again under its own deadline, instead of inheriting
a failure that was the first caller's alone.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Hashable
from dataclasses import dataclass
from typing import Generic, TypeVar

from google.protobuf.message import Message

from services.common import call_context
from services.common.cache import Cache
from services.common.errors import DeadlineExceeded
from services.common.metrics import WorkSharingMetrics

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")
M = TypeVar("M", bound=Message)


@dataclass
class _Flight(Generic[V]):
    task: asyncio.Task[V]
    deadline: float | None  # monotonic time the work must finish by (the first caller's), None: none
    waiters: int = 0


def _deadline_at() -> float | None:
    remaining = call_context.time_remaining()
    return None if remaining is None else time.monotonic() + remaining


class SingleFlight(Generic[K, V]):
    """`await flights.do(key, work)`: `work()` runs once per key at a time; concurrent callers share its result.

    `name` labels `segue_singleflight_calls_total` (role: led or joined).
    """

    def __init__(self, name: str, metrics: WorkSharingMetrics | None = None) -> None:
        self._name = name
        self._metrics = metrics
        self._flights: dict[K, _Flight[V]] = {}

    def in_flight(self, key: K) -> bool:
        return key in self._flights

    async def do(self, key: K, work: Callable[[], Awaitable[V]]) -> V:
        while True:
            flight = self._flights.get(key)
            joined = flight is not None and not flight.task.done()
            if flight is None or not joined:
                flight = self._start(key, work)
            self._count("joined" if joined else "led")
            try:
                return await self._wait(key, flight)
            except DeadlineExceeded:
                if not joined or not self._has_more_time(flight):
                    raise
                # The first caller's deadline ran out, not ours: do the work again under our own.

    def _start(self, key: K, work: Callable[[], Awaitable[V]]) -> _Flight[V]:
        async def run() -> V:
            return await work()

        flight: _Flight[V] = _Flight(asyncio.get_running_loop().create_task(run()), _deadline_at())
        self._flights[key] = flight

        def finished(_: asyncio.Task[V]) -> None:
            if self._flights.get(key) is flight:
                del self._flights[key]
            if not flight.task.cancelled():
                flight.task.exception()  # retrieved here, so a failure nobody waited for is not logged as lost

        flight.task.add_done_callback(finished)
        return flight

    async def _wait(self, key: K, flight: _Flight[V]) -> V:
        flight.waiters += 1
        try:
            return await asyncio.shield(flight.task)
        finally:
            flight.waiters -= 1
            if flight.waiters == 0 and not flight.task.done():
                # The last waiter left: nobody needs the answer. Forget the key at once, so a caller that
                # arrives while the cancellation unwinds starts fresh work rather than joining dying work.
                if self._flights.get(key) is flight:
                    del self._flights[key]
                flight.task.cancel()

    @staticmethod
    def _has_more_time(flight: _Flight[V]) -> bool:
        mine = _deadline_at()
        return flight.deadline is not None and (mine is None or mine > flight.deadline)

    def _count(self, role: str) -> None:
        if self._metrics is not None:
            self._metrics.flights.labels(self._name, role).inc()


async def cached_once(
    cache: Cache,
    flights: SingleFlight[str, M],
    key: str,
    cls: type[M],
    ttl_s: float,
    produce: Callable[[], Awaitable[M]],
) -> tuple[M, bool]:
    """`Cache.get_or_produce` with one production per key at a time: callers missing the cache together
    share one `produce()` (and one store). Returns the message and whether it came from the cache."""
    hit = await cache.get_message(key, cls)
    if hit is not None:
        return hit, True

    async def produce_and_store() -> M:
        value = await produce()
        await cache.set_message(key, value, ttl_s)
        return value

    return await flights.do(key, produce_and_store), False

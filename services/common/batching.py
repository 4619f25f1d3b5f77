"""Cross-caller micro-batching: keys asked for by concurrent callers within a short window share upstream calls.

`await batcher.load(keys)` queues each key not already pending into the open batch and waits for the
answers. A batch is sent when it is full (`max_size` keys go at once) or when its window has passed
*and* one of `max_in_flight` call slots is free: while every slot is busy the open batch keeps
filling, so under load batches grow on their own instead of queueing many small calls.

Per key (a single flight per key): a key already pending — queued or in a call — is joined, not sent
again, so a thousand callers asking for one ID cost one call. Each caller gets exactly the answers to
its own keys: a value, None (the upstream answered and left the key out), or the exception that the
key's batch failed with (only the callers whose keys were in that batch see it). Callers wait without
owning the batch: one that is cancelled changes nothing for the others; a batch whose callers have
all gone before it is sent is dropped, so it takes no rate-limit token for nobody.

A batch's call runs under the latest deadline of its callers (none if any caller has none) and in
the interactive lane if any caller is interactive: the batch serves the most patient, most urgent one.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable, Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Generic, TypeAlias, TypeVar

from services.common import call_context
from services.common.errors import Unavailable
from services.common.metrics import WorkSharingMetrics

log = logging.getLogger(__name__)

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")

# What one key got: its value, None when the upstream answered without it, or the batch's failure.
Answer: TypeAlias = V | BaseException | None


@dataclass(eq=False)
class _Batch(Generic[K, V]):
    keys: list[K] = field(default_factory=list)
    futures: list[asyncio.Future[V | None]] = field(default_factory=list)
    callers: int = 0  # callers with a key in this batch (for the metric)
    waiting: int = 0  # of those, how many still wait
    deadline: float | None = None  # the latest monotonic deadline of its callers
    unbounded: bool = False  # some caller has no deadline
    interactive: bool = False
    full: asyncio.Event = field(default_factory=asyncio.Event)

    def join(self) -> None:
        self.callers += 1
        self.waiting += 1
        remaining = call_context.time_remaining()
        if remaining is None:
            self.unbounded = True
        else:
            at = time.monotonic() + remaining
            self.deadline = at if self.deadline is None else max(self.deadline, at)
        self.interactive |= call_context.lane() == call_context.Lane.INTERACTIVE


class MicroBatcher(Generic[K, V]):
    """Batches keys across callers for `fetch(keys) -> {key: value}` (keys left out of the answer get None)."""

    def __init__(
        self,
        name: str,
        fetch: Callable[[Sequence[K]], Awaitable[Mapping[K, V]]],
        *,
        max_size: int,
        window_s: float,
        max_in_flight: int = 8,
        slots: asyncio.Semaphore | None = None,  # shared with other batchers of one upstream, if given
        metrics: WorkSharingMetrics | None = None,
    ) -> None:
        if max_size < 1:
            raise ValueError("max_size must be at least 1")
        self._name = name
        self._fetch = fetch
        self._max_size = max_size
        self._window_s = window_s
        self._slots = slots or asyncio.Semaphore(max_in_flight)
        self._metrics = metrics
        self._open: _Batch[K, V] | None = None
        self._pending: dict[K, tuple[asyncio.Future[V | None], _Batch[K, V]]] = {}
        self._tasks: set[asyncio.Task[None]] = set()

    def pending(self) -> int:
        """Keys queued or in a call right now."""
        return len(self._pending)

    async def load(self, keys: Iterable[K]) -> dict[K, Answer[V]]:
        """The answer for every distinct key, in the order given."""
        futures: dict[K, asyncio.Future[V | None]] = {}
        batches: set[_Batch[K, V]] = set()
        for key in dict.fromkeys(keys):
            entry = self._pending.get(key)
            if entry is None:
                entry = self._queue(key)
                self._count(key_result="queued")
            else:
                self._count(key_result="joined")
            futures[key] = entry[0]
            if entry[1] not in batches:
                batches.add(entry[1])
                entry[1].join()
        if not futures:
            return {}
        try:
            await asyncio.wait(futures.values())  # never cancels the futures: other callers share them
        finally:
            for batch in batches:
                batch.waiting -= 1
        return {key: self._answer(future) for key, future in futures.items()}

    async def aclose(self) -> None:
        """Cancel batches not yet answered (their callers get Unavailable)."""
        for task in list(self._tasks):
            task.cancel()
        for task in list(self._tasks):
            with contextlib.suppress(asyncio.CancelledError):
                await task

    def _queue(self, key: K) -> tuple[asyncio.Future[V | None], _Batch[K, V]]:
        batch = self._open
        if batch is None:
            batch = self._open = _Batch()
            task = asyncio.get_running_loop().create_task(self._run(batch))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
        future: asyncio.Future[V | None] = asyncio.get_running_loop().create_future()
        batch.keys.append(key)
        batch.futures.append(future)
        self._pending[key] = (future, batch)
        if len(batch.keys) >= self._max_size:
            self._open = None  # full: the next key opens a new batch
            batch.full.set()
        return future, batch

    async def _run(self, batch: _Batch[K, V]) -> None:
        try:
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self._window_s):
                    await batch.full.wait()
            async with self._slots:
                if self._open is batch:
                    self._open = None
                if batch.waiting == 0:
                    _fail(batch, Unavailable(f"{self._name}: every caller of this batch went away"))
                    return
                self._serve(batch)
                if self._metrics is not None:
                    self._metrics.batch_size.labels(self._name).observe(len(batch.keys))
                    self._metrics.batch_callers.labels(self._name).observe(batch.callers)
                try:
                    answer = await self._fetch(batch.keys)
                except Exception as exc:
                    _fail(batch, exc)
                else:
                    for key, future in zip(batch.keys, batch.futures, strict=True):
                        if not future.done():
                            future.set_result(answer.get(key))
        except asyncio.CancelledError:
            _fail(batch, Unavailable(f"{self._name}: shutting down"))
            raise
        finally:
            if self._open is batch:
                self._open = None
            for key in batch.keys:
                if self._pending.get(key, (None, None))[1] is batch:
                    del self._pending[key]

    @staticmethod
    def _serve(batch: _Batch[K, V]) -> None:
        """This task's context (a copy of the first caller's) takes the batch's deadline and lane."""
        if batch.unbounded or batch.deadline is None:
            call_context.set_deadline_in(None)
        else:
            call_context.set_deadline_in(batch.deadline - time.monotonic())
        if batch.interactive:
            call_context.set_lane(call_context.Lane.INTERACTIVE)

    @staticmethod
    def _answer(future: asyncio.Future[V | None]) -> Answer[V]:
        if future.cancelled():
            return Unavailable("the batch was cancelled")
        exc = future.exception()
        return exc if exc is not None else future.result()

    def _count(self, *, key_result: str) -> None:
        if self._metrics is not None:
            self._metrics.batch_keys.labels(self._name, key_result).inc()


def _fail(batch: _Batch[K, V], exc: BaseException) -> None:
    for future in batch.futures:
        if not future.done():
            future.set_exception(exc)
            future.exception()  # retrieved: a batch nobody waits for any more is not an error to log

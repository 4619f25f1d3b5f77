"""The ID registry: IDs ReccoBeats authoritatively lacks, so a repeat costs no upstream call.

Only a successful answer that leaves an ID out marks it (lookup.py never marks after a timeout, a
429, a 5xx or an open breaker: those say nothing about the ID). The marks live in a rotating Bloom
filter per kind ("features", "artist"; services/common/bloom.py): in Redis when REDIS_URL is set, so
every replica skips what one of them learnt, else in process. An ID is remembered for between
(G−1)·period and G·period, then asked again: ReccoBeats adds tracks over time.

A Bloom filter can say "absent" for an ID it never saw (at most the configured rate at capacity),
and here that would silently drop a real track. So a small random share of "absent" answers is let
through and asked upstream again; one that comes back found is a resurrection (a new track, or a
false positive), and its row is cached from then on, which the lookup reads before this registry.
A registry that cannot be reached answers "not known absent": the IDs are asked for, nothing fails.
Its Redis calls can go through the cache's guard (bounded by the call's deadline, skipped while the
cache breaker is open), so a frozen Redis costs a lookup at most one short timeout.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Protocol, TypeVar

from redis.exceptions import RedisError

from services.common.bloom import BloomBackend, BloomShape, MemoryBloom, RotatingBloom, redis_bloom
from services.common.cache import CacheBypassed
from services.common.redis_client import RedisClient
from services.reccobeat_gateway.metrics import GatewayMetrics

log = logging.getLogger(__name__)

T = TypeVar("T")


class Guard(Protocol):
    async def __call__(self, operation: Callable[[], Awaitable[T]], /) -> T: ...


async def _unguarded(operation: Callable[[], Awaitable[T]], /) -> T:
    return await operation()


_FILL_EVERY_S = 30.0  # how often the fill gauge is refreshed (a BITCOUNT of the current generation)


@dataclass(frozen=True)
class AbsentCheck:
    absent: set[str] = field(default_factory=set)  # known absent: answer "missing" without a call
    rechecks: set[str] = field(default_factory=set)  # known absent, but asked upstream again this time


class AbsentIds(Protocol):
    async def check(self, kind: str, ids: Sequence[str]) -> AbsentCheck:
        """Which of `ids` are known absent for `kind` ("features", "artist")."""

    async def mark_absent(self, kind: str, ids: Sequence[str]) -> None: ...


@dataclass(frozen=True)
class RegistrySettings:
    period_s: float = 86_400.0
    generations: int = 2
    capacity: int = 1_000_000  # IDs per generation and kind at the rate below
    error_rate: float = 0.001  # for all live generations together: each is sized for error_rate / generations
    recheck_fraction: float = 0.01

    def shape(self) -> BloomShape:
        return BloomShape.for_capacity(self.capacity, self.error_rate / self.generations)


class BloomAbsentIds:
    def __init__(
        self,
        settings: RegistrySettings,
        metrics: GatewayMetrics,
        *,
        redis: RedisClient | None = None,
        guard: Guard | None = None,  # e.g. RedisStore.guarded: the cache's deadline bound and breaker
        clock: Callable[[], float] = time.time,
        rng: random.Random | None = None,
    ) -> None:
        self._guard: Guard = guard or _unguarded
        self._settings = settings
        self._shape = settings.shape()
        self._metrics = metrics
        self._redis = redis
        self._clock = clock
        self._rng = rng or random.Random()
        self._filters: dict[str, RotatingBloom] = {}
        self._filled_at: dict[str, float] = {}

    async def check(self, kind: str, ids: Sequence[str]) -> AbsentCheck:
        if not ids:
            return AbsentCheck()

        async def contains() -> list[bool]:
            return await (await self._filter(kind)).contains(ids)

        try:
            flags = await self._guard(contains)
        except CacheBypassed:
            return AbsentCheck()
        except (RedisError, OSError) as exc:
            self._error("check", kind, exc)
            return AbsentCheck()
        hits = [i for i, flag in zip(ids, flags, strict=True) if flag]
        rechecks = {i for i in hits if self._rng.random() < self._settings.recheck_fraction}
        self._count(kind, "hit", len(hits) - len(rechecks))
        self._count(kind, "recheck", len(rechecks))
        return AbsentCheck(absent=set(hits) - rechecks, rechecks=rechecks)

    async def mark_absent(self, kind: str, ids: Sequence[str]) -> None:
        if not ids:
            return

        async def mark() -> None:
            bloom = await self._filter(kind)
            await bloom.add(ids)
            self._count(kind, "marked", len(ids))
            await self._refresh_fill(kind, bloom)

        try:
            await self._guard(mark)
        except CacheBypassed:
            return
        except (RedisError, OSError) as exc:
            self._error("mark", kind, exc)

    async def _filter(self, kind: str) -> RotatingBloom:
        bloom = self._filters.get(kind)
        if bloom is None:
            backend: BloomBackend = (
                MemoryBloom(self._shape) if self._redis is None else await redis_bloom(self._redis, self._shape)
            )
            # One hash tag per kind: all generations of a filter in one Redis Cluster slot.
            bloom = RotatingBloom(
                backend,
                f"segue:rb-absent:{{absent:{kind}}}",
                period_s=self._settings.period_s,
                generations=self._settings.generations,
                clock=self._clock,
            )
            self._filters[kind] = bloom
        return bloom

    async def _refresh_fill(self, kind: str, bloom: RotatingBloom) -> None:
        now = time.monotonic()
        if now - self._filled_at.get(kind, -_FILL_EVERY_S) < _FILL_EVERY_S:
            return
        self._filled_at[kind] = now
        items = await bloom.backend.estimated_items(bloom.current_key())
        self._metrics.absent_fill.labels(kind).set(items / self._settings.capacity)

    def _count(self, kind: str, result: str, n: int) -> None:
        if n:
            self._metrics.absent_ids.labels(kind, result).inc(n)

    def _error(self, operation: str, kind: str, exc: Exception) -> None:
        log.warning("absent-ID registry %s failed, going on without it: %s", operation, exc.__class__.__name__)
        self._metrics.absent_ids.labels(kind, "error").inc()


__all__ = ["AbsentCheck", "AbsentIds", "BloomAbsentIds", "RegistrySettings"]

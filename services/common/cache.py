"""The shared cache: Redis when REDIS_URL is set, an in-process LRU otherwise.

A cache failure never fails a request: a Redis error reads as a miss and a skipped write, counted
in `segue_cache_errors_total`, and the answer says so (`cache_warnings`). Redis is a dependency that
can fail, so every operation is bounded by a short timeout and by the caller's deadline, and a breaker
bypasses Redis for a while after repeated failures instead of letting every request wait on it.

While Redis is away — frozen, down, or back but empty — a small process-local copy of what this process
recently read or wrote stands in, so warm traffic stays warm instead of all turning into upstream calls.
A local copy lives at most CACHE_LOCAL_COPY_S (2 minutes by default, far below every TTL segue uses) and
is read only when Redis fails or misses: Redis stays the truth whenever it answers.

Keys are namespaced `segue:<namespace>:...` and must never contain secrets (hash anything
user-supplied and long; never put a token in a key).
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import math
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Protocol, TypeVar

from google.protobuf.message import Message
from redis.exceptions import RedisError
from segue.v1 import common_pb2

from services.common import call_context
from services.common.breaker import Breaker, BreakerState
from services.common.config import ServerConfig
from services.common.degradation import CACHE
from services.common.metrics import CacheMetrics
from services.common.redis_client import RedisClient, RedisCluster, connect_configured

log = logging.getLogger(__name__)

M = TypeVar("M", bound=Message)
T = TypeVar("T")

CACHE_COMPONENT = CACHE
CACHE_UNAVAILABLE = (
    "the shared cache (Redis) did not answer: this answer was made without it (from recent local copies at most)"
)
# The stand-in copies: bounded in count and bytes (their lifetime is the CACHE_LOCAL_COPY_S setting).
LOCAL_COPY_ENTRIES = 20_000
LOCAL_COPY_BYTES = 32 * 1024 * 1024


class CacheBypassed(Exception):
    """The store was not asked: its breaker is open, or the call has no time left for it."""


class Store(Protocol):
    # What stands in while the store itself cannot answer (None: nothing does; the store never fails).
    local: MemoryStore | None

    async def get_many(self, keys: Sequence[str]) -> list[bytes | None]: ...
    async def set_many(self, items: Mapping[str, bytes], ttl_s: float) -> None: ...
    async def close(self) -> None: ...


class MemoryStore:
    """LRU with per-entry expiry, for a single process (the default when there is no Redis).

    Bounded in entries and, optionally, in bytes of values (the stand-in copies behind Redis hold
    values of very different sizes, so a count alone would not bound their memory).
    """

    def __init__(self, max_entries: int = 50_000, max_bytes: int | None = None, max_ttl_s: float | None = None) -> None:
        self._data: OrderedDict[str, tuple[float, bytes]] = OrderedDict()
        self._max = max_entries
        self._max_bytes = max_bytes
        self._max_ttl_s = max_ttl_s  # no entry lives longer, whatever TTL it is given
        self._bytes = 0
        self.local: MemoryStore | None = None  # it never fails, so nothing needs to stand in

    def _drop(self, key: str) -> None:
        entry = self._data.pop(key, None)
        if entry is not None:
            self._bytes -= len(entry[1])

    async def get_many(self, keys: Sequence[str]) -> list[bytes | None]:
        now = time.monotonic()
        out: list[bytes | None] = []
        for key in keys:
            entry = self._data.get(key)
            if entry is None or entry[0] <= now:
                self._drop(key)
                out.append(None)
            else:
                self._data.move_to_end(key)
                out.append(entry[1])
        return out

    async def set_many(self, items: Mapping[str, bytes], ttl_s: float) -> None:
        expires = time.monotonic() + (ttl_s if self._max_ttl_s is None else min(ttl_s, self._max_ttl_s))
        for key, value in items.items():
            self._drop(key)
            self._data[key] = (expires, value)
            self._bytes += len(value)
        while self._data and (
            len(self._data) > self._max or (self._max_bytes is not None and self._bytes > self._max_bytes)
        ):
            self._drop(next(iter(self._data)))

    async def close(self) -> None:
        self._data.clear()
        self._bytes = 0


class RedisStore:
    """Redis (a single server or a Cluster) behind the call's deadline and a breaker, with local copies.

    Cache keys carry no hash tag, so on a cluster they spread over every node and a multi-key read is
    split by slot (one MGET per slot, pipelined). The client's own timeouts and retry come from
    services.common.redis_client.connect; every operation is also bounded here by the caller's deadline.
    """

    def __init__(
        self,
        redis: RedisClient,
        *,
        owned: bool = False,
        timeout_s: float = 0.25,
        breaker: Breaker | None = None,
        local_copy_s: float = 120.0,
    ) -> None:
        self._redis = redis
        self._owned = owned  # a store made from a URL closes its client; a shared client is closed by its owner
        # Connect, send, read, and the one retry: what a healthy Redis never comes near.
        self._op_timeout_s = 2 * timeout_s + 0.05
        self.breaker = breaker or Breaker(failure_threshold=3, open_s=5.0)
        self.local: MemoryStore | None = (
            MemoryStore(LOCAL_COPY_ENTRIES, LOCAL_COPY_BYTES, max_ttl_s=local_copy_s) if local_copy_s > 0 else None
        )

    async def guarded(self, operation: Callable[[], Awaitable[T]]) -> T:
        """`operation` (on this Redis, through any client) within the caller's deadline and this store's breaker.

        CacheBypassed when the breaker is open or no time is left; Redis's own error when it fails.
        """
        budget = call_context.budget(self._op_timeout_s)
        if budget <= 0 or not self.breaker.allow():
            raise CacheBypassed
        try:
            async with asyncio.timeout(budget):
                result = await operation()
        except TimeoutError:
            if budget < self._op_timeout_s:
                self.breaker.release()  # cut short by the caller's deadline: says nothing about Redis
            else:
                self.breaker.failure()
            raise
        except (RedisError, OSError):
            self.breaker.failure()
            raise
        except BaseException:
            self.breaker.release()
            raise
        self.breaker.success()
        return result

    async def get_many(self, keys: Sequence[str]) -> list[bytes | None]:
        if not keys:
            return []
        redis = self._redis
        if isinstance(redis, RedisCluster):
            values = await self.guarded(lambda: redis.mget_nonatomic(list(keys)))
        else:
            values = await self.guarded(lambda: redis.mget(list(keys)))
        return [v if isinstance(v, bytes) else None for v in values]

    async def set_many(self, items: Mapping[str, bytes], ttl_s: float) -> None:
        if not items:
            return
        px = max(1, int(ttl_s * 1000))

        async def write() -> None:
            # No transaction: on a cluster the keys live on different nodes.
            async with self._redis.pipeline(transaction=False) as pipe:
                for key, value in items.items():
                    pipe.set(key, value, px=px)
                await pipe.execute()

        await self.guarded(write)

    async def close(self) -> None:
        if self._owned:
            await self._redis.aclose()


class Cache:
    """A namespaced view of a store with hit/miss accounting. Errors degrade to misses."""

    def __init__(self, store: Store, namespace: str, metrics: CacheMetrics | None = None) -> None:
        self.store = store
        self.namespace = namespace
        self._metrics = metrics

    def key(self, *parts: str) -> str:
        """`segue:<namespace>:<part>:...`. Parts are escaped, so two different lists of parts never share a key
        (user "kc:b" with session "c" and user "kc" with session "b:c" stay apart)."""
        return ":".join(("segue", self.namespace, *(_escape(part) for part in parts)))

    async def get_many(self, keys: Sequence[str]) -> list[bytes | None]:
        local = self.store.local
        try:
            values = await self.store.get_many(keys)
        except CacheBypassed:
            self._bypassed("get")
            values = await local.get_many(keys) if local else [None] * len(keys)
        except (RedisError, OSError) as exc:
            self._error("get", exc)
            values = await local.get_many(keys) if local else [None] * len(keys)
        else:
            if local is not None:
                values = await self._with_local_copies(local, keys, values)
        if self._metrics is not None:
            hits = sum(v is not None for v in values)
            self._metrics.lookups.labels(self.namespace, "hit").inc(hits)
            self._metrics.lookups.labels(self.namespace, "miss").inc(len(values) - hits)
        return values

    async def get(self, key: str) -> bytes | None:
        return (await self.get_many([key]))[0]

    async def _with_local_copies(
        self, local: MemoryStore, keys: Sequence[str], values: list[bytes | None]
    ) -> list[bytes | None]:
        """Keep copies of what Redis answered; fill what it missed (e.g. restarted empty) from earlier copies."""
        found = {k: v for k, v in zip(keys, values, strict=True) if v is not None}
        if found:
            await local.set_many(found, math.inf)  # as long as the local store keeps anything
        if len(found) == len(keys):
            return values
        missed = [k for k in keys if k not in found]
        copies = dict(zip(missed, await local.get_many(missed), strict=True))
        return [v if v is not None else copies.get(k) for k, v in zip(keys, values, strict=True)]

    async def set_many(self, items: Mapping[str, bytes], ttl_s: float) -> None:
        local = self.store.local
        if local is not None:
            await local.set_many(items, ttl_s)
        try:
            await self.store.set_many(items, ttl_s)
        except CacheBypassed:
            self._bypassed("set")
        except (RedisError, OSError) as exc:
            self._error("set", exc)

    async def set(self, key: str, value: bytes, ttl_s: float) -> None:
        await self.set_many({key: value}, ttl_s)

    async def get_messages(self, keys: Sequence[str], cls: type[M]) -> list[M | None]:
        return [None if raw is None else cls.FromString(raw) for raw in await self.get_many(keys)]

    async def get_message(self, key: str, cls: type[M]) -> M | None:
        return (await self.get_messages([key], cls))[0]

    async def set_message(self, key: str, message: Message, ttl_s: float) -> None:
        await self.set(key, message.SerializeToString(), ttl_s)

    async def get_or_produce(
        self, key: str, cls: type[M], ttl_s: float, produce: Callable[[], Awaitable[M]]
    ) -> tuple[M, bool]:
        """The message cached under `key`, else `produce()`'s, stored; and whether it came from the cache.

        When `produce` raises, nothing is stored: a fallback answer is the caller's to give, uncached.
        """
        hit = await self.get_message(key, cls)
        if hit is not None:
            return hit, True
        value = await produce()
        await self.set_message(key, value, ttl_s)
        return value, False

    def _error(self, operation: str, exc: Exception) -> None:
        # Per call at DEBUG only: the breaker logs when the cache goes away and when it comes back.
        log.debug("cache %s failed, continuing without it: %s", operation, exc.__class__.__name__)
        _note_unavailable()
        if self._metrics is not None:
            self._metrics.errors.labels(operation).inc()

    def _bypassed(self, operation: str) -> None:
        _note_unavailable()
        if self._metrics is not None:
            self._metrics.bypassed.labels(operation).inc()


def _note_unavailable() -> None:
    notes = call_context.notes()
    if notes is not None:
        notes.cache_unavailable = True


def cache_warnings() -> list[common_pb2.Warning]:
    """The warning for the current call's answer when the cache failed it or was bypassed; else none."""
    notes = call_context.notes()
    if notes is None or not notes.cache_unavailable:
        return []
    return [
        common_pb2.Warning(
            code=common_pb2.WARNING_CODE_UPSTREAM_UNAVAILABLE, component=CACHE_COMPONENT, message=CACHE_UNAVAILABLE
        )
    ]


def _escape(part: str) -> str:
    return part.replace("%", "%25").replace(":", "%3A")


def lookup_usage(hit: bool) -> common_pb2.CacheUsage:
    """One cache lookup, as answers report their cache use."""
    return common_pb2.CacheUsage(hits=1) if hit else common_pb2.CacheUsage(misses=1)


def make_store(
    redis: RedisClient | str | None, cfg: ServerConfig | None = None, metrics: CacheMetrics | None = None
) -> Store:
    """The Redis store over a shared client (or a URL, for a client of its own), else the in-process one.

    `cfg` gives the Redis timeouts, the breaker and the local copies (defaults when None).
    """
    cfg = cfg or ServerConfig()
    if isinstance(redis, str):
        if not redis:
            return MemoryStore()
        return _redis_store(connect_configured(cfg, redis), cfg, metrics, owned=True)
    return MemoryStore() if redis is None else _redis_store(redis, cfg, metrics, owned=False)


def _redis_store(redis: RedisClient, cfg: ServerConfig, metrics: CacheMetrics | None, *, owned: bool) -> RedisStore:
    def changed(old: BreakerState, new: BreakerState, why: str) -> None:
        if metrics is not None:
            metrics.breaker_state.set(int(new))
        if new is BreakerState.OPEN and old is BreakerState.CLOSED:
            log.warning("cache unavailable (%s): bypassing Redis for %gs, then probing", why, cfg.cache_breaker_open_s)
        elif new is BreakerState.OPEN:
            log.info("cache still unavailable (%s): bypassing Redis for %gs more", why, cfg.cache_breaker_open_s)
        elif new is BreakerState.CLOSED:
            log.warning("cache available again (%s): using Redis", why)

    return RedisStore(
        redis,
        owned=owned,
        timeout_s=cfg.redis_timeout_s,
        breaker=Breaker(cfg.cache_breaker_failures, cfg.cache_breaker_open_s, changed),
        local_copy_s=cfg.cache_local_copy_s,
    )


def digest(*parts: str) -> str:
    """A short, stable key component for arbitrary text (prompts, ID lists)."""
    h = hashlib.sha256()
    for part in parts:
        h.update(part.encode())
        h.update(b"\x00")
    return h.hexdigest()[:32]

"""The shared cache: Redis when REDIS_URL is set, an in-process LRU otherwise.

A cache failure never fails a request: a Redis error reads as a miss and a skipped write, counted
in `segue_cache_errors_total`. Keys are namespaced `segue:<namespace>:...` and must never contain
secrets (hash anything user-supplied and long; never put a token in a key).
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Protocol, TypeVar

from google.protobuf.message import Message
from redis.exceptions import RedisError
from segue.v1 import common_pb2

from services.common.metrics import CacheMetrics
from services.common.redis_client import RedisClient, RedisCluster, connect

log = logging.getLogger(__name__)

M = TypeVar("M", bound=Message)


class Store(Protocol):
    async def get_many(self, keys: Sequence[str]) -> list[bytes | None]: ...
    async def set_many(self, items: Mapping[str, bytes], ttl_s: float) -> None: ...
    async def close(self) -> None: ...


class MemoryStore:
    """LRU with per-entry expiry, for a single process (the default when there is no Redis)."""

    def __init__(self, max_entries: int = 50_000) -> None:
        self._data: OrderedDict[str, tuple[float, bytes]] = OrderedDict()
        self._max = max_entries

    async def get_many(self, keys: Sequence[str]) -> list[bytes | None]:
        now = time.monotonic()
        out: list[bytes | None] = []
        for key in keys:
            entry = self._data.get(key)
            if entry is None or entry[0] <= now:
                self._data.pop(key, None)
                out.append(None)
            else:
                self._data.move_to_end(key)
                out.append(entry[1])
        return out

    async def set_many(self, items: Mapping[str, bytes], ttl_s: float) -> None:
        expires = time.monotonic() + ttl_s
        for key, value in items.items():
            self._data[key] = (expires, value)
            self._data.move_to_end(key)
        while len(self._data) > self._max:
            self._data.popitem(last=False)

    async def close(self) -> None:
        self._data.clear()


class RedisStore:
    """A single Redis or a Redis Cluster. Cache keys carry no hash tag, so on a cluster they spread over
    every node and a multi-key read is split by slot (one MGET per slot, pipelined)."""

    def __init__(self, redis: RedisClient, *, owned: bool = False) -> None:
        self._redis = redis
        self._owned = owned  # a store made from a URL closes its client; a shared client is closed by its owner

    async def get_many(self, keys: Sequence[str]) -> list[bytes | None]:
        if not keys:
            return []
        if isinstance(self._redis, RedisCluster):
            values = await self._redis.mget_nonatomic(list(keys))
        else:
            values = await self._redis.mget(list(keys))
        return [v if isinstance(v, bytes) else None for v in values]

    async def set_many(self, items: Mapping[str, bytes], ttl_s: float) -> None:
        if not items:
            return
        px = max(1, int(ttl_s * 1000))
        # No transaction: on a cluster the keys live on different nodes.
        async with self._redis.pipeline(transaction=False) as pipe:
            for key, value in items.items():
                pipe.set(key, value, px=px)
            await pipe.execute()

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
        try:
            values = await self.store.get_many(keys)
        except (RedisError, OSError) as exc:
            self._error("get", exc)
            values = [None] * len(keys)
        if self._metrics is not None:
            hits = sum(v is not None for v in values)
            self._metrics.lookups.labels(self.namespace, "hit").inc(hits)
            self._metrics.lookups.labels(self.namespace, "miss").inc(len(values) - hits)
        return values

    async def get(self, key: str) -> bytes | None:
        return (await self.get_many([key]))[0]

    async def set_many(self, items: Mapping[str, bytes], ttl_s: float) -> None:
        try:
            await self.store.set_many(items, ttl_s)
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
        log.warning("cache %s failed, continuing without it: %s", operation, exc.__class__.__name__)
        if self._metrics is not None:
            self._metrics.errors.labels(operation).inc()


def _escape(part: str) -> str:
    return part.replace("%", "%25").replace(":", "%3A")


def lookup_usage(hit: bool) -> common_pb2.CacheUsage:
    """One cache lookup, as answers report their cache use."""
    return common_pb2.CacheUsage(hits=1) if hit else common_pb2.CacheUsage(misses=1)


def make_store(redis: RedisClient | str | None) -> Store:
    """The Redis store over a shared client (or a URL, for a client of its own), else the in-process one."""
    if isinstance(redis, str):
        return RedisStore(connect(redis), owned=True) if redis else MemoryStore()
    return MemoryStore() if redis is None else RedisStore(redis)


def digest(*parts: str) -> str:
    """A short, stable key component for arbitrary text (prompts, ID lists)."""
    h = hashlib.sha256()
    for part in parts:
        h.update(part.encode())
        h.update(b"\x00")
    return h.hexdigest()[:32]

"""One cached answer per key: read the cache, else produce, store and return it."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TypeVar

from google.protobuf.message import Message

from services.common.cache import Cache
from services.reccobeat_gateway.outcomes import CacheCount

M = TypeVar("M", bound=Message)


async def cached_message(
    cache: Cache, key: str, cls: type[M], ttl_s: float, produce: Callable[[], Awaitable[M]]
) -> tuple[M, CacheCount]:
    hit = await cache.get_message(key, cls)
    if hit is not None:
        return hit, CacheCount(hits=1)
    value = await produce()
    await cache.set_message(key, value, ttl_s)
    return value, CacheCount(misses=1)

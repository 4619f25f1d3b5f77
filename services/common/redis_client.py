"""The one way a service connects to Redis: a single server or a Redis Cluster, chosen by REDIS_URL.

`redis://host:port/db` (or `rediss://`) is one server; `redis+cluster://host:port` (or
`rediss+cluster://`) is a cluster reached through any of its nodes, which the client asks for the
rest. A URL scheme rather than a second flag keeps the choice in the one variable every service
already reads, and anything that parses the URL itself fails loudly on the cluster scheme instead
of silently talking to one node.

Code that works on both keeps every multi-key operation inside one hash slot (keys one Lua script
touches share a `{hash tag}`) or splits it by slot (`mget_nonatomic`; pipelines without transactions).
"""

from __future__ import annotations

import asyncio
import logging
from typing import TypeAlias

import redis.asyncio as aioredis
from redis.asyncio.cluster import RedisCluster

__all__ = ["RedisClient", "RedisCluster", "connect", "connect_if_set", "is_cluster_url", "warm_up"]

log = logging.getLogger(__name__)

RedisClient: TypeAlias = "aioredis.Redis | RedisCluster"

CLUSTER_SCHEMES = {"redis+cluster": "redis", "rediss+cluster": "rediss"}
SOCKET_TIMEOUT_S = 2.0


def is_cluster_url(url: str) -> bool:
    return url.split("://", 1)[0].lower() in CLUSTER_SCHEMES


def connect(url: str) -> RedisClient:
    """A client for REDIS_URL. Nothing connects until the first command, so a Redis that is down is not fatal."""
    scheme, sep, rest = url.partition("://")
    if not sep:
        raise ValueError(f"REDIS_URL must look like redis://host:port/db or redis+cluster://host:port, got {url!r}")
    options = {"socket_timeout": SOCKET_TIMEOUT_S, "socket_connect_timeout": SOCKET_TIMEOUT_S}
    plain = CLUSTER_SCHEMES.get(scheme.lower())
    if plain is None:
        return aioredis.from_url(url, **options)
    return RedisCluster.from_url(f"{plain}://{rest}", **options)


def connect_if_set(url: str) -> RedisClient | None:
    """The process's one Redis client (cache, scheduler, ...), or None when REDIS_URL is empty."""
    return connect(url) if url else None


async def warm_up(client: RedisClient | None) -> None:
    """Connect (on a cluster: learn its slots) before the first request needs it. A Redis that is down is
    not fatal: its users degrade (the cache to misses, the scheduler to its local share) until it answers."""
    if client is None:
        return
    try:
        async with asyncio.timeout(SOCKET_TIMEOUT_S):
            if isinstance(client, RedisCluster):
                await client.initialize()
            else:
                await client.ping()
    except Exception as exc:  # whatever the client raises for a Redis that is not there (yet)
        log.warning("Redis did not answer at start (%s); going on without it until it does", exc.__class__.__name__)

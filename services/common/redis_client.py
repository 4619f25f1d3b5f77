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
from redis.asyncio.retry import Retry
from redis.backoff import ExponentialWithJitterBackoff
from redis.exceptions import ConnectionError as RedisConnectionError

from services.common.config import ServerConfig

__all__ = [
    "RedisClient",
    "RedisCluster",
    "connect",
    "connect_configured",
    "connect_if_set",
    "is_cluster_url",
    "warm_up",
]

log = logging.getLogger(__name__)

RedisClient: TypeAlias = "aioredis.Redis | RedisCluster"

CLUSTER_SCHEMES = {"redis+cluster": "redis", "rediss+cluster": "rediss"}
SOCKET_TIMEOUT_S = 2.0


def is_cluster_url(url: str) -> bool:
    return url.split("://", 1)[0].lower() in CLUSTER_SCHEMES


def connect(url: str, *, timeout_s: float = SOCKET_TIMEOUT_S, health_check_interval_s: float = 0.0) -> RedisClient:
    """A client for REDIS_URL. Nothing connects until the first command, so a Redis that is down is not fatal.

    Redis is a dependency that can fail: redis-py's own default retries a timeout ten times with backoff,
    so with a frozen Redis one call would outlast most requests' deadlines. Here a broken connection is
    retried once, after a short jittered pause (it reconnects), and a timeout not at all.
    """
    scheme, sep, rest = url.partition("://")
    if not sep:
        raise ValueError(f"REDIS_URL must look like redis://host:port/db or redis+cluster://host:port, got {url!r}")
    options = {
        "socket_timeout": timeout_s,
        "socket_connect_timeout": timeout_s,
        # A pooled connection idle this long is PINGed before use, so one left dead by a Redis restart is
        # replaced instead of failing the call that picks it (0: never).
        "health_check_interval": health_check_interval_s,
        "retry": Retry(ExponentialWithJitterBackoff(base=0.01, cap=0.05), 1, supported_errors=(RedisConnectionError,)),
    }
    plain = CLUSTER_SCHEMES.get(scheme.lower())
    if plain is None:
        return aioredis.from_url(url, **options)
    return RedisCluster.from_url(f"{plain}://{rest}", **options)


def connect_configured(cfg: ServerConfig, url: str | None = None) -> RedisClient:
    """A client for `url` (default: REDIS_URL) with the configured timeout and connection health checks."""
    return connect(
        cfg.redis_url if url is None else url,
        timeout_s=cfg.redis_timeout_s,
        health_check_interval_s=cfg.redis_health_check_interval_s,
    )


def connect_if_set(cfg: ServerConfig) -> RedisClient | None:
    """The process's one Redis client (cache, scheduler, ...), or None when REDIS_URL is empty."""
    return connect_configured(cfg) if cfg.redis_url else None


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

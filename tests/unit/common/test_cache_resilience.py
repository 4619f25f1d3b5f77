"""Redis as a dependency that can fail: a frozen Redis is bypassed, the caller's deadline bounds every
operation, local copies stand in, and the answer's warning says so. Against a frozen TCP server (it
accepts connections and never answers, as a SIGSTOPped redis-server does)."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence

from prometheus_client import CollectorRegistry

from services.common import call_context
from services.common.breaker import Breaker, BreakerState
from services.common.cache import CACHE_COMPONENT, Cache, MemoryStore, RedisStore, cache_warnings
from services.common.metrics import CacheMetrics
from services.common.redis_client import connect
from services.reccobeat_gateway.absent import BloomAbsentIds, RegistrySettings
from services.reccobeat_gateway.metrics import GatewayMetrics
from tests.unit.frozen_redis import FrozenServer

# Generous: a test fails only if an operation waits on a frozen Redis far beyond its bounds.
PATIENCE_S = 10.0


def frozen_store(server: FrozenServer, timeout_s: float = 0.05) -> RedisStore:
    client = connect(f"redis://127.0.0.1:{server.port}/0", timeout_s=timeout_s)
    return RedisStore(client, owned=True, timeout_s=timeout_s, breaker=Breaker(failure_threshold=3, open_s=60))


async def test_a_frozen_redis_is_bypassed_after_a_few_failures_and_the_answer_says_so(frozen: FrozenServer) -> None:
    registry = CollectorRegistry()
    store = frozen_store(frozen)
    cache = Cache(store, "x", CacheMetrics.create(registry))
    call_context.begin_notes()
    async with asyncio.timeout(PATIENCE_S):
        for _ in range(3):
            assert await cache.get("k") is None
        assert store.breaker.state is BreakerState.OPEN
        asked = frozen.received
        for _ in range(50):
            assert await cache.get("k") is None
        await cache.set("k", b"v", ttl_s=60)
    assert frozen.received == asked, "an open breaker does not even ask Redis"
    assert registry.get_sample_value("segue_cache_errors_total", {"operation": "get"}) == 3
    assert registry.get_sample_value("segue_cache_bypassed_total", {"operation": "get"}) == 50
    assert registry.get_sample_value("segue_cache_bypassed_total", {"operation": "set"}) == 1
    assert await cache.get("k") == b"v", "what this process wrote stands in"
    [warning] = cache_warnings()
    assert warning.component == CACHE_COMPONENT and "Redis" in warning.message
    await store.close()


async def test_the_callers_deadline_bounds_an_operation_without_blaming_redis(frozen: FrozenServer) -> None:
    store = frozen_store(frozen, timeout_s=30.0)  # a socket timeout far beyond the call's deadline
    cache = Cache(store, "x")
    call_context.set_deadline_in(0.2)
    async with asyncio.timeout(PATIENCE_S):
        for _ in range(5):
            assert await cache.get("k") is None
    assert store.breaker.state is BreakerState.CLOSED, "cut by the caller's deadline, not a Redis failure"
    call_context.set_deadline_in(-1.0)
    received = frozen.received
    assert await cache.get("k") is None
    assert frozen.received == received, "no time left: Redis is not asked at all"
    await store.close()


async def test_no_warning_when_the_cache_answered() -> None:
    call_context.begin_notes()
    cache = Cache(MemoryStore(), "x")
    await cache.set("k", b"v", ttl_s=60)
    assert await cache.get("k") == b"v"
    assert cache_warnings() == []


async def test_what_this_process_wrote_stands_in_while_redis_is_frozen(frozen: FrozenServer) -> None:
    store = frozen_store(frozen)
    cache = Cache(store, "x")
    async with asyncio.timeout(PATIENCE_S):
        await cache.set("k", b"v", ttl_s=60)
        assert await cache.get("k") == b"v"
        assert await cache.get("other") is None
    await store.close()


class EmptiedRedis(MemoryStore):
    """Answers every read as a miss, as a Redis restarted empty does; keeps copies like a RedisStore."""

    def __init__(self) -> None:
        super().__init__()
        self.local = MemoryStore()
        self.answer: dict[str, bytes] = {}

    async def get_many(self, keys: Sequence[str]) -> list[bytes | None]:
        return [self.answer.get(k) for k in keys]

    async def set_many(self, items: Mapping[str, bytes], ttl_s: float) -> None:
        return None


async def test_local_copies_fill_what_a_restarted_empty_redis_misses_and_redis_wins_when_it_answers() -> None:
    store = EmptiedRedis()
    cache = Cache(store, "x")
    store.answer = {"k": b"from redis"}
    assert await cache.get("k") == b"from redis"  # read once: a local copy is kept
    store.answer = {}  # Redis restarted empty
    assert await cache.get("k") == b"from redis"
    store.answer = {"k": b"newer"}
    assert await cache.get("k") == b"newer"


async def test_the_absent_id_registry_goes_through_the_cache_guard(frozen: FrozenServer) -> None:
    store = frozen_store(frozen)
    client = connect(f"redis://127.0.0.1:{frozen.port}/0", timeout_s=0.05)
    registry = BloomAbsentIds(
        RegistrySettings(capacity=1000), GatewayMetrics.create(CollectorRegistry()), redis=client, guard=store.guarded
    )
    async with asyncio.timeout(PATIENCE_S):
        for _ in range(3):
            assert (await registry.check("track", ["a", "b"])).absent == set()
        assert store.breaker.state is BreakerState.OPEN
        asked = frozen.received
        for _ in range(20):
            assert (await registry.check("track", ["a", "b"])).absent == set()
            await registry.mark_absent("track", ["a"])
    assert frozen.received == asked, "while the breaker is open the registry does not ask Redis either"
    await client.aclose()
    await store.close()

"""The absent-ID registry: a rotating Bloom filter in a real private redis-server (and in process)."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import textwrap
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import fakeredis
import pytest
import redis.asyncio as aioredis
from prometheus_client import CollectorRegistry
from redis.crc import key_slot

from services.common.bloom import BitfieldBloom, BloomShape, NativeBloom, RotatingBloom, redis_bloom
from services.reccobeat_gateway.absent import BloomAbsentIds, RegistrySettings
from services.reccobeat_gateway.metrics import GatewayMetrics
from tests.unit.redis_server import private_redis, redis  # noqa: F401 - fixtures

ROOT = Path(__file__).resolve().parents[3]
PERIOD_S = 100.0


class Clock:
    def __init__(self, now: float = 0.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def registry(
    settings: RegistrySettings, client: aioredis.Redis | None, clock: Callable[[], float] | None = None
) -> tuple[BloomAbsentIds, CollectorRegistry]:
    metrics_registry = CollectorRegistry()
    absent = BloomAbsentIds(settings, GatewayMetrics.create(metrics_registry), redis=client, clock=clock or Clock())
    return absent, metrics_registry


@pytest.fixture(params=["redis", "in-process"])
async def backend(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[aioredis.Redis | None]:
    if request.param == "in-process":
        yield None
        return
    async with private_redis(tmp_path) as url:
        client = aioredis.from_url(url)
        yield client
        await client.aclose()


def test_the_shape_follows_the_textbook_sizes() -> None:
    # k = ⌈−ln p / ln 2⌉-ish and −ln p / (ln 2)² bits per item (redis/docs PR #962): 0.1 % → 10 hashes, 14.38 bits
    shape = BloomShape.for_capacity(1_000_000, 0.001)
    assert shape.hashes == 10
    assert 14.3 < shape.bits / 1_000_000 < 14.4
    assert shape.offsets("4uLU6hMCjMI75M1A2tKUQC") == shape.offsets("4uLU6hMCjMI75M1A2tKUQC")
    assert len(set(shape.offsets("4uLU6hMCjMI75M1A2tKUQC"))) == 10


async def test_false_positives_at_capacity_stay_within_the_bound_and_members_are_never_missed(
    backend: aioredis.Redis | None,
) -> None:
    capacity, rate = 10_000, 0.001
    settings = RegistrySettings(
        period_s=PERIOD_S, generations=2, capacity=capacity, error_rate=rate, recheck_fraction=0
    )
    clock = Clock(10.0)
    absent, _ = registry(settings, backend, clock)
    members = [f"member{i:08d}" for i in range(2 * capacity)]
    # Both live generations filled to capacity: the union is what a lookup reads.
    for generation, start in enumerate(range(0, len(members), capacity)):
        clock.now = 10.0 + generation * PERIOD_S
        for i in range(start, start + capacity, 2000):
            await absent.mark_absent("track", members[i : i + 2000])

    found: set[str] = set()
    for i in range(0, len(members), 4000):
        found |= (await absent.check("track", members[i : i + 4000])).absent
    assert len(found) == len(members)  # no false negatives

    fresh = [f"fresh{i:08d}" for i in range(100_000)]
    false_positives = 0
    for i in range(0, len(fresh), 4000):
        false_positives += len((await absent.check("track", fresh[i : i + 4000])).absent)
    assert false_positives <= 1.5 * rate * len(fresh)


async def test_an_entry_lives_between_g_minus_1_and_g_periods(backend: aioredis.Redis | None) -> None:
    clock = Clock(50.0)  # halfway through epoch 0
    # No rechecks here: a random 1 % of "absent" answers would be let through and flake the expectations.
    settings = RegistrySettings(period_s=PERIOD_S, generations=2, capacity=1000, recheck_fraction=0)
    absent, _ = registry(settings, backend, clock)
    await absent.mark_absent("track", ["gone1"])
    for now, expected in ((50.0, {"gone1"}), (150.0, {"gone1"}), (199.9, {"gone1"}), (200.0, set())):
        clock.now = now
        assert (await absent.check("track", ["gone1", "other"])).absent == expected, now
    assert (await absent.check("features", ["gone1"])).absent == set()  # kinds are separate filters


async def test_generation_keys_share_one_hash_tag_and_expire(redis: aioredis.Redis) -> None:  # noqa: F811
    clock = Clock(50.0)
    absent, _ = registry(RegistrySettings(period_s=PERIOD_S, generations=3, capacity=1000), redis, clock)
    await absent.mark_absent("track", ["a"])
    clock.now = 150.0
    await absent.mark_absent("track", ["b"])
    keys = sorted([k.decode() async for k in redis.scan_iter("*")])  # on a cluster: every node
    assert keys == ["segue:rb-absent:{absent:track}:0", "segue:rb-absent:{absent:track}:1"]
    assert len({key_slot(k.encode()) for k in keys}) == 1  # one Redis Cluster slot: one pipeline, one node
    for key in keys:
        ttl = await redis.ttl(key)
        assert 0 < ttl <= 3 * PERIOD_S


async def test_a_filter_written_by_one_process_answers_the_same_in_another(
    redis: aioredis.Redis,  # noqa: F811
    redis_url: str,
) -> None:
    ids = [f"xproc{i:04d}" for i in range(200)]
    script = textwrap.dedent(
        f"""
        import asyncio
        from prometheus_client import CollectorRegistry
        from services.common.redis_client import connect
        from services.reccobeat_gateway.absent import BloomAbsentIds, RegistrySettings
        from services.reccobeat_gateway.metrics import GatewayMetrics

        async def main():
            client = connect({redis_url!r})
            settings = RegistrySettings(period_s={PERIOD_S}, capacity=10000)
            absent = BloomAbsentIds(settings, GatewayMetrics.create(CollectorRegistry()), redis=client,
                                    clock=lambda: 10.0)
            await absent.mark_absent("track", {ids!r})
            await client.aclose()

        asyncio.run(main())
        """
    )
    # A different hash seed than ours: Python's salted hash() would make the two processes disagree.
    env = {**os.environ, "PYTHONHASHSEED": "12345", "PYTHONPATH": f"{ROOT}{os.pathsep}{ROOT / 'gen'}"}
    done = await asyncio.to_thread(
        subprocess.run, [sys.executable, "-c", script], cwd=ROOT, env=env, capture_output=True, timeout=120
    )
    assert done.returncode == 0, done.stderr.decode()
    absent, _ = registry(RegistrySettings(period_s=PERIOD_S, capacity=10000, recheck_fraction=0), redis, Clock(10.0))
    assert (await absent.check("track", ids)).absent == set(ids)
    assert (await absent.check("track", [f"never{i}" for i in range(200)])).absent == set()


async def test_a_small_share_of_absent_answers_is_rechecked(backend: aioredis.Redis | None) -> None:
    settings = RegistrySettings(period_s=PERIOD_S, capacity=10000, recheck_fraction=0.02)
    absent, metrics = registry(settings, backend)
    ids = [f"gone{i:05d}" for i in range(5000)]
    await absent.mark_absent("track", ids)
    verdict = await absent.check("track", ids)
    assert verdict.absent | verdict.rechecks == set(ids) and not verdict.absent & verdict.rechecks
    assert 25 <= len(verdict.rechecks) <= 200  # ~2 % of 5000 = 100
    labels = {"kind": "track", "result": "recheck"}
    assert metrics.get_sample_value("segue_absent_registry_ids_total", labels) == len(verdict.rechecks)
    fill = metrics.get_sample_value("segue_absent_registry_fill_ratio", {"kind": "track"})
    assert fill is not None and 0.45 < fill < 0.55  # 5000 of 10000, estimated from the bits set


async def test_an_unreachable_redis_answers_not_known_absent_and_never_fails(tmp_path: Path) -> None:
    from segue_cli.mesh import free_port

    client = aioredis.from_url(f"redis://127.0.0.1:{free_port()}/0", socket_connect_timeout=1.0)
    absent, metrics = registry(RegistrySettings(period_s=PERIOD_S, capacity=1000), client)
    await absent.mark_absent("track", ["a"])
    assert (await absent.check("track", ["a"])).absent == set()
    assert metrics.get_sample_value("segue_absent_registry_ids_total", {"kind": "track", "result": "error"}) == 2
    await client.aclose()


async def test_stock_redis_7_gets_the_bitfield_filter(redis: aioredis.Redis) -> None:  # noqa: F811
    assert isinstance(await redis_bloom(redis, BloomShape.for_capacity(1000, 0.001)), BitfieldBloom)


async def test_the_native_filter_speaks_redisbloom() -> None:
    # No RedisBloom server here (Debian's Redis 7 lacks BF.*): fakeredis implements the BF commands.
    client = fakeredis.FakeAsyncRedis()
    shape = BloomShape.for_capacity(1000, 0.001)
    bloom = RotatingBloom(
        NativeBloom(client, shape),
        "segue:rb-absent:{absent:track}",
        period_s=PERIOD_S,
        generations=2,
        clock=lambda: 150.0,
    )
    await bloom.add(["a", "b"])
    assert await bloom.contains(["a", "b", "c"]) == [True, True, False]
    assert await bloom.backend.estimated_items(bloom.current_key()) == 2
    assert 0 < await client.ttl(bloom.current_key()) <= 2 * PERIOD_S
    await client.aclose()

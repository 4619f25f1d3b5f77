"""The shared Redis client factory and the Redis cache store, on a single Redis and on a 3-node cluster."""

from __future__ import annotations

import pytest
from redis.asyncio.cluster import RedisCluster

from services.common.cache import Cache, make_store
from services.common.config import ConfigError, EnvReader, read_server_config
from services.common.redis_client import connect, is_cluster_url
from tests.support.redis_servers import RedisServer


async def test_multi_key_reads_and_writes_work_across_slots(redis_url: str) -> None:
    redis = connect(redis_url)
    assert isinstance(redis, RedisCluster) == is_cluster_url(redis_url)
    cache = Cache(make_store(redis), "test")
    # 60 keys without a hash tag: on the cluster they land on every node.
    items = {cache.key("k", str(i)): f"v{i}".encode() for i in range(60)}
    try:
        await cache.set_many(items, ttl_s=60)
        wanted = [*items, cache.key("k", "absent")]
        values = await cache.get_many(wanted)
        assert values == [*items.values(), None]
        if isinstance(redis, RedisCluster):
            slots = {redis.keyslot(key) for key in items}
            nodes = {redis.get_node_from_key(key).name for key in items}
            assert len(slots) > 1 and len(nodes) == 3
    finally:
        await cache.store.close()
        await redis.aclose()


async def test_a_store_made_from_a_url_owns_and_closes_its_client(redis_server: RedisServer) -> None:
    store = make_store(redis_server.url)
    await store.set_many({"segue:test:owned": b"1"}, ttl_s=5)
    assert await store.get_many(["segue:test:owned"]) == [b"1"]
    await store.close()


def test_redis_url_must_name_a_redis_scheme() -> None:
    for good in ("redis://r:6379/0", "rediss://r:6380", "redis+cluster://r:7000", "unix:///tmp/r.sock", ""):
        env = EnvReader({"REDIS_URL": good})
        assert read_server_config(env).redis_url == good
        env.finish()
    env = EnvReader({"REDIS_URL": "http://r:6379"})
    read_server_config(env)
    with pytest.raises(ConfigError, match="REDIS_URL"):
        env.finish()
    assert is_cluster_url("REDIS+CLUSTER://r:1") and not is_cluster_url("redis://r:1")

"""The in-process cache store, cache degradation, config parsing and log redaction."""

from __future__ import annotations

import json
import logging

import pytest
from prometheus_client import CollectorRegistry
from redis.exceptions import ConnectionError as RedisConnectionError
from segue.v1 import common_pb2

from services.common import logs
from services.common.cache import Cache, MemoryStore, RedisStore, digest
from services.common.config import ConfigError, EnvReader, read_server_config
from services.common.metrics import CacheMetrics
from services.common.redis_client import connect


async def test_memory_store_expires_and_evicts_least_recently_used() -> None:
    store = MemoryStore(max_entries=2)
    await store.set_many({"a": b"1", "b": b"2"}, ttl_s=60)
    assert await store.get_many(["a"]) == [b"1"]  # touch a, so b is the eldest
    await store.set_many({"c": b"3"}, ttl_s=60)
    assert await store.get_many(["a", "b", "c"]) == [b"1", None, b"3"]
    await store.set_many({"d": b"4"}, ttl_s=-1)
    assert await store.get_many(["d"]) == [None]


async def test_memory_store_can_be_bounded_in_bytes() -> None:
    store = MemoryStore(max_entries=100, max_bytes=10)
    await store.set_many({"a": b"12345", "b": b"12345"}, ttl_s=60)
    await store.set_many({"a": b"1"}, ttl_s=60)  # replacing a value frees its old size
    await store.set_many({"c": b"1234"}, ttl_s=60)  # 10 bytes: all fit (b, a, c from least recent)
    await store.set_many({"d": b"12"}, ttl_s=60)  # 12 bytes: the least recently used (b) goes
    assert await store.get_many(["a", "b", "c", "d"]) == [b"1", None, b"1234", b"12"]


async def test_memory_store_can_cap_every_entrys_lifetime() -> None:
    store = MemoryStore(max_ttl_s=0.0)
    await store.set_many({"a": b"1"}, ttl_s=3600)
    assert await store.get_many(["a"]) == [None]


def test_redis_local_copies_follow_their_setting() -> None:
    assert read_server_config(EnvReader({})).cache_local_copy_s == 120.0
    client = connect("redis://127.0.0.1:1/0")
    assert RedisStore(client, local_copy_s=0).local is None
    assert RedisStore(client, local_copy_s=60).local is not None


async def test_cache_round_trips_messages_and_counts_hits() -> None:
    registry = CollectorRegistry()
    cache = Cache(MemoryStore(), "tracks", CacheMetrics.create(registry))
    key = cache.key("track", "abc")
    assert key == "segue:tracks:track:abc"
    await cache.set_message(key, common_pb2.Track(title="Song"), ttl_s=60)
    got = await cache.get_messages([key, cache.key("track", "none")], common_pb2.Track)
    assert got[0] is not None and got[0].title == "Song" and got[1] is None
    assert registry.get_sample_value("segue_cache_lookups_total", {"namespace": "tracks", "result": "hit"}) == 1
    assert registry.get_sample_value("segue_cache_lookups_total", {"namespace": "tracks", "result": "miss"}) == 1


class BrokenStore(MemoryStore):
    async def get_many(self, keys):  # type: ignore[no-untyped-def]
        raise RedisConnectionError("down")

    async def set_many(self, items, ttl_s):  # type: ignore[no-untyped-def]
        raise RedisConnectionError("down")


async def test_a_failing_store_reads_as_misses_and_skips_writes() -> None:
    registry = CollectorRegistry()
    cache = Cache(BrokenStore(), "x", CacheMetrics.create(registry))
    await cache.set("k", b"v", ttl_s=10)
    assert await cache.get_many(["k", "j"]) == [None, None]
    assert registry.get_sample_value("segue_cache_errors_total", {"operation": "get"}) == 1
    assert registry.get_sample_value("segue_cache_errors_total", {"operation": "set"}) == 1


def test_digest_is_stable_and_separates_parts() -> None:
    assert digest("a", "b") == digest("a", "b")
    assert digest("ab", "") != digest("a", "b")
    assert len(digest("x")) == 32


def test_config_reports_every_bad_variable_at_once() -> None:
    env = EnvReader({"GRPC_PORT": "http", "METRICS_PORT": "70000", "LOG_LEVEL": "loud", "DRAIN_DELAY_S": "-1"})
    read_server_config(env)
    with pytest.raises(ConfigError) as exc:
        env.finish()
    text = str(exc.value)
    for name in ("GRPC_PORT", "METRICS_PORT", "LOG_LEVEL", "DRAIN_DELAY_S"):
        assert name in text
    assert len(exc.value.problems) == 4


def test_config_defaults_and_required() -> None:
    env = EnvReader({"FLAG": "yes", "URL": "ftp://x"})
    cfg = read_server_config(env, default_port=50054)
    assert cfg.grpc_port == 50054 and cfg.redis_url == "" and cfg.drain_delay_s == 5.0
    assert env.flag("FLAG", False) is True
    env.text("NEEDED")
    env.url("URL", "http://default")
    with pytest.raises(ConfigError) as exc:
        env.finish()
    assert exc.value.problems == ["NEEDED is required", "URL must be an http(s) URL, got 'ftp://x'"]


def test_json_logs_redact_tokens_and_registered_secrets() -> None:
    logs.register_secret("AIzaSECRETKEY123")
    formatter = logs.JsonFormatter("probe")
    record = logging.makeLogRecord(
        {"msg": "calling with key=%s and header Bearer abc.def-ghi", "args": ("AIzaSECRETKEY123",), "levelname": "INFO"}
    )
    line = formatter.format(record)
    entry = json.loads(line)
    assert "AIzaSECRETKEY123" not in line and "abc.def-ghi" not in line
    assert entry["service"] == "probe" and entry["severity"] == "INFO"
    assert "Bearer ***" in entry["message"]

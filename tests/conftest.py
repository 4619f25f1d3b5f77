"""Fixtures every test directory may use: a private Redis, a private Redis Cluster, and `redis_url` over both."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support.redis_servers import RedisClusterNodes, RedisServer


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    server = RedisServer(tmp_path_factory.mktemp("redis"))
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def redis_cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisClusterNodes]:
    cluster = RedisClusterNodes(tmp_path_factory.mktemp("redis-cluster"))
    cluster.start()
    yield cluster
    cluster.stop()


@pytest.fixture(params=["single", "cluster"])
def redis_url(request: pytest.FixtureRequest) -> str:
    """REDIS_URL of an emptied private Redis: once a single server, once a 3-node cluster."""
    nodes: RedisServer | RedisClusterNodes = request.getfixturevalue(
        "redis_server" if request.param == "single" else "redis_cluster"
    )
    nodes.flush()
    return nodes.url

"""A private redis-server on a free loopback port for one test (never the shared one on 6379)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest

from segue_cli.mesh import free_port, start_redis_server, stop_process
from services.common.redis_client import RedisClient, connect


@asynccontextmanager
async def private_redis(log_dir: Path) -> AsyncIterator[str]:
    """The URL of a fresh redis-server, stopped on exit."""
    port = free_port()
    proc = await start_redis_server(port, log_dir / "redis.log")
    try:
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        await asyncio.get_running_loop().run_in_executor(None, stop_process, proc)


@pytest.fixture
async def redis(redis_url: str) -> AsyncIterator[RedisClient]:
    """A client of tests/conftest.py's `redis_url`: a private single Redis, then a 3-node cluster."""
    client = connect(redis_url)
    try:
        yield client
    finally:
        await client.aclose()

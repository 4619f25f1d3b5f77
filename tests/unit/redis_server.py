"""A private redis-server on a free loopback port for one test (never the shared one on 6379)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest
import redis.asyncio as aioredis

from segue_cli.mesh import _start_redis, stop_process


@asynccontextmanager
async def private_redis(log_dir: Path) -> AsyncIterator[str]:
    """The URL of a fresh redis-server, stopped on exit."""
    url, _, proc = await _start_redis("spawn", log_dir / "redis.log")
    assert proc is not None
    try:
        yield url
    finally:
        await asyncio.get_running_loop().run_in_executor(None, stop_process, proc)


@pytest.fixture
async def redis_url(tmp_path: Path) -> AsyncIterator[str]:
    async with private_redis(tmp_path) as url:
        yield url


@pytest.fixture
async def redis(redis_url: str) -> AsyncIterator[aioredis.Redis]:
    client = aioredis.from_url(redis_url)
    try:
        yield client
    finally:
        await client.aclose()

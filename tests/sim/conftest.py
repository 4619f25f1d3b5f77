"""Shared fixtures for the simulator's tests: a running simulator and clients pointed at it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from sim.testing import RunningSim, running_sim

TOKEN = "user-7-test-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}


def write_profile(directory: Path, body: str, name: str = "custom") -> Path:
    """A profile file in `directory`; `body` usually starts with `extends = "fast"`."""
    path = directory / f"{name}.toml"
    path.write_text(body)
    return path


@pytest.fixture
async def sim() -> AsyncIterator[RunningSim]:
    async with running_sim("fast") as running:
        yield running


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(timeout=30) as client:
        yield client


@pytest.fixture
async def extended_sim(tmp_path: Path) -> AsyncIterator[RunningSim]:
    path = write_profile(
        tmp_path,
        'extends = "fast"\n[spotify]\nextended_quota = true\nsearch_limit_max = 50\nsearch_limit_default = 20\n',
    )
    async with running_sim(path) as running:
        yield running

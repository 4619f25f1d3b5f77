"""Fixtures of the common runtime's tests."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from tests.unit.frozen_redis import FrozenServer


@pytest.fixture
async def frozen() -> AsyncIterator[FrozenServer]:
    async with FrozenServer() as server:
        yield server

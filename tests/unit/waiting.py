"""Waiting on a condition inside one event loop, bounded generously: tests never assume how fast a step is."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

PATIENCE_S = 30.0


async def until(condition: Callable[[], bool], what: str, within_s: float = PATIENCE_S) -> None:
    """Return as soon as `condition()` holds; fail naming `what` if it still does not after `within_s`."""
    deadline = time.monotonic() + within_s
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: still not so after {within_s:.0f}s")
        await asyncio.sleep(0.005)

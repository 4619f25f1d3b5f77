"""Is Gemini's per-minute budget the bottleneck right now? The view that decides whether moods are bundled.

`GeminiBudget` is the seam. With Redis, `PacerGeminiBudget` asks the shared scheduler (one budget for
every replica): saturated when a user's Gemini call now would have to wait for a slot. Without Redis,
`LocalGeminiBudget` answers from what this process knows: it is the Gemini pacer (the local 429
cooldown, which it wraps) and counts the requests it let out over the last minute.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable
from typing import Protocol

from services.common import call_context
from services.common.upstream_http import LocalCooldown, Pacer
from services.llm_gateway.gemini import UPSTREAM

_MINUTE_S = 60.0


class GeminiBudget(Protocol):
    async def gemini_saturated(self) -> bool:
        """True when another Gemini request now would wait for (or overdraw) the per-minute budget."""


class LocalGeminiBudget:
    """A Pacer for Gemini that also answers `gemini_saturated`: while a 429's pause lasts, or once this
    process has sent `rpm` requests in the last minute (0: only the pause counts)."""

    def __init__(self, rpm: int = 0, *, clock: Callable[[], float] = time.monotonic) -> None:
        self._rpm = rpm
        self._clock = clock
        self._cooldown = LocalCooldown(clock)
        self._sent: deque[float] = deque()

    async def acquire(self, upstream: str, max_wait_s: float, *, tokens: int = 0) -> float:
        waited = await self._cooldown.acquire(upstream, max_wait_s)
        self._sent.append(self._clock())
        return waited

    async def pause(self, upstream: str, seconds: float) -> None:
        await self._cooldown.pause(upstream, seconds)

    async def estimate_wait(
        self, upstream: str, *, tokens: int = 0, lane: call_context.Lane = call_context.Lane.INTERACTIVE
    ) -> float:
        return await self._cooldown.estimate_wait(upstream)

    async def gemini_saturated(self) -> bool:
        horizon = self._clock() - _MINUTE_S
        while self._sent and self._sent[0] <= horizon:
            self._sent.popleft()
        return self._cooldown.cooling(UPSTREAM) or (self._rpm > 0 and len(self._sent) >= self._rpm)


class PacerGeminiBudget:
    """The shared scheduler's view: saturated while a user's Gemini call would have to wait for a slot."""

    def __init__(self, pacer: Pacer) -> None:
        self._pacer = pacer

    async def gemini_saturated(self) -> bool:
        return await self._pacer.estimate_wait(UPSTREAM) > 0

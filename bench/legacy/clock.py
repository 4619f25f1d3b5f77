"""Simulated time for the legacy model: every wait it makes is in simulated seconds, scaled like the simulator's."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field


@dataclass
class ScaledClock:
    """`now()` is simulated wall-clock seconds; `sleep(s)` waits s simulated seconds (s × scale real ones).

    `start_s` places the run inside a simulated minute, because the monolith's per-minute limiter counts
    from the start of the current wall-clock minute (§2.1), so where a run starts in the minute matters.
    """

    scale: float
    start_s: float = 0.0
    _origin: float = field(default_factory=time.monotonic)

    def now(self) -> float:
        return self.start_s + (time.monotonic() - self._origin) / self.scale

    def elapsed(self) -> float:
        return (time.monotonic() - self._origin) / self.scale

    async def sleep(self, seconds: float) -> None:
        if seconds > 0:
            await asyncio.sleep(seconds * self.scale)

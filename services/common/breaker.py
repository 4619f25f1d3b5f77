"""A circuit breaker for a dependency that can fail: after repeated failures, stop calling it for a while.

Closed: calls go through; `failure_threshold` failures in a row open it. Open: every call is refused
at once (the caller goes on without the dependency) for `open_s`. Then half-open: exactly one call at a
time goes through as a probe — its success closes the breaker, its failure opens it again — while the
others are still refused, so a dependency that is still frozen costs one probe per window, not one
timeout per request.

Written here rather than taken from `purgatory` (reliability-notes §4): purgatory's half-open state lets
every concurrent call through, it reads the wall clock, and its shared-state store would live in the very
Redis this breaker guards.
"""

from __future__ import annotations

import enum
import time
from collections.abc import Callable


class BreakerState(enum.IntEnum):
    """Values are what the state gauge reports."""

    CLOSED = 0
    HALF_OPEN = 1
    OPEN = 2


OnChange = Callable[[BreakerState, BreakerState, str], None]  # old, new, why


class Breaker:
    def __init__(
        self,
        failure_threshold: int,
        open_s: float,
        on_change: OnChange | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._threshold = max(1, failure_threshold)
        self._open_s = open_s
        self._on_change = on_change
        self._clock = clock
        self._state = BreakerState.CLOSED
        self._failures = 0
        self._opened_at = 0.0
        self._probing = False

    @property
    def state(self) -> BreakerState:
        return self._state

    def allow(self) -> bool:
        """Whether a call may go out now. A True in half-open makes that call the probe: report its outcome."""
        if self._state is BreakerState.CLOSED:
            return True
        if self._state is BreakerState.OPEN:
            if self._clock() - self._opened_at < self._open_s:
                return False
            self._set(BreakerState.HALF_OPEN, f"probing after {self._open_s:g}s")
        if self._probing:
            return False
        self._probing = True
        return True

    def success(self) -> None:
        if self._state is BreakerState.HALF_OPEN:
            self._probing = False
            self._failures = 0
            self._set(BreakerState.CLOSED, "the probe succeeded")
        elif self._state is BreakerState.CLOSED:
            self._failures = 0

    def failure(self) -> None:
        if self._state is BreakerState.HALF_OPEN:
            self._probing = False
            self._open("the probe failed")
        elif self._state is BreakerState.CLOSED:
            self._failures += 1
            if self._failures >= self._threshold:
                self._open(f"{self._failures} failures in a row")
        # Open: a call that started before the breaker opened has nothing left to decide.

    def release(self) -> None:
        """The call allowed by `allow` ended without an outcome (e.g. cut by the caller's deadline)."""
        if self._state is BreakerState.HALF_OPEN:
            self._probing = False

    def _open(self, why: str) -> None:
        self._opened_at = self._clock()
        self._failures = 0
        self._set(BreakerState.OPEN, why)

    def _set(self, new: BreakerState, why: str) -> None:
        old, self._state = self._state, new
        if self._on_change is not None and old is not new:
            self._on_change(old, new, why)

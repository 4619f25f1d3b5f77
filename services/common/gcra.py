"""Upstream limits and the GCRA decisions over them, in this process (the shared scheduler's fallback).

GCRA (the generic cell rate algorithm, as in redis-cell) keeps one number per limit: the theoretical
arrival time (TAT) at which the bucket would be full again. A call of `cost` units fits at time t when
t ≥ TAT + cost·interval − tolerance (interval = 1/rate, tolerance = burst·interval), and then moves the
TAT to max(TAT, t) + cost·interval. So over any span T at most burst + rate·T units go out.

A slot may be *reserved* ahead: the caller learns its exact wait and the TAT moves now, so callers
queue first come first served without asking again. Background calls never reserve: they take a slot
only while the bucket holds more than their reserve share of the burst, so users always find it.

`services/common/scheduler.py` runs the same decisions as a Lua script in Redis, shared by every
replica; `LocalLimiter` is the per-process copy used while Redis is unreachable.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Literal

Per = Literal["request", "token"]


@dataclass(frozen=True)
class Limit:
    name: str  # a key part, e.g. "requests", "rpm", "tpm"
    rate: float  # units per second, sustained
    burst: float  # units that may go at once after a quiet spell
    per: Per = "request"  # "request": every call costs 1; "token": a call costs its estimated tokens

    @classmethod
    def window(cls, name: str, count: float, window_s: float, burst: float, per: Per = "request") -> Limit:
        """At most `count` units in any `window_s` (a rolling window), up to `burst` of them at once.

        GCRA allows burst + rate·W in a window W, so the sustained rate is (count − burst) / window_s.
        """
        if not count > burst >= 1 or window_s <= 0:
            raise ValueError(f"{name}: need count > burst >= 1 and window_s > 0, got {count}, {burst}, {window_s}")
        return cls(name, (count - burst) / window_s, burst, per)

    @property
    def interval_s(self) -> float:
        return 1.0 / self.rate

    @property
    def tolerance_s(self) -> float:
        return self.burst / self.rate

    def cost(self, tokens: int) -> float:
        return 1.0 if self.per == "request" else float(max(0, tokens))

    def share(self, replicas: int) -> Limit:
        """This replica's part of the limit when replicas cannot coordinate."""
        return replace(self, rate=self.rate / replicas, burst=max(1.0, self.burst / replicas))


def withheld_s(limit: Limit, cost: float, reserve: float) -> float:
    """How much of the burst tolerance a call may not use: `reserve` of it (0 for interactive calls),
    never so much that the call could not fit in a full bucket (background must not starve)."""
    return min(reserve * limit.tolerance_s, max(0.0, limit.tolerance_s - cost * limit.interval_s))


@dataclass(frozen=True)
class Decision:
    granted: bool  # the slot is the caller's: go after `wait_s`
    wait_s: float  # until the slot (granted) or until one could be had (not granted)
    cooldown_s: float  # left of the upstream's 429 cooldown


class LocalLimiter:
    """The scheduler's decisions on this process's clock and state."""

    def __init__(self, limits: Mapping[str, Sequence[Limit]], clock: Callable[[], float] = time.monotonic) -> None:
        self._limits = limits
        self._clock = clock
        self._tat: dict[tuple[str, str], float] = {}
        self._cooldown: dict[str, float] = {}
        self._horizon: dict[str, float] = {}  # the latest slot granted

    def decide(self, upstream: str, tokens: int, reserve: float, max_wait_s: float | None) -> Decision:
        """Reserve the earliest slot if it is at most `max_wait_s` away; None only looks."""
        now = self._clock()
        cooldown = self._cooldown.get(upstream, 0.0)
        slot = max(now, cooldown)
        limits = self._limits.get(upstream, ())
        for limit in limits:
            cost = limit.cost(tokens)
            tat = max(self._tat.get((upstream, limit.name), now), now)
            slot = max(slot, tat + cost * limit.interval_s - limit.tolerance_s + withheld_s(limit, cost, reserve))
        wait, left = slot - now, max(0.0, cooldown - now)
        if max_wait_s is None or wait > max_wait_s:
            return Decision(False, wait, left)
        for limit in limits:
            key = (upstream, limit.name)
            self._tat[key] = max(self._tat.get(key, now), slot) + limit.cost(tokens) * limit.interval_s
        self._horizon[upstream] = max(self._horizon.get(upstream, slot), slot)
        return Decision(True, wait, left)

    def pause(self, upstream: str, seconds: float) -> float:
        """Hold every call for `seconds` (only ever extended); afterwards calls resume at the rate, not a burst."""
        now = self._clock()
        until = max(self._cooldown.get(upstream, 0.0), now + seconds)
        self._cooldown[upstream] = until
        self.hold(upstream, until)
        return until - now

    def hold(self, upstream: str, until: float) -> None:
        """Leave every bucket empty at `until`: slots promised elsewhere until then go out first, and
        calls resume at the sustained rate, not in a burst."""
        for limit in self._limits.get(upstream, ()):
            key = (upstream, limit.name)
            self._tat[key] = max(self._tat.get(key, until), until + limit.tolerance_s)

    def horizon(self, upstream: str) -> float:
        """The latest slot granted (on this limiter's clock): calls are promised until then."""
        return self._horizon.get(upstream, 0.0)

    def cooldown_s(self, upstream: str) -> float:
        return max(0.0, self._cooldown.get(upstream, 0.0) - self._clock())

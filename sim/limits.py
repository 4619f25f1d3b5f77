"""Rate limiters of the three upstreams, on a simulated clock (seconds, unscaled).

Each `check(now, ...)` either admits the request (and records it) or returns how long, in simulated
seconds, the caller should wait — the Retry-After the upstream would send. The server converts real time
into simulated time by dividing by the time-scale, so these classes never see the scale.
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass, field

from sim.profile import GeminiRateLimit, ReccoBeatsRateLimit, SpotifyRateLimit

ESCALATION_DEBOUNCE = 0.25  # share of cooldown_min_s during which more calls do not extend a block again


def whole_seconds(wait: float) -> float:
    """Real APIs send Retry-After as whole seconds, rounded up, never 0."""
    return float(max(1, math.ceil(wait - 1e-9)))


@dataclass
class RollingWindow:
    """Spotify: at most `max_requests` admitted in any `window_s`; rejected calls do not count."""

    limit: SpotifyRateLimit
    _admitted: deque[float] = field(default_factory=deque)

    def check(self, now: float) -> float | None:
        while self._admitted and self._admitted[0] <= now - self.limit.window_s:
            self._admitted.popleft()
        if len(self._admitted) >= self.limit.max_requests:
            return whole_seconds(self._admitted[0] + self.limit.window_s - now)
        self._admitted.append(now)
        return None


@dataclass
class TokenBucket:
    """ReccoBeats: a token bucket plus a cooldown that grows while a client keeps hammering.

    A request finding the bucket empty starts a block of at least `cooldown_min_s`. A request arriving during
    a block doubles the block (from now), up to `cooldown_max_s`, but at most once per quarter of
    `cooldown_min_s`, so one burst of concurrent calls counts once. The next admitted request resets the
    escalation. A client that waits out each Retry-After never escalates.
    """

    limit: ReccoBeatsRateLimit
    _tokens: float = -1.0
    _updated: float = 0.0
    _blocked_until: float = -math.inf
    _block_s: float = 0.0
    _extended_at: float = -math.inf

    def check(self, now: float) -> float | None:
        if self._tokens < 0:
            self._tokens, self._updated = float(self.limit.burst), now
        self._tokens = min(float(self.limit.burst), self._tokens + (now - self._updated) * self.limit.rate_per_s)
        self._updated = now
        if now < self._blocked_until:
            if now - self._extended_at >= self.limit.cooldown_min_s * ESCALATION_DEBOUNCE:
                self._block_s = min(self._block_s * 2, self.limit.cooldown_max_s)
                self._blocked_until = max(self._blocked_until, now + self._block_s)
                self._extended_at = now
            return whole_seconds(self._blocked_until - now)
        if self._tokens < 1.0:
            refill = (1.0 - self._tokens) / self.limit.rate_per_s
            self._block_s = min(max(self.limit.cooldown_min_s, refill), self.limit.cooldown_max_s)
            self._blocked_until = now + self._block_s
            self._extended_at = now
            return whole_seconds(self._block_s)
        self._tokens -= 1.0
        self._block_s = 0.0
        return None


@dataclass
class GeminiQuota:
    """Gemini: requests and input tokens per model over a rolling minute."""

    limit: GeminiRateLimit
    window_s: float = 60.0
    _calls: dict[str, deque[tuple[float, int]]] = field(default_factory=dict)

    def check(self, now: float, model: str, tokens: int) -> tuple[float, str] | None:
        """None if admitted, else (wait seconds, quota id of the exhausted limit)."""
        calls = self._calls.setdefault(model, deque())
        while calls and calls[0][0] <= now - self.window_s:
            calls.popleft()
        if len(calls) >= self.limit.rpm:
            return whole_seconds(calls[0][0] + self.window_s - now), "GenerateRequestsPerMinutePerProjectPerModel"
        used = sum(n for _, n in calls)
        if used + tokens > self.limit.tpm:
            if tokens > self.limit.tpm or not calls:
                return self.window_s, "GenerateContentInputTokensPerModelPerMinute"
            freed, wait = 0, self.window_s
            for started, n in calls:  # wait until enough old calls leave the window
                freed += n
                if used - freed + tokens <= self.limit.tpm:
                    wait = started + self.window_s - now
                    break
            return whole_seconds(wait), "GenerateContentInputTokensPerModelPerMinute"
        calls.append((now, tokens))
        return None

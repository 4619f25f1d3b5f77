"""Call counters per upstream and endpoint, served by GET /__sim/stats; the recent calls' times, by GET /__sim/calls.

Shape: {"profile", "time_scale", "since", "upstreams": {<upstream>: {"calls", "status": {"200": n, ...},
"rate_limited", "inflight_peak", "endpoints": {<"METHOD /template">: {same four}}}}}; Gemini's entry also
has "tokens_in" and "tokens_out". Every upstream call counts, whatever its status; control calls do not.
Calls to paths the simulator does not serve count at the upstream level only.
"""

from __future__ import annotations

import time
from collections import Counter, deque
from dataclasses import asdict, dataclass, field
from typing import Any

from sim.endpoints import ENDPOINTS, UPSTREAMS, Upstream


@dataclass
class Counters:
    calls: int = 0
    status: Counter[str] = field(default_factory=Counter)
    rate_limited: int = 0
    inflight: int = 0
    inflight_peak: int = 0

    def start(self) -> None:
        self.calls += 1
        self.inflight += 1
        self.inflight_peak = max(self.inflight_peak, self.inflight)

    def finish(self, status: int) -> None:
        self.inflight -= 1
        self.status[str(status)] += 1
        if status == 429:
            self.rate_limited += 1

    def reset(self) -> None:
        self.calls, self.rate_limited = 0, 0
        self.status.clear()
        self.inflight_peak = self.inflight  # calls still running stay visible after a reset

    def as_json(self) -> dict[str, Any]:
        return {
            "calls": self.calls,
            "status": dict(sorted(self.status.items())),
            "rate_limited": self.rate_limited,
            "inflight_peak": self.inflight_peak,
        }


@dataclass
class UpstreamCounters(Counters):
    endpoints: dict[str, Counters] = field(default_factory=dict)
    tokens_in: int = 0
    tokens_out: int = 0

    def reset(self) -> None:
        super().reset()
        self.tokens_in = self.tokens_out = 0
        for counters in self.endpoints.values():
            counters.reset()


MAX_LOGGED_CALLS = 10_000


@dataclass(frozen=True)
class CallRecord:
    """One finished upstream call: when it started and ended, in seconds since the last reset (wall clock)."""

    upstream: str
    endpoint: str
    query: str  # the query string as sent: which search it was
    started: float
    finished: float
    status: int


class Stats:
    def __init__(self, profile_name: str, time_scale: float) -> None:
        self.profile_name = profile_name
        self.time_scale = time_scale
        self.since = time.time()
        self.upstreams: dict[Upstream, UpstreamCounters] = {
            u: UpstreamCounters(endpoints={e: Counters() for e in ENDPOINTS[u]}) for u in UPSTREAMS
        }
        # Which calls overlapped in time (e.g. the independent sources of one request): the last calls, bounded.
        self.calls: deque[CallRecord] = deque(maxlen=MAX_LOGGED_CALLS)

    def start(self, upstream: Upstream, endpoint: str | None) -> float:
        """Count a call in progress; the returned start time goes back to `finish`."""
        self.upstreams[upstream].start()
        if endpoint is not None:
            self.upstreams[upstream].endpoints[endpoint].start()
        return time.time()

    def finish(self, upstream: Upstream, endpoint: str | None, status: int, started: float, query: str) -> None:
        self.upstreams[upstream].finish(status)
        if endpoint is not None:
            self.upstreams[upstream].endpoints[endpoint].finish(status)
            self.calls.append(
                CallRecord(upstream, endpoint, query, started - self.since, time.time() - self.since, status)
            )

    def add_tokens(self, upstream: Upstream, tokens_in: int, tokens_out: int) -> None:
        self.upstreams[upstream].tokens_in += tokens_in
        self.upstreams[upstream].tokens_out += tokens_out

    def reset(self) -> None:
        self.since = time.time()
        self.calls.clear()
        for counters in self.upstreams.values():
            counters.reset()

    def calls_json(self) -> list[dict[str, Any]]:
        return [asdict(c) for c in self.calls]

    def as_json(self) -> dict[str, Any]:
        upstreams: dict[str, Any] = {}
        for name, counters in self.upstreams.items():
            entry = counters.as_json()
            if name == "gemini":
                entry["tokens_in"] = counters.tokens_in
                entry["tokens_out"] = counters.tokens_out
            entry["endpoints"] = {e: c.as_json() for e, c in counters.endpoints.items()}
            upstreams[name] = entry
        return {
            "profile": self.profile_name,
            "time_scale": self.time_scale,
            "since": self.since,
            "upstreams": upstreams,
        }

"""The simulator's control API (/__sim/stats, /__sim/reset) and readings of the stats JSON (see sim/README.md
for its shape)."""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass, field
from typing import Any, TypedDict

import httpx

GENERATE = "POST /models/{model}:generateContent"  # the stats key of Gemini's generateContent
STREAM = "POST /models/{model}:streamGenerateContent"  # and of its streamed twin (the mood's call)
Calls = dict[str, dict[str, int]]  # {upstream: {endpoint: calls}}


class Counted(TypedDict, total=False):
    """Upstream use as `Sample` and `ScenarioResult` name it: the simulator's counters over a measured
    window (`RateLimitWatch.counted`), or, for one of many overlapping requests, what it reports itself."""

    calls: Calls
    rate_limited: dict[str, int]
    rate_limited_after_cooldown: dict[str, int]
    rate_limited_endpoints: Calls
    llm_calls: int
    llm_tokens_in: int
    llm_tokens_out: int


class SimControl:
    def __init__(self, base_url: str) -> None:
        self._http = httpx.AsyncClient(base_url=base_url, timeout=30.0)

    async def stats(self) -> dict[str, Any]:
        response = await self._http.get("/__sim/stats")
        response.raise_for_status()
        body: dict[str, Any] = response.json()
        return body

    async def reset(self, limits: bool = True) -> None:
        """Zero the counters; with `limits`, also forget every rate-limit window, bucket and block."""
        (await self._http.post("/__sim/reset", json={"limits": limits})).raise_for_status()

    async def aclose(self) -> None:
        await self._http.aclose()


def endpoint_calls(stats: dict[str, Any]) -> Calls:
    return {
        upstream: {name: e["calls"] for name, e in body["endpoints"].items() if e["calls"]}
        for upstream, body in stats["upstreams"].items()
    }


def endpoint_rate_limited(stats: dict[str, Any]) -> Calls:
    """{upstream: {endpoint: 429s}} for the endpoints that had any."""
    return {
        upstream: {name: e["rate_limited"] for name, e in body["endpoints"].items() if e["rate_limited"]}
        for upstream, body in stats["upstreams"].items()
    }


def rate_limited(stats: dict[str, Any]) -> dict[str, int]:
    return {upstream: int(body["rate_limited"]) for upstream, body in stats["upstreams"].items()}


def llm_calls(stats: dict[str, Any]) -> int:
    endpoints = stats["upstreams"]["gemini"]["endpoints"]
    return sum(int(endpoints.get(method, {}).get("calls", 0)) for method in (GENERATE, STREAM))


def llm_tokens(stats: dict[str, Any]) -> tuple[int, int]:
    gemini = stats["upstreams"]["gemini"]
    return int(gemini.get("tokens_in", 0)), int(gemini.get("tokens_out", 0))


@dataclass
class RateLimitWatch:
    """Polls the 429 counters while a scenario runs, to tell the first cooldown from later 429s.

    The first cooldown of an upstream lasts from its first 429 to the first poll interval with no new
    429 (a client that honours Retry-After stops calling until it ends); any 429 after that counts
    against the "zero 429s after the first cooldown" target. On exit it reads the stats once more:
    `counted()` is the whole window.
    """

    sim: SimControl
    interval_s: float  # real seconds between polls
    series: list[dict[str, int]] = field(default_factory=list)
    final: dict[str, Any] = field(default_factory=dict)  # the stats JSON at exit
    _task: asyncio.Task[None] | None = None

    async def __aenter__(self) -> RateLimitWatch:
        self._task = asyncio.create_task(self._poll())
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        self.final = await self.sim.stats()
        self.series.append(rate_limited(self.final))

    async def _poll(self) -> None:
        while True:
            self.series.append(rate_limited(await self.sim.stats()))
            await asyncio.sleep(self.interval_s)

    def totals(self) -> dict[str, int]:
        return dict(self.series[-1]) if self.series else {}

    def after_first_cooldown(self) -> dict[str, int]:
        return after_first_cooldown(self.series)

    def counted(self) -> Counted:
        tokens_in, tokens_out = llm_tokens(self.final)
        return Counted(
            calls=endpoint_calls(self.final),
            rate_limited=self.totals(),
            rate_limited_after_cooldown=self.after_first_cooldown(),
            rate_limited_endpoints=endpoint_rate_limited(self.final),
            llm_calls=llm_calls(self.final),
            llm_tokens_in=tokens_in,
            llm_tokens_out=tokens_out,
        )


def after_first_cooldown(series: list[dict[str, int]]) -> dict[str, int]:
    """Per upstream: 429s counted after the first quiet poll interval that follows the first 429."""
    out: dict[str, int] = {}
    for upstream in series[-1] if series else {}:
        counts = [s.get(upstream, 0) for s in series]
        first = next((i for i, c in enumerate(counts) if c > 0), None)
        quiet = (
            None
            if first is None
            else next((j for j in range(first + 1, len(counts)) if counts[j] == counts[j - 1]), None)
        )
        out[upstream] = 0 if quiet is None else counts[-1] - counts[quiet]
    return out

"""The monolith's HTTP tools: `BaseAPITool` retries and `RateLimitedTool` pacing (§2.1), in simulated time.

Order of one request, as the pre-plan code ran it (§2.1):
1. the global ReccoBeats semaphore (5), for tools that use it;
2. the per-tool minimum interval, measured from the tool's last *completed* request. Concurrent coroutines
   read the same timestamp and all sleep the same amount ("three 'waiting 0.65s' at once") — kept here;
3. `_check_rate_limit`: requests recorded since the *start of the current minute* (not a sliding 60 s);
   at the limit it sleeps until the oldest recorded request is 60 s old;
4. the response cache (pre-Phase-1 the cache was consulted only after steps 1–3, so a hit still pays them);
5. `_execute_with_retry`, 3 attempts: timeouts and 5xx back off 0.5 s then 1 s; 429 waits Retry-After, else
   4 s then 8 s; any other 4xx raises at once;
6. on success: the tool's last-request time and the per-minute record are updated (a failed request records
   nothing, so 403s never fill a limiter).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import httpx

from bench.legacy.clock import ScaledClock
from bench.legacy.ledger import CallRecord, Ledger

MAX_ATTEMPTS = 3  # BaseAPITool max_retries (§2.1)
BACKOFF_S = (0.5, 1.0)  # timeouts and 5xx (§2.1)
RATE_LIMIT_BACKOFF_S = (4.0, 8.0)  # 429 without Retry-After (§2.1)
HTTP_TIMEOUT_S = 30.0  # httpx timeout 30 s, connect 10 s (§2.1)
CONNECT_TIMEOUT_S = 10.0
GLOBAL_RECCOBEATS_CONCURRENCY = 5  # the global ReccoBeats semaphore before Phase 2 raised it to 10 (§2.1, §6)


class ApiError(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status  # 0 for a timeout or connection failure


@dataclass(frozen=True)
class ToolSpec:
    name: str
    upstream: str
    per_minute: int
    min_interval_s: float = 0.0
    global_semaphore: bool = False
    cache_ttl_s: float | None = None  # None: the tool does not cache


@dataclass
class RunContext:
    """What one legacy run shares: the HTTP client, base URLs, the clock, the ledger and the tool caches.

    One run models one workflow in a freshly started monolith (no warm cache), so tools and caches live
    for a single run.
    """

    http: httpx.AsyncClient
    base_urls: Mapping[str, str]
    clock: ScaledClock
    ledger: Ledger
    reccobeats_semaphore: asyncio.Semaphore = field(
        default_factory=lambda: asyncio.Semaphore(GLOBAL_RECCOBEATS_CONCURRENCY)
    )
    cache: dict[str, Any] = field(default_factory=dict)


class Tool:
    """One `RateLimitedTool` instance with its own interval and per-minute state."""

    def __init__(self, spec: ToolSpec, run: RunContext) -> None:
        self.spec = spec
        self._run = run
        self._last_done: float | None = None
        self._recorded: list[float] = []

    async def get(
        self,
        endpoint: str,
        path: str,
        params: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> Any:
        """GET `path` (below the upstream's base URL); `endpoint` is its route template for the ledger."""
        gate = self._run.reccobeats_semaphore if self.spec.global_semaphore else contextlib.nullcontext()
        async with gate:
            return await self._paced(endpoint, path, params, headers)

    async def _paced(
        self, endpoint: str, path: str, params: Mapping[str, Any] | None, headers: Mapping[str, str] | None
    ) -> Any:
        clock = self._run.clock
        if self._last_done is not None and self.spec.min_interval_s > 0:
            elapsed = clock.now() - self._last_done
            if elapsed < self.spec.min_interval_s:
                await clock.sleep(self.spec.min_interval_s - elapsed)
        await self._check_rate_limit()
        key = self._cache_key(path, params)
        if key is not None and key in self._run.cache:
            body = self._run.cache[key]
        else:
            body = await self._with_retry(endpoint, path, params, headers)
            if key is not None:
                self._run.cache[key] = body
        self._last_done = clock.now()
        self._recorded.append(self._last_done)
        return body

    def _cache_key(self, path: str, params: Mapping[str, Any] | None) -> str | None:
        if self.spec.cache_ttl_s is None:
            return None  # a run is far shorter than any TTL (§2.2 table), so entries never expire within it
        return json.dumps([self.spec.upstream, path, sorted((params or {}).items())], default=str)

    async def _check_rate_limit(self) -> None:
        clock = self._run.clock
        now = clock.now()
        minute_start = now - now % 60.0
        self._recorded = [t for t in self._recorded if t > minute_start]
        if len(self._recorded) >= self.spec.per_minute:
            await clock.sleep(60.0 - (now - min(self._recorded)))

    async def _with_retry(
        self, endpoint: str, path: str, params: Mapping[str, Any] | None, headers: Mapping[str, str] | None
    ) -> Any:
        last = ApiError(0, "no attempt made")
        for attempt in range(MAX_ATTEMPTS):
            status, body, retry_after = await self._once(endpoint, path, params, headers)
            retry = attempt < MAX_ATTEMPTS - 1
            if 200 <= status < 300:
                return body
            last = ApiError(status, f"{self.spec.name}: HTTP {status}")
            if status == 0 or status >= 500:
                if not retry:
                    break
                await self._run.clock.sleep(BACKOFF_S[attempt])
            elif status == 429:
                if not retry:
                    break
                if retry_after is not None:  # already in the simulator's scaled seconds
                    await asyncio.sleep(retry_after)
                else:
                    await self._run.clock.sleep(RATE_LIMIT_BACKOFF_S[attempt])
            else:
                break  # any other 4xx: APIError at once, no retry
        raise last

    async def _once(
        self, endpoint: str, path: str, params: Mapping[str, Any] | None, headers: Mapping[str, str] | None
    ) -> tuple[int, Any, float | None]:
        run = self._run
        scale = run.clock.scale
        timeout = httpx.Timeout(HTTP_TIMEOUT_S * scale, connect=CONNECT_TIMEOUT_S * scale)
        url = run.base_urls[self.spec.upstream] + path
        status, body, retry_after = 0, None, None
        try:
            response = await run.http.get(url, params=_format_params(params), headers=headers, timeout=timeout)
            status = response.status_code
            if 200 <= status < 300:
                body = response.json()
            header = response.headers.get("Retry-After")
            retry_after = float(header) if header else None
        except httpx.TransportError:  # timeouts and connection errors
            status = 0
        run.ledger.add(CallRecord(self.spec.upstream, endpoint, status, self.spec.name))
        return status, body, retry_after


def _format_params(params: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """`_format_params`: lists become comma-joined strings (§2.1)."""
    if params is None:
        return None
    return {k: ",".join(str(x) for x in v) if isinstance(v, list | tuple) else v for k, v in params.items()}

"""HTTP calls to an external API, with the one retry layer of the mesh.

Transient failures only are retried (timeouts, connection errors, 5xx, 429), with exponential
backoff and full jitter; a 429's Retry-After is a floor that pauses every later call to that
upstream in this process, not just the one that saw it. Every wait is bounded by the caller's
deadline: when the pause outlasts it, the call fails fast with RESOURCE_EXHAUSTED instead of
hanging. Other 4xx answers are the request's own fault and are raised at once.
"""

from __future__ import annotations

import asyncio
import email.utils
import logging
import random
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar

import httpx

from services.common import context
from services.common.errors import DeadlineExceeded, UpstreamError, UpstreamRateLimited, UpstreamRejected
from services.common.logs import short
from services.common.metrics import UpstreamMetrics

log = logging.getLogger(__name__)

_RETRYABLE_STATUS = {500, 502, 503, 504}
D = TypeVar("D", float, None)


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int = 3
    base_delay_s: float = 0.1
    max_delay_s: float = 2.0

    def backoff(self, attempt: int) -> float:
        """Full jitter (AWS, "Exponential Backoff and Jitter"): uniform in [0, min(cap, base * 2^attempt)]."""
        return random.uniform(0, min(self.max_delay_s, self.base_delay_s * 2**attempt))


class Pacer(Protocol):
    """Decides when a call to an upstream may go out. The local cooldown is the simplest one."""

    async def acquire(self, upstream: str, budget_s: float) -> None:
        """Wait until a call may be sent; raise UpstreamRateLimited if that is beyond `budget_s`."""

    async def pause(self, upstream: str, seconds: float) -> None:
        """The upstream said to wait (429 Retry-After): hold every caller for at least that long."""


class LocalCooldown:
    """Per-process pause after a 429. Pauses only ever extend, never shorten."""

    def __init__(self) -> None:
        self._until: dict[str, float] = {}

    async def acquire(self, upstream: str, budget_s: float) -> None:
        wait = self._until.get(upstream, 0.0) - time.monotonic()
        if wait <= 0:
            return
        if wait > budget_s:
            raise UpstreamRateLimited(upstream, wait)
        await asyncio.sleep(wait)

    async def pause(self, upstream: str, seconds: float) -> None:
        until = time.monotonic() + seconds
        if until > self._until.get(upstream, 0.0):
            self._until[upstream] = until


def parse_retry_after(value: str | None, default_s: D) -> float | D:
    """Retry-After as delta-seconds (possibly fractional) or an HTTP date (RFC 9110 §10.2.3), else `default_s`."""
    if not value:
        return default_s
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return default_s
    return max(0.0, when.timestamp() - time.time())


class UpstreamClient:
    """One upstream API (e.g. "reccobeats") behind a shared httpx client."""

    def __init__(
        self,
        name: str,
        base_url: str,
        *,
        timeout_s: float,
        metrics: UpstreamMetrics,
        pacer: Pacer | None = None,
        retry: RetryPolicy | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        max_connections: int = 100,
        default_retry_after_s: float = 1.0,
    ) -> None:
        self.name = name
        self._timeout_s = timeout_s
        self._metrics = metrics
        self._pacer = pacer or LocalCooldown()
        self._retry = retry or RetryPolicy()
        self._default_retry_after_s = default_retry_after_s
        self._http = httpx.AsyncClient(
            base_url=base_url.rstrip("/") + "/",
            transport=transport,
            limits=httpx.Limits(max_connections=max_connections, max_keepalive_connections=max_connections),
            headers={"accept": "application/json", "user-agent": "segue/0.1"},
        )

    async def aclose(self) -> None:
        await self._http.aclose()

    async def get_json(
        self,
        endpoint: str,
        path: str,
        *,
        params: Mapping[str, Any] | list[tuple[str, Any]] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> Any:
        """GET `path` (relative to the base URL) and decode JSON. `endpoint` is the metrics label, e.g. "GET /track"."""
        attempt = 0
        while True:
            budget = context.budget(self._timeout_s)
            if budget <= 0:
                raise DeadlineExceeded(f"no time left to call {self.name}")
            await self._pacer.acquire(self.name, budget)
            outcome, response = await self._send(endpoint, path, params, headers, context.budget(self._timeout_s))
            if response is not None and response.status_code < 400:
                try:
                    return response.json()
                except ValueError as exc:
                    raise UpstreamError(self.name, f"{endpoint} answered invalid JSON", response.status_code) from exc
            status = response.status_code if response is not None else None
            if response is not None and response.status_code == 429:
                pause = parse_retry_after(response.headers.get("retry-after"), self._default_retry_after_s)
                await self._pacer.pause(self.name, pause)
                wait, reason = pause, "rate_limited"
            elif response is not None and status not in _RETRYABLE_STATUS:
                raise UpstreamRejected(self.name, response.status_code, short(response.text))
            else:
                wait, reason = self._retry.backoff(attempt), outcome
            attempt += 1
            remaining = context.budget(self._timeout_s)
            if attempt >= self._retry.max_attempts or wait >= remaining:
                if reason == "rate_limited":
                    raise UpstreamRateLimited(self.name, wait)
                raise UpstreamError(self.name, f"{endpoint} failed after {attempt} attempt(s) ({outcome})", status)
            self._metrics.retries.labels(self.name, reason).inc()
            log.info("retrying %s %s in %.2fs (%s)", self.name, endpoint, wait, reason)
            await asyncio.sleep(wait)

    async def _send(
        self,
        endpoint: str,
        path: str,
        params: Mapping[str, Any] | list[tuple[str, Any]] | None,
        headers: Mapping[str, str] | None,
        timeout_s: float,
    ) -> tuple[str, httpx.Response | None]:
        t0 = time.perf_counter()
        response: httpx.Response | None = None
        try:
            response = await self._http.get(path.lstrip("/"), params=params, headers=headers, timeout=timeout_s)
            outcome = str(response.status_code)
        except httpx.TimeoutException:
            outcome = "timeout"
        except httpx.TransportError:
            outcome = "error"
        self._metrics.requests.labels(self.name, endpoint, outcome).inc()
        self._metrics.seconds.labels(self.name, endpoint).observe(time.perf_counter() - t0)
        return outcome, response

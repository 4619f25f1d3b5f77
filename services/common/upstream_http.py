"""HTTP calls to an external API, with the one retry layer of the mesh.

Transient failures only are retried (timeouts, connection errors, 5xx, 429), with exponential
backoff and full jitter; a 429's Retry-After is a floor that pauses every later call to that
upstream (every replica, with the shared scheduler), not just the one that saw it. Every call asks
the `Pacer` first; every wait is bounded by the caller's deadline: when the pacer's wait outlasts
it, the call fails fast with RESOURCE_EXHAUSTED instead of hanging. Other 4xx answers are the
request's own fault and are raised at once.

Each endpoint may have its own timeout for one attempt. When hedging is on, an attempt that has
not answered by its endpoint's observed p95 (tracked here, over recent answers; a floor and a
default before enough answers are seen) gets ONE hedged copy — only within the caller's budget and
only if the pacer grants a token at once, so a hedge never waits for, or overdraws, a rate limit.
The first usable answer wins and the other copy is cancelled ("The Tail at Scale", Dean & Barroso).
Every GET here is idempotent; hedging is per client because it costs quota (off for Spotify).
"""

from __future__ import annotations

import asyncio
import email.utils
import logging
import random
import time
from collections import deque
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol, TypeVar

import httpx

from services.common import call_context, margins, upstream_calls
from services.common.errors import DeadlineExceeded, UpstreamError, UpstreamRateLimited, UpstreamRejected
from services.common.fanout import task_group
from services.common.logs import short
from services.common.metrics import UpstreamMetrics

log = logging.getLogger(__name__)

_RETRYABLE_STATUS = {500, 502, 503, 504}
D = TypeVar("D", float, None)
T = TypeVar("T")


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int = 3
    base_delay_s: float = 0.1
    max_delay_s: float = 2.0

    def backoff(self, attempt: int) -> float:
        """Full jitter (AWS, "Exponential Backoff and Jitter"): uniform in [0, min(cap, base * 2^attempt)]."""
        return random.uniform(0, min(self.max_delay_s, self.base_delay_s * 2**attempt))


@dataclass(frozen=True)
class HedgePolicy:
    enabled: bool = False
    quantile: float = 0.95  # hedge after this quantile of the endpoint's recent latencies
    min_delay_s: float = 0.25  # never sooner: a fast endpoint's p95 is no reason to double its calls
    default_delay_s: float = 1.0  # until `min_samples` answers of the endpoint have been seen
    # The same, for endpoints much slower than the rest (a default below an endpoint's median hedges most
    # of its calls, each copy a rate-limit token, until its window fills: a new replica, an idle hour).
    endpoint_default_delays_s: Mapping[str, float] = field(default_factory=dict)
    min_samples: int = 20
    window: int = 200  # recent latencies kept per endpoint
    # Only from the spare share of the budget: the hedge asks in the background lane, which never takes the
    # last share of a burst (SCHEDULER_BACKGROUND_RESERVE). For an upstream whose budget is the bottleneck
    # under load (Spotify): an idle mesh hedges its slow tail, a loaded one spends nothing on copies.
    spare_only: bool = False
    # How long a hedge may wait for its token (0: a token now or no hedge). A slow answer on the critical path
    # often meets a burst its own request's other calls just spent; a short wait still beats the attempt's
    # timeout and retry. The background lane (spare_only) never books ahead, so it never waits.
    max_token_wait_s: float = 0.0


class LatencyWindow:
    """Recent latencies of one endpoint (answers, timeouts and abandoned attempts, the last two as lower bounds)."""

    def __init__(self, size: int) -> None:
        self._samples: deque[float] = deque(maxlen=size)

    def observe(self, seconds: float) -> None:
        self._samples.append(seconds)

    def quantile(self, q: float, min_samples: int) -> float | None:
        if len(self._samples) < max(1, min_samples):
            return None
        ordered = sorted(self._samples)
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


Attempt = tuple[str, httpx.Response | None]  # outcome label, and the response if one came
Params = Mapping[str, Any] | list[tuple[str, Any]] | None


@dataclass(frozen=True)
class _Get:
    endpoint: str  # the metrics label, e.g. "GET /track"
    path: str
    params: Params
    headers: Mapping[str, str] | None


class Pacer(Protocol):
    """Decides when a call to an upstream may go out (the seam of the shared scheduler).

    `tokens` is what a call costs against token-metered limits (Gemini's TPM); request limits count
    calls. The caller's priority lane comes from `call_context.lane()`.
    """

    async def acquire(self, upstream: str, max_wait_s: float, *, tokens: int = 0) -> float:
        """Wait until a call may be sent and return the seconds waited. When the wait would exceed
        `max_wait_s`, raise UpstreamRateLimited (with the wait as the retry hint) at once, without waiting."""

    async def pause(self, upstream: str, seconds: float) -> None:
        """The upstream said to wait (429 Retry-After): hold every caller for at least that long."""

    async def estimate_wait(
        self, upstream: str, *, tokens: int = 0, lane: call_context.Lane = call_context.Lane.INTERACTIVE
    ) -> float:
        """Seconds a call of this lane and cost would wait if it asked now (0: it goes at once). Takes nothing."""


class LocalCooldown:
    """Per-process pause after a 429, and no other limit: the default when there is no Redis.

    Pauses only ever extend, never shorten.
    """

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._until: dict[str, float] = {}
        self._clock = clock

    def cooling(self, upstream: str | None = None) -> bool:
        """Whether a pause is running (for `upstream`, or for any upstream)."""
        now = self._clock()
        if upstream is not None:
            return self._until.get(upstream, 0.0) > now
        return any(until > now for until in self._until.values())

    async def acquire(self, upstream: str, max_wait_s: float, *, tokens: int = 0) -> float:
        wait = await self.estimate_wait(upstream)
        if wait <= 0:
            return 0.0
        if wait > max_wait_s:
            raise UpstreamRateLimited(upstream, wait)
        await asyncio.sleep(wait)
        return wait

    async def pause(self, upstream: str, seconds: float) -> None:
        until = self._clock() + seconds
        if until > self._until.get(upstream, 0.0):
            self._until[upstream] = until

    async def estimate_wait(
        self, upstream: str, *, tokens: int = 0, lane: call_context.Lane = call_context.Lane.INTERACTIVE
    ) -> float:
        return max(0.0, self._until.get(upstream, 0.0) - self._clock())


def call_time_s(window: LatencyWindow | None, cap_s: float, margin_s: float = margins.ANSWER_S) -> float:
    """How long a call takes (its recent p95, once one answer was seen; at most `cap_s`), plus a margin to
    answer. Waiting for a slot that leaves the caller less than this would only end in a timeout, so it
    is kept back from every wait."""
    observed = window.quantile(0.95, 1) if window is not None else None
    return min(cap_s, observed or 0.0) + margin_s


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


RATE_LIMITED = "rate_limited"  # the kind of a failed attempt the upstream answered 429 (or its own "slow down")
REJECTED = "rejected"  # the kind of a failed attempt whose request itself is wrong: never retried


@dataclass(frozen=True)
class Failed:
    """An attempt that did not answer, as the retry loop acts on it."""

    kind: str  # RATE_LIMITED, REJECTED, or a transient outcome ("timeout", "error", "503", ...)
    status: int | None = None
    detail: str = ""
    pause_s: float | None = None  # RATE_LIMITED: the pause the upstream asked for (None: back off)
    again: bool = False  # ask again at once, not counted as a failure (e.g. an answer outside its schema)


@dataclass(frozen=True)
class Attempts:
    """One logical call to retry: its upstream, its label (logs and errors), its timeout and cost."""

    upstream: str
    what: str
    timeout_s: float
    margin_s: float = 0.0  # kept back from the caller's deadline after the last attempt
    tokens: int = 0  # what one attempt costs against token-metered limits


async def retrying(
    attempt: Callable[[], Awaitable[T | Failed]],
    call: Attempts,
    *,
    pacer: Pacer,
    policy: RetryPolicy,
    keep_s: Callable[[], float],
    on_retry: Callable[[str], None] | None = None,
) -> T:
    """The mesh's one retry loop: every attempt asks the pacer first; transient failures are retried with
    full-jitter backoff, a rate limit after its pause (held by the pacer, for every caller), a rejected
    request never; every wait is bounded by the caller's deadline. `keep_s` is a typical attempt's time,
    kept back from the pacer's wait."""
    failures = 0
    while True:
        if call_context.budget(call.timeout_s, call.margin_s) <= 0:
            raise DeadlineExceeded(f"no time left to call {call.upstream}")
        # The whole remaining deadline may go to waiting for a slot, less what the call itself takes;
        # the pacer refuses at once when the wait is longer.
        await pacer.acquire(call.upstream, call_context.wait_allowance(call.timeout_s, keep_s()), tokens=call.tokens)
        if call_context.budget(call.timeout_s, call.margin_s) <= 0:
            raise DeadlineExceeded(f"no time left to call {call.upstream}")
        result = await attempt()
        if not isinstance(result, Failed):
            return result
        if result.again:
            continue
        failures += 1
        if result.kind == REJECTED:
            raise UpstreamRejected(call.upstream, result.status or 0, result.detail)
        if result.kind == RATE_LIMITED:
            pause = result.pause_s if result.pause_s is not None else policy.backoff(failures - 1)
            await pacer.pause(call.upstream, pause)
            if failures >= policy.max_attempts:
                raise UpstreamRateLimited(call.upstream, pause)
            # No sleep here: the pacer holds this retry, like every other call, until the pause is
            # over, or refuses it at once when the pause outlasts the caller's deadline.
            if on_retry is not None:
                on_retry(RATE_LIMITED)
            log.info("retrying %s %s after its %.2fs pause", call.upstream, call.what, pause)
            continue
        wait = policy.backoff(failures - 1)
        if failures >= policy.max_attempts or wait >= call_context.budget(call.timeout_s, call.margin_s):
            detail = f": {result.detail}" if result.detail else ""
            raise UpstreamError(
                call.upstream, f"{call.what} failed after {failures} attempt(s) ({result.kind}{detail})", result.status
            )
        if on_retry is not None:
            on_retry(result.kind)
        log.info("retrying %s %s in %.2fs (%s)", call.upstream, call.what, wait, result.kind)
        await asyncio.sleep(wait)


class UpstreamClient:
    """One upstream API (e.g. "reccobeats") behind a shared httpx client."""

    def __init__(
        self,
        name: str,
        base_url: str,
        *,
        timeout_s: float,
        metrics: UpstreamMetrics,
        endpoint_timeouts: Mapping[str, float] | None = None,  # per endpoint label; others use timeout_s
        hedge: HedgePolicy | None = None,
        pacer: Pacer | None = None,
        retry: RetryPolicy | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        max_connections: int = 100,
        default_retry_after_s: float = 1.0,
    ) -> None:
        self.name = name
        self._timeout_s = timeout_s
        self._endpoint_timeouts = dict(endpoint_timeouts or {})
        self._hedge = hedge or HedgePolicy()
        self._latency: dict[str, LatencyWindow] = {}
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
        params: Params = None,
        headers: Mapping[str, str] | None = None,
    ) -> Any:
        """GET `path` (relative to the base URL) and decode JSON. `endpoint` is the metrics label, e.g. "GET /track"."""
        get = _Get(endpoint, path, params, headers)

        async def once() -> Any:
            outcome, response = await self._attempt(get)
            if response is None:
                return Failed(outcome)
            if response.status_code < 400:
                try:
                    return response.json()
                except ValueError as exc:
                    raise UpstreamError(self.name, f"{endpoint} answered invalid JSON", response.status_code) from exc
            if response.status_code == 429:
                pause = parse_retry_after(response.headers.get("retry-after"), self._default_retry_after_s)
                return Failed(RATE_LIMITED, 429, pause_s=pause)
            if response.status_code not in _RETRYABLE_STATUS:
                return Failed(REJECTED, response.status_code, short(response.text))
            return Failed(outcome, response.status_code)

        return await retrying(
            once,
            Attempts(self.name, endpoint, self.timeout_for(endpoint)),
            pacer=self._pacer,
            policy=self._retry,
            keep_s=lambda: call_time_s(self._latency.get(endpoint), self.timeout_for(endpoint)),
            on_retry=lambda kind: self._metrics.retries.labels(self.name, kind).inc(),
        )

    def timeout_for(self, endpoint: str) -> float:
        return self._endpoint_timeouts.get(endpoint, self._timeout_s)

    def hedge_delay(self, endpoint: str) -> float | None:
        """How long an attempt may go unanswered before it is hedged; None when this client does not hedge."""
        if not self._hedge.enabled:
            return None
        window = self._latency.get(endpoint)
        observed = window.quantile(self._hedge.quantile, self._hedge.min_samples) if window else None
        if observed is None:
            observed = self._hedge.endpoint_default_delays_s.get(endpoint, self._hedge.default_delay_s)
        return max(self._hedge.min_delay_s, observed)

    async def _attempt(self, get: _Get) -> Attempt:
        """One attempt, hedged once if it is slow: the first usable answer, else the failure to act on.

        Both copies are tasks of one TaskGroup: the one that did not win is cancelled and awaited before the
        answer returns, and an error in either cancels the other.
        """
        timeout_s = call_context.budget(self.timeout_for(get.endpoint))
        delay = self.hedge_delay(get.endpoint)
        if delay is None or delay >= timeout_s:
            return await self._send(get, timeout_s)
        async with task_group() as group:
            first = group.create_task(self._send(get, timeout_s))
            racing: list[asyncio.Task[Any]] = [first]
            try:
                await asyncio.wait([first], timeout=delay)
                if first.done():
                    return first.result()
                hedge = group.create_task(self._send_hedge(get))
                racing.append(hedge)
                return await self._first_usable(get.endpoint, first, hedge)
            finally:
                for task in racing:
                    task.cancel()

    async def _send_hedge(self, get: _Get) -> Attempt | None:
        """The hedge, or None when no token is free within `max_token_wait_s`: the first attempt goes on alone."""
        # Never overdrawn: a hedge takes a token like any call, waiting at most its own short allowance.
        lane = call_context.set_lane(call_context.Lane.BACKGROUND) if self._hedge.spare_only else None
        try:
            await self._pacer.acquire(self.name, self._hedge.max_token_wait_s)
        except UpstreamRateLimited:
            return None
        finally:
            if lane is not None:
                call_context.reset_lane(lane)
        self._metrics.hedges.labels(self.name, get.endpoint, "sent").inc()
        return await self._send(get, call_context.budget(self.timeout_for(get.endpoint)))

    async def _first_usable(
        self, endpoint: str, first: asyncio.Task[Attempt], hedge: asyncio.Task[Attempt | None]
    ) -> Attempt:
        """The first answer that ends the attempt (not 429, not 5xx, not a timeout); else the worst failure seen."""
        pending: set[asyncio.Task[Any]] = {first, hedge}
        failed: Attempt | None = None
        while pending:
            done, pending = await asyncio.wait(pending, return_when=asyncio.FIRST_COMPLETED)
            for task in done:
                attempt: Attempt | None = task.result()
                if attempt is None:
                    continue  # no token for a hedge: the first attempt goes on alone
                outcome, response = attempt
                if (
                    response is not None
                    and response.status_code != 429
                    and response.status_code not in _RETRYABLE_STATUS
                ):
                    if task is hedge:
                        self._metrics.hedges.labels(self.name, endpoint, "won").inc()
                    return outcome, response
                if response is not None and response.status_code == 429:
                    # Honoured even if the other copy wins; and it outranks other failures as the one to act on.
                    retry_after = parse_retry_after(response.headers.get("retry-after"), self._default_retry_after_s)
                    await self._pacer.pause(self.name, retry_after)
                    failed = (outcome, response)
                elif failed is None:
                    failed = (outcome, response)
        assert failed is not None
        return failed

    async def _send(self, get: _Get, timeout_s: float) -> Attempt:
        endpoint = get.endpoint
        t0 = time.perf_counter()
        response: httpx.Response | None = None
        outcome = "cancelled"
        upstream_calls.count(self.name)
        try:
            response = await self._http.get(
                get.path.lstrip("/"), params=get.params, headers=get.headers, timeout=timeout_s
            )
            outcome = str(response.status_code)
        except httpx.TimeoutException:
            outcome = "timeout"
        except httpx.TransportError:
            outcome = "error"
        finally:
            elapsed = time.perf_counter() - t0
            self._metrics.requests.labels(self.name, endpoint, outcome).inc()
            self._metrics.seconds.labels(self.name, endpoint).observe(elapsed)
            if outcome != "error":  # a refused connection says nothing about how long answers take
                self._latency.setdefault(endpoint, LatencyWindow(self._hedge.window)).observe(elapsed)
        return outcome, response

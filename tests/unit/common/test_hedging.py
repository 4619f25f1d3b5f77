"""Per-endpoint timeouts and hedged GETs in UpstreamClient, against httpx.MockTransport."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

import httpx
import pytest
from prometheus_client import CollectorRegistry

from services.common import call_context
from services.common.errors import UpstreamRateLimited
from services.common.metrics import UpstreamMetrics
from services.common.upstream_http import HedgePolicy, LatencyWindow, UpstreamClient

Handler = Callable[[httpx.Request], Awaitable[httpx.Response]]


class NoTokens:
    """A pacer with tokens for the first attempt only: anything that may not wait (a hedge) is refused."""

    def __init__(self) -> None:
        self.refused = asyncio.Event()

    async def acquire(self, upstream: str, max_wait_s: float, *, tokens: int = 0) -> float:
        if max_wait_s <= 0:
            self.refused.set()
            raise UpstreamRateLimited(upstream, 1.0)
        return 0.0

    async def pause(self, upstream: str, seconds: float) -> None:
        return None


def client(
    handler: Handler, hedge: HedgePolicy, pacer: NoTokens | None = None, **timeouts: float
) -> tuple[UpstreamClient, CollectorRegistry]:
    registry = CollectorRegistry()
    c = UpstreamClient(
        "upstream",
        "http://upstream.test/v1",
        timeout_s=5.0,
        endpoint_timeouts={f"GET /{name}": seconds for name, seconds in timeouts.items()},
        metrics=UpstreamMetrics.create(registry),
        hedge=hedge,
        pacer=pacer,
        transport=httpx.MockTransport(handler),
    )
    return c, registry


def hedges(registry: CollectorRegistry, result: str) -> float:
    labels = {"upstream": "upstream", "endpoint": "GET /x", "result": result}
    return registry.get_sample_value("segue_upstream_hedges_total", labels) or 0.0


QUICK_HEDGE = HedgePolicy(enabled=True, min_delay_s=0.01, default_delay_s=0.01)


def numbered(before_answering: Callable[[int], Awaitable[None]]) -> Handler:
    """Answers {"copy": n} to the n-th attempt, once `before_answering(n)` has returned."""
    seen = 0

    async def handler(request: httpx.Request) -> httpx.Response:
        nonlocal seen
        seen += 1
        mine = seen
        await before_answering(mine)
        return httpx.Response(200, json={"copy": mine})

    return handler


def first_attempt_stalls(seconds: float) -> Handler:
    """The first attempt answers only after `seconds`: a hedge sent meanwhile wins."""
    return numbered(lambda n: asyncio.sleep(seconds if n == 1 else 0))


async def test_a_stalled_attempt_is_hedged_once_and_the_hedges_answer_wins() -> None:
    seen = 0
    stalled_cancelled = asyncio.Event()

    async def handler(request: httpx.Request) -> httpx.Response:
        nonlocal seen
        seen += 1
        if seen == 1:
            try:
                await asyncio.Event().wait()  # the slow tail: never answers by itself
            except asyncio.CancelledError:
                stalled_cancelled.set()
                raise
        return httpx.Response(200, json={"copy": seen})

    c, registry = client(handler, QUICK_HEDGE)
    assert await c.get_json("GET /x", "x") == {"copy": 2}
    assert seen == 2
    assert hedges(registry, "sent") == 1 and hedges(registry, "won") == 1
    assert stalled_cancelled.is_set(), "the loser was cancelled, and had ended before the answer returned"
    outcome = {"upstream": "upstream", "endpoint": "GET /x", "outcome": "cancelled"}
    assert registry.get_sample_value("segue_upstream_requests_total", outcome) == 1
    await c.aclose()


async def test_a_fast_answer_sends_no_hedge() -> None:
    seen = 0

    async def handler(request: httpx.Request) -> httpx.Response:
        nonlocal seen
        seen += 1
        return httpx.Response(200, json={})

    # A hedge delay far beyond any answer of an in-memory transport, even on a loaded machine.
    c, registry = client(handler, HedgePolicy(enabled=True, min_delay_s=20, default_delay_s=20))
    for _ in range(5):
        await c.get_json("GET /x", "x")
    assert seen == 5 and hedges(registry, "sent") == 0
    await c.aclose()


async def test_the_original_wins_when_it_answers_before_the_hedge() -> None:
    first_may_answer = asyncio.Event()

    async def before_answering(attempt: int) -> None:
        if attempt == 1:
            await first_may_answer.wait()
        else:
            first_may_answer.set()
            await asyncio.Event().wait()  # the hedge itself stalls

    c, registry = client(numbered(before_answering), QUICK_HEDGE)
    assert await c.get_json("GET /x", "x") == {"copy": 1}
    assert hedges(registry, "sent") == 1 and hedges(registry, "won") == 0
    await c.aclose()


async def test_no_hedge_without_a_free_rate_limit_token() -> None:
    pacer = NoTokens()
    seen = 0

    async def handler(request: httpx.Request) -> httpx.Response:
        nonlocal seen
        seen += 1
        await pacer.refused.wait()  # answers only once the hedge was refused its token
        return httpx.Response(200, json={"copy": seen})

    c, registry = client(handler, QUICK_HEDGE, pacer)
    assert await c.get_json("GET /x", "x") == {"copy": 1}
    assert seen == 1 and hedges(registry, "sent") == 0
    await c.aclose()


async def test_a_5xx_hedge_does_not_beat_a_slower_good_answer() -> None:
    seen = 0
    hedge_failed = asyncio.Event()

    async def handler(request: httpx.Request) -> httpx.Response:
        nonlocal seen
        seen += 1
        if seen == 1:
            await hedge_failed.wait()
            return httpx.Response(200, json={"copy": 1})
        hedge_failed.set()
        return httpx.Response(503)

    c, registry = client(handler, QUICK_HEDGE)
    assert await c.get_json("GET /x", "x") == {"copy": 1}
    assert seen == 2 and hedges(registry, "won") == 0
    await c.aclose()


async def test_each_endpoint_gets_its_own_timeout() -> None:
    timeouts: dict[str, float] = {}

    async def handler(request: httpx.Request) -> httpx.Response:
        timeouts[request.url.path] = request.extensions["timeout"]["read"]
        return httpx.Response(200, json={})

    c, _ = client(handler, HedgePolicy(), track=2.5, recommendation=4.5)
    await c.get_json("GET /track", "track")
    await c.get_json("GET /recommendation", "recommendation")
    await c.get_json("GET /other", "other")
    assert timeouts == {"/v1/track": 2.5, "/v1/recommendation": 4.5, "/v1/other": 5.0}
    await c.aclose()


def test_the_hedge_delay_follows_the_observed_quantile_above_a_floor() -> None:
    window = LatencyWindow(200)
    assert window.quantile(0.95, min_samples=20) is None
    for i in range(100):
        window.observe(i / 100)
    assert window.quantile(0.95, min_samples=20) == 0.95
    assert window.quantile(0.5, min_samples=20) == 0.5
    assert window.quantile(0.95, min_samples=101) is None


async def test_the_client_hedges_at_the_endpoints_p95_once_it_has_seen_enough_answers() -> None:
    async def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={})

    policy = HedgePolicy(enabled=True, min_delay_s=0.0001, default_delay_s=7.0, min_samples=5)
    c, _ = client(handler, policy)
    assert c.hedge_delay("GET /x") == 7.0  # nothing seen yet: the configured default
    for _ in range(5):
        await c.get_json("GET /x", "x")
    observed = c.hedge_delay("GET /x")
    assert observed is not None and observed < 7.0  # in-memory answers are far quicker than the default
    await c.aclose()
    off, _ = client(handler, HedgePolicy())
    assert off.hedge_delay("GET /x") is None
    await off.aclose()


async def test_a_slow_endpoint_has_its_own_default_hedge_delay_until_its_answers_are_seen() -> None:
    async def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={})

    policy = HedgePolicy(
        enabled=True,
        min_delay_s=0.0001,
        default_delay_s=1.0,
        endpoint_default_delays_s={"GET /slow": 2.0},
        min_samples=3,
    )
    c, _ = client(handler, policy)
    assert (c.hedge_delay("GET /slow"), c.hedge_delay("GET /x")) == (2.0, 1.0)
    for _ in range(3):
        await c.get_json("GET /slow", "slow")
    observed = c.hedge_delay("GET /slow")
    assert observed is not None and observed < 2.0, "then its own observed p95, as for any endpoint"
    await c.aclose()


class LaneRecorder:
    """A pacer that grants every token and notes the lane each acquisition asked in."""

    def __init__(self) -> None:
        self.lanes: list[call_context.Lane] = []

    async def acquire(self, upstream: str, max_wait_s: float, *, tokens: int = 0) -> float:
        self.lanes.append(call_context.lane())
        return 0.0

    async def pause(self, upstream: str, seconds: float) -> None:
        return None


@pytest.mark.parametrize(("spare_only", "hedge_lane"), [(True, "background"), (False, "interactive")])
async def test_a_spare_only_hedge_asks_for_its_token_in_the_background_lane(spare_only: bool, hedge_lane: str) -> None:
    """The background lane never takes the last share of a burst: a loaded budget refuses such a hedge."""
    pacer = LaneRecorder()
    policy = HedgePolicy(enabled=True, min_delay_s=0.01, default_delay_s=0.01, spare_only=spare_only)
    c, _ = client(first_attempt_stalls(1.0), policy, pacer)  # type: ignore[arg-type]
    assert await c.get_json("GET /x", "x") == {"copy": 2}
    assert pacer.lanes == ["interactive", hedge_lane], "the first attempt keeps the caller's lane"
    assert call_context.lane() == "interactive", "the caller's lane is untouched"
    await c.aclose()


class TokenIn:
    """A pacer whose next token is `after_s` away: granted to whoever may wait that long, refused to others."""

    def __init__(self, after_s: float) -> None:
        self.after_s = after_s
        self.asked: list[float] = []

    async def acquire(self, upstream: str, max_wait_s: float, *, tokens: int = 0) -> float:
        self.asked.append(max_wait_s)
        if not self.asked[1:]:
            return 0.0  # the first attempt's token was free
        if max_wait_s < self.after_s:
            raise UpstreamRateLimited(upstream, self.after_s)
        await asyncio.sleep(self.after_s)
        return self.after_s

    async def pause(self, upstream: str, seconds: float) -> None:
        return None


@pytest.mark.parametrize(("max_wait_s", "answer", "sent"), [(0.2, 2, 1), (0.0, 1, 0)])
async def test_a_hedge_waits_for_its_token_only_as_long_as_its_policy_allows(
    max_wait_s: float, answer: int, sent: int
) -> None:
    pacer = TokenIn(after_s=0.05)
    policy = HedgePolicy(enabled=True, min_delay_s=0.01, default_delay_s=0.01, max_token_wait_s=max_wait_s)
    c, registry = client(first_attempt_stalls(0.5), policy, pacer)  # type: ignore[arg-type]
    assert await c.get_json("GET /x", "x") == {"copy": answer}
    assert pacer.asked[1:] == [max_wait_s], "the hedge asked with its own allowance"
    assert hedges(registry, "sent") == sent
    await c.aclose()

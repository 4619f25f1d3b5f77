"""Overload admission (full, without personalisation, lean, or shed) and the LLM step's own budget.

The decisions are plain functions; `Overload` reads a real Redis the gateways' scheduler filled; the
step budget runs the real llm_gateway over gRPC in front of a fake Gemini that is slow or rate limited.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from prometheus_client import CollectorRegistry
from segue.v1 import common_pb2

from services.common import call_context
from services.common.errors import ResourceExhausted, UpstreamRateLimited
from services.common.gcra import Limit
from services.common.metrics import GrpcMetrics, SchedulerMetrics
from services.common.redis_client import RedisClient, connect
from services.common.scheduler import BudgetView, SchedulerSettings, SharedScheduler
from services.orchestrator import workflow
from services.orchestrator.overload import (
    FULL_CALLS,
    IDENTITY_CALLS,
    IMPERSONAL_CALLS,
    RECCOBEATS,
    SPOTIFY,
    Overload,
    OverloadMetrics,
    Verdict,
    Waits,
    decide,
    mood_timeout,
    pass_seconds,
    phase_seconds,
    plan_for,
)
from services.orchestrator.peers import Peers
from services.orchestrator.requests import RecommendParams
from services.orchestrator.sessions import Session
from tests.unit.llm_gateway.conftest import running_gateway
from tests.unit.llm_gateway.fake_gemini import FakeGemini, Reply, rate_limited

NO_WAIT = {SPOTIFY: 0.0, RECCOBEATS: 0.0}


SLOW = 0.01  # units per second: nothing refills during a test


# --- the decision -------------------------------------------------------------------------------


def waits(
    full: dict[str, float], impersonal: dict[str, float] | None = None, lean: dict[str, float] | None = None
) -> Waits:
    return Waits(full, impersonal or full, lean or impersonal or full)


TARGET = 12.0


def test_with_nothing_to_wait_for_a_pass_goes_in_full_whatever_the_estimates() -> None:
    admit = decide(remaining_s=1.0, mood_s=5.0, work_s=5.0, waits=waits(NO_WAIT), target_s=TARGET)
    assert admit.verdict is Verdict.FULL and admit.bottleneck == ""


def test_without_a_deadline_the_queue_target_still_decides() -> None:
    long = {SPOTIFY: 100.0, RECCOBEATS: 100.0}
    assert decide(None, 2.0, 2.0, waits(long), TARGET).verdict is Verdict.LEAN
    assert decide(None, 2.0, 2.0, waits({SPOTIFY: 1.0, RECCOBEATS: 1.0}), TARGET).verdict is Verdict.FULL


def test_waits_within_the_target_and_the_deadline_go_in_full() -> None:
    queued = {SPOTIFY: 1.0, RECCOBEATS: 8.0}
    admit = decide(remaining_s=20.0, mood_s=2.0, work_s=2.0, waits=waits(queued), target_s=TARGET)
    assert admit.verdict is Verdict.FULL
    assert admit.expected_s == pytest.approx(10.0)  # max(spotify + mood, reccobeats) + work
    assert admit.bottleneck == RECCOBEATS


def test_reccobeats_calls_go_at_their_place_in_its_queue_or_once_the_seeds_are_there() -> None:
    assert pass_seconds(3.0, 1.0, {SPOTIFY: 2.0, RECCOBEATS: 0.5}) == pytest.approx(6.0)
    assert pass_seconds(3.0, 1.0, {SPOTIFY: 0.0, RECCOBEATS: 8.0}) == pytest.approx(9.0)


def test_personalisation_is_dropped_first_when_only_that_fits() -> None:
    full = {SPOTIFY: 40.0, RECCOBEATS: 2.0}
    impersonal = {SPOTIFY: 3.0, RECCOBEATS: 1.0}
    admit = decide(remaining_s=30.0, mood_s=2.0, work_s=2.0, waits=waits(full, impersonal), target_s=TARGET)
    assert admit.verdict is Verdict.IMPERSONAL
    assert admit.bottleneck == SPOTIFY
    plan = plan_for(admit, 6.0)
    assert not plan.personalised and plan.recommendations and plan.mood_budget_s == 6.0
    assert "spotify" in plan.why_impersonal and "not personalised" in plan.why_impersonal


def test_a_pass_queued_past_the_target_goes_lean_though_the_deadline_would_allow_it() -> None:
    # Both would fit a 60 s deadline, but queueing them would hold every later pass up as long.
    full = {SPOTIFY: 0.0, RECCOBEATS: 40.0}
    impersonal = {SPOTIFY: 0.0, RECCOBEATS: 30.0}
    lean = {SPOTIFY: 0.0, RECCOBEATS: 1.0}
    admit = decide(remaining_s=60.0, mood_s=2.0, work_s=2.0, waits=waits(full, impersonal, lean), target_s=TARGET)
    assert admit.verdict is Verdict.LEAN and admit.bottleneck == RECCOBEATS
    assert admit.expected_s == pytest.approx(4.0)
    plan = plan_for(admit, 6.0)
    assert not plan.personalised and not plan.recommendations
    assert "reccobeats" in plan.why_impersonal and "without fresh recommendations" in plan.why_impersonal
    # With a longer target the same budget admits the impersonal pass.
    assert decide(60.0, 2.0, 2.0, waits(full, impersonal, lean), target_s=40.0).verdict is Verdict.IMPERSONAL


def test_a_pass_that_fits_in_no_way_is_shed_with_the_time_it_is_short_by() -> None:
    full = {SPOTIFY: 50.0, RECCOBEATS: 50.0}
    impersonal = {SPOTIFY: 0.0, RECCOBEATS: 45.0}
    lean = {SPOTIFY: 0.0, RECCOBEATS: 40.0}
    admit = decide(remaining_s=30.0, mood_s=2.0, work_s=2.0, waits=waits(full, impersonal, lean), target_s=TARGET)
    assert admit.verdict is Verdict.SHED
    assert admit.bottleneck == RECCOBEATS
    assert admit.retry_after_s == pytest.approx(42.0 - 30.0)


def test_the_mood_step_budget_never_outlasts_the_deadline() -> None:
    assert mood_timeout(6.0, None, 0.25) == 6.0
    assert mood_timeout(6.0, 60.0, 0.25) == 6.0
    assert mood_timeout(6.0, 3.0, 0.25) == pytest.approx(2.75)
    assert mood_timeout(6.0, 0.1, 0.25) == 0.0


def test_a_pass_is_learnt_from_its_answers_timings() -> None:
    timings = [
        common_pb2.PhaseTiming(phase="mood", seconds=2.0),
        common_pb2.PhaseTiming(phase="seeds", seconds=1.0),
        common_pb2.PhaseTiming(phase="total", seconds=5.0),
    ]
    assert phase_seconds(timings) == (2.0, 3.0)
    assert phase_seconds(timings[1:]) is None


# --- from the shared budget in Redis ------------------------------------------------------------


@pytest.fixture
async def redis(redis_url: str) -> AsyncIterator[RedisClient]:
    client = connect(redis_url)
    yield client
    await client.aclose()


def gateway_scheduler(redis: RedisClient, upstream: str, burst: float) -> SharedScheduler:
    """The scheduler a gateway runs (here: one limit that does not refill during the test)."""
    return SharedScheduler(
        redis,
        {upstream: [Limit("requests", rate=SLOW, burst=burst)]},
        metrics=SchedulerMetrics.create(CollectorRegistry()),
        settings=SchedulerSettings(replicas=1),
        redis_timeout_s=30.0,
    )


async def spend(scheduler: SharedScheduler, upstream: str) -> None:
    while True:
        try:
            await scheduler.acquire(upstream, 0.0)
        except UpstreamRateLimited:
            return


async def test_an_idle_budget_admits_in_full(redis: RedisClient) -> None:
    for upstream in (SPOTIFY, RECCOBEATS):
        await gateway_scheduler(redis, upstream, burst=20).acquire(upstream, 0.0)
    call_context.set_deadline_in(30.0)
    overload = Overload(BudgetView(redis), 6.0)
    assert (await overload.admit()).verdict is Verdict.FULL


async def test_a_spent_spotify_budget_drops_personalisation_and_pending_passes_count(redis: RedisClient) -> None:
    # What is left after the first call: a full pass, or an impersonal one behind a full one still pending.
    left = FULL_CALLS[SPOTIFY] + IDENTITY_CALLS[SPOTIFY] + IMPERSONAL_CALLS[SPOTIFY]
    spotify = gateway_scheduler(redis, SPOTIFY, burst=left + 1)
    await spotify.acquire(SPOTIFY, 0.0)  # a gateway's first call stores its limits where the view reads them
    call_context.set_deadline_in(30.0)
    overload = Overload(BudgetView(redis), 6.0)
    # One full pass fits the burst; a second, admitted while the first's calls have not gone out, does not.
    first = await overload.admit()
    assert first.verdict is Verdict.FULL
    with overload.holding(first.verdict) as release:
        second = await overload.admit()
        release()  # its seeds are gathered: its calls are in the scheduler's state, not pending here
        release()  # (once only)
        third = await overload.admit()
    assert second.verdict is Verdict.IMPERSONAL and second.bottleneck == SPOTIFY
    assert third.verdict is Verdict.FULL
    await spend(spotify, SPOTIFY)
    assert (await overload.admit()).verdict is Verdict.SHED  # not even the lean pass's identity check


async def test_a_shed_request_is_refused_at_once_with_a_retry_hint_and_counted(redis: RedisClient) -> None:
    recco = gateway_scheduler(redis, RECCOBEATS, burst=2)
    await spend(recco, RECCOBEATS)
    call_context.set_deadline_in(30.0)
    registry = CollectorRegistry()
    overload = Overload(BudgetView(redis), 6.0, OverloadMetrics.create(registry))
    with pytest.raises(ResourceExhausted) as refused:
        async with overload.admitted(follow_up=False):
            raise AssertionError("a shed request must not start")
    assert refused.value.retry_after_s is not None and refused.value.retry_after_s > 30.0
    assert registry.get_sample_value("segue_recommend_shed_total", {"reason": RECCOBEATS}) == 1
    assert registry.get_sample_value("segue_recommend_admissions_total", {"verdict": "shed"}) == 1
    # A session's follow-up reuses its pool: it is never shed.
    async with overload.admitted(follow_up=True) as admitted:
        assert admitted.plan.personalised


async def test_without_redis_every_pass_goes_in_full() -> None:
    call_context.set_deadline_in(1.0)
    assert (await Overload(None, 6.0).admit()).verdict is Verdict.FULL


# --- the LLM step's own budget --------------------------------------------------------------------


async def mood_within(fake: FakeGemini, budget_s: float) -> tuple[common_pb2.MoodProfile, workflow.Tally]:
    """The orchestrator's mood step against the real llm_gateway, with 30 s left of the caller's deadline."""
    async with running_gateway(fake.url, LLM_TIMEOUT_S="30") as gateway:
        unreachable = "127.0.0.1:9"
        peers = Peers.connect(
            gateway.address, unreachable, unreachable, 30.0, GrpcMetrics.create(CollectorRegistry(), "client")
        )
        try:
            call_context.set_deadline_in(30.0)
            tally = workflow.Tally()
            params = RecommendParams("", "rainy sunday, slow jazz, nothing sad", 20, "", "user-1-token")
            mood = await workflow.analyze_mood(peers, params, Session("s"), tally, budget_s)
        finally:
            await peers.close()
    return mood, tally


async def test_a_slow_llm_is_answered_by_keywords_within_the_step_budget(fake: FakeGemini) -> None:
    fake.default = lambda seen: Reply(delay_s=60.0)  # far beyond the step's budget, within the caller's deadline
    mood, tally = await mood_within(fake, budget_s=1.0)
    assert mood.source == common_pb2.MOOD_SOURCE_HEURISTIC
    assert mood.targets
    assert common_pb2.WARNING_CODE_FALLBACK_USED in {w.code for w in tally.warnings}
    [seen] = fake.requests
    # Gemini was told the step's budget, not the caller's 30 s (the SDK sends its timeout, rounded up).
    assert int(seen.headers["X-Server-Timeout"]) <= 1


async def test_a_429_is_not_retried_past_the_step_budget(fake: FakeGemini) -> None:
    fake.default = lambda seen: rate_limited("5s")  # the pause outlasts the 2 s budget, not the deadline
    mood, tally = await mood_within(fake, budget_s=2.0)
    assert mood.source == common_pb2.MOOD_SOURCE_HEURISTIC
    assert len(fake.requests) == 1
    assert any("rate limited" in w.message for w in tally.warnings)

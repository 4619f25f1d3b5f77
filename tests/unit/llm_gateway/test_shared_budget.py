"""The llm_gateway on the shared scheduler (a real private Redis): requests and tokens per minute, a cache
hit takes nothing, and Gemini's RetryInfo pauses every replica without being retried past the budget."""

from __future__ import annotations

from prometheus_client import CollectorRegistry
from segue.v1 import common_pb2, llm_gateway_pb2

from services.common.metrics import SchedulerMetrics
from services.common.redis_client import connect
from services.common.scheduler import BudgetView, SharedScheduler
from services.llm_gateway.budget import PacerGeminiBudget
from services.llm_gateway.config import from_env
from services.llm_gateway.gemini import UPSTREAM, estimate_tokens
from tests.unit.llm_gateway.conftest import API_KEY, running_gateway
from tests.unit.llm_gateway.fake_gemini import FakeGemini, answer, rate_limited
from tests.unit.llm_gateway.test_service import MOOD_ANSWER, mood_reply


async def test_a_cached_mood_takes_no_token(redis_url: str, fake: FakeGemini) -> None:
    fake.default = mood_reply
    async with running_gateway(fake.url, REDIS_URL=redis_url) as gateway:
        request = llm_gateway_pb2.AnalyzeMoodRequest(prompt="rainy sunday, slow jazz")
        await gateway.stub.AnalyzeMood(request, timeout=10)
        cached = await gateway.stub.AnalyzeMood(request, timeout=10)
        admitted = gateway.tokens_taken(UPSTREAM)
    assert cached.usage.cache_hits == 1
    assert admitted == len(fake.requests) == 1


async def test_gemini_retry_info_pauses_every_replica_and_the_keyword_mood_answers_in_time(
    redis_url: str, fake: FakeGemini
) -> None:
    fake.script = [rate_limited("40s")]
    fake.default = lambda seen: answer(MOOD_ANSWER)
    async with running_gateway(fake.url, REDIS_URL=redis_url) as gateway:
        first = await gateway.stub.AnalyzeMood(llm_gateway_pb2.AnalyzeMoodRequest(prompt="loud punk"), timeout=5)
        second = await gateway.stub.AnalyzeMood(llm_gateway_pb2.AnalyzeMoodRequest(prompt="calm piano"), timeout=5)
        refused = gateway.metric(
            "segue_scheduler_admissions_total", upstream=UPSTREAM, lane="interactive", outcome="refused"
        )
    # Not retried past the 5 s budget: the 40 s pause is known, so both answer with the keyword mood at once.
    assert len(fake.requests) == 1
    for reply in (first, second):
        assert reply.mood.source == common_pb2.MOOD_SOURCE_HEURISTIC
        assert reply.warnings[0].code == common_pb2.WARNING_CODE_FALLBACK_USED
    assert refused == 2
    redis = connect(redis_url)
    try:
        assert await BudgetView(redis).estimate_wait(UPSTREAM) > 35.0  # what every other replica sees
    finally:
        await redis.aclose()


async def test_a_prompt_costs_its_estimated_input_tokens(redis_url: str) -> None:
    # A replica whose token budget is nearly spent refuses a long prompt but still takes a short one.
    cfg = from_env({"GEMINI_API_KEY": API_KEY, "GEMINI_LIMIT_TPM": "2000", "GEMINI_LIMIT_TOKEN_BURST": "1000"})
    redis = connect(redis_url)
    try:
        scheduler = SharedScheduler(redis, {UPSTREAM: cfg.limits}, metrics=SchedulerMetrics.create(CollectorRegistry()))
        long_prompt = "slow jazz " * 300
        tokens = estimate_tokens("system", long_prompt)
        assert tokens == (len("system") + len(long_prompt) + 3) // 4
        await scheduler.acquire(UPSTREAM, 0.0, tokens=tokens)  # 752 of the 1000-token burst
        assert await scheduler.estimate_wait(UPSTREAM, tokens=tokens) > 0
        assert await scheduler.estimate_wait(UPSTREAM, tokens=estimate_tokens("system", "jazz")) == 0
    finally:
        await redis.aclose()


async def test_moods_are_bundled_while_the_shared_gemini_budget_makes_a_call_wait(redis_url: str) -> None:
    cfg = from_env({"GEMINI_API_KEY": API_KEY, "GEMINI_LIMIT_RPM": "3", "GEMINI_LIMIT_REQUEST_BURST": "2"})
    redis = connect(redis_url)
    try:
        scheduler = SharedScheduler(redis, {UPSTREAM: cfg.limits}, metrics=SchedulerMetrics.create(CollectorRegistry()))
        budget = PacerGeminiBudget(scheduler)
        assert not await budget.gemini_saturated()
        for _ in range(2):  # the request burst: the next call would wait a minute
            await scheduler.acquire(UPSTREAM, 0.0, tokens=100)
        assert await budget.gemini_saturated()
        # Another replica sees the same budget.
        other = connect(redis_url)
        try:
            replica = SharedScheduler(
                other, {UPSTREAM: cfg.limits}, metrics=SchedulerMetrics.create(CollectorRegistry())
            )
            assert await PacerGeminiBudget(replica).gemini_saturated()
        finally:
            await other.aclose()
    finally:
        await redis.aclose()

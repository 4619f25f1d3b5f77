"""Mood analyses sharing Gemini calls: single-flight for identical prompts, one bundled call under pressure."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest
from prometheus_client import CollectorRegistry
from segue.v1 import common_pb2, llm_gateway_pb2

from services.common import stubs
from services.common.cache import Cache, MemoryStore
from services.common.metrics import WorkSharingMetrics
from services.llm_gateway.budget import LocalGeminiBudget
from services.llm_gateway.config import from_env
from services.llm_gateway.gemini import GeminiClient
from services.llm_gateway.metrics import LlmMetrics
from services.llm_gateway.mood import BundleSettings, MoodAnalyzer, MoodResult
from services.llm_gateway.server import build
from sim.testing import RunningSim, running_sim
from tests.unit.inprocess import LOOPBACK, serving
from tests.unit.llm_gateway.conftest import API_KEY
from tests.unit.llm_gateway.fake_gemini import FakeGemini, Seen, answer, error
from tests.unit.llm_gateway.test_service import MOOD_ANSWER

GENERATE = "POST /models/{model}:generateContent"
PROMPTS = [
    "rainy sunday, slow jazz, nothing sad",
    "high energy gym workout, heavy metal",
    "calm ambient music to fall asleep",
    "sunny road trip with indie rock",
]


class Budget:
    """The budget view, as the shared scheduler will give it: here, set by the test."""

    def __init__(self, saturated: bool) -> None:
        self.saturated = saturated

    async def gemini_saturated(self) -> bool:
        return self.saturated


@pytest.fixture
async def sim() -> AsyncIterator[RunningSim]:
    async with running_sim(profile="fast") as s:
        yield s


def analyzer(gemini_url: str, budget: Budget, *, max_prompts: int = 4) -> tuple[MoodAnalyzer, GeminiClient]:
    registry = CollectorRegistry()
    gemini = GeminiClient(
        api_key=API_KEY, base_url=gemini_url, model="gemini-2.5-flash", metrics=LlmMetrics.create(registry)
    )
    # A long window: the bundle goes when it is full, so what is bundled never depends on machine speed.
    bundling = BundleSettings(window_s=30, max_prompts=max_prompts)
    mood = MoodAnalyzer(
        gemini,
        Cache(MemoryStore(), "llm"),
        3600,
        budget=budget,
        bundling=bundling,
        sharing=WorkSharingMetrics.create(registry),
    )
    return mood, gemini


def generate_calls(sim: RunningSim) -> int:
    return int(sim.stats()["upstreams"]["gemini"]["endpoints"][GENERATE]["calls"])


def genres(result: MoodResult) -> list[str]:
    return list(result.profile.genres)


async def test_under_an_exhausted_budget_concurrent_moods_cost_one_bundled_call(sim: RunningSim) -> None:
    mood, gemini = analyzer(sim.gemini_url, Budget(saturated=True))
    results = await asyncio.gather(*(mood.analyze(p) for p in PROMPTS))

    assert generate_calls(sim) == 1
    assert all(r.profile.source == common_pb2.MOOD_SOURCE_LLM and not r.warnings for r in results)
    # Each prompt got its own reading, not a blend of the four.
    assert any("jazz" in g for g in genres(results[0])) and not any("metal" in g for g in genres(results[0]))
    assert any("metal" in g for g in genres(results[1]))
    assert any("ambient" in g for g in genres(results[2]))
    # The one call is reported once, its tokens shared out.
    assert sum(r.usage.calls for r in results) == 1
    gemini_stats = sim.stats()["upstreams"]["gemini"]
    assert sum(r.usage.output_tokens for r in results) == gemini_stats["tokens_out"]

    # Each answer was cached under the key a single call would have used.
    again = await asyncio.gather(*(mood.analyze(p) for p in PROMPTS))
    assert generate_calls(sim) == 1
    assert all(r.profile.source == common_pb2.MOOD_SOURCE_CACHE for r in again)
    assert [genres(r) for r in again] == [genres(r) for r in results]
    await gemini.aclose()


async def test_with_budget_to_spare_each_mood_keeps_its_own_call(sim: RunningSim) -> None:
    mood, gemini = analyzer(sim.gemini_url, Budget(saturated=False))
    results = await asyncio.gather(*(mood.analyze(p) for p in PROMPTS))
    assert generate_calls(sim) == len(PROMPTS)
    assert all(r.usage.calls == 1 for r in results)
    await gemini.aclose()


async def test_identical_prompts_in_flight_share_one_call(sim: RunningSim) -> None:
    mood, gemini = analyzer(sim.gemini_url, Budget(saturated=False))
    # Equal once normalised (case, spacing): one cache key, so one flight.
    results = await asyncio.gather(*(mood.analyze(p) for p in [PROMPTS[0], PROMPTS[0].upper(), f"  {PROMPTS[0]} "] * 5))
    assert generate_calls(sim) == 1
    assert len({tuple(genres(r)) for r in results}) == 1
    assert sum(r.usage.calls for r in results) == 1
    await gemini.aclose()


def bundle_reply(parts: dict[str, Any]) -> Any:
    return answer(parts, prompt_tokens=300, output_tokens=90)


async def test_a_malformed_part_costs_only_its_own_prompt(fake: FakeGemini) -> None:
    fake.default = lambda seen: bundle_reply(
        {"mood_1": MOOD_ANSWER, "mood_2": {"genres": "not a list"}, "mood_3": MOOD_ANSWER}
    )
    mood, gemini = analyzer(fake.url, Budget(saturated=True), max_prompts=3)
    first, second, third = await asyncio.gather(*(mood.analyze(p) for p in PROMPTS[:3]))

    assert len(fake.requests) == 1
    assert first.profile.source == third.profile.source == common_pb2.MOOD_SOURCE_LLM
    assert second.profile.source == common_pb2.MOOD_SOURCE_HEURISTIC
    [warning] = second.warnings
    assert warning.code == common_pb2.WARNING_CODE_FALLBACK_USED
    # The bundle asked for one strict MoodAnswer per prompt, each prompt under its own name.
    seen: Seen = fake.requests[0]
    assert sorted(seen.schema["properties"]) == ["mood_1", "mood_2", "mood_3"]
    assert all(f"mood_{i + 1}:\nMood prompt: {p}" in seen.prompt for i, p in enumerate(PROMPTS[:3]))
    await gemini.aclose()


async def test_a_failed_bundle_falls_back_for_every_prompt_in_it(fake: FakeGemini) -> None:
    fake.default = lambda seen: error(400, "INVALID_ARGUMENT", "bad request")
    mood, gemini = analyzer(fake.url, Budget(saturated=True), max_prompts=2)
    results = await asyncio.gather(*(mood.analyze(p) for p in PROMPTS[:2]))
    assert len(fake.requests) == 1
    assert all(r.profile.source == common_pb2.MOOD_SOURCE_HEURISTIC and r.warnings for r in results)
    await gemini.aclose()


async def test_the_gateway_bundles_once_its_local_per_minute_budget_is_spent(sim: RunningSim) -> None:
    env = {
        **LOOPBACK,
        "GEMINI_API_KEY": API_KEY,
        "GEMINI_BASE_URL": sim.gemini_url,
        "GEMINI_LOCAL_RPM": "1",
        "LLM_BUNDLE_WINDOW_MS": "30000",  # the bundle goes when full: no dependence on machine speed
        "LLM_BUNDLE_MAX_PROMPTS": "3",
    }
    async with serving(from_env(env), build, stubs.llm_gateway) as gateway:

        async def analyze(prompt: str) -> llm_gateway_pb2.AnalyzeMoodResponse:
            reply: llm_gateway_pb2.AnalyzeMoodResponse = await gateway.stub.AnalyzeMood(
                llm_gateway_pb2.AnalyzeMoodRequest(prompt=prompt), timeout=60
            )
            return reply

        await analyze(PROMPTS[3])  # the one request this minute's budget allows, on its own
        assert generate_calls(sim) == 1
        replies = await asyncio.gather(*(analyze(p) for p in PROMPTS[:3]))
        assert generate_calls(sim) == 2
        assert all(r.mood.source == common_pb2.MOOD_SOURCE_LLM for r in replies)
        bundles = gateway.metric("segue_batch_size_count", batcher="llm-mood")
        assert bundles == 1 and gateway.metric("segue_batch_size_sum", batcher="llm-mood") == 3


async def test_the_local_budget_view_counts_a_minute_of_requests_and_any_pause() -> None:
    now = [0.0]
    budget = LocalGeminiBudget(rpm=2, clock=lambda: now[0])
    assert not await budget.gemini_saturated()
    await budget.acquire("gemini", 5.0)
    await budget.acquire("gemini", 5.0)
    assert await budget.gemini_saturated()
    now[0] = 60.5  # both requests have left the minute
    assert not await budget.gemini_saturated()
    await budget.pause("gemini", 10.0)  # a 429 asked for a pause
    assert await budget.gemini_saturated()
    now[0] = 71.0
    assert not await budget.gemini_saturated()
    assert not await LocalGeminiBudget(rpm=0, clock=lambda: now[0]).gemini_saturated()

"""The llm_gateway (real gRPC server) against the simulator's fake Gemini."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from segue.v1 import common_pb2, llm_gateway_pb2

from sim.testing import RunningSim, running_sim
from tests.unit.llm_gateway.conftest import Gateway, running_gateway

PROMPT = "rainy sunday, slow jazz, nothing sad"
GENERATE = "POST /models/{model}:generateContent"


@pytest.fixture
async def sim() -> AsyncIterator[RunningSim]:
    async with running_sim(profile="fast") as s:
        yield s


@pytest.fixture
async def gw(sim: RunningSim) -> AsyncIterator[Gateway]:
    async with running_gateway(sim.gemini_url) as gateway:
        yield gateway


def generate_calls(sim: RunningSim) -> int:
    return int(sim.stats()["upstreams"]["gemini"]["endpoints"][GENERATE]["calls"])


async def analyze(gw: Gateway, prompt: str) -> llm_gateway_pb2.AnalyzeMoodResponse:
    response: llm_gateway_pb2.AnalyzeMoodResponse = await gw.stub.AnalyzeMood(
        llm_gateway_pb2.AnalyzeMoodRequest(prompt=prompt), timeout=10
    )
    return response


def energy(profile: common_pb2.MoodProfile) -> common_pb2.FeatureTarget:
    [target] = [t for t in profile.targets if t.feature == common_pb2.AUDIO_FEATURE_ENERGY]
    return target


async def test_mood_reads_rainy_slow_jazz(gw: Gateway, sim: RunningSim) -> None:
    response = await analyze(gw, PROMPT)
    mood = response.mood
    assert mood.source == common_pb2.MOOD_SOURCE_LLM and not response.warnings
    assert energy(mood).target <= 0.45
    assert any("jazz" in g for g in mood.genres)
    assert "sad" in mood.avoid
    assert response.usage.calls == 1 and response.usage.prompt_tokens > 0 and response.usage.output_tokens > 0


async def test_a_warm_mood_makes_no_gemini_call(gw: Gateway, sim: RunningSim) -> None:
    first = await analyze(gw, PROMPT)
    assert generate_calls(sim) == 1
    second = await analyze(gw, PROMPT)
    assert generate_calls(sim) == 1
    assert second.mood.source == common_pb2.MOOD_SOURCE_CACHE
    assert list(second.mood.genres) == list(first.mood.genres)
    assert second.usage == common_pb2.LlmUsage(cache_hits=1)


def _describe(sim: RunningSim, genre: str, count: int) -> list[llm_gateway_pb2.Candidate]:
    catalog = sim.catalog
    tracks = [t for t in catalog.tracks if t.genre == genre and t.has_audio_features][:count]
    return [
        llm_gateway_pb2.Candidate(
            id=t.spotify_id,
            description=f"{t.title} - {catalog.artists[t.artist_indices[0]].name} "
            f"({t.genre}, energy {(catalog.audio_features(t) or {})['energy']:.2f})",
        )
        for t in tracks
    ]


async def test_run_tasks_choices_come_from_each_tasks_own_candidates(gw: Gateway, sim: RunningSim) -> None:
    jazz, metal, pop = _describe(sim, "jazz", 4), _describe(sim, "metal", 4), _describe(sim, "pop", 5)
    request = llm_gateway_pb2.RunTasksRequest(
        context=PROMPT,
        tasks=[
            llm_gateway_pb2.LlmTask(
                task_id="anchors",
                choose=llm_gateway_pb2.ChooseCandidatesTask(
                    instruction="Pick the tracks that best anchor this mood.",
                    candidates=[metal[0], jazz[0], metal[1], jazz[1], metal[2], jazz[2], metal[3], jazz[3]],
                    max_choices=3,
                ),
            ),
            llm_gateway_pb2.LlmTask(
                task_id="seeds",
                choose=llm_gateway_pb2.ChooseCandidatesTask(
                    instruction="Pick seed tracks.", candidates=pop, max_choices=2
                ),
            ),
            llm_gateway_pb2.LlmTask(
                task_id="mentions",
                extract_mentions=llm_gateway_pb2.ExtractMentionsTask(text="something like Miles Davis"),
            ),
        ],
    )
    response = await gw.stub.RunTasks(request, timeout=10)

    assert generate_calls(sim) == 1  # three tasks, one LLM call
    anchors, seeds, mentions = response.results
    assert [r.task_id for r in response.results] == ["anchors", "seeds", "mentions"]
    assert 1 <= len(anchors.choose.chosen_ids) <= 3
    assert set(anchors.choose.chosen_ids) <= {c.id for c in jazz + metal}
    assert set(anchors.choose.chosen_ids) <= {c.id for c in jazz}  # the mood is slow jazz
    assert 1 <= len(seeds.choose.chosen_ids) <= 2
    assert set(seeds.choose.chosen_ids) <= {c.id for c in pop}
    assert mentions.WhichOneof("result") == "extract_mentions"
    assert not response.warnings


async def test_gemini_outage_falls_back_to_heuristics(gw: Gateway, sim: RunningSim) -> None:
    sim.set_faults(upstream="gemini", outage=True)
    response = await analyze(gw, PROMPT)
    assert response.mood.source == common_pb2.MOOD_SOURCE_HEURISTIC
    [warning] = response.warnings
    assert warning.code == common_pb2.WARNING_CODE_FALLBACK_USED and warning.component == "llm_gateway"
    assert "unavailable" in warning.message
    assert "jazz" in response.mood.genres and energy(response.mood).target < 0.5
    assert generate_calls(sim) == 3  # LLM_MAX_ATTEMPTS, then the fallback

    sim.set_faults(clear=True)
    recovered = await analyze(gw, PROMPT)
    assert recovered.mood.source == common_pb2.MOOD_SOURCE_LLM

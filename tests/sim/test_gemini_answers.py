"""What the fake Gemini answers this repository's own schemas, asked through the llm_gateway's real client
(google-genai) against the running simulator: AnalyzeMood's MoodAnswer, RunTasks' bundles of choices and
mentions, a bundled mood call (one MoodAnswer per prompt), and the bench's legacy-model schemas."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import pytest
from prometheus_client import CollectorRegistry
from pydantic import BaseModel
from segue.v1 import llm_gateway_pb2

from bench.legacy import prompts as legacy
from bench.legacy.llm import request_body
from services.llm_gateway import mood as mood_task
from services.llm_gateway import tasks
from services.llm_gateway.gemini import GeminiClient
from services.llm_gateway.metrics import LlmMetrics
from services.llm_gateway.schemas import MoodAnswer, tasks_schema
from services.llm_gateway.usage import Usage
from sim.catalog import Catalog
from sim.gemini import generate
from sim.testing import RunningSim


@pytest.fixture
async def llm(sim: RunningSim) -> AsyncIterator[GeminiClient]:
    client = GeminiClient(
        api_key="test-key",
        base_url=sim.gemini_url,
        model="gemini-2.5-flash",
        metrics=LlmMetrics.create(CollectorRegistry()),
    )
    try:
        yield client
    finally:
        await client.aclose()


async def ask(llm: GeminiClient, system: str, prompt: str, schema: type[BaseModel]) -> Any:
    return await llm.generate(task="test", system=system, prompt=prompt, schema=schema, usage=Usage())


async def analyze(llm: GeminiClient, prompt: str) -> MoodAnswer:
    answer: MoodAnswer = await ask(llm, mood_task.SYSTEM_INSTRUCTION, f"Mood prompt: {prompt}", MoodAnswer)
    return answer


def described(catalog: Catalog, genre: str, count: int) -> list[llm_gateway_pb2.Candidate]:
    """Candidates as a caller would describe them: "Title by Artist (genre, energy 0.31)"."""
    found = [t for t in catalog.tracks if t.genre == genre and t.has_audio_features][:count]
    lines = {
        t.spotify_id: (t, catalog.artists[t.artist_indices[0]].name, catalog.audio_features(t) or {}) for t in found
    }
    return [
        llm_gateway_pb2.Candidate(id=i, description=f"{t.title} by {name} ({t.genre}, energy {f['energy']:.2f})")
        for i, (t, name, f) in lines.items()
    ]


def popular_track(catalog: Catalog, rank: int = 0) -> tuple[str, str]:
    track = sorted(catalog.tracks, key=lambda t: (-t.popularity, t.index))[rank]
    return track.title, catalog.artists[track.artist_indices[0]].name


async def test_a_mood_answer_reads_the_prompt(llm: GeminiClient, sim: RunningSim) -> None:
    answer = await analyze(llm, "rainy sunday, slow jazz, nothing sad")
    assert answer.genres[0] == "jazz" and answer.avoid == ["sad"]
    assert answer.primary_emotion == "calm"
    given = dict(answer.targets())
    low, high, weight = given["energy"]
    assert low < high <= 0.5 and 0 < weight <= 1
    assert 3 <= len(given) <= 6, "only the features that matter for the mood"
    assert len(answer.artists) == 8 and answer.mentioned_tracks == [], "the schema's maxItems bounds the list"
    known = {a.name: a.genres for a in sim.catalog.artists}
    assert all(set(known[a]) & set(answer.genres[:3]) for a in answer.artists)


async def test_a_mood_answer_excludes_what_the_prompt_rules_out(llm: GeminiClient) -> None:
    answer = await analyze(llm, "anything but pop")
    assert answer.avoid == ["pop"] and not any("pop" in g for g in answer.genres)


async def test_a_mood_answer_names_the_track_and_artist_the_prompt_names(llm: GeminiClient, sim: RunningSim) -> None:
    title, artist = popular_track(sim.catalog, 2)
    answer = await analyze(llm, f"songs like {title.lower()} by {artist.lower()} for a slow sunday morning")
    assert [(t.title, t.artist) for t in answer.mentioned_tracks] == [(title, artist)]
    assert answer.artists[0] == artist


async def test_run_tasks_answers_each_task_from_its_own_candidates(llm: GeminiClient, sim: RunningSim) -> None:
    jazz, metal, pop = (
        described(sim.catalog, "jazz", 4),
        described(sim.catalog, "metal", 4),
        described(sim.catalog, "pop", 5),
    )
    title, artist = popular_track(sim.catalog)
    request = llm_gateway_pb2.RunTasksRequest(
        context="rainy sunday, slow jazz, nothing sad",
        tasks=[
            llm_gateway_pb2.LlmTask(
                task_id="anchors",
                choose=llm_gateway_pb2.ChooseCandidatesTask(
                    instruction="Pick the tracks that best anchor this mood.",
                    candidates=[metal[0], jazz[0], metal[1], jazz[1], metal[2], jazz[2]],
                    max_choices=2,
                ),
            ),
            llm_gateway_pb2.LlmTask(
                task_id="seeds",
                choose=llm_gateway_pb2.ChooseCandidatesTask(instruction="Pick seeds.", candidates=pop, max_choices=3),
            ),
            llm_gateway_pb2.LlmTask(
                task_id="mentions",
                extract_mentions=llm_gateway_pb2.ExtractMentionsTask(text=f"more like '{title}' by {artist}"),
            ),
        ],
    )
    answer = await ask(llm, tasks.SYSTEM_INSTRUCTION, tasks.build_prompt(request), tasks.build_schema(request))
    anchors, seeds, mentions = tasks.to_results(request, answer)
    assert list(anchors.choose.chosen_ids) == [c.id for c in jazz[:2]]  # the mood is slow jazz
    assert 1 <= len(seeds.choose.chosen_ids) <= 3 and set(seeds.choose.chosen_ids) <= {c.id for c in pop}
    assert [(t.title, t.artist) for t in mentions.extract_mentions.tracks] == [(title, artist)]
    assert list(mentions.extract_mentions.artists) == [artist]


@pytest.mark.parametrize("layout", ["{name}: {prompt}", "{name} (mood):\nMood prompt: {prompt}"])
async def test_a_bundled_mood_call_answers_each_prompt_as_a_single_call_would(
    llm: GeminiClient, sim: RunningSim, layout: str
) -> None:
    title, artist = popular_track(sim.catalog, 2)
    prompts = ["rainy sunday, slow jazz, nothing sad", "anything but pop", f"songs like {title} by {artist}"]
    names = [f"mood_{i + 1}" for i in range(len(prompts))]
    text = "Read each mood prompt.\n\n" + "\n\n".join(
        layout.format(name=n, prompt=p) for n, p in zip(names, prompts, strict=True)
    )
    bundled = await ask(llm, mood_task.SYSTEM_INSTRUCTION, text, tasks_schema(dict.fromkeys(names, MoodAnswer)))
    for name, prompt in zip(names, prompts, strict=True):
        assert getattr(bundled, name) == await analyze(llm, prompt)


def legacy_answer(task: legacy.LlmTask, sim: RunningSim) -> Any:
    return json.loads(generate(request_body(task), "gemini-2.5-flash", sim.state.knowledge).text)


async def test_the_legacy_models_choices_follow_the_mood_and_the_counts_asked(sim: RunningSim) -> None:
    catalog, prompt = sim.catalog, "rainy sunday, slow jazz"
    jazz = [a.name for a in catalog.artists if a.genres[0] == "jazz"][:3]
    metal = [a.name for a in catalog.artists if a.genres[0] == "metal"][:2]
    artists = [metal[0], *jazz[:2], metal[1], jazz[2]]
    validated = legacy_answer(legacy.validate_artists(prompt, artists), sim)
    assert validated["keep_artists"] == [2, 3, 5]
    assert sorted(a["index"] for a in validated["filtered_artists"]) == [1, 4]
    assert {a["name"] for a in validated["filtered_artists"]} == set(metal)
    assert legacy_answer(legacy.select_seeds(prompt, [f"id{i:08d}" for i in range(10)], 6), sim)[
        "selected_indices"
    ] == [1, 2, 3, 4, 5, 6]
    lines = [f"Track {i}" for i in range(1, 6)]
    assert len(legacy_answer(legacy.finalize_anchors(prompt, lines, 2), sim)["selected_track_indices"]) == 2
    scores = legacy_answer(legacy.score_candidates(prompt, lines), sim)["track_scores"]
    assert sorted(s["track_index"] for s in scores) == [1, 2, 3, 4, 5]
    quality = legacy_answer(legacy.quality_evaluation(prompt, lines), sim)
    assert quality["meets_expectations"] is True and quality["specific_concerns"] == []


async def test_the_legacy_models_mood_and_intent_shapes(sim: RunningSim) -> None:
    title, artist = popular_track(sim.catalog, 2)
    prompt = f"songs like {title} by {artist}"
    intent = legacy_answer(legacy.intent(prompt), sim)
    assert intent["intent_type"] == "specific_track_similar" and intent["user_mentioned_artists"] == [artist]
    assert [(t["track_name"], t["artist_name"]) for t in intent["user_mentioned_tracks"]] == [(title, artist)]
    read = legacy_answer(legacy.mood("late night synthwave drive"), sim)
    assert 8 <= len(read["artist_recommendations"]) <= 15 and 3 <= len(read["genre_keywords"]) <= 6
    assert read["genre_keywords"][0] == "synthwave"
    low, high = read["target_features"]["energy"]
    assert 0 <= low < high <= 1 and set(read["feature_weights"]) == set(legacy.FEATURES)

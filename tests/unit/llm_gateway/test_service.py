"""The llm_gateway through a real grpc.aio server, with a fake Gemini behind it."""

from __future__ import annotations

import logging
import re
from typing import Any

import grpc
import pytest
from grpc import aio
from segue.v1 import common_pb2, llm_gateway_pb2

from services.common.features import FEATURE_NAMES, feature_name
from tests.unit.llm_gateway.conftest import API_KEY, Gateway
from tests.unit.llm_gateway.fake_gemini import FakeGemini, Seen, answer, error, rate_limited

PROMPT = "Rainy Sunday, slow jazz, nothing sad"

MOOD_ANSWER: dict[str, Any] = {
    "genres": ["jazz", "Jazz", "bossa nova", " "],
    "artists": ["Chet Baker"],
    "avoid": ["sad"],
    "mentioned_tracks": [{"title": "Blue in Green", "artist": "Miles Davis"}],
    "feature_targets": {
        "energy": [-0.5, 0.4, 0.9],  # clamped
        "tempo": [140, 60, 2.0],  # swapped, weight clamped: the weightiest comes first
        "loudness": [-80, -10, 0.3],
        "groove": [0, 1, 0.5],  # unknown: dropped
        "valence": [0.2],  # no range: dropped
    },
    "primary_emotion": "calm",
}


def mood_reply(seen: Seen) -> Any:
    return answer(MOOD_ANSWER, prompt_tokens=120, output_tokens=80)


async def analyze(gw: Gateway, prompt: str, deadline_s: float = 10) -> llm_gateway_pb2.AnalyzeMoodResponse:
    response: llm_gateway_pb2.AnalyzeMoodResponse = await gw.stub.AnalyzeMood(
        llm_gateway_pb2.AnalyzeMoodRequest(prompt=prompt), timeout=deadline_s
    )
    return response


def target(profile: common_pb2.MoodProfile, feature: str) -> common_pb2.FeatureTarget:
    [found] = [t for t in profile.targets if feature_name(t.feature) == feature]
    return found


# --- AnalyzeMood ---------------------------------------------------------------------------------


async def test_analyze_mood_maps_and_clamps_the_llm_answer(gateway: Gateway, fake: FakeGemini) -> None:
    fake.default = mood_reply
    response = await analyze(gateway, PROMPT)

    mood = response.mood
    assert mood.source == common_pb2.MOOD_SOURCE_LLM
    assert [feature_name(t.feature) for t in mood.targets] == ["tempo", "energy", "loudness"]
    energy, tempo, loudness = target(mood, "energy"), target(mood, "tempo"), target(mood, "loudness")
    assert (energy.min, energy.max, energy.target) == (0.0, 0.4, 0.2), "the ideal is the range's middle"
    assert (tempo.min, tempo.max, tempo.target, tempo.weight) == (60, 140, 100, 1.0)
    assert (loudness.min, loudness.max) == (-60, -10)
    assert list(mood.genres) == ["jazz", "bossa nova"]
    assert list(mood.artists) == ["Chet Baker"]
    assert [(t.title, t.artist) for t in mood.mentioned_tracks] == [("Blue in Green", "Miles Davis")]
    assert list(mood.avoid) == ["sad"] and mood.primary_emotion == "calm"
    # written from the answer: the model is not asked for a sentence
    assert mood.interpretation == "A calm mood of jazz and bossa nova, like Chet Baker, avoiding sad."
    assert "jazz" in mood.keywords and "sad" not in mood.keywords, "the prompt's mood words, not what it rules out"
    assert response.usage == common_pb2.LlmUsage(calls=1, prompt_tokens=120, output_tokens=80)
    assert not response.warnings
    [seen] = fake.requests
    assert PROMPT in seen.prompt
    asked = seen.schema["properties"]
    assert {"feature_targets", "genres", "artists", "mentioned_tracks", "avoid"} <= set(asked)
    assert "keywords" not in asked, "nothing the mesh reads elsewhere is asked: every output token costs time"
    assert 8 in (asked["artists"].get("maxItems"), asked["artists"].get("max_items"))  # the SDK writes max_items
    targets = asked["feature_targets"]["properties"]
    assert set(targets) == set(FEATURE_NAMES) and not asked["feature_targets"].get("required")
    assert 3 in (targets["energy"].get("minItems"), targets["energy"].get("min_items")), "[min, max, weight]"
    assert "interpretation" not in asked
    assert gateway.metric("segue_llm_calls_total", task="analyze_mood", outcome="ok") == 1
    assert gateway.metric("segue_llm_tokens_total", direction="output") == 80


async def test_a_warm_prompt_makes_no_llm_call(gateway: Gateway, fake: FakeGemini) -> None:
    fake.default = mood_reply
    first = await analyze(gateway, PROMPT)
    # Case and spacing do not change the mood, so they share the cache entry.
    second = await analyze(gateway, "  rainy sunday,   slow JAZZ, nothing sad ")

    assert len(fake.requests) == 1
    assert second.mood.source == common_pb2.MOOD_SOURCE_CACHE
    assert list(second.mood.targets) == list(first.mood.targets)
    assert second.usage == common_pb2.LlmUsage(calls=0, cache_hits=1)


@pytest.mark.parametrize(
    ("prompt", "message"),
    [("", "prompt must not be empty"), ("   \n ", "prompt must not be empty"), ("x" * 2001, "at most 2000")],
)
async def test_bad_prompts_are_invalid_argument(gateway: Gateway, fake: FakeGemini, prompt: str, message: str) -> None:
    with pytest.raises(aio.AioRpcError) as caught:
        await analyze(gateway, prompt)
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert message in (caught.value.details() or "")
    assert not fake.requests


async def test_gemini_outage_falls_back_to_heuristics_with_a_warning(gateway: Gateway, fake: FakeGemini) -> None:
    fake.default = lambda seen: error(503, "UNAVAILABLE", "The model is overloaded.")
    response = await analyze(gateway, PROMPT)

    mood = response.mood
    assert mood.source == common_pb2.MOOD_SOURCE_HEURISTIC
    assert "jazz" in mood.genres and "sad" in mood.avoid
    assert target(mood, "energy").target < 0.5
    assert target(mood, "valence").min >= 0.35  # "nothing sad"
    [warning] = response.warnings
    assert warning.code == common_pb2.WARNING_CODE_FALLBACK_USED
    assert warning.component == "llm_gateway"
    assert "unavailable" in warning.message
    assert response.usage.calls == 3  # LLM_MAX_ATTEMPTS

    # The fallback was not cached: once Gemini is back, the same prompt gets its reading.
    fake.default = mood_reply
    again = await analyze(gateway, PROMPT)
    assert again.mood.source == common_pb2.MOOD_SOURCE_LLM and not again.warnings


async def test_two_answers_outside_the_schema_fall_back(gateway: Gateway, fake: FakeGemini) -> None:
    fake.default = lambda seen: answer('{"genres": ["cut off')
    response = await analyze(gateway, PROMPT)
    assert response.mood.source == common_pb2.MOOD_SOURCE_HEURISTIC
    assert "schema" in response.warnings[0].message
    assert response.usage.calls == 2


async def test_one_answer_outside_the_schema_is_retried(gateway: Gateway, fake: FakeGemini) -> None:
    fake.script = [answer({"genres": ["no other fields"]})]
    fake.default = mood_reply
    response = await analyze(gateway, PROMPT)
    assert response.mood.source == common_pb2.MOOD_SOURCE_LLM
    assert response.usage.calls == 2 and not response.warnings


async def test_rate_limit_beyond_the_deadline_falls_back_at_once(gateway: Gateway, fake: FakeGemini) -> None:
    fake.default = lambda seen: rate_limited("45s")
    response = await analyze(gateway, PROMPT, deadline_s=3)
    assert response.mood.source == common_pb2.MOOD_SOURCE_HEURISTIC
    assert "rate limited" in response.warnings[0].message
    assert len(fake.requests) == 1
    assert gateway.metric("segue_llm_calls_total", task="analyze_mood", outcome="rate_limited") == 1


# --- RunTasks ------------------------------------------------------------------------------------


def tasks_request() -> llm_gateway_pb2.RunTasksRequest:
    return llm_gateway_pb2.RunTasksRequest(
        context=PROMPT,
        tasks=[
            llm_gateway_pb2.LlmTask(
                task_id="anchors",
                choose=llm_gateway_pb2.ChooseCandidatesTask(
                    instruction="Pick the tracks that best anchor this mood.",
                    candidates=[
                        llm_gateway_pb2.Candidate(
                            id="t1", description="Blue in Green - Miles Davis (jazz, energy 0.2)"
                        ),
                        llm_gateway_pb2.Candidate(id="t2", description="Thunderstruck - AC/DC (rock, energy 0.9)"),
                        llm_gateway_pb2.Candidate(id="t3", description="Naima - John Coltrane (jazz, energy 0.3)"),
                    ],
                    max_choices=2,
                ),
            ),
            llm_gateway_pb2.LlmTask(
                task_id="mentions",
                extract_mentions=llm_gateway_pb2.ExtractMentionsTask(text='something like "So What" by Miles Davis'),
            ),
        ],
    )


TASKS_ANSWER = {
    "task_1": {"chosen_ids": ["t3", "invented", "t3", "t1", "t2"], "reasoning": "Calm jazz fits."},
    "task_2": {"tracks": [{"title": "So What", "artist": "Miles Davis"}], "artists": ["Miles Davis"]},
}


async def test_run_tasks_bundles_every_task_into_one_checked_call(gateway: Gateway, fake: FakeGemini) -> None:
    fake.default = lambda seen: answer(TASKS_ANSWER)
    response = await gateway.stub.RunTasks(tasks_request(), timeout=10)

    [seen] = fake.requests
    assert set(seen.schema["properties"]) == {"task_1", "task_2"}
    assert set(seen.schema["properties"]["task_1"]["properties"]) == {"chosen_ids", "reasoning"}
    assert set(seen.schema["properties"]["task_2"]["properties"]) == {"tracks", "artists"}
    lines = seen.prompt.splitlines()
    assert "- t1: Blue in Green - Miles Davis (jazz, energy 0.2)" in lines
    assert re.search(r"at most 2\b", seen.prompt)
    assert "So What" in seen.prompt and PROMPT in seen.prompt

    anchors, mentions = response.results
    assert anchors.task_id == "anchors" and mentions.task_id == "mentions"
    assert list(anchors.choose.chosen_ids) == ["t3", "t1"]  # unknown id dropped, duplicate dropped, capped at 2
    assert anchors.choose.reasoning == "Calm jazz fits."
    assert [(t.title, t.artist) for t in mentions.extract_mentions.tracks] == [("So What", "Miles Davis")]
    assert list(mentions.extract_mentions.artists) == ["Miles Davis"]
    assert response.usage.calls == 1 and not response.warnings

    again = await gateway.stub.RunTasks(tasks_request(), timeout=10)
    assert len(fake.requests) == 1
    assert list(again.results) == list(response.results)
    assert again.usage == common_pb2.LlmUsage(cache_hits=1)


async def test_run_tasks_falls_back_when_gemini_is_down(gateway: Gateway, fake: FakeGemini) -> None:
    fake.default = lambda seen: error(500, "INTERNAL")
    response = await gateway.stub.RunTasks(tasks_request(), timeout=10)
    anchors, mentions = response.results
    assert list(anchors.choose.chosen_ids) == ["t1", "t2"]  # the caller's order
    assert [(t.title, t.artist) for t in mentions.extract_mentions.tracks] == [("So What", "Miles Davis")]
    assert response.warnings[0].code == common_pb2.WARNING_CODE_FALLBACK_USED


def _task(task_id: str, **kind: Any) -> llm_gateway_pb2.LlmTask:
    return llm_gateway_pb2.LlmTask(task_id=task_id, **kind)


@pytest.mark.parametrize(
    ("tasks", "message"),
    [
        ([], "at least one task is required"),
        ([_task("", extract_mentions=llm_gateway_pb2.ExtractMentionsTask(text="x"))], "task_id must not be empty"),
        (
            [
                _task("a", extract_mentions=llm_gateway_pb2.ExtractMentionsTask(text="x")),
                _task("a", extract_mentions=llm_gateway_pb2.ExtractMentionsTask(text="y")),
            ],
            "'a' is not unique",
        ),
        ([_task("a", choose=llm_gateway_pb2.ChooseCandidatesTask(max_choices=3))], "needs at least 1 candidate"),
        (
            [
                _task(
                    "a",
                    choose=llm_gateway_pb2.ChooseCandidatesTask(
                        candidates=[llm_gateway_pb2.Candidate(id="t1")], max_choices=-1
                    ),
                )
            ],
            "max_choices must be 1 or more (0: no cap), got -1",
        ),
        ([_task("a")], "must set choose or extract_mentions"),
    ],
)
async def test_bad_task_requests_are_invalid_argument(
    gateway: Gateway, fake: FakeGemini, tasks: list[llm_gateway_pb2.LlmTask], message: str
) -> None:
    with pytest.raises(aio.AioRpcError) as caught:
        await gateway.stub.RunTasks(llm_gateway_pb2.RunTasksRequest(context="c", tasks=tasks), timeout=10)
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert message in (caught.value.details() or "")
    assert not fake.requests


# --- secrets ---------------------------------------------------------------------------------------


async def test_the_api_key_never_reaches_logs_warnings_or_errors(
    gateway: Gateway, fake: FakeGemini, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    leak = f"API key {API_KEY} not valid. Please pass a valid API key."
    fake.script = [rate_limited("0.05s"), answer(MOOD_ANSWER)]
    await analyze(gateway, PROMPT)
    fake.script = [error(400, "INVALID_ARGUMENT", leak)]
    rejected = await analyze(gateway, "something else entirely")
    fake.script = [error(403, "PERMISSION_DENIED", leak)]
    tasks = await gateway.stub.RunTasks(tasks_request(), timeout=10)

    assert rejected.mood.source == common_pb2.MOOD_SOURCE_HEURISTIC
    texts = [w.message for w in (*rejected.warnings, *tasks.warnings)]
    assert texts and all("rejected" in t for t in texts)
    for record in caplog.records:
        texts.append(record.getMessage())
        texts.append(str(vars(record)))
    assert len(caplog.records) > 0
    assert not [t for t in texts if API_KEY in t]


async def test_a_tweak_of_the_sessions_mood_costs_no_llm_call(gateway: Gateway, fake: FakeGemini) -> None:
    fake.default = mood_reply
    first = await analyze(gateway, PROMPT)
    assert len(fake.requests) == 1

    request = llm_gateway_pb2.AnalyzeMoodRequest(prompt="same but more upbeat", refines=first.mood)
    tweaked: llm_gateway_pb2.AnalyzeMoodResponse = await gateway.stub.AnalyzeMood(request, timeout=10)

    assert len(fake.requests) == 1, "no LLM call"
    assert tweaked.usage.calls == 0 and tweaked.mood.source == common_pb2.MOOD_SOURCE_HEURISTIC
    assert target(tweaked.mood, "energy").target > target(first.mood, "energy").target
    assert list(tweaked.mood.genres) == list(first.mood.genres)


async def test_a_new_mood_in_a_session_is_read_by_the_llm(gateway: Gateway, fake: FakeGemini) -> None:
    fake.default = mood_reply
    first = await analyze(gateway, PROMPT)
    request = llm_gateway_pb2.AnalyzeMoodRequest(prompt="now play some loud metal", refines=first.mood)
    second: llm_gateway_pb2.AnalyzeMoodResponse = await gateway.stub.AnalyzeMood(request, timeout=10)

    assert len(fake.requests) == 2
    assert second.usage.calls == 1 and second.mood.source == common_pb2.MOOD_SOURCE_LLM


async def test_an_llm_answer_that_suggests_what_the_prompt_rules_out_is_corrected(
    gateway: Gateway, fake: FakeGemini
) -> None:
    fake.default = lambda seen: answer({**MOOD_ANSWER, "genres": ["pop", "dance pop", "funk"], "avoid": []})
    response = await analyze(gateway, "upbeat dance music, anything but pop")

    assert list(response.mood.genres) == ["funk"]
    assert "pop" in response.mood.avoid

"""What `segue` prints: targets with units, the mood once, JSON with every field, failures."""

from __future__ import annotations

import json

import pytest
from segue.v1 import common_pb2, orchestrator_pb2

from segue_cli import render
from services.common.features import feature_named


def target(name: str, low: float, high: float) -> common_pb2.FeatureTarget:
    feature = feature_named(name)
    assert feature is not None
    return common_pb2.FeatureTarget(feature=feature, min=low, max=high, target=(low + high) / 2, weight=0.5)


@pytest.mark.parametrize(
    ("feature", "low", "high", "shown"),
    [
        ("tempo", 76.4, 105.6, "tempo 76–106 BPM"),
        ("loudness", -23.2, -16.8, "loudness −23 to −17 dB"),
        ("loudness", -6.0, 1.5, "loudness −6 to 2 dB"),
        ("loudness", -0.3, 2.0, "loudness 0–2 dB"),  # rounds to zero: no "−0", no "to"
        ("energy", 0.2, 0.45, "energy 0.20–0.45"),
        ("valence", 0.0, 1.0, "valence 0.00–1.00"),
    ],
)
def test_targets_print_with_their_units(feature: str, low: float, high: float, shown: str) -> None:
    assert render.target(target(feature, low, high)) == shown


MOOD = common_pb2.MoodProfile(
    interpretation="A calm, warm mood",
    genres=["jazz", "folk"],
    targets=[target("energy", 0.14, 0.44), target("tempo", 67, 97), target("loudness", -16, -10)],
    source=common_pb2.MOOD_SOURCE_LLM,
)
RESPONSE = orchestrator_pb2.RecommendResponse(
    mood=MOOD,
    tracks=[
        orchestrator_pb2.PlaylistEntry(
            track=common_pb2.Track(title="Stone of Empire", artists=[common_pb2.Artist(name="Zora Okafor")]),
            score=0.75,
            source=common_pb2.TRACK_SOURCE_RECOMMENDATION,
        )
    ],
    session_id="s1",
    request_id="r1",
)


def test_the_mood_progress_line_carries_the_mood_and_the_end_does_not_repeat_it() -> None:
    event = orchestrator_pb2.Progress(
        phase=orchestrator_pb2.PHASE_MOOD_ANALYZED, message=MOOD.interpretation, elapsed_seconds=2.2, mood=MOOD
    )
    shown = render.progress(event) + "\n\n" + render.full(RESPONSE, with_mood=False)
    assert shown.count("A calm, warm mood") == 1
    assert shown.count("genres: jazz, folk") == 1
    assert shown.count("targets: energy 0.14–0.44, tempo 67–97 BPM, loudness −16 to −10 dB") == 1
    first, *details = render.progress(event).splitlines()
    assert first == "[  2.20s] mood analyzed: A calm, warm mood (from llm)"
    assert all(line.startswith(" " * len("[  2.20s] ")) for line in details)
    assert "Stone of Empire" in shown and "session: s1" in shown


def test_an_unknown_session_is_said_to_have_started_anew() -> None:
    started = orchestrator_pb2.RecommendResponse(session_id="s9", session_started=True)
    note = "session s9 was not found (expired, or never made): started a new session under that id"
    assert note in render.full(started, asked_session="s9")
    assert "not found" not in render.full(started), "no session asked for: a new one is no news"
    assert "not found" not in render.full(RESPONSE, asked_session="s1"), "a known session continues"


def test_the_mood_shows_what_was_read_off_the_prompt() -> None:
    read = common_pb2.MoodProfile(
        interpretation="Songs like a named track",
        artists=["Amber Avenue"],
        mentioned_tracks=[common_pb2.MentionedTrack(title="Shadow of Feather", artist="Amber Avenue")],
        avoid=["pop"],
        keywords=["rainy", "sunday"],
    )
    assert render.mood(read).splitlines()[1:] == [
        "artists: Amber Avenue",
        "tracks: Shadow of Feather by Amber Avenue",
        "avoid: pop",
        "keywords: rainy, sunday",
    ]
    assert render.mood(MOOD).splitlines()[1] == "genres: jazz, folk", "an empty list is not shown"


def test_without_progress_the_end_shows_the_mood_once() -> None:
    shown = render.full(RESPONSE)
    assert shown.startswith("mood: A calm, warm mood (from llm)\n")
    assert shown.count("A calm, warm mood") == 1


def test_other_progress_lines_are_one_line_with_elapsed_time() -> None:
    event = orchestrator_pb2.Progress(
        phase=orchestrator_pb2.PHASE_SEEDS_GATHERED, message="5 seeds chosen", elapsed_seconds=12.345, count=5
    )
    assert render.progress(event) == "[ 12.35s] seeds gathered: 5 seeds chosen"


def test_json_prints_zero_values_and_unicode_as_is() -> None:
    response = orchestrator_pb2.RecommendResponse(
        tracks=[orchestrator_pb2.PlaylistEntry(track=common_pb2.Track(title="Café"), score=0.0)],
        cache=common_pb2.CacheUsage(),
        llm=common_pb2.LlmUsage(),
    )
    text = render.as_json(response)
    data = json.loads(text)
    assert data["sessionId"] == "" and data["warnings"] == [] and data["timings"] == []
    assert data["cache"] == {"hits": 0, "misses": 0}
    assert data["llm"]["calls"] == 0
    entry = data["tracks"][0]
    assert entry["score"] == 0 and entry["source"] == "TRACK_SOURCE_UNSPECIFIED"
    assert entry["track"]["durationMs"] == 0 and entry["track"]["artists"] == []
    assert "Café" in text


def test_json_lines_are_one_line_each() -> None:
    event = orchestrator_pb2.RecommendStreamResponse(
        progress=orchestrator_pb2.Progress(phase=orchestrator_pb2.PHASE_RANKED, count=0)
    )
    line = render.as_json(event, one_line=True)
    assert "\n" not in line
    assert json.loads(line) == {"progress": {"phase": "PHASE_RANKED", "message": "", "elapsedSeconds": 0.0, "count": 0}}


def test_failures_as_text_and_json() -> None:
    busy = render.Failure("RESOURCE_EXHAUSTED", "cooling down", retry_after_ms=1500)
    assert busy.text() == "error: RESOURCE_EXHAUSTED: cooling down (retry in 1.5 s)"
    assert json.loads(busy.json()) == {
        "error": {"code": "RESOURCE_EXHAUSTED", "message": "cooling down", "retryAfterMs": 1500}
    }
    gone = render.Failure("UNAVAILABLE", "nothing listens at h:1", detail="connection refused")
    assert gone.text() == "error: nothing listens at h:1\n  (connection refused)"
    assert json.loads(gone.json(one_line=True))["error"] == {
        "code": "UNAVAILABLE",
        "message": "nothing listens at h:1",
        "detail": "connection refused",
    }
    assert "\n" not in gone.json(one_line=True)

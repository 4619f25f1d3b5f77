"""The start of a streamed mood answer: recognised once whole (the model has begun the targets), told once."""

from __future__ import annotations

import json

from segue.v1 import common_pb2

from services.llm_gateway.mood import mood_start, watch_start
from services.llm_gateway.schemas import MoodAnswer

ANSWER = {
    "genres": ["jazz", "bossa nova"],
    "artists": ["Chet Baker", "Pop Star"],
    "avoid": ["sad"],
    "mentioned_tracks": [{"title": "Blue in Green", "artist": "Miles Davis"}],
    "feature_targets": {"energy": [0.1, 0.4, 1.0], "tempo": [60, 100, 0.8]},
    "primary_emotion": "calm",
}
TEXT = json.dumps(ANSWER)
TARGETS_BEGIN = TEXT.index('"feature_targets"')


def test_the_schema_puts_what_discovery_needs_before_the_targets() -> None:
    order = list(MoodAnswer.model_fields)
    assert order.index("feature_targets") > max(order.index(n) for n in ("genres", "artists", "avoid"))


def test_the_start_is_recognised_only_once_the_model_has_begun_the_targets() -> None:
    assert mood_start(TEXT[: TEXT.index('"avoid"')]) is None, "genres and artists alone: avoid may still come"
    assert mood_start(TEXT[:TARGETS_BEGIN]) is None, "the named songs could still grow"
    start = mood_start(TEXT[: TARGETS_BEGIN + len('"feature_targets": {"ene')])
    assert start is not None
    assert (start.genres, start.artists, start.avoid) == (ANSWER["genres"], ANSWER["artists"], ["sad"])
    assert [(t.title, t.artist) for t in start.mentioned_tracks] == [("Blue in Green", "Miles Davis")]
    assert mood_start(TEXT) is not None
    assert mood_start('{"genres": "not a list", "feature_targets": {') is None, "outside the schema"
    assert mood_start("not json at all") is None
    stray = '{"primary_emotion": "calm", "genres": ["jazz"], "artists": [], "avoid": [], "mentioned_tracks": [{"ti'
    assert mood_start(stray) is None, "a model that strays from the order: the last property may still grow"
    assert mood_start(stray + 'tle": "x", "artist": ""}], "feature_targets": {') is not None


def test_the_start_is_told_once_cleaned_and_reconciled_with_the_prompt() -> None:
    told: list[common_pb2.MoodProfile] = []
    on_text = watch_start("slow jazz like Chet Baker, nothing by Pop Star", told.append)
    for end in range(1, len(TEXT) + 1, 7):  # the text as it streams in, a few characters at a time
        on_text(TEXT[:end])
    on_text(TEXT)

    (start,) = told
    assert list(start.genres) == ["jazz", "bossa nova"] and not start.targets
    assert list(start.artists) == ["Chet Baker"], "the prompt rules out Pop Star, whatever the model said"
    assert "Pop Star" in list(start.avoid) and "sad" in list(start.avoid)
    assert start.source == common_pb2.MOOD_SOURCE_LLM

"""The keyword fallback and the cleaning of answers: pure functions."""

from __future__ import annotations

import pytest
from segue.v1 import common_pb2

from services.common import mood_heuristics
from services.common.cleaning import feature_target
from services.common.features import FEATURE_RANGES, feature_name
from services.llm_gateway.mood import to_profile
from services.llm_gateway.schemas import MoodAnswer


def targets(profile: common_pb2.MoodProfile) -> dict[str, common_pb2.FeatureTarget]:
    return {feature_name(t.feature): t for t in profile.targets}


def test_rainy_slow_jazz_reads_as_low_energy_jazz_without_sadness() -> None:
    profile = mood_heuristics.mood_profile("rainy sunday, slow jazz, nothing sad")
    t = targets(profile)
    assert profile.source == common_pb2.MOOD_SOURCE_HEURISTIC
    assert "jazz" in profile.genres
    assert t["energy"].max <= 0.5
    assert t["valence"].min >= 0.4  # what the prompt rules out is a hard limit
    assert list(profile.avoid) == ["sad"]


def test_workout_reads_as_high_energy_and_fast() -> None:
    t = targets(mood_heuristics.mood_profile("Hype GYM workout, hip-hop please"))
    assert t["energy"].min >= 0.7 and t["tempo"].min >= 110


def test_a_negated_genre_is_avoided_not_suggested() -> None:
    profile = mood_heuristics.mood_profile("party music but no techno")
    assert "techno" in profile.avoid and "techno" not in profile.genres


@pytest.mark.parametrize("prompt", ["asdf qwerty", "something for my grandmother", "!!!"])
def test_unknown_words_still_give_a_usable_profile(prompt: str) -> None:
    profile = mood_heuristics.mood_profile(prompt)
    assert {"energy", "valence"} <= set(targets(profile))
    assert profile.interpretation and profile.primary_emotion


def test_every_heuristic_target_is_inside_its_range() -> None:
    for prompt in ("loud angry metal at 200 bpm", "sleepy ambient lullaby", "acoustic instrumental focus"):
        for t in mood_heuristics.mood_profile(prompt).targets:
            low, high = FEATURE_RANGES[t.feature]
            assert low <= t.min <= t.target <= t.max <= high
            assert 0 <= t.weight <= 1


def test_mentions_are_found_by_pattern() -> None:
    found = mood_heuristics.extract_mentions('play "Hey Jude" by The Beatles and stuff like Radiohead')
    assert [(t.title, t.artist) for t in found.tracks] == [("Hey Jude", "The Beatles")]
    assert found.artists == ["The Beatles", "Radiohead"]


def test_feature_target_clamps_orders_and_rejects_unknown_features() -> None:
    t = feature_target("Tempo", 300, 90, 500, 3)
    assert t is not None and (feature_name(t.feature), t.min, t.max, t.target, t.weight) == ("tempo", 90, 250, 250, 1)
    assert feature_target("groove", 0, 1) is None


def test_an_answer_without_usable_targets_gets_heuristic_ones() -> None:
    # "vibes" is no feature (ignored), and energy's one number is no range
    answer = MoodAnswer.model_validate(
        {
            "genres": [],
            "artists": [],
            "avoid": [],
            "mentioned_tracks": [],
            "feature_targets": {"vibes": [0, 1, 1], "energy": [0.5]},
            "primary_emotion": "calm",
        }
    )
    profile = to_profile(answer, "slow and sad")
    assert profile.source == common_pb2.MOOD_SOURCE_LLM
    assert targets(profile)["valence"].max <= 0.4


@pytest.mark.parametrize(
    ("prompt", "ruled_out"),
    [
        ("upbeat dance music, anything but pop", "pop"),
        ("energetic workout music, anything but metal", "metal"),
        ("chill evening music, no hip hop", "hip hop"),
        ("something for dinner except jazz", "jazz"),
        ("road trip songs other than country", "country"),
    ],
)
def test_what_a_prompt_rules_out_goes_to_avoid_never_to_the_genres(prompt: str, ruled_out: str) -> None:
    profile = mood_heuristics.mood_profile(prompt)
    assert ruled_out in profile.avoid
    assert all(ruled_out not in g for g in profile.genres)
    assert mood_heuristics.exclusions(prompt) == [ruled_out]


def test_a_negation_stops_at_the_end_of_its_clause() -> None:
    profile = mood_heuristics.mood_profile("no pop, upbeat and happy")
    assert list(profile.avoid) == ["pop"]
    assert targets(profile)["valence"].min >= 0.6, "upbeat is asked for, not ruled out"


def test_an_artist_the_prompt_rules_out_is_avoided_not_named() -> None:
    profile = mood_heuristics.mood_profile("indie rock for a drive, but nothing by The Northern Ravens")
    assert "The Northern Ravens" in profile.avoid
    assert "The Northern Ravens" not in profile.artists


@pytest.mark.parametrize(
    ("prompt", "track", "artists"),
    [
        ("songs like Chasing in Sydney by Jonah Osei", ("Chasing in Sydney", "Jonah Osei"), ["Jonah Osei"]),
        ('"Static" by NOOR, and more like it', ("Static", "NOOR"), ["NOOR"]),
        ("I love Blue Rain in June by Miles Quartet", ("Blue Rain in June", "Miles Quartet"), ["Miles Quartet"]),
    ],
)
def test_a_named_song_is_read_with_its_artist_and_its_title_is_not_taken_for_an_artist(
    prompt: str, track: tuple[str, str], artists: list[str]
) -> None:
    profile = mood_heuristics.mood_profile(prompt)
    assert [(t.title, t.artist) for t in profile.mentioned_tracks] == [track]
    assert list(profile.artists) == artists


def test_reconcile_keeps_an_llm_answer_from_suggesting_what_the_prompt_rules_out() -> None:
    answer = common_pb2.MoodProfile(
        genres=["metal", "death metal", "edm", "rock"],
        artists=["Iron Will", "The Banned"],
        mentioned_tracks=[common_pb2.MentionedTrack(title="Banned", artist="Someone")],
        avoid=[],
    )
    mood_heuristics.reconcile(answer, "workout music, anything but metal and nothing by The Banned")
    assert list(answer.avoid) == ["metal", "The Banned"]
    assert list(answer.genres) == ["edm", "rock"]
    assert list(answer.artists) == ["Iron Will"]
    assert list(answer.mentioned_tracks) == [], "a title that is part of a ruled-out name was a misreading"


def test_reconcile_adds_a_quoted_song_the_answer_missed() -> None:
    answer = common_pb2.MoodProfile(genres=["folk"])
    mood_heuristics.reconcile(answer, '"Static" by NOOR, and more like it')
    assert [(t.title, t.artist) for t in answer.mentioned_tracks] == [("Static", "NOOR")]

"""Tweaks of a session's mood read without the LLM, and what is not a tweak."""

from __future__ import annotations

import pytest
from segue.v1 import common_pb2

from services.common import mood_heuristics
from services.common.features import feature_name
from services.llm_gateway import refine

BASE = mood_heuristics.mood_profile("rainy sunday, slow jazz")


def target(profile: common_pb2.MoodProfile, feature: str) -> common_pb2.FeatureTarget:
    return next(t for t in profile.targets if feature_name(t.feature) == feature)


def test_more_upbeat_lifts_valence_and_energy_and_keeps_the_rest() -> None:
    tweaked = refine.tweak(BASE, "same but more upbeat")
    assert tweaked is not None
    assert target(tweaked, "valence").target == pytest.approx(target(BASE, "valence").target + 0.2)
    assert target(tweaked, "energy").target > target(BASE, "energy").target
    assert target(tweaked, "acousticness") == target(BASE, "acousticness")
    assert list(tweaked.genres) == list(BASE.genres)
    assert tweaked.source == common_pb2.MOOD_SOURCE_HEURISTIC
    assert "same but more upbeat" in tweaked.interpretation


@pytest.mark.parametrize(
    ("prompt", "feature", "direction"),
    [
        ("a bit calmer", "energy", -1),
        ("too slow", "tempo", +1),
        ("less sad please", "valence", +1),
        ("make it more acoustic", "acousticness", +1),
        ("now darker", "valence", -1),
    ],
)
def test_each_tweak_moves_its_feature_the_way_it_says(prompt: str, feature: str, direction: int) -> None:
    tweaked = refine.tweak(BASE, prompt)
    assert tweaked is not None
    moved = target(tweaked, feature).target - target(BASE, feature).target
    assert moved * direction > 0


def test_a_feature_the_mood_did_not_constrain_gets_a_range_around_the_middle() -> None:
    mood = common_pb2.MoodProfile(
        targets=[common_pb2.FeatureTarget(feature=common_pb2.AUDIO_FEATURE_ENERGY, min=0.2, max=0.4, target=0.3)]
    )
    tweaked = refine.tweak(mood, "same but more danceable")
    assert tweaked is not None
    dance = target(tweaked, "danceability")
    assert 0 <= dance.min < dance.target < dance.max <= 1 and dance.target == pytest.approx(0.7)


def test_ruling_out_a_genre_in_a_tweak_moves_it_to_avoid() -> None:
    tweaked = refine.tweak(BASE, "now no jazz")
    assert tweaked is not None
    assert "jazz" in tweaked.avoid and "jazz" not in tweaked.genres


@pytest.mark.parametrize(
    "prompt",
    [
        "play some metal instead",  # a new mood: no feature word, nothing ruled out
        "songs like Blue by Joni Mitchell, but more upbeat",  # names a song: the LLM reads it
        "a long description of a completely different evening with friends by the sea, more upbeat",
        "",
    ],
)
def test_what_is_not_a_tweak_is_left_to_the_llm(prompt: str) -> None:
    assert refine.tweak(BASE, prompt) is None

"""Tweaks of a session's mood without the LLM: "same but more upbeat", "a bit calmer", "now no pop".

A short prompt that reads as a change of the mood so far — words that move features ("upbeat",
"calmer", "faster", "more acoustic"), negated or not ("less sad", "too slow"), things to
rule out — adjusts the earlier mood: each moved feature's range and target shift by a fixed step, the
rest stays as it was. Anything else (a new mood, a genre the mood did not have, named songs, a long
prompt) is not a tweak: the LLM reads it afresh.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from segue.v1 import common_pb2

from services.common import mood_heuristics
from services.common.cleaning import clean_names, one_line
from services.common.features import (
    ACOUSTICNESS,
    DANCEABILITY,
    ENERGY,
    FEATURE_RANGES,
    INSTRUMENTALNESS,
    LOUDNESS,
    TEMPO,
    VALENCE,
    Feature,
)
from services.common.genres import genre_matches

MAX_TWEAK_WORDS = 12
_UP_MOOD = {VALENCE: 0.2, ENERGY: 0.1}
_DOWN_MOOD = {VALENCE: -0.2}
_UP_ENERGY = {ENERGY: 0.2, TEMPO: 12.0}
_DOWN_ENERGY = {ENERGY: -0.2, TEMPO: -12.0}
_DANCE = {DANCEABILITY: 0.2}
_ACOUSTIC = {ACOUSTICNESS: 0.25}
_INSTRUMENTAL = {INSTRUMENTALNESS: 0.3}
_LOUD = {LOUDNESS: 4.0, ENERGY: 0.1}

SHIFTS: Mapping[str, Mapping[Feature, float]] = {
    **dict.fromkeys(
        ("upbeat", "happy", "happier", "cheerful", "cheerier", "brighter", "sunnier", "positive"), _UP_MOOD
    ),
    **dict.fromkeys(("sad", "sadder", "darker", "dark", "moodier", "melancholic", "gloomier", "bleaker"), _DOWN_MOOD),
    **dict.fromkeys(
        ("energetic", "energy", "faster", "fast", "livelier", "lively", "intense", "harder", "punchier", "hype"),
        _UP_ENERGY,
    ),
    **dict.fromkeys(
        ("calm", "calmer", "chill", "chiller", "slower", "slow", "softer", "mellow", "mellower", "relaxed", "gentler"),
        _DOWN_ENERGY,
    ),
    **dict.fromkeys(("danceable", "dancier", "groovier", "groovy", "dance", "danceability"), _DANCE),
    **dict.fromkeys(("acoustic", "unplugged"), _ACOUSTIC),
    **dict.fromkeys(("instrumental", "instrumentals"), _INSTRUMENTAL),
    **dict.fromkeys(("louder", "loud", "heavier"), _LOUD),
    "quieter": {LOUDNESS: -4.0, ENERGY: -0.1},
    "electronic": {ACOUSTICNESS: -0.25},
    "vocals": {INSTRUMENTALNESS: -0.3},
}
_LESS = frozenset(("less", "fewer", "not", "no", "too", "nothing", "without"))
_MARKERS = frozenset(("same", "again", "more", "less", "bit", "slightly", "little", "instead", "too", "now", "but"))
_WORD = re.compile(r"[a-z&]+")
# Where a feature sits when the earlier mood did not constrain it, and half the width of a new range.
_CENTRE: Mapping[Feature, float] = {TEMPO: 110.0, LOUDNESS: -8.0}
_HALF_WIDTH: Mapping[Feature, float] = {TEMPO: 20.0, LOUDNESS: 4.0}


def _shifts(tokens: list[str]) -> dict[Feature, float]:
    moves: dict[Feature, float] = {}
    for i, token in enumerate(tokens):
        shift = SHIFTS.get(token)
        if shift is None:
            continue
        sign = -1.0 if any(t in _LESS for t in tokens[max(0, i - 2) : i]) else 1.0
        for feature, delta in shift.items():
            moves[feature] = moves.get(feature, 0.0) + sign * delta
    return moves


def _moved(target: common_pb2.FeatureTarget | None, feature: Feature, delta: float) -> common_pb2.FeatureTarget:
    low, high = FEATURE_RANGES[feature]
    if target is None:
        centre = _CENTRE.get(feature, 0.5)
        half = _HALF_WIDTH.get(feature, 0.2)
        target = common_pb2.FeatureTarget(feature=feature, min=centre - half, max=centre + half, target=centre)
    lo = min(max(target.min + delta, low), high)
    hi = min(max(target.max + delta, low), high)
    middle = min(max(target.target + delta, lo), hi)
    return common_pb2.FeatureTarget(
        feature=feature,
        min=round(lo, 4),
        max=round(hi, 4),
        target=round(middle, 4),
        weight=round(max(target.weight, 0.6), 4),
    )


def tweak(previous: common_pb2.MoodProfile, prompt: str) -> common_pb2.MoodProfile | None:
    """The earlier mood adjusted by `prompt`, or None when the prompt is not a tweak of it."""
    text = mood_heuristics.normalise_exclusions(prompt).casefold()
    tokens = _WORD.findall(text.replace("-", ""))
    if not tokens or len(tokens) > MAX_TWEAK_WORDS:
        return None
    moves = _shifts(tokens)
    ruled = mood_heuristics.exclusions(prompt)
    named = mood_heuristics.extract_mentions(prompt)
    new_genres = [g for g in mood_heuristics.genres_asked(prompt) if not genre_matches(g, previous.genres)]
    if named.tracks or new_genres or (not moves and not ruled) or not (_MARKERS & set(tokens) or ruled):
        return None
    out = common_pb2.MoodProfile()
    out.CopyFrom(previous)
    by_feature = {t.feature: t for t in out.targets}
    for feature, delta in moves.items():
        if delta:
            by_feature[feature] = _moved(by_feature.get(feature), feature, delta)
    del out.targets[:]
    out.targets.extend(by_feature.values())
    if ruled:
        avoid = clean_names([*out.avoid, *ruled], 10)
        genres = [g for g in out.genres if not genre_matches(g, ruled)]
        del out.avoid[:], out.genres[:]
        out.avoid.extend(avoid)
        out.genres.extend(genres)
    out.interpretation = one_line(f"{previous.interpretation} Adjusted: {prompt}", 500)
    out.source = common_pb2.MOOD_SOURCE_HEURISTIC
    return out

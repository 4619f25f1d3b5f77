"""Audio features and how well a track fits a mood's feature targets.

On the wire a feature is an `AudioFeature` enum value, whose number is that of its `AudioFeatures` field. Its
name as text ("energy") is what a JSON schema (the LLM's answers) or an upstream's query parameters use: the
two convert here, and only here (`feature_name`, `feature_named`).

Seed selection and final ranking both score tracks this way, so they agree on what "fits" means.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import TypeAlias

from segue.v1 import common_pb2

Feature: TypeAlias = common_pb2.AudioFeature.ValueType

ACOUSTICNESS = common_pb2.AUDIO_FEATURE_ACOUSTICNESS
DANCEABILITY = common_pb2.AUDIO_FEATURE_DANCEABILITY
ENERGY = common_pb2.AUDIO_FEATURE_ENERGY
INSTRUMENTALNESS = common_pb2.AUDIO_FEATURE_INSTRUMENTALNESS
LIVENESS = common_pb2.AUDIO_FEATURE_LIVENESS
LOUDNESS = common_pb2.AUDIO_FEATURE_LOUDNESS
SPEECHINESS = common_pb2.AUDIO_FEATURE_SPEECHINESS
TEMPO = common_pb2.AUDIO_FEATURE_TEMPO
VALENCE = common_pb2.AUDIO_FEATURE_VALENCE

_UNIT = (0.0, 1.0)
# The documented range of each feature (common.proto AudioFeatures, the ReccoBeats parameters).
FEATURE_RANGES: Mapping[Feature, tuple[float, float]] = {
    ACOUSTICNESS: _UNIT,
    DANCEABILITY: _UNIT,
    ENERGY: _UNIT,
    INSTRUMENTALNESS: _UNIT,
    LIVENESS: _UNIT,
    SPEECHINESS: _UNIT,
    VALENCE: _UNIT,
    TEMPO: (0.0, 250.0),
    LOUDNESS: (-60.0, 2.0),
}
# Scale of each feature, so a difference of 1.0 means "opposite ends" for every one of them.
FEATURE_SPANS: Mapping[Feature, float] = {f: high - low for f, (low, high) in FEATURE_RANGES.items()}


def feature_name(feature: Feature) -> str:
    """The feature's name as text, that of its AudioFeatures field ("energy"); "" for none."""
    field = common_pb2.AudioFeatures.DESCRIPTOR.fields_by_number.get(int(feature))
    return field.name if field is not None and feature in FEATURE_RANGES else ""


_BY_NAME: Mapping[str, Feature] = {feature_name(f): f for f in FEATURE_RANGES}
# Every feature's name, in FEATURE_RANGES order: what a JSON schema lists.
FEATURE_NAMES: tuple[str, ...] = tuple(_BY_NAME)


def feature_named(name: str) -> Feature | None:
    """The feature a text names ("energy", " Energy "), or None when it names none."""
    return _BY_NAME.get(name.strip().lower())


def feature_value(features: common_pb2.AudioFeatures, feature: Feature) -> float:
    return float(getattr(features, feature_name(feature)))


def fit_score(features: common_pb2.AudioFeatures, targets: Sequence[common_pb2.FeatureTarget]) -> float:
    """1.0 for a track inside every range at every target, falling toward 0 with weighted distance.

    Inside [min, max] a feature costs only its distance to the target; outside, the distance past the
    range costs three times as much, so ranges act as soft limits.
    """
    known = [t for t in targets if t.feature in FEATURE_SPANS]
    if not known:
        return 0.5
    total_weight = sum(max(t.weight, 0.05) for t in known)
    cost = 0.0
    for t in known:
        span = FEATURE_SPANS[t.feature]
        value = feature_value(features, t.feature)
        outside = max(t.min - value, value - t.max, 0.0) if t.max >= t.min else 0.0
        cost += max(t.weight, 0.05) * (abs(value - t.target) + 3 * outside) / span
    return math.exp(-2.5 * cost / total_weight)


def targets_as_params(targets: Sequence[common_pb2.FeatureTarget]) -> dict[str, float]:
    """Feature targets as ReccoBeats recommendation query parameters (named as the features)."""
    return {feature_name(t.feature): round(t.target, 4) for t in targets if t.feature in FEATURE_SPANS}

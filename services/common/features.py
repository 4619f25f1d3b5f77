"""Audio features and how well a track fits a mood's feature targets.

Seed selection and final ranking both score tracks this way, so they agree on what "fits" means.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

from segue.v1 import common_pb2

_UNIT = (0.0, 1.0)
# The documented range of each feature (common.proto AudioFeatures, the ReccoBeats parameters).
FEATURE_RANGES: Mapping[str, tuple[float, float]] = {
    "acousticness": _UNIT,
    "danceability": _UNIT,
    "energy": _UNIT,
    "instrumentalness": _UNIT,
    "liveness": _UNIT,
    "speechiness": _UNIT,
    "valence": _UNIT,
    "tempo": (0.0, 250.0),
    "loudness": (-60.0, 2.0),
}
FEATURE_NAMES: tuple[str, ...] = tuple(FEATURE_RANGES)
# Scale of each feature, so a difference of 1.0 means "opposite ends" for every one of them.
FEATURE_SPANS: Mapping[str, float] = {name: high - low for name, (low, high) in FEATURE_RANGES.items()}


def feature_value(features: common_pb2.AudioFeatures, name: str) -> float:
    return float(getattr(features, name))


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
    """Feature targets as ReccoBeats recommendation query parameters (names match)."""
    return {t.feature: round(t.target, 4) for t in targets if t.feature in FEATURE_SPANS}

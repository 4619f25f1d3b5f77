"""Seed guardrails for `GET /track/recommendation`: check the request, then balance the seeds.

ReccoBeats answers 400 to seed combinations it refuses — negatives that are also seeds, or as many
negatives as seeds — and the monolith lost 10–15 s per such call. Balancing here avoids the call;
every change is reported as a FALLBACK_USED warning so the caller knows what was actually sent.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from segue.v1 import common_pb2

from services.common.degradation import RECCOBEATS, fallback_used
from services.common.errors import InvalidArgument
from services.common.features import FEATURE_RANGES, Feature, feature_name, targets_as_params
from services.reccobeat_gateway.validation import clean_ids

MAX_SEEDS = 5
MAX_NEGATIVE_SEEDS = 5
MAX_SIZE = 100
DEFAULT_SIZE = 20


@dataclass(frozen=True)
class BalancedSeeds:
    seeds: tuple[str, ...]
    negative_seeds: tuple[str, ...]
    warnings: tuple[common_pb2.Warning, ...] = ()


def balance_seeds(seeds: Sequence[str], negative_seeds: Sequence[str]) -> BalancedSeeds:
    """Validate the seed lists, then drop negatives that are also seeds and keep fewer negatives than seeds."""
    if len(seeds) == 0:
        raise InvalidArgument(f"seeds must hold 1..{MAX_SEEDS} track IDs, got none")
    if len(seeds) > MAX_SEEDS:
        raise InvalidArgument(f"seeds must hold 1..{MAX_SEEDS} track IDs, got {len(seeds)}")
    if len(negative_seeds) > MAX_NEGATIVE_SEEDS:
        raise InvalidArgument(
            f"negative_seeds may hold at most {MAX_NEGATIVE_SEEDS} track IDs, got {len(negative_seeds)}"
        )
    positive = tuple(clean_ids(seeds, "seeds"))
    negative = tuple(clean_ids(negative_seeds, "negative_seeds"))
    warnings: list[common_pb2.Warning] = []

    overlap = [i for i in negative if i in positive]
    if overlap:
        negative = tuple(i for i in negative if i not in positive)
        warnings.append(
            fallback_used(
                RECCOBEATS,
                f"dropped {len(overlap)} negative seed(s) that are also seeds: {', '.join(overlap)}",
            )
        )
    if len(negative) >= len(positive):
        keep = len(positive) - 1
        warnings.append(
            fallback_used(
                RECCOBEATS,
                f"kept {keep} of {len(negative)} negative seed(s): ReccoBeats needs fewer negatives than seeds "
                f"({len(positive)})",
            )
        )
        negative = negative[:keep]
    return BalancedSeeds(positive, negative, tuple(warnings))


def check_size(size: int) -> int:
    """1..MAX_SIZE, 0 for DEFAULT_SIZE (the contract's convention: 0 is the default where it is not a size)."""
    if not 0 <= size <= MAX_SIZE:
        raise InvalidArgument(f"size must be 1..{MAX_SIZE} (0 means {DEFAULT_SIZE}), got {size}")
    return size or DEFAULT_SIZE


def target_params(targets: Sequence[common_pb2.FeatureTarget]) -> dict[str, float]:
    """Validated feature targets as recommendation query parameters."""
    seen: set[Feature] = set()
    for index, t in enumerate(targets):
        bounds = FEATURE_RANGES.get(t.feature)
        if bounds is None:
            raise InvalidArgument(f"targets[{index}].feature must be an AudioFeature, got {t.feature}")
        name = feature_name(t.feature)
        if t.feature in seen:
            raise InvalidArgument(f"targets[{index}] repeats the feature {name}; give each feature once")
        seen.add(t.feature)
        low, high = bounds
        if not (math.isfinite(t.target) and low <= t.target <= high):
            raise InvalidArgument(f"targets[{index}].target for {name} must be {low:g}..{high:g}, got {t.target}")
    return targets_as_params(targets)

"""Making LLM and heuristic output safe to hand on: feature ranges clamped, names trimmed and deduplicated."""

from __future__ import annotations

from collections.abc import Iterable

from segue.v1 import common_pb2

from services.common.features import FEATURE_RANGES, Feature, feature_named


def one_line(text: str, limit: int) -> str:
    """`text` with every run of white space (newlines included) made one space, cut to `limit` characters."""
    return " ".join(text.split())[:limit]


def _clamp(value: float, low: float, high: float) -> float:
    return min(high, max(low, value))


def feature_target(
    name: str, low: float, high: float, target: float | None = None, weight: float = 0.5
) -> common_pb2.FeatureTarget | None:
    """A FeatureTarget for the feature `name` names (as the LLM and the lexicon write it), inside the feature's
    range with min ≤ target ≤ max; None when `name` names no feature."""
    feature = feature_named(name)
    if feature is None:
        return None
    lo_bound, hi_bound = FEATURE_RANGES[feature]
    low, high = sorted((_clamp(low, lo_bound, hi_bound), _clamp(high, lo_bound, hi_bound)))
    middle = (low + high) / 2 if target is None else target
    return common_pb2.FeatureTarget(
        feature=feature,
        min=round(low, 4),
        max=round(high, 4),
        target=round(_clamp(middle, low, high), 4),
        weight=round(_clamp(weight, 0.0, 1.0), 4),
    )


def unique_targets(targets: Iterable[common_pb2.FeatureTarget | None]) -> list[common_pb2.FeatureTarget]:
    """The first target given for each feature, Nones dropped."""
    seen: set[Feature] = set()
    out: list[common_pb2.FeatureTarget] = []
    for t in targets:
        if t is not None and t.feature not in seen:
            seen.add(t.feature)
            out.append(t)
    return out


def clean_names(names: Iterable[str], limit: int, max_length: int = 100) -> list[str]:
    """Trimmed, non-empty, case-insensitively unique, at most `limit` of them."""
    seen: set[str] = set()
    out: list[str] = []
    for name in names:
        text = one_line(name, max_length)
        if text and text.casefold() not in seen:
            seen.add(text.casefold())
            out.append(text)
            if len(out) >= limit:
                break
    return out


def clean_tracks(tracks: Iterable[tuple[str, str]], limit: int) -> list[common_pb2.MentionedTrack]:
    """(title, artist) pairs with a title, unique by both, at most `limit`."""
    seen: set[tuple[str, str]] = set()
    out: list[common_pb2.MentionedTrack] = []
    for title, artist in tracks:
        title, artist = one_line(title, 200), one_line(artist, 200)
        if title and (title.casefold(), artist.casefold()) not in seen:
            seen.add((title.casefold(), artist.casefold()))
            out.append(common_pb2.MentionedTrack(title=title, artist=artist))
            if len(out) >= limit:
                break
    return out

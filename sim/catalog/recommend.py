"""ReccoBeats-style recommendations: nearest neighbours in audio-feature space around the seeds.

The query point is the seeds' mean, pushed away from the negative seeds' mean; each feature target pulls
its feature toward it with weight `featureWeight` ("multiplying each feature before averaging", as
ReccoBeats documents it). Candidates are ranked by weighted distance, with a bonus for the seeds' genres
and a penalty near any negative seed. Seeds and negative seeds never come back; at most three tracks per
artist do. The answer is a pure function of the inputs.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from sim.catalog.genres import FEATURE_LOW, FEATURE_SPAN, FEATURES
from sim.catalog.model import Catalog, Track

# Tempo barely steers ReccoBeats' answers (one project found 1 of 264 tracks in a 166–178 BPM window).
DIMENSION_WEIGHTS = np.array([1.0, 1.0, 1.0, 0.8, 0.4, 0.6, 0.8, 0.25, 1.0])
NEGATIVE_PUSH = 0.35  # how far the query point moves away from the negative seeds' mean
NEGATIVE_RADIUS = 0.2  # candidates closer than this to a negative seed are pushed down
SAME_GENRE_FACTOR = 0.85  # distance multiplier for a candidate in one of the seeds' genres
MAX_PER_ARTIST = 3


def recommend(
    catalog: Catalog,
    seeds: Sequence[Track],
    negatives: Sequence[Track],
    size: int,
    targets: Mapping[str, float] | None = None,
    feature_weight: float = 1.0,
    popularity: float | None = None,
) -> list[Track]:
    """Up to `size` tracks; empty when no seed has audio features (nothing to steer by)."""
    usable = [t.index for t in seeds if t.has_audio_features]
    if not usable:
        return []
    x = catalog.norm_features
    center = x[usable].mean(axis=0)
    negative_rows = [t.index for t in negatives if t.has_audio_features]
    if negative_rows:
        center = np.clip(center + NEGATIVE_PUSH * (center - x[negative_rows].mean(axis=0)), 0.0, 1.0)
    for name, value in (targets or {}).items():
        if name in FEATURES:
            i = FEATURES.index(name)
            target = (value - FEATURE_LOW[i]) / FEATURE_SPAN[i]
            center[i] = (center[i] + feature_weight * target) / (1 + feature_weight)

    distance = np.sqrt(((x - center) ** 2 * DIMENSION_WEIGHTS).sum(axis=1))
    seed_genres = {t.genre for t in seeds} | {g for t in seeds for g in catalog.artists[t.artist_indices[0]].genres}
    in_genre = np.isin(catalog.track_genre, [g.index for g in catalog.genres if g.name in seed_genres])
    distance = np.where(in_genre, distance * SAME_GENRE_FACTOR, distance)
    if negative_rows:
        nearest_negative = np.min(
            np.sqrt((((x[:, None, :] - x[negative_rows][None, :, :]) ** 2) * DIMENSION_WEIGHTS).sum(axis=2)), axis=1
        )
        distance = distance + np.maximum(0.0, NEGATIVE_RADIUS - nearest_negative) * 2
    if popularity is not None:
        distance = distance + 0.3 * np.abs(catalog.track_popularity - popularity) / 100

    excluded = {t.index for t in seeds} | {t.index for t in negatives}
    distance = np.where(catalog.has_features, distance, np.inf)
    # Rank only the nearest few first (a full sort of 50,000 distances per request is the slow part).
    shortlist = min(len(distance), size * 4 + len(excluded) + 64)
    picked = _pick(catalog, distance, _nearest(distance, shortlist), size, excluded)
    if len(picked) < size and shortlist < len(distance):
        picked = _pick(catalog, distance, _nearest(distance, len(distance)), size, excluded)
    return picked


def _nearest(distance: np.ndarray, count: int) -> np.ndarray:
    """Indices of the `count` smallest distances, ordered by (distance, index) so ties are deterministic."""
    part = np.argpartition(distance, count - 1)[:count] if count < len(distance) else np.arange(len(distance))
    return part[np.lexsort((part, distance[part]))]


def _pick(catalog: Catalog, distance: np.ndarray, order: np.ndarray, size: int, excluded: set[int]) -> list[Track]:
    chosen: list[Track] = []
    per_artist: dict[int, int] = {}
    for i in order:
        if not np.isfinite(distance[i]) or len(chosen) == size:
            break
        track = catalog.tracks[int(i)]
        artist = track.artist_indices[0]
        if track.index in excluded or per_artist.get(artist, 0) >= MAX_PER_ARTIST:
            continue
        per_artist[artist] = per_artist.get(artist, 0) + 1
        chosen.append(track)
    return chosen

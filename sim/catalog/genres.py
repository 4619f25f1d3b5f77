"""The genre table: real genre names with audio-feature centroids that fit them.

Centroids are in the API's raw units (loudness in dB, tempo in BPM, the rest 0–1). They are hand-set to
the typical values of each genre so that a query such as "calm acoustic evening" lands near ambient, folk
and bossa nova, not near techno. The table is ordered by prominence: a catalog with N genres takes the
first N, so the genres every test and prompt relies on are always present.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

# Each audio feature's range in the API's raw units, as ReccoBeats documents it for its feature targets.
FEATURE_RANGES: dict[str, tuple[float, float]] = {
    "acousticness": (0.0, 1.0),
    "danceability": (0.0, 1.0),
    "energy": (0.0, 1.0),
    "instrumentalness": (0.0, 1.0),
    "liveness": (0.0, 1.0),
    "loudness": (-60.0, 2.0),
    "speechiness": (0.0, 1.0),
    "tempo": (0.0, 250.0),
    "valence": (0.0, 1.0),
}
FEATURES: tuple[str, ...] = tuple(FEATURE_RANGES)
# Raw value = low + norm * span; every feature is compared in this 0–1 "norm" space.
FEATURE_LOW = np.array([low for low, _ in FEATURE_RANGES.values()], dtype=np.float64)
FEATURE_SPAN = np.array([high - low for low, high in FEATURE_RANGES.values()], dtype=np.float64)


def to_norm(raw: np.ndarray) -> np.ndarray:
    return (raw - FEATURE_LOW) / FEATURE_SPAN


def to_raw(norm: np.ndarray) -> np.ndarray:
    return FEATURE_LOW + norm * FEATURE_SPAN


@dataclass(frozen=True, slots=True)
class GenreSpec:
    name: str
    centroid: tuple[float, ...]  # raw units, in FEATURES order
    weight: float  # relative share of artists
    style: str  # how its artists and tracks are named (see names.py)
    family: str  # broad family: an artist's secondary genres come from its main genre's family first


def _g(name: str, values: str, weight: float, style: str, family: str) -> GenreSpec:
    return GenreSpec(name, tuple(float(v) for v in values.split()), weight, style, family)


# name, centroid (acousticness danceability energy instrumentalness liveness loudness speechiness tempo
# valence), weight, naming style, family
GENRE_TABLE: tuple[GenreSpec, ...] = (
    _g("pop", "0.15 0.70 0.68 0.01 0.15 -5.5 0.06 118 0.58", 10, "person", "pop"),
    _g("hip hop", "0.12 0.78 0.65 0.01 0.18 -6.0 0.25 96 0.50", 9, "rapper", "hiphop"),
    _g("rock", "0.08 0.50 0.80 0.04 0.20 -5.5 0.05 126 0.50", 8, "band", "rock"),
    _g("r&b", "0.22 0.68 0.55 0.01 0.13 -6.8 0.09 98 0.50", 6, "person", "soul"),
    _g("dance pop", "0.10 0.75 0.75 0.01 0.14 -5.0 0.06 122 0.62", 6, "person", "pop"),
    _g("indie rock", "0.12 0.50 0.72 0.08 0.16 -6.5 0.04 124 0.45", 5, "band", "rock"),
    _g("k-pop", "0.10 0.72 0.80 0.00 0.16 -4.0 0.08 124 0.62", 5, "kpop", "pop"),
    _g("jazz", "0.75 0.55 0.35 0.45 0.18 -12.0 0.05 112 0.50", 4, "ensemble", "jazz"),
    _g("country", "0.30 0.60 0.65 0.01 0.18 -6.5 0.04 116 0.62", 5, "person", "folk"),
    _g("latin", "0.20 0.75 0.75 0.01 0.16 -5.0 0.08 104 0.75", 5, "person", "latin"),
    _g("reggaeton", "0.15 0.80 0.75 0.00 0.15 -4.5 0.12 94 0.68", 4, "rapper", "latin"),
    _g("trap", "0.10 0.76 0.62 0.01 0.16 -6.0 0.22 140 0.38", 4, "rapper", "hiphop"),
    _g("edm", "0.05 0.65 0.88 0.30 0.20 -4.0 0.06 128 0.45", 4, "dj", "electronic"),
    _g("house", "0.05 0.78 0.78 0.55 0.12 -7.0 0.06 124 0.55", 4, "dj", "electronic"),
    _g("techno", "0.03 0.70 0.82 0.80 0.12 -8.0 0.06 132 0.30", 3, "dj", "electronic"),
    _g("metal", "0.01 0.40 0.95 0.15 0.20 -4.0 0.08 135 0.25", 4, "band", "rock"),
    _g("classical", "0.95 0.25 0.12 0.90 0.12 -22.0 0.04 100 0.22", 3, "classical", "classical"),
    _g("indie pop", "0.25 0.62 0.60 0.05 0.14 -7.0 0.04 118 0.55", 4, "band", "pop"),
    _g("indie folk", "0.72 0.50 0.38 0.08 0.13 -10.0 0.04 110 0.40", 3, "person", "folk"),
    _g("folk", "0.78 0.52 0.35 0.05 0.15 -11.0 0.04 108 0.48", 3, "person", "folk"),
    _g("lo-fi hip hop", "0.62 0.68 0.32 0.78 0.11 -12.0 0.07 82 0.45", 3, "producer", "chill"),
    _g("ambient", "0.85 0.25 0.15 0.88 0.10 -20.0 0.04 90 0.15", 2, "producer", "chill"),
    _g("bossa nova", "0.82 0.62 0.30 0.20 0.13 -13.0 0.05 128 0.55", 2, "person", "jazz"),
    _g("synthwave", "0.06 0.60 0.72 0.65 0.12 -8.0 0.04 110 0.45", 2, "producer", "electronic"),
    _g("soul", "0.45 0.60 0.50 0.02 0.20 -8.5 0.05 100 0.65", 3, "person", "soul"),
    _g("classic rock", "0.12 0.50 0.72 0.06 0.22 -8.0 0.04 124 0.58", 4, "band", "rock"),
    _g("singer-songwriter", "0.75 0.50 0.32 0.03 0.14 -10.5 0.05 104 0.38", 3, "person", "folk"),
    _g("funk", "0.18 0.78 0.72 0.05 0.18 -7.0 0.07 110 0.80", 2, "band", "soul"),
    _g("disco", "0.10 0.80 0.78 0.05 0.15 -6.5 0.05 120 0.82", 2, "band", "soul"),
    _g("blues", "0.55 0.52 0.48 0.10 0.25 -9.5 0.05 100 0.52", 2, "person", "soul"),
    _g("neo soul", "0.40 0.64 0.45 0.03 0.14 -8.0 0.07 92 0.55", 2, "person", "soul"),
    _g("afrobeats", "0.20 0.80 0.70 0.02 0.14 -5.5 0.10 106 0.75", 3, "person", "latin"),
    _g("reggae", "0.20 0.78 0.55 0.03 0.18 -7.5 0.12 84 0.72", 2, "band", "latin"),
    _g("deep house", "0.08 0.76 0.62 0.60 0.10 -8.5 0.05 122 0.45", 2, "dj", "electronic"),
    _g("drum and bass", "0.03 0.58 0.92 0.50 0.18 -4.5 0.08 174 0.40", 2, "dj", "electronic"),
    _g("trance", "0.04 0.58 0.88 0.70 0.15 -6.5 0.05 138 0.35", 2, "dj", "electronic"),
    _g("punk", "0.03 0.45 0.92 0.02 0.25 -4.5 0.07 165 0.55", 2, "band", "rock"),
    _g("soundtrack", "0.70 0.25 0.30 0.85 0.12 -16.0 0.04 100 0.20", 2, "composer", "classical"),
    _g("smooth jazz", "0.60 0.62 0.40 0.60 0.12 -11.0 0.04 96 0.58", 2, "ensemble", "jazz"),
    _g("downtempo", "0.45 0.60 0.40 0.70 0.11 -11.0 0.05 95 0.35", 2, "producer", "chill"),
    _g("j-pop", "0.12 0.62 0.78 0.01 0.17 -4.8 0.05 130 0.60", 3, "kpop", "pop"),
    _g("piano", "0.97 0.35 0.10 0.92 0.10 -22.0 0.04 90 0.25", 2, "composer", "classical"),
    _g("trip hop", "0.35 0.62 0.45 0.50 0.12 -10.0 0.06 90 0.30", 1, "band", "chill"),
    _g("post-rock", "0.20 0.30 0.55 0.85 0.14 -11.0 0.04 115 0.20", 1, "band", "rock"),
    _g("shoegaze", "0.10 0.35 0.72 0.50 0.14 -8.5 0.04 118 0.25", 1, "band", "rock"),
    _g("new age", "0.80 0.28 0.18 0.85 0.10 -18.0 0.04 80 0.25", 1, "producer", "chill"),
    _g("gospel", "0.45 0.55 0.58 0.01 0.40 -8.0 0.06 108 0.60", 1, "ensemble", "soul"),
    _g("salsa", "0.35 0.72 0.78 0.02 0.22 -6.5 0.05 180 0.85", 1, "band", "latin"),
    _g("death metal", "0.01 0.30 0.97 0.20 0.20 -4.0 0.10 150 0.15", 1, "band", "rock"),
    _g("city pop", "0.25 0.68 0.62 0.03 0.12 -8.0 0.04 112 0.70", 1, "person", "pop"),
    _g("bollywood", "0.30 0.65 0.70 0.02 0.18 -6.0 0.06 112 0.65", 2, "person", "pop"),
    _g("dubstep", "0.03 0.60 0.90 0.35 0.18 -4.0 0.10 140 0.35", 1, "dj", "electronic"),
    _g("emo", "0.03 0.45 0.85 0.01 0.18 -5.0 0.07 150 0.35", 1, "band", "rock"),
    _g("grunge", "0.03 0.42 0.85 0.05 0.18 -6.0 0.05 120 0.30", 1, "band", "rock"),
    _g("baroque", "0.93 0.35 0.20 0.92 0.12 -20.0 0.04 110 0.45", 1, "classical", "classical"),
    _g("opera", "0.90 0.25 0.25 0.15 0.25 -16.0 0.05 95 0.25", 1, "classical", "classical"),
    _g("bluegrass", "0.75 0.55 0.60 0.10 0.22 -9.0 0.04 130 0.70", 1, "band", "folk"),
    _g("chanson", "0.65 0.50 0.38 0.02 0.15 -11.0 0.06 104 0.45", 1, "person", "folk"),
    _g("grime", "0.10 0.72 0.75 0.01 0.15 -5.5 0.30 140 0.40", 1, "rapper", "hiphop"),
    _g("phonk", "0.08 0.75 0.80 0.40 0.14 -5.0 0.12 130 0.30", 1, "producer", "hiphop"),
    _g("hyperpop", "0.05 0.62 0.88 0.02 0.18 -4.0 0.10 150 0.55", 1, "producer", "pop"),
)

# Beyond the table, extra genres are named variants of table genres with shifted centroids.
_VARIANT_PREFIXES: tuple[tuple[str, str], ...] = (
    ("dark", "energy -0.05 valence -0.2 acousticness -0.05"),
    ("melodic", "valence 0.1 instrumentalness 0.1"),
    ("experimental", "danceability -0.15 instrumentalness 0.15"),
    ("modern", "loudness 2 energy 0.05"),
    ("acoustic", "acousticness 0.3 energy -0.2 loudness -4"),
    ("progressive", "instrumentalness 0.15 tempo 6"),
    ("chill", "energy -0.2 tempo -10 valence 0.05"),
    ("nu", "energy 0.1 danceability 0.05"),
)


def _variant(base: GenreSpec, prefix: str, shifts: str) -> GenreSpec:
    centroid = list(base.centroid)
    words = shifts.split()
    for name, delta in zip(words[::2], words[1::2], strict=True):
        centroid[FEATURES.index(name)] += float(delta)
    clipped = tuple(float(np.clip(v, *FEATURE_RANGES[name])) for name, v in zip(FEATURES, centroid, strict=True))
    return GenreSpec(f"{prefix} {base.name}", clipped, max(base.weight / 3, 0.5), base.style, base.family)


def genre_specs(count: int) -> tuple[GenreSpec, ...]:
    """The first `count` genres: the table, then prefixed variants of it in a fixed order."""
    if count < 1:
        raise ValueError("a catalog needs at least one genre")
    specs = list(GENRE_TABLE[:count])
    for prefix, shifts in _VARIANT_PREFIXES:
        for base in GENRE_TABLE:
            if len(specs) >= count:
                return tuple(specs)
            specs.append(_variant(base, prefix, shifts))
    if len(specs) < count:
        raise ValueError(f"at most {len(specs)} genres are supported, {count} asked")
    return tuple(specs)


def related_genres(specs: tuple[GenreSpec, ...], count: int) -> list[list[int]]:
    """For each genre, the `count` genres nearest to it: same family first, then by centroid distance."""
    norm = to_norm(np.array([s.centroid for s in specs]))
    distance = np.linalg.norm(norm[:, None, :] - norm[None, :, :], axis=2)
    out = []
    for g, spec in enumerate(specs):
        order = sorted(
            (o for o in range(len(specs)) if o != g),
            key=lambda o: (specs[o].family != spec.family, float(distance[g, o]), o),
        )
        out.append(order[:count])
    return out

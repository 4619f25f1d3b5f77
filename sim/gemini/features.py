"""The audio features the fake model reasons about: names, units, neutral values and rounding.

Values are in the upstream API's raw units (tempo in BPM, loudness in dB, the rest 0–1), so a mood's
targets can be compared directly with the catalog's genre centroids and with numbers quoted in prompts.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

# The catalog's feature set is the one the fake model knows (re-exported for the other gemini modules).
from sim.catalog.genres import FEATURES as FEATURES

# Other words that name a feature inside property names or prompts ("bpm_min", "happiness 0.8").
_ALIASES: dict[str, str] = {
    "acoustic": "acousticness",
    "dance": "danceability",
    "danceable": "danceability",
    "instrumental": "instrumentalness",
    "live": "liveness",
    "loud": "loudness",
    "volume": "loudness",
    "speech": "speechiness",
    "bpm": "tempo",
    "happiness": "valence",
    "positivity": "valence",
}


@dataclass(frozen=True, slots=True)
class Scale:
    low: float
    high: float
    neutral: float  # what an unconstrained mood targets
    half_width: float  # half the width of a mood's range for a constrained feature
    digits: int  # how answers round it
    typical_low: float  # the span that words like "low" and "high" (or "slow" and "fast") describe
    typical_high: float

    @property
    def span(self) -> float:
        return self.high - self.low

    def clamp(self, value: float) -> float:
        return min(self.high, max(self.low, value))

    def round(self, value: float) -> float:
        return round(value, self.digits)

    def level(self, value: float) -> float:
        """Where `value` sits between what "low" and "high" mean for this feature, 0–1."""
        return min(1.0, max(0.0, (value - self.typical_low) / (self.typical_high - self.typical_low)))

    def to_unit(self, value: float) -> float:
        return (value - self.low) / self.span


_UNIT = Scale(0.0, 1.0, 0.5, 0.15, 2, 0.0, 1.0)
SCALES: dict[str, Scale] = {
    "acousticness": Scale(0.0, 1.0, 0.35, 0.15, 2, 0.0, 1.0),
    "danceability": _UNIT,
    "energy": _UNIT,
    "instrumentalness": Scale(0.0, 1.0, 0.15, 0.15, 2, 0.0, 1.0),
    "liveness": Scale(0.0, 1.0, 0.15, 0.1, 2, 0.0, 1.0),
    "loudness": Scale(-60.0, 0.0, -8.0, 3.0, 1, -25.0, -3.0),
    "speechiness": Scale(0.0, 1.0, 0.07, 0.05, 2, 0.0, 0.5),
    "tempo": Scale(0.0, 250.0, 112.0, 15.0, 0, 60.0, 180.0),
    "valence": _UNIT,
}


def feature_of(word: str) -> str | None:
    """The feature a single lower-case word names, if any."""
    if word in SCALES:
        return word
    return _ALIASES.get(word)


def feature_in(words: Iterable[str]) -> str | None:
    """The first feature named by any of `words` (tokens of a property name, say)."""
    for word in words:
        if (feature := feature_of(word)) is not None:
            return feature
    return None

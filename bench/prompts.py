"""The fixed prompts and users every scenario runs over, and the distinct prompts of the load scenario."""

from __future__ import annotations

import itertools
from dataclasses import dataclass

from bench.catalog import sim_catalog

# Moods of different energy, genre and wording; the last one names a catalog track (filled in by `cases`),
# so the monolith's user-mentioned-track path and its full five-call anchor chain run too.
BASE_PROMPTS = (
    "rainy sunday, slow jazz, nothing sad",
    "late night drive through the city, synthwave",
    "upbeat indie for a morning run",
    "calm acoustic focus music for studying",
    "songs like {track} by {artist} for a slow sunday morning",
)
# A cold request, then a tweak of it in the same session (the refine scenario).
REFINE_PROMPTS = (
    "rainy sunday, slow jazz, nothing sad",
    "late night drive through the city, synthwave",
    "calm acoustic focus music for studying",
    "country songs for a long road trip",
)
REFINE_TWEAK = "same but more upbeat"
# The moods the orchestrator keeps warm in the bench's mesh (POPULAR_MOODS), asked for by new users.
POPULAR_PROMPTS = (
    "chill lo-fi beats to study to",
    "happy upbeat songs for a summer day",
    "sad songs for a rainy night",
)
COLD_USER_BASE = 1000  # cold/legacy run r of prompt p uses user COLD_USER_BASE + 10·p + r
LOAD_USER_BASE = 100_000


@dataclass(frozen=True)
class Case:
    prompt_index: int
    prompt: str
    user: int  # the simulator's user number: token `user-<n>-…`

    def token(self, scenario: str) -> str:
        return f"user-{self.user}-{scenario}"

    @property
    def user_id(self) -> str:
        """The simulator's Spotify user id for the token: the orchestrator refuses a user_id the token is not."""
        return f"simuser{self.user}"


def mentioned_track(profile_name: str, seed: int) -> tuple[str, str]:
    """A well-known catalog track (title, artist) for the prompt that names one: the third most popular,
    as the top two share an artist with a short discography."""
    catalog = sim_catalog(profile_name, seed)
    track = sorted(catalog.tracks, key=lambda t: (-t.popularity, t.index))[2]
    return track.title, catalog.artists[track.artist_indices[0]].name


def prompts(profile_name: str, seed: int) -> list[str]:
    title, artist = mentioned_track(profile_name, seed)
    return [p.format(track=title, artist=artist) for p in BASE_PROMPTS]


def cases(all_prompts: list[str], runs: int) -> list[Case]:
    """`runs` cases cycling over the prompts, each with its own (new) user."""
    return [
        Case(
            i % len(all_prompts),
            all_prompts[i % len(all_prompts)],
            COLD_USER_BASE + 10 * (i % len(all_prompts)) + i // len(all_prompts),
        )
        for i in range(runs)
    ]


_MOODS = (
    "calm",
    "happy",
    "melancholic",
    "energetic",
    "dreamy",
    "dark",
    "romantic",
    "nostalgic",
    "angry",
    "hopeful",
    "lazy",
    "euphoric",
)
_GENRES = ("jazz", "synthwave", "indie rock", "techno", "folk", "hip hop", "ambient", "soul", "punk", "latin")
_SETTINGS = (
    "a rainy evening",
    "a road trip",
    "studying",
    "a workout",
    "a dinner party",
    "falling asleep",
    "a summer barbecue",
    "cleaning the house",
)


_COMBOS = tuple(itertools.product(_MOODS, _GENRES, _SETTINGS))  # 12 × 10 × 8 = 960


def load_prompt(i: int) -> str:
    """Distinct prompts for the load scenario (960 before they repeat with a counter)."""
    mood, genre, setting = _COMBOS[(i * 7919) % len(_COMBOS)]  # a stride, so neighbours differ in every part
    suffix = f" (take {i // len(_COMBOS) + 1})" if i >= len(_COMBOS) else ""
    return f"{mood} {genre} for {setting}{suffix}"

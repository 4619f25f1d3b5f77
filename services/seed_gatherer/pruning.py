"""Heuristic pruning of discovered artists, before any further upstream call is spent on them.

Rules, in order: an artist the prompt rules out (by name or genre) goes; an artist known to be useless
(ReccoBeats has no tracks of it) goes; an artist the prompt names stays, first. The rest are ranked by
fit to the genres: when the prompt names genres, artists whose main genre is one of them lead and
artists of none of them go; otherwise the mood's genres rank them. Artists whose genres are unknown
(found on ReccoBeats, which has none) rank below known fits, above nothing; the LLM's suggestion lifts
them a little. Popularity, when Spotify gives it, breaks ties and drops the near-unknown.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass, field

from segue.v1 import common_pb2

from services.common.genres import artist_keys, genres_match, named_in, same_name

MIN_POPULARITY = 10  # below this an artist is too obscure to be worth a track lookup (when popularity is known)


@dataclass(frozen=True)
class Ask:
    """What the mood asks discovery for."""

    named_artists: tuple[str, ...] = ()
    named_genres: tuple[str, ...] = ()
    genres: tuple[str, ...] = ()  # the mood's genres, best first
    suggested: tuple[str, ...] = ()  # artists the mood analysis suggests (not named in the prompt)
    avoid: tuple[str, ...] = ()

    @classmethod
    def of(cls, mood: common_pb2.MoodProfile, prompt: str) -> Ask:
        named = tuple(named_in(prompt, mood.artists))
        return cls(
            named_artists=named,
            named_genres=tuple(named_in(prompt, mood.genres)),
            genres=tuple(g for g in mood.genres if g.strip()),
            suggested=tuple(a for a in mood.artists if a not in named),
            avoid=tuple(a for a in mood.avoid if a.strip()),
        )


@dataclass
class Found:
    artist: common_pb2.Artist
    order: int  # when it was found (search rank): the last tie-break
    named: bool = False
    score: float = field(default=0.0, compare=False)


def _is(name: str, names: Sequence[str]) -> bool:
    return any(same_name(name, n) for n in names)


def fit(found: Found, ask: Ask) -> float | None:
    """How well the artist fits what is asked, higher is better; None: drop it."""
    artist = found.artist
    genres = list(artist.genres)
    if _is(artist.name, ask.avoid) or genres_match(genres, ask.avoid):
        return None
    if found.named or _is(artist.name, ask.named_artists):
        return 100.0
    suggested = 0.3 if _is(artist.name, ask.suggested) else 0.0
    if not genres:
        return 1.0 + suggested if suggested else 0.5
    if ask.named_genres:
        if genres_match(genres[:1], ask.named_genres):
            score = 3.0
        elif genres_match(genres, ask.named_genres):
            score = 2.5
        elif genres_match(genres, ask.genres):
            score = 0.8  # a filler when the named genres run short
        else:
            return None
    elif genres_match(genres[:1], ask.genres):
        score = 2.0
    elif genres_match(genres, ask.genres):
        score = 1.5
    else:
        return None
    if artist.HasField("popularity"):
        if artist.popularity < MIN_POPULARITY:
            return None
        score += artist.popularity / 200
    return score + suggested


def prune(candidates: Sequence[Found], ask: Ask, useless: Collection[str], limit: int) -> list[Found]:
    """The best `limit` distinct artists worth a track lookup, named ones first."""
    seen: set[str] = set()
    kept: list[Found] = []
    for found in candidates:
        keys = artist_keys(found.artist)
        if seen.intersection(keys) or (useless and set(keys) & set(useless)):
            continue
        score = fit(found, ask)
        if score is None:
            continue
        seen.update(keys)
        found.score = score
        kept.append(found)
    kept.sort(key=lambda f: (-f.score, f.order))
    return kept[:limit]

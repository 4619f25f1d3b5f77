"""Tracks for a mood when the user's own context gives none: a Spotify track search by the mood's genres."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

from segue.v1 import common_pb2

from services.common.errors import SegueError, Unauthenticated
from services.seed_gatherer.degradation import upstream_warning
from services.seed_gatherer.seed_selection import unique_tracks
from services.seed_gatherer.spotify_client import SpotifyClient, search_query

# A few concurrent searches cover a mood's main genres without spending the Spotify rate limit on it.
MAX_QUERIES = 3


@dataclass
class MoodSearch:
    tracks: list[common_pb2.Track]
    described: str  # what was searched, for the caller's warning, e.g. 'genre:"lo-fi", genre:"jazz"'
    warnings: list[common_pb2.Warning] = field(default_factory=list)


def mood_queries(mood: common_pb2.MoodProfile) -> list[str]:
    """`genre:` searches for the mood's genres, or `artist:` searches when it names artists but no genres."""
    genres = [g for g in mood.genres if g.strip()][:MAX_QUERIES]
    if genres:
        return [search_query(genre=g) for g in genres]
    return [search_query(artist=a) for a in mood.artists if a.strip()][:MAX_QUERIES]


async def search_mood_tracks(spotify: SpotifyClient, token: str, mood: common_pb2.MoodProfile) -> MoodSearch:
    queries = mood_queries(mood)
    results = await asyncio.gather(
        *(spotify.search_tracks(token, q, spotify.search_limit_max) for q in queries), return_exceptions=True
    )
    found: list[common_pb2.Track] = []
    failures: list[SegueError] = []
    for result in results:
        if isinstance(result, Unauthenticated):
            raise result
        if isinstance(result, SegueError):
            failures.append(result)
        elif isinstance(result, BaseException):
            raise result
        else:
            found.extend(result)
    search = MoodSearch(unique_tracks(found), ", ".join(queries))
    if failures:
        search.warnings.append(
            upstream_warning("spotify", failures[0], f"{len(failures)} of {len(queries)} mood searches failed")
        )
    return search

"""Anchor tracks for a mood: Spotify track searches by the mood's genres, the genres the prompt names first.

Anchors seed the recommendations when the prompt is about a genre rather than the user (and stand in for
the user's own tracks when there are none). Their artists' genres stay unknown here: a search by one
genre does not say which others an artist also plays.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import partial
from itertools import zip_longest

from segue.v1 import common_pb2

from services.common.degradation import SPOTIFY, degraded
from services.common.fanout import failures, gather_tolerant
from services.common.genres import named_in
from services.seed_gatherer.catalog_search import CatalogSearch, Found
from services.seed_gatherer.seed_selection import unique_tracks
from services.seed_gatherer.spotify_client import search_query

# A few concurrent searches cover a mood's main genres without spending the Spotify rate limit on it.
MAX_QUERIES = 2
# Anchors come without features: with the recommendations', theirs should fit one 40-ID batch.
MAX_ANCHORS = 10


@dataclass
class MoodSearch:
    tracks: list[common_pb2.Track]
    described: str  # what was searched, for the caller's warning, e.g. 'genre:"lo-fi", genre:"jazz"'
    warnings: list[common_pb2.Warning] = field(default_factory=list)
    cache_hits: int = 0
    searches: int = 0


def search_genres(mood: common_pb2.MoodProfile, prompt: str) -> list[str]:
    """The genres the prompt names, else the mood's first genres."""
    genres = [g for g in mood.genres if g.strip()]
    return (named_in(prompt, genres) or genres)[:MAX_QUERIES]


def mood_queries(mood: common_pb2.MoodProfile, prompt: str = "") -> list[str]:
    """`genre:` searches, or `artist:` searches when the mood names artists but no genres."""
    genres = search_genres(mood, prompt)
    if genres:
        return [search_query(genre=g) for g in genres]
    return [search_query(artist=a) for a in mood.artists if a.strip()][:MAX_QUERIES]


async def search_mood_tracks(
    search: CatalogSearch, token: str, mood: common_pb2.MoodProfile, prompt: str = ""
) -> MoodSearch:
    queries = mood_queries(mood, prompt)
    results = await gather_tolerant([partial(search.tracks, token, q, search.page_size) for q in queries])
    pages = [r.tracks for r in results if isinstance(r, Found)]
    hits = sum(r.hit for r in results if isinstance(r, Found))
    interleaved = [t for rank in zip_longest(*pages) for t in rank if t is not None]  # each genre's best first
    out = MoodSearch(
        unique_tracks(interleaved)[:MAX_ANCHORS], ", ".join(queries), cache_hits=hits, searches=len(queries)
    )
    failed = failures(results)
    if failed:
        out.warnings.append(degraded(failed[0], SPOTIFY, f"{len(failed)} of {len(queries)} mood searches failed"))
    return out

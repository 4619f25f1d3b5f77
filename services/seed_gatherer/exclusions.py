"""What the prompt rules out, as the catalog knows it: which avoided words are genres, which are artists.

`avoid` is free text ("sad", "pop", "Dua Lipa"). Searches, all at once, settle it: a track search
`genre:"<word>"` that finds tracks makes the word a genre; for a word written as a name (a capital in it),
a track search `artist:"<word>"` whose tracks are by an artist of exactly that name makes it an artist.
Both give tracks of what is ruled out, which become negative seeds. A mood word such as "sad" finds
neither and stays a mood word (the feature targets already keep sad tracks out).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import partial

from segue.v1 import common_pb2

from services.common.degradation import SPOTIFY, degraded
from services.common.fanout import failures, gather_tolerant
from services.common.genres import same_name, words
from services.seed_gatherer.catalog_search import CatalogSearch, Found
from services.seed_gatherer.spotify_client import search_query

MAX_TERMS = 4
RESULTS_PER_SEARCH = 5


@dataclass
class Ruled:
    excluded: common_pb2.Exclusions = field(default_factory=common_pb2.Exclusions)
    tracks: list[common_pb2.Track] = field(default_factory=list)  # tracks of what is ruled out (negative seeds)
    warnings: list[common_pb2.Warning] = field(default_factory=list)
    searches: int = 0
    cache_hits: int = 0


def avoid_terms(mood: common_pb2.MoodProfile) -> list[str]:
    return [t for t in dict.fromkeys(a.strip() for a in mood.avoid) if words(t).strip()][:MAX_TERMS]


async def resolve(search: CatalogSearch, token: str, mood: common_pb2.MoodProfile) -> Ruled:
    terms = avoid_terms(mood)
    names = [t for t in terms if t != t.lower()]  # genres and mood words are written in lower case
    out = Ruled(searches=len(terms) + len(names))
    if not terms:
        return out
    steps = [partial(search.tracks, token, search_query(genre=t), RESULTS_PER_SEARCH) for t in terms]
    steps += [partial(search.tracks, token, search_query(artist=t), RESULTS_PER_SEARCH) for t in names]
    results = await gather_tolerant(steps)
    by_genre = results[: len(terms)]
    by_artist = dict(zip(names, results[len(terms) :], strict=True))
    for term, genre_hit in zip(terms, by_genre, strict=True):
        artist_hit = by_artist.get(term)
        if isinstance(genre_hit, Found):
            out.cache_hits += genre_hit.hit
            if genre_hit.tracks:
                out.excluded.genres.append(term)
                out.tracks.extend(genre_hit.tracks)
        if isinstance(artist_hit, Found):
            out.cache_hits += artist_hit.hit
            named = [a for t in artist_hit.tracks for a in t.artists if same_name(a.name, term)]
            if named:
                out.excluded.artists.append(named[0])
                out.tracks.extend(t for t in artist_hit.tracks if any(same_name(a.name, term) for a in t.artists))
    failed = failures(results)
    if failed:
        out.warnings.append(
            degraded(
                failed[0],
                SPOTIFY,
                f"{len(failed)} of {len(results)} searches for what the prompt rules out failed; "
                "only what the mood's own words rule out is excluded",
            )
        )
    return out

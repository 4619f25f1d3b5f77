"""Spotify-style search over the catalog: `q` with free text and the `artist:`/`track:`/`genre:` filters segue sends.

Matching is by whole words, case- and accent-insensitive: every word of a filter (or of the free text)
must appear in the field it filters. A filter's value runs to the next filter, so the monolith's
`track:Hey Jude artist:The Beatles` works without quotes; quoted values work too. Results are ranked
exact-name matches first, then by popularity. Spotify's other filters (`year:`, `isrc:`, `album:`...) have no
caller here: they stay in the free text.
"""

from __future__ import annotations

import re
import unicodedata
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sim.catalog.model import Catalog

_WORD = re.compile(r"[a-z0-9]+")
_FILTER = re.compile(r"\b(artist|track|genre):", re.IGNORECASE)


def fold(text: str) -> str:
    """Lower-case without accents (é → e), as search compares text."""
    if text.isascii():
        return text.lower()
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).lower()


def words(text: str) -> list[str]:
    return _WORD.findall(fold(text))


def genre_key(name: str) -> str:
    """'Hip-Hop', 'hip hop' and 'hiphop' are the same genre to search."""
    return "".join(words(name))


@dataclass(frozen=True)
class SearchIndex:
    artist_words: dict[str, frozenset[int]]
    track_words: dict[str, frozenset[int]]
    artists_by_genre: dict[str, frozenset[int]]

    @classmethod
    def build(
        cls, artist_names: Sequence[str], artist_genres: Sequence[Iterable[str]], track_titles: Sequence[str]
    ) -> SearchIndex:
        return cls(
            artist_words=_inverted(artist_names),
            track_words=_inverted(track_titles),
            artists_by_genre=_freeze((genre_key(g), i) for i, genres in enumerate(artist_genres) for g in genres),
        )


def _freeze(pairs: Iterable[tuple[str, int]]) -> dict[str, frozenset[int]]:
    index: defaultdict[str, set[int]] = defaultdict(set)
    for key, i in pairs:
        index[key].add(i)
    return {k: frozenset(v) for k, v in index.items()}


def _inverted(texts: Sequence[str]) -> dict[str, frozenset[int]]:
    return _freeze((w, i) for i, text in enumerate(texts) for w in set(words(text)))


@dataclass(frozen=True)
class Query:
    text: str = ""
    artist: str = ""
    track: str = ""
    genre: str = ""


def parse_query(q: str) -> Query:
    """Split `q` into free text and filters; unknown `word:` prefixes stay in the free text."""
    marks = list(_FILTER.finditer(q))
    fields: dict[str, str] = {}
    free = [q[: marks[0].start()] if marks else q]
    for n, mark in enumerate(marks):
        end = marks[n + 1].start() if n + 1 < len(marks) else len(q)
        value = q[mark.end() : end].strip()
        if value.startswith('"') and '"' in value[1:]:
            closing = value.index('"', 1)
            free.append(value[closing + 1 :])
            value = value[1:closing]
        fields[mark.group(1).lower()] = value.strip()
    return Query(text=" ".join(part.strip() for part in free).strip(), **fields)


def _all_words(index: dict[str, frozenset[int]], text: str) -> set[int] | None:
    """Indices whose text holds every word of `text`; None when `text` has no words (no constraint)."""
    found: set[int] | None = None
    for w in words(text):
        hits = index.get(w, frozenset())
        found = set(hits) if found is None else found & hits
        if not found:
            return set()
    return found


def _intersect(current: set[int] | None, other: set[int] | None) -> set[int] | None:
    if other is None:
        return current
    return other if current is None else current & other


def search_artists(catalog: Catalog, q: str) -> list[int]:
    """Artist indices matching `q`, best first (track-only filters do not constrain artists)."""
    query = parse_query(q)
    index = catalog.search
    found = _all_words(index.artist_words, f"{query.text} {query.artist}")
    if query.genre:
        found = _intersect(found, set(index.artists_by_genre.get(genre_key(query.genre), frozenset())))
    if found is None:
        return []
    wanted = fold(query.artist or query.text).strip()
    return sorted(found, key=lambda i: (fold(catalog.artists[i].name) != wanted, -catalog.artists[i].popularity, i))


def search_tracks(catalog: Catalog, q: str) -> list[int]:
    """Track indices matching `q`, best first."""
    query = parse_query(q)
    index = catalog.search
    found = _all_words(index.track_words, query.track)
    if query.artist or query.genre:
        artists = _all_words(index.artist_words, query.artist)
        if query.genre:
            artists = _intersect(artists, set(index.artists_by_genre.get(genre_key(query.genre), frozenset())))
        by_artist = {t for a in artists or () for t in catalog.artists[a].track_indices}
        found = _intersect(found, by_artist)
    if query.text:
        title_hits = _all_words(index.track_words, query.text) or set()
        artist_hits = _all_words(index.artist_words, query.text) or set()
        text_hits = title_hits | {t for a in artist_hits for t in catalog.artists[a].track_indices}
        found = _intersect(found, text_hits)
    if found is None:
        return []
    wanted = fold(query.track or query.text).strip()
    return sorted(found, key=lambda t: (fold(catalog.tracks[t].title) != wanted, -catalog.tracks[t].popularity, t))

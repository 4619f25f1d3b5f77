"""What the fake model knows of the catalog — genres, artists, every track title — and finding them in text.

Names are matched word by word on their normalised words (case and punctuation do not matter, never inside
a word); the mood reader decides which matches count (capitals, cue words, quotes, "by").
"""

from __future__ import annotations

import functools
import itertools
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TypeVar

from sim.catalog import Catalog

from .lexicon import Token, key, words

# words too generic to hint at the genres whose names hold them ("deep" is not a hint at deep house)
GENERIC_GENRE_WORDS: frozenset[str] = frozenset(
    "new modern classic deep post nu city death hip hop lo fi drum bass singer songwriter trip dark chill "
    "acoustic melodic experimental progressive smooth neo".split()
)

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Match:
    name: str  # as the catalog writes it
    start: int  # token range in the text
    end: int


def longest_runs(
    count: int, longest: int, lookup: Callable[[int, int], T | None]
) -> Iterator[tuple[int, int, T | None]]:
    """Left to right over `count` tokens: from each position the longest run (at most `longest` tokens)
    that `lookup(start, end)` knows, then on after it (no overlaps); a token in no known run comes as None."""
    i = 0
    while i < count:
        for n in range(min(longest, count - i), 0, -1):
            found = lookup(i, i + n)
            if found is not None:
                yield i, i + n, found
                i += n
                break
        else:
            yield i, i + 1, None
            i += 1


@dataclass
class Names:
    """Names by their normalised words; `find` gives the longest matches, left to right, no overlaps."""

    by_words: dict[tuple[str, ...], str] = field(default_factory=dict)  # the first name added wins
    longest: int = 0

    def add(self, name: str) -> None:
        norms = tuple(words(name))
        if norms:
            self.by_words.setdefault(norms, name)
            self.longest = max(self.longest, len(norms))

    def find(self, tokens: Sequence[Token]) -> list[Match]:
        norms = [t.norm for t in tokens]
        runs = longest_runs(len(norms), self.longest, lambda start, end: self.by_words.get(tuple(norms[start:end])))
        return [Match(name, start, end) for start, end, name in runs if name is not None]


class Knowledge:
    """The catalog's genres (with their audio-feature centroids), artists and track titles, indexed."""

    def __init__(self, catalog: Catalog) -> None:
        self.genres: Mapping[str, Mapping[str, float]] = {g.name: dict(g.centroid) for g in catalog.genres}
        self.genre_by_key = {key(g): g for g in reversed(list(self.genres))}  # "lofihiphop" → "lo-fi hip hop"
        parts: dict[str, dict[str, None]] = {}  # key of any run of a genre name's words → the genres having it
        for genre in self.genres:
            name_words = words(genre)
            for i, j in itertools.combinations(range(len(name_words) + 1), 2):
                parts.setdefault("".join(name_words[i:j]), {})[genre] = None
        self.genre_part_keys = {k: tuple(v) for k, v in parts.items()}
        self.longest_genre = max(len(words(g)) for g in self.genres)
        self.artists = [(a.name, a.genres, a.popularity) for a in catalog.artists]
        self.artist_names = Names()
        self.artist_genres: dict[str, tuple[str, ...]] = {}  # lower-case name → genres
        self.artists_by_genre: dict[str, list[int]] = {}  # genre → positions in `artists`
        for position, artist in enumerate(catalog.artists):
            if artist.name.lower() not in self.artist_genres:
                self.artist_names.add(artist.name)
                self.artist_genres[artist.name.lower()] = artist.genres
            for genre in dict.fromkeys(artist.genres):
                self.artists_by_genre.setdefault(genre, []).append(position)
        self.titles_by_artist: dict[str, list[tuple[tuple[str, ...], str]]] = {}  # lower-case artist → titles
        self.versions: dict[str, list[tuple[str, str]]] = {}  # title key → (title, main artist), best known first
        self.long_titles = Names()  # titles of two or more words
        for track in sorted(catalog.tracks, key=lambda t: (-t.popularity, t.index)):
            title_words = tuple(words(track.title))
            versions = self.versions.setdefault("".join(title_words), [])
            if not versions and len(title_words) >= 2:
                self.long_titles.add(track.title)
            versions.append((track.title, catalog.artists[track.artist_indices[0]].name))
            for index in track.artist_indices:  # "<title> by <featured artist>" names the track too
                titles = self.titles_by_artist.setdefault(catalog.artists[index].name.lower(), [])
                titles.append((title_words, track.title))

    def genres_in(self, tokens: Sequence[Token]) -> tuple[list[Match], list[str]]:
        """Where a text names genres outright ("jazz", "lo-fi hip hop", "hiphop"), and the genres it hints at
        through one of their words ("indie" → indie rock, indie pop)."""
        named: list[Match] = []
        hinted: list[str] = []
        norms = [t.norm for t in tokens]

        def lookup(start: int, end: int) -> str | None:
            return self.genre_by_key.get("".join(norms[start:end]))

        for start, end, genre in longest_runs(len(norms), self.longest_genre + 1, lookup):
            if genre is not None:
                named.append(Match(genre, start, end))
            elif len(norms[start]) > 2 and norms[start] not in GENERIC_GENRE_WORDS:
                hinted += [g for g in self.genre_part_keys.get(norms[start], ()) if g not in hinted]
        return named, [g for g in hinted if g not in {m.name for m in named}]

    def genres_for_hint(self, hint: str) -> tuple[str, ...]:
        """Catalog genres a lexicon hint refers to: the genre of that name first, then genres containing it."""
        exact = self.genre_by_key.get(key(hint))
        partial = self.genre_part_keys.get(key(hint), ())
        return partial if exact is None else (exact, *(g for g in partial if g != exact))

    def version(self, title_key: str, artists: Sequence[str]) -> tuple[str, str] | None:
        """The catalog's (title, artist) for a title: by one of `artists` if any has it, else its only artist's.
        A title several artists recorded, with none of them named, comes without an artist: a careful model
        does not guess whose version is meant (the mesh asks again, showing the versions it found)."""
        found = self.versions.get(title_key, [])
        lowered = {a.lower() for a in artists}
        named = next((v for v in found if v[1].lower() in lowered), None)
        if named is not None or not found:
            return named
        return found[0] if len({artist for _, artist in found}) == 1 else (found[0][0], "")


knowledge = functools.lru_cache(maxsize=4)(Knowledge)  # one per catalog (a Catalog hashes by identity)

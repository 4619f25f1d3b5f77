"""What the fake model knows of the catalog — genres, artists, every track title — and finding them in text.

Names are matched word by word on their normalised words (case and punctuation do not matter, never inside
a word); the mood reader decides which matches count (capitals, cue words, quotes, "by").
"""

from __future__ import annotations

import functools
import itertools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from sim.catalog import Catalog

from .lexicon import Token, key, words

# words too generic to hint at the genres whose names hold them ("deep" is not a hint at deep house)
GENERIC_GENRE_WORDS: frozenset[str] = frozenset(
    "new modern classic deep post nu city death hip hop lo fi drum bass singer songwriter trip dark chill "
    "acoustic melodic experimental progressive smooth neo".split()
)


@dataclass(frozen=True, slots=True)
class Match:
    name: str  # as the catalog writes it
    start: int  # token range in the text
    end: int


@dataclass
class Names:
    """Names indexed by their first word; `find` gives the longest matches, left to right, no overlaps."""

    by_first: dict[str, list[tuple[tuple[str, ...], str]]] = field(default_factory=dict)

    def add(self, name: str) -> None:
        norms = tuple(words(name))
        if norms:
            self.by_first.setdefault(norms[0], []).append((norms, name))

    def find(self, tokens: Sequence[Token]) -> list[Match]:
        found: list[Match] = []
        norms = [t.norm for t in tokens]
        i = 0
        while i < len(norms):
            best: Match | None = None
            for name_norms, name in self.by_first.get(norms[i], ()):
                n = len(name_norms)
                if (best is None or n > best.end - best.start) and tuple(norms[i : i + n]) == name_norms:
                    best = Match(name, i, i + n)
            if best is None:
                i += 1
            else:
                found.append(best)
                i = best.end
        return found


class Knowledge:
    """The catalog's genres (with their audio-feature centroids), artists and track titles, indexed."""

    def __init__(self, catalog: Catalog) -> None:
        self.genres: Mapping[str, Mapping[str, float]] = {g.name: dict(g.centroid) for g in catalog.genres}
        self.genre_by_key = {key(g): g for g in reversed(list(self.genres))}  # "lofihiphop" → "lo-fi hip hop"
        parts: dict[str, list[str]] = {}  # key of any run of a genre name's words → the genres having it
        for genre in self.genres:
            name_words = words(genre)
            for i, j in itertools.combinations(range(len(name_words) + 1), 2):
                bucket = parts.setdefault("".join(name_words[i:j]), [])
                bucket += [genre] if genre not in bucket else []
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
        i = 0
        while i < len(norms):
            for n in range(min(self.longest_genre + 1, len(norms) - i), 0, -1):
                genre = self.genre_by_key.get("".join(norms[i : i + n]))
                if genre is not None:
                    named.append(Match(genre, i, i + n))
                    i += n
                    break
            else:
                if len(norms[i]) > 2 and norms[i] not in GENERIC_GENRE_WORDS:
                    hinted += [g for g in self.genre_part_keys.get(norms[i], ()) if g not in hinted]
                i += 1
        return named, [g for g in hinted if g not in {m.name for m in named}]

    def genres_for_hint(self, hint: str) -> tuple[str, ...]:
        """Catalog genres a lexicon hint refers to: the genre of that name first, then genres containing it."""
        exact = self.genre_by_key.get(key(hint))
        partial = self.genre_part_keys.get(key(hint), ())
        return partial if exact is None else (exact, *(g for g in partial if g != exact))

    def version(self, title_key: str, artists: Sequence[str]) -> tuple[str, str] | None:
        """The catalog's (title, artist) for a title: by one of `artists` if any has it, else the best known."""
        found = self.versions.get(title_key, [])
        lowered = {a.lower() for a in artists}
        return next((v for v in found if v[1].lower() in lowered), found[0] if found else None)


@functools.lru_cache(maxsize=4)  # one per catalog (a Catalog hashes by identity)
def knowledge(catalog: Catalog) -> Knowledge:
    return Knowledge(catalog)

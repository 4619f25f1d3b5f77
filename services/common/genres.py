"""How genre and artist names are compared, and which of them a prompt names.

Every service judges "is this track jazz", "does the prompt name this artist" the same way: by whole
words, case- and hyphen-insensitive, so "hip-hop" is "hip hop" and "rock" is part of "indie rock" but
not of "rocket".
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Mapping, Sequence

from segue.v1 import common_pb2

_WORD = re.compile(r"[^\W_]+|&")


@functools.lru_cache(maxsize=8192)  # ranking compares the same few names and genres many times over
def words(text: str) -> str:
    """`text` as space-separated lower-case words, padded with spaces so whole-word tests are `in` tests."""
    return " " + " ".join(_WORD.findall(text.casefold().replace("-", " "))) + " "


def same_name(a: str, b: str) -> bool:
    return words(a) == words(b)


def genre_matches(genre: str, wanted: Iterable[str]) -> bool:
    """True when a wanted genre is `genre` or a whole-word part of it ("rock" ~ "indie rock")."""
    mine = words(genre)
    return any(words(w).strip() and words(w) in mine for w in wanted)


def genres_match(artist_genres: Iterable[str], wanted: Iterable[str]) -> bool:
    wanted = list(wanted)
    return any(genre_matches(g, wanted) for g in artist_genres)


def named_in(prompt: str, names: Iterable[str]) -> list[str]:
    """The names the prompt writes out, as whole words (order of `names` kept)."""
    text = words(prompt)
    return [n for n in names if words(n).strip() and words(n) in text]


def track_genres(track: common_pb2.Track) -> list[str]:
    """The genres of the track's artists, as far as they are known."""
    return [g for a in track.artists for g in a.genres]


def artist_keys(artist: common_pb2.Artist) -> list[str]:
    """What identifies an artist across Spotify and ReccoBeats: either ID, or the name when neither is known."""
    return [k for k in (artist.spotify_id, artist.reccobeats_id) if k] or [words(artist.name)]


def with_genres(track: common_pb2.Track, known: Mapping[str, Sequence[str]]) -> None:
    """Fill in the genres of the track's artists from `known` (artist key → genres) where they are missing."""
    for artist in track.artists:
        if artist.genres:
            continue
        for key in artist_keys(artist):
            if key in known:
                artist.genres.extend(known[key])
                break


def genre_index(artists: Iterable[common_pb2.Artist]) -> dict[str, list[str]]:
    """Artist key → genres, for artists whose genres are known."""
    index: dict[str, list[str]] = {}
    for artist in artists:
        if artist.genres:
            for key in artist_keys(artist):
                index.setdefault(key, list(artist.genres))
    return index


class Excluder:
    """What a prompt rules out, ready to judge many tracks: by artist ID or name, or by a known genre."""

    def __init__(self, excluded: common_pb2.Exclusions, avoid: Sequence[str]) -> None:
        self._ids = frozenset(i for a in excluded.artists for i in (a.spotify_id, a.reccobeats_id) if i)
        self._names = frozenset(words(n) for n in [*(a.name for a in excluded.artists), *avoid] if words(n).strip())
        self._genres = [*excluded.genres, *avoid]
        self._genre_ruled_out = bool(excluded.genres)

    def excludes(self, track: common_pb2.Track) -> bool:
        """A track by a ruled-out artist, or whose artists carry a ruled-out genre (as far as they are known)."""
        for artist in track.artists:
            if artist.spotify_id in self._ids or artist.reccobeats_id in self._ids or words(artist.name) in self._names:
                return True
        return genres_match(track_genres(track), self._genres)

    def admits(self, track: common_pb2.Track) -> bool:
        """Whether the track may be played. When a genre is ruled out, every artist of the track must have known
        genres: an artist whose genres are unknown (or known only in part) may be of the ruled-out one."""
        if self.excludes(track):
            return False
        return not (self._genre_ruled_out and any(not a.genres for a in track.artists))

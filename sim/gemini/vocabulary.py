"""What the fake model knows about music (built from the catalog by the caller) and fast lookups into it."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from .text import Token, key, tokenize, words


@dataclass(frozen=True)
class Vocabulary:
    """genre → audio-feature centroid (raw units); (artist, its genres); (track title, artist), maybe a sample."""

    genres: Mapping[str, Mapping[str, float]]
    artists: Sequence[tuple[str, Sequence[str]]]
    tracks: Sequence[tuple[str, str]] = ()


@dataclass(frozen=True, slots=True)
class Match:
    payload: str  # the matched name as the vocabulary spells it
    start: int  # token range in the text
    end: int


@dataclass
class PhraseIndex:
    """Names indexed by their first word, matched against a token stream word by word (never inside words)."""

    # first word → [(words, name, how a one-word name with capitals must be written, else "")]
    by_first: dict[str, list[tuple[tuple[str, ...], str, str]]] = field(default_factory=dict)

    def add(self, name: str) -> None:
        tokens = tokenize(name)
        if not tokens:
            return
        exact = tokens[0].raw if len(tokens) == 1 and tokens[0].raw != tokens[0].norm else ""
        self.by_first.setdefault(tokens[0].norm, []).append((tuple(t.norm for t in tokens), name, exact))

    def find(self, tokens: Sequence[Token]) -> list[Match]:
        """Longest matches, left to right, without overlaps. A one-word name must be written with the
        capitals it has (so an artist called "Rain" is not found in "rainy day, rain outside")."""
        found: list[Match] = []
        norms = [t.norm for t in tokens]
        i = 0
        while i < len(norms):
            best: Match | None = None
            for name_words, name, exact in self.by_first.get(norms[i], ()):
                n = len(name_words)
                if best is not None and n <= best.end - best.start:
                    continue
                if tuple(norms[i : i + n]) != name_words:
                    continue
                if exact and tokens[i].raw != exact:
                    continue
                best = Match(name, i, i + n)
            if best is None:
                i += 1
            else:
                found.append(best)
                i = best.end
        return found


@dataclass
class VocabIndex:
    genre_by_key: dict[str, str]  # whole-name key ("lofihiphop") → genre
    genre_part_keys: dict[str, tuple[str, ...]]  # key of any run of a name's words → genres having it
    artist_names: PhraseIndex
    artist_genres: dict[str, tuple[str, ...]]  # lower-case name → genres
    artists_by_genre: dict[str, tuple[int, ...]]  # genre → positions in Vocabulary.artists of its artists
    track_titles: PhraseIndex
    tracks_by_title: dict[str, list[tuple[str, str]]]  # lower-case title → [(title, artist)]
    tracks_by_artist: dict[str, list[str]]  # lower-case artist → titles
    longest_genre: int


def _build(vocab: Vocabulary) -> VocabIndex:
    genre_by_key: dict[str, str] = {}
    part_keys: dict[str, list[str]] = {}
    longest = 1
    for genre in vocab.genres:
        genre_words = words(genre)
        longest = max(longest, len(genre_words))
        genre_by_key.setdefault(key(genre), genre)
        for i in range(len(genre_words)):
            for j in range(i + 1, len(genre_words) + 1):
                bucket = part_keys.setdefault("".join(genre_words[i:j]), [])
                if genre not in bucket:
                    bucket.append(genre)
    artists = PhraseIndex()
    artist_genres: dict[str, tuple[str, ...]] = {}
    by_genre: dict[str, list[int]] = {}
    for position, (name, genres) in enumerate(vocab.artists):
        if name.lower() not in artist_genres:
            artists.add(name)
            artist_genres[name.lower()] = tuple(genres)
        for genre in dict.fromkeys(genres):
            by_genre.setdefault(genre, []).append(position)
    titles = PhraseIndex()
    by_title: dict[str, list[tuple[str, str]]] = {}
    by_artist: dict[str, list[str]] = {}
    for title, artist in vocab.tracks:
        versions = by_title.setdefault(title.lower(), [])
        if not versions:
            titles.add(title)
        versions.append((title, artist))
        by_artist.setdefault(artist.lower(), []).append(title)
    return VocabIndex(
        genre_by_key=genre_by_key,
        genre_part_keys={k: tuple(v) for k, v in part_keys.items()},
        artist_names=artists,
        artist_genres=artist_genres,
        artists_by_genre={g: tuple(positions) for g, positions in by_genre.items()},
        track_titles=titles,
        tracks_by_title=by_title,
        tracks_by_artist=by_artist,
        longest_genre=longest,
    )


# The same Vocabulary object is passed on every request; building its index takes a moment, so keep the
# last few. Keyed by identity (a Vocabulary holds dicts, so it is not hashable); the entry keeps the
# object alive, so an id cannot be reused while it is cached.
_CACHE: dict[int, tuple[Vocabulary, VocabIndex]] = {}
_CACHE_SIZE = 4


def index_of(vocab: Vocabulary) -> VocabIndex:
    entry = _CACHE.get(id(vocab))
    if entry is not None and entry[0] is vocab:
        return entry[1]
    index = _build(vocab)
    if len(_CACHE) >= _CACHE_SIZE:
        del _CACHE[next(iter(_CACHE))]
    _CACHE[id(vocab)] = (vocab, index)
    return index


GENERIC_GENRE_WORDS: frozenset[str] = frozenset(
    "new modern classic deep post nu city death hip hop lo fi drum bass singer songwriter trip dark chill "
    "acoustic melodic experimental progressive smooth neo".split()
)


def genres_in(tokens: Sequence[Token], index: VocabIndex) -> tuple[list[Match], list[str]]:
    """Where a text names genres outright ("jazz", "lo-fi hip hop", "hiphop"), and the genres it hints at
    through one of their words ("indie" → indie rock, indie pop...)."""
    named: list[Match] = []
    hinted: list[str] = []
    norms = [t.norm for t in tokens]
    i = 0
    while i < len(norms):
        for n in range(min(index.longest_genre + 1, len(norms) - i), 0, -1):
            genre = index.genre_by_key.get("".join(norms[i : i + n]))
            if genre is not None:
                named.append(Match(genre, i, i + n))
                i += n
                break
        else:
            word = norms[i]
            if len(word) > 2 and word not in GENERIC_GENRE_WORDS:
                for genre in index.genre_part_keys.get(word, ()):
                    if genre not in hinted:
                        hinted.append(genre)
            i += 1
    names = {m.payload for m in named}
    return named, [g for g in hinted if g not in names]


def genres_for_hint(hint: str, index: VocabIndex) -> tuple[str, ...]:
    """Catalog genres a lexicon hint refers to: the genre of that name first, then genres containing it."""
    hint_key = key(hint)
    exact = index.genre_by_key.get(hint_key)
    partial = index.genre_part_keys.get(hint_key, ())
    if exact is None:
        return partial
    return (exact, *(g for g in partial if g != exact))

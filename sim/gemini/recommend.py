"""Artists and tracks to suggest for a mood: what the user named first, then the catalog's best fits."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

from .mood import Mood
from .vocabulary import Vocabulary, index_of


def recommend_artists(mood: Mood, vocab: Vocabulary, seed: int, count: int) -> list[str]:
    """Artists for the mood: those the user named, then context artists in the mood's genres, then catalog
    artists of the mood's best genres. Ties are broken by a hash of the prompt, so different prompts with
    the same genres do not all get the same first artists."""
    index = index_of(vocab)
    chosen: list[str] = list(mood.mentioned_artists)
    avoided = set(mood.avoid_genres)
    banned = set(mood.avoid_artists)
    top = mood.genres[: max(3, min(mood.strong_genres, 6))]
    weight = {g: 1.0 / (1 + rank) for rank, g in enumerate(top)}

    def artist_score(name: str, genres: Sequence[str]) -> float:
        if name in banned or any(g in avoided for g in genres):
            return -1.0
        return sum(weight.get(g, 0.0) for g in genres)

    for artist in mood.context_artists:
        if len(chosen) >= count:
            break
        if artist_score(artist, index.artist_genres[artist.lower()]) > 0 and artist not in chosen:
            chosen.append(artist)
    if len(chosen) < count:
        salt = seed.to_bytes(8, "big", signed=False)
        scored = []
        # only artists of the top genres can score above 0
        for position in sorted({p for g in top for p in index.artists_by_genre.get(g, ())}):
            name, genres = vocab.artists[position]
            score = artist_score(name, genres)
            if score > 0 and name not in chosen:
                tie = int.from_bytes(hashlib.blake2b(name.encode(), key=salt, digest_size=4).digest(), "big")
                scored.append((-score, tie, name))
        scored.sort()
        for _, _, name in scored[: count - len(chosen)]:
            chosen.append(name)
    return chosen[:count]


def tracks_for(mood: Mood, vocab: Vocabulary, artists: Sequence[str], count: int) -> list[tuple[str, str]]:
    """Tracks the prompt mentions, then catalog tracks by `artists` (one each, round-robin)."""
    index = index_of(vocab)
    chosen = list(mood.mentioned_tracks)
    depth = 0
    while len(chosen) < count and depth < 5:
        progressed = False
        for artist in artists:
            titles = index.tracks_by_artist.get(artist.lower(), [])
            if depth < len(titles):
                progressed = True
                pair = (titles[depth], artist)
                if pair not in chosen:
                    chosen.append(pair)
                if len(chosen) >= count:
                    break
        if not progressed:
            break
        depth += 1
    return chosen[:count]

"""Simulated Spotify users: who a token belongs to, their taste, and their top tracks and artists.

A user is a number. `user-<n>-<anything>` names user n outright (benchmarks pick distinct users that
way); any other token maps to a number through SHA-256, so the same token is the same user on every run.
A user likes 2–4 genres; the top lists per time range draw from one pool of favourites with
range-specific noise, so short, medium and long term differ but overlap, as on Spotify.
"""

from __future__ import annotations

import functools
import hashlib
import re
from dataclasses import dataclass

import numpy as np

from sim.catalog.model import Catalog

TIME_RANGES = ("short_term", "medium_term", "long_term")
TOP_COUNT = 50  # Spotify's top lists hold 50 items per time range
_EXPLICIT = re.compile(r"^user-(\d{1,9})-")
_POOL_ARTISTS = 120
_POOL_TRACKS = 400
_MAX_TRACKS_PER_ARTIST = 4  # top tracks are rarely all by one artist
RANGE_NOISE = 0.4  # how much the time ranges differ: lognormal sigma on each favourite's score


def user_number(token: str) -> int:
    m = _EXPLICIT.match(token)
    if m:
        return int(m.group(1))
    return int.from_bytes(hashlib.sha256(token.encode()).digest()[:5], "big")


@dataclass(frozen=True)
class User:
    number: int
    taste: tuple[tuple[str, float], ...]  # (genre, weight), weights sum to 1

    @property
    def id(self) -> str:
        return f"simuser{self.number}"

    @property
    def display_name(self) -> str:
        return f"Sim User {self.number}"


@dataclass(frozen=True)
class _Favourites:
    user: User
    artists: np.ndarray  # artist indices, pool
    artist_scores: np.ndarray
    tracks: np.ndarray
    track_scores: np.ndarray


@functools.lru_cache(maxsize=512)
def _favourites(catalog: Catalog, number: int) -> _Favourites:
    rng = np.random.default_rng([catalog.seed, 1, number])
    n_genres = len(catalog.genres)
    artist_share = np.zeros(n_genres)
    genre_index = {g.name: g.index for g in catalog.genres}
    for artist in catalog.artists:
        artist_share[genre_index[artist.genres[0]]] += 1
    k = min(int(rng.integers(2, 5)), int((artist_share > 0).sum()))
    liked = rng.choice(n_genres, size=k, replace=False, p=artist_share / artist_share.sum())
    weights = rng.dirichlet(np.full(k, 2.0))
    taste = np.zeros(n_genres)
    taste[liked] = weights

    affinity = np.array(
        [sum(taste[genre_index[g]] * (1.0 if i == 0 else 0.5) for i, g in enumerate(a.genres)) for a in catalog.artists]
    )
    popularity = np.array([a.popularity for a in catalog.artists])
    artist_score = affinity * (0.3 + popularity / 100) * rng.lognormal(0, 0.5, len(catalog.artists))
    pool = np.argsort(-artist_score, kind="stable")[:_POOL_ARTISTS]
    pool = pool[artist_score[pool] > 0]

    track_idx = np.array(sorted({t for a in pool for t in catalog.artists[a].track_indices}), dtype=int)
    main_artist = np.array([catalog.tracks[t].artist_indices[0] for t in track_idx], dtype=int)
    track_pop = np.array([catalog.tracks[t].popularity for t in track_idx])
    floor = artist_score.max() * 0.05  # a featured track's main artist may be outside the user's taste
    track_score = (
        np.maximum(artist_score[main_artist], floor) * (0.3 + track_pop / 100) * rng.lognormal(0, 0.5, len(track_idx))
    )
    order = np.argsort(-track_score, kind="stable")[:_POOL_TRACKS]
    taste_list = tuple((catalog.genres[g].name, round(float(w), 4)) for g, w in zip(liked, weights, strict=True))
    user = User(number, taste_list)
    return _Favourites(user, pool, artist_score[pool], track_idx[order], track_score[order])


def user_for_token(catalog: Catalog, token: str) -> User:
    return _favourites(catalog, user_number(token)).user


def _range_rng(catalog: Catalog, number: int, time_range: str, kind: int) -> np.random.Generator:
    return np.random.default_rng([catalog.seed, 2, number, TIME_RANGES.index(time_range), kind])


@functools.lru_cache(maxsize=2048)
def top_artists(catalog: Catalog, number: int, time_range: str) -> tuple[int, ...]:
    """The user's top artists (indices) for a time range, best first, at most TOP_COUNT."""
    fav = _favourites(catalog, number)
    noisy = fav.artist_scores * _range_rng(catalog, number, time_range, 0).lognormal(0, RANGE_NOISE, len(fav.artists))
    return tuple(int(fav.artists[i]) for i in np.argsort(-noisy, kind="stable")[:TOP_COUNT])


@functools.lru_cache(maxsize=2048)
def top_tracks(catalog: Catalog, number: int, time_range: str) -> tuple[int, ...]:
    """The user's top tracks (indices) for a time range, best first, at most TOP_COUNT."""
    fav = _favourites(catalog, number)
    noisy = fav.track_scores * _range_rng(catalog, number, time_range, 1).lognormal(0, RANGE_NOISE, len(fav.tracks))
    chosen: list[int] = []
    per_artist: dict[int, int] = {}
    for i in np.argsort(-noisy, kind="stable"):
        track = catalog.tracks[int(fav.tracks[i])]
        artist = track.artist_indices[0]
        if per_artist.get(artist, 0) < _MAX_TRACKS_PER_ARTIST:
            per_artist[artist] = per_artist.get(artist, 0) + 1
            chosen.append(track.index)
            if len(chosen) == TOP_COUNT:
                break
    return tuple(chosen)

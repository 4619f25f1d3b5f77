"""Generate the catalog from a seed: vectorised numpy for numbers, a seeded `random.Random` for names.

Every draw comes from generators seeded with `seed`, in a fixed order, so the same seed and sizes give the
same catalog on every machine and run. Building the default size takes well under a second, and the
result is memoised per (seed, sizes), so several apps in one process share it.
"""

from __future__ import annotations

import functools
import random
from types import MappingProxyType

import numpy as np

from sim.catalog import ids, names
from sim.catalog.genres import FEATURES, GenreSpec, genre_specs, related_genres, to_norm, to_raw
from sim.catalog.model import Album, Artist, Catalog, CatalogSizes, Genre, Track
from sim.catalog.search import SearchIndex

RELATED_GENRES = 3  # an artist's secondary genres come from the genres nearest its main one
SECONDARY_GENRE_SHARE = 0.3  # share of an artist's tracks in one of its secondary genres
FEATURED_SHARE = 0.1  # share of tracks with a second (featured) artist
ARTIST_SPREAD = 0.06  # std-dev of an artist's own offset from its genre centroid (0–1 scale)
TRACK_SPREAD = 0.08  # std-dev of a track around its artist's position
_I = FEATURES.index


def build_catalog(seed: int, sizes: CatalogSizes | None = None) -> Catalog:
    """The catalog for `seed` (memoised: the same arguments return the same object)."""
    return _build(seed, sizes or CatalogSizes())


@functools.lru_cache(maxsize=4)
def _build(seed: int, sizes: CatalogSizes) -> Catalog:
    rng = np.random.default_rng(seed)
    words = random.Random(seed)
    specs = genre_specs(sizes.genres)
    genre_norm = to_norm(np.array([s.centroid for s in specs]))

    primary, artist_genres = _artist_genres(rng, specs, sizes.artists)
    artist_pop = np.clip(rng.beta(1.6, 3.5, sizes.artists) * 100, 0, 100).astype(int)
    followers = (10 ** (2 + artist_pop / 100 * 5.3) * rng.lognormal(0, 0.4, sizes.artists)).astype(int)
    artist_offset = rng.normal(0, ARTIST_SPREAD, (sizes.artists, len(FEATURES)))

    track_artist = _tracks_per_artist(rng, artist_pop, sizes.tracks)
    track_genre = _track_genres(rng, primary, artist_genres, track_artist)
    noise = rng.normal(0, TRACK_SPREAD, (sizes.tracks, len(FEATURES)))
    norm = np.clip(genre_norm[track_genre] + artist_offset[track_artist] + noise, 0.0, 1.0)
    raw = to_raw(norm)
    raw[:, _I("loudness")] = np.round(raw[:, _I("loudness")], 3)
    raw[:, _I("tempo")] = np.round(raw[:, _I("tempo")], 3)
    key = np.where(rng.random(sizes.tracks) < 0.02, -1, rng.integers(0, 12, sizes.tracks))
    mode = (rng.random(sizes.tracks) < 0.4 + 0.35 * norm[:, _I("valence")]).astype(int)
    track_pop = np.clip(artist_pop[track_artist] + rng.normal(0, 12, sizes.tracks), 0, 100).astype(int)
    seconds = (170 + 150 * norm[:, _I("instrumentalness")] * norm[:, _I("acousticness")]) * rng.lognormal(
        0, 0.22, sizes.tracks
    )
    duration_ms = np.clip(seconds * 1000, 45_000, 900_000).astype(int)
    explicit = rng.random(sizes.tracks) < np.clip(norm[:, _I("speechiness")] * 2.5, 0.02, 0.9)
    featured = _featured_artists(rng, primary, track_artist)

    absent = _exact_share(rng, sizes.tracks, sizes.absent_from_reccobeats)
    no_features = _exact_share(rng, sizes.tracks, sizes.without_audio_features) & ~absent
    if sizes.without_audio_features and absent.any():
        # The share is of ReccoBeats' tracks, so draw it again among those present.
        present = np.flatnonzero(~absent)
        chosen = rng.permutation(present)[: round(len(present) * sizes.without_audio_features)]
        no_features = np.zeros(sizes.tracks, dtype=bool)
        no_features[chosen] = True

    has_features = ~(absent | no_features)
    track_sids = ids.spotify_ids(rng, sizes.tracks)
    track_uuids = ids.uuid4s(rng, sizes.tracks)
    artist_sids = ids.spotify_ids(rng, sizes.artists)
    artist_uuids = ids.uuid4s(rng, sizes.artists)

    artist_names = _unique_artist_names(words, [specs[g].style for g in primary])
    titles = [names.track_title(specs[g].style, words) for g in track_genre]
    album_of_track, track_number, albums_raw = _albums(words, rng, track_artist, sizes.artists)
    album_sids = ids.spotify_ids(rng, len(albums_raw))
    album_images = [rng.bytes(20).hex() for _ in albums_raw]
    years = np.array([int(albums_raw[a][2][:4]) for a in album_of_track], dtype=int)
    isrcs = ids.isrcs(rng, track_artist, years)

    artist_tracks: list[list[int]] = [[] for _ in range(sizes.artists)]
    for t, a in enumerate(track_artist):
        artist_tracks[a].append(t)
    for t_featured in np.flatnonzero(featured >= 0):
        artist_tracks[featured[t_featured]].append(int(t_featured))

    genres = tuple(
        Genre(i, s.name, MappingProxyType(dict(zip(FEATURES, s.centroid, strict=True))), s.style)
        for i, s in enumerate(specs)
    )
    artists = tuple(
        Artist(
            index=a,
            spotify_id=artist_sids[a],
            reccobeats_id=artist_uuids[a],
            name=artist_names[a],
            genres=tuple(specs[g].name for g in artist_genres[a]),
            popularity=int(artist_pop[a]),
            followers=int(followers[a]),
            track_indices=tuple(sorted(artist_tracks[a])),
        )
        for a in range(sizes.artists)
    )
    album_tracks: list[list[int]] = [[] for _ in albums_raw]
    for t, a in enumerate(album_of_track):
        album_tracks[a].append(t)
    albums = tuple(
        Album(i, album_sids[i], name, kind, date, artist, tuple(album_tracks[i]), album_images[i])
        for i, (artist, name, date, kind) in enumerate(albums_raw)
    )
    tracks = tuple(
        Track(
            index=t,
            spotify_id=track_sids[t],
            reccobeats_id=None if absent[t] else track_uuids[t],
            title=titles[t],
            artist_indices=(int(track_artist[t]),) + ((int(featured[t]),) if featured[t] >= 0 else ()),
            album_index=album_of_track[t],
            track_number=track_number[t],
            duration_ms=int(duration_ms[t]),
            isrc=isrcs[t],
            popularity=int(track_pop[t]),
            explicit=bool(explicit[t]),
            genre=specs[track_genre[t]].name,
            key=int(key[t]),
            mode=int(mode[t]),
            has_audio_features=bool(has_features[t]),
        )
        for t in range(sizes.tracks)
    )
    for array in (raw, norm, track_genre, track_pop, has_features):
        array.setflags(write=False)
    return Catalog(
        seed=seed,
        sizes=sizes,
        genres=genres,
        artists=artists,
        albums=albums,
        tracks=tracks,
        features=raw,
        norm_features=norm,
        track_genre=track_genre,
        track_popularity=track_pop,
        has_features=has_features,
        search=SearchIndex.build(artist_names, [a.genres for a in artists], titles),
        _track_by_spotify={t.spotify_id: t.index for t in tracks},
        _track_by_reccobeats={t.reccobeats_id: t.index for t in tracks if t.reccobeats_id},
        _artist_by_spotify={a.spotify_id: a.index for a in artists},
        _artist_by_reccobeats={a.reccobeats_id: a.index for a in artists},
    )


def _artist_genres(
    rng: np.random.Generator, specs: tuple[GenreSpec, ...], count: int
) -> tuple[np.ndarray, list[tuple[int, ...]]]:
    """Each artist's main genre (by the table's weights) plus 0–2 of the genres related to it."""
    weights = np.array([s.weight for s in specs], dtype=float)
    primary = rng.choice(len(specs), size=count, p=weights / weights.sum())
    related = related_genres(specs, RELATED_GENRES)
    n_secondary = rng.choice(3, size=count, p=[0.35, 0.45, 0.2])
    picks = rng.random((count, RELATED_GENRES)).argsort(axis=1)
    genres = [
        (int(primary[a]), *(related[primary[a]][j] for j in picks[a][: n_secondary[a]] if j < len(related[primary[a]])))
        for a in range(count)
    ]
    return primary, genres


def _tracks_per_artist(rng: np.random.Generator, artist_pop: np.ndarray, total: int) -> np.ndarray:
    """The main artist of each track: every artist gets one, popular artists get more."""
    count = len(artist_pop)
    base = np.ones(count, dtype=int) if total >= count else np.zeros(count, dtype=int)
    weights = 1 + artist_pop / 15
    counts = base + rng.multinomial(total - int(base.sum()), weights / weights.sum())
    return np.repeat(np.arange(count), counts)


def _track_genres(
    rng: np.random.Generator, primary: np.ndarray, artist_genres: list[tuple[int, ...]], track_artist: np.ndarray
) -> np.ndarray:
    secondary = np.full((len(primary), 2), -1)
    for a, genres in enumerate(artist_genres):
        secondary[a, : len(genres) - 1] = genres[1:]
    n_secondary = (secondary >= 0).sum(axis=1)[track_artist]
    pick = (rng.random(len(track_artist)) * np.maximum(n_secondary, 1)).astype(int)
    use_secondary = (rng.random(len(track_artist)) < SECONDARY_GENRE_SHARE) & (n_secondary > 0)
    chosen = secondary[track_artist, np.minimum(pick, 1)]
    genre: np.ndarray = np.where(use_secondary & (chosen >= 0), chosen, primary[track_artist])
    return genre


def _featured_artists(rng: np.random.Generator, primary: np.ndarray, track_artist: np.ndarray) -> np.ndarray:
    """A featured artist of the same main genre for some tracks, -1 for the rest."""
    by_genre: dict[int, np.ndarray] = {int(g): np.flatnonzero(primary == g) for g in np.unique(primary)}
    featured = np.full(len(track_artist), -1)
    for t in np.flatnonzero(rng.random(len(track_artist)) < FEATURED_SHARE):
        peers = by_genre[int(primary[track_artist[t]])]
        other = int(peers[rng.integers(len(peers))])
        if other != track_artist[t]:
            featured[t] = other
    return featured


def _exact_share(rng: np.random.Generator, count: int, share: float) -> np.ndarray:
    mask = np.zeros(count, dtype=bool)
    mask[rng.permutation(count)[: round(count * share)]] = True
    return mask


def _unique_artist_names(words: random.Random, styles: list[str]) -> list[str]:
    seen: set[str] = set()
    out: list[str] = []
    for style in styles:
        for attempt in range(50):
            name = names.artist_name(style, words)
            if attempt >= 10:  # crowded style: widen it with a second surname
                name = f"{name} {words.choice(names.LAST_NAMES)}"
            if name not in seen:
                break
        seen.add(name)
        out.append(name)
    return out


def _albums(
    words: random.Random, rng: np.random.Generator, track_artist: np.ndarray, artist_count: int
) -> tuple[list[int], list[int], list[tuple[int, str, str, str]]]:
    """Group each artist's tracks into singles, EPs and albums released over its career.

    Returns the album of each track, each track's number on it, and (artist, name, date, type) per album.
    """
    album_of_track = [0] * len(track_artist)
    track_number = [0] * len(track_artist)
    albums: list[tuple[int, str, str, str]] = []
    starts = np.clip(2025 - rng.exponential(12, artist_count), 1958, 2025).astype(int)
    bounds = np.searchsorted(track_artist, np.arange(artist_count + 1))
    for a in range(artist_count):
        year = int(starts[a])
        t, end = int(bounds[a]), int(bounds[a + 1])
        while t < end:
            roll = words.random()
            size = 1 if roll < 0.3 else words.randint(4, 6) if roll < 0.55 else words.randint(8, 14)
            size = min(size, end - t)
            kind = "single" if size <= 3 else "album"
            date = f"{min(year, 2025)}-{words.randint(1, 12):02d}-{words.randint(1, 28):02d}"
            for n in range(size):
                album_of_track[t + n] = len(albums)
                track_number[t + n] = n + 1
            albums.append((a, names.album_title(words), date, kind))
            t += size
            year += words.randint(1, 3)
    return album_of_track, track_number, albums

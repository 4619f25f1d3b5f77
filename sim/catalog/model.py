"""The catalog's data: genres, artists, albums and tracks, with lookups by either kind of ID.

Objects are frozen; per-track audio features live in numpy arrays (row = track index) so that
recommendations are one vectorised distance computation.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Annotated

import numpy as np
from pydantic import ConfigDict, Field
from pydantic.dataclasses import dataclass as pydantic_dataclass

from sim.catalog.genres import FEATURES
from sim.catalog.search import SearchIndex

Fraction = Annotated[float, Field(ge=0.0, le=1.0)]


@pydantic_dataclass(frozen=True, config=ConfigDict(extra="forbid"))
class CatalogSizes:
    """How big the catalog is and how incomplete ReccoBeats' copy of it is (set by a profile's [catalog])."""

    genres: Annotated[int, Field(ge=1, le=500)] = 50
    artists: Annotated[int, Field(ge=1)] = 3_000
    tracks: Annotated[int, Field(ge=1)] = 50_000
    absent_from_reccobeats: Fraction = 0.08  # share of Spotify tracks ReccoBeats does not know
    without_audio_features: Fraction = 0.05  # share of ReccoBeats tracks with no analysed features


@dataclass(frozen=True, slots=True)
class Genre:
    index: int
    name: str
    centroid: Mapping[str, float]  # raw units: loudness dB, tempo BPM, the rest 0–1
    style: str


@dataclass(frozen=True, slots=True)
class Artist:
    index: int
    spotify_id: str
    reccobeats_id: str
    name: str
    genres: tuple[str, ...]
    popularity: int
    followers: int
    track_indices: tuple[int, ...]  # tracks where the artist is the main or a featured artist


@dataclass(frozen=True, slots=True)
class Album:
    index: int
    spotify_id: str
    name: str
    album_type: str  # "album" | "single" | "compilation"
    release_date: str  # YYYY-MM-DD
    artist_index: int
    track_indices: tuple[int, ...]
    image_id: str  # 40 hex chars, as in https://i.scdn.co/image/<id>


@dataclass(frozen=True, slots=True)
class Track:
    index: int
    spotify_id: str
    reccobeats_id: str | None  # None: ReccoBeats does not know this track
    title: str
    artist_indices: tuple[int, ...]  # main artist first
    album_index: int
    track_number: int
    duration_ms: int
    isrc: str
    popularity: int
    explicit: bool
    genre: str
    key: int  # pitch class, -1 = none
    mode: int  # 1 major, 0 minor
    has_audio_features: bool  # False also when the track is absent from ReccoBeats

    @property
    def in_reccobeats(self) -> bool:
        return self.reccobeats_id is not None


@dataclass(frozen=True, eq=False)  # compared and hashed by identity, so per-catalog memoisation works
class Catalog:
    seed: int
    sizes: CatalogSizes
    genres: tuple[Genre, ...]
    artists: tuple[Artist, ...]
    albums: tuple[Album, ...]
    tracks: tuple[Track, ...]
    features: np.ndarray  # (tracks, len(FEATURES)) raw units, read-only
    norm_features: np.ndarray  # the same scaled to 0–1 per feature, read-only
    track_genre: np.ndarray  # genre index per track
    track_popularity: np.ndarray  # 0–100 per track
    has_features: np.ndarray  # bool per track: ReccoBeats knows it and has its audio features
    search: SearchIndex
    _track_by_spotify: dict[str, int] = field(repr=False)
    _track_by_reccobeats: dict[str, int] = field(repr=False)
    _artist_by_spotify: dict[str, int] = field(repr=False)
    _artist_by_reccobeats: dict[str, int] = field(repr=False)

    def track_by_spotify_id(self, spotify_id: str) -> Track | None:
        i = self._track_by_spotify.get(spotify_id)
        return None if i is None else self.tracks[i]

    def track_by_reccobeats_id(self, reccobeats_id: str) -> Track | None:
        i = self._track_by_reccobeats.get(reccobeats_id.lower())
        return None if i is None else self.tracks[i]

    def reccobeats_track(self, any_id: str) -> Track | None:
        """A track as ReccoBeats sees it: by UUID or Spotify ID, None if ReccoBeats does not know it."""
        track = self.track_by_reccobeats_id(any_id) or self.track_by_spotify_id(any_id)
        return track if track is not None and track.in_reccobeats else None

    def artist_by_spotify_id(self, spotify_id: str) -> Artist | None:
        i = self._artist_by_spotify.get(spotify_id)
        return None if i is None else self.artists[i]

    def artist_by_reccobeats_id(self, reccobeats_id: str) -> Artist | None:
        i = self._artist_by_reccobeats.get(reccobeats_id.lower())
        return None if i is None else self.artists[i]

    def audio_features(self, track: Track) -> dict[str, float] | None:
        """The track's features in raw units (plus key and mode), None when it has none."""
        if not track.has_audio_features:
            return None
        row = self.features[track.index]
        values = {name: round(float(row[i]), 4) for i, name in enumerate(FEATURES)}
        values["key"] = track.key
        values["mode"] = track.mode
        return values

    def genre(self, name: str) -> Genre | None:
        return next((g for g in self.genres if g.name == name), None)

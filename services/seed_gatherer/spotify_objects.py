"""Spotify Web API JSON (paging envelopes, tracks, artists) parsed into segue's common messages.

Parsing is lenient where Spotify is: Development Mode drops `popularity` (tracks and artists) and
often `genres`, search pages may hold `null` items, and local files have no ID. Items without an ID
are skipped; anything else missing becomes an empty/unset field.
"""

from __future__ import annotations

from typing import Any, Generic, TypeVar

from pydantic import BaseModel, ConfigDict, ValidationError
from segue.v1 import common_pb2

from services.common.errors import UpstreamError

T = TypeVar("T", bound=BaseModel)


class _Lenient(BaseModel):
    model_config = ConfigDict(extra="ignore")


class ArtistRef(_Lenient):
    """The simplified artist inside a track."""

    id: str | None = None
    name: str = ""


class SpotifyArtist(ArtistRef):
    genres: list[str] = []
    popularity: int | None = None


class Album(_Lenient):
    name: str = ""


class ExternalIds(_Lenient):
    isrc: str | None = None


class SpotifyTrack(_Lenient):
    id: str | None = None
    name: str = ""
    uri: str | None = None
    duration_ms: int = 0
    popularity: int | None = None
    artists: list[ArtistRef] = []
    album: Album | None = None
    external_ids: ExternalIds | None = None


class Paging(_Lenient, Generic[T]):
    items: list[T | None] = []


class TrackSearch(_Lenient):
    tracks: Paging[SpotifyTrack] = Paging[SpotifyTrack]()


class ArtistSearch(_Lenient):
    artists: Paging[SpotifyArtist] = Paging[SpotifyArtist]()


M = TypeVar("M", bound=BaseModel)


def parse(model: type[M], body: Any, endpoint: str) -> M:
    """Validate a response body; a shape we cannot read is the upstream's failure, not the caller's."""
    try:
        return model.model_validate(body)
    except ValidationError as exc:
        raise UpstreamError(
            "spotify", f"{endpoint} answered an unexpected shape ({exc.error_count()} error(s))"
        ) from exc


def to_artist(artist: ArtistRef) -> common_pb2.Artist:
    out = common_pb2.Artist(spotify_id=artist.id or "", name=artist.name)
    if isinstance(artist, SpotifyArtist):
        out.genres.extend(artist.genres)
        if artist.popularity is not None:
            out.popularity = artist.popularity
    return out


def to_track(track: SpotifyTrack) -> common_pb2.Track:
    out = common_pb2.Track(
        spotify_id=track.id or "",
        spotify_uri=track.uri or (f"spotify:track:{track.id}" if track.id else ""),
        title=track.name,
        artists=[to_artist(a) for a in track.artists],
        duration_ms=track.duration_ms,
        album=track.album.name if track.album else "",
        isrc=(track.external_ids.isrc or "") if track.external_ids else "",
    )
    if track.popularity is not None:
        out.popularity = track.popularity
    return out


def tracks_of(page: Paging[SpotifyTrack]) -> list[common_pb2.Track]:
    return [to_track(t) for t in page.items if t is not None and t.id]


def artists_of(page: Paging[SpotifyArtist]) -> list[common_pb2.Artist]:
    return [to_artist(a) for a in page.items if a is not None and a.id]

"""The Spotify Web API calls the seed gatherer makes, with the user's token and Development-Mode limits.

The token goes into the Authorization header and nowhere else. A 401 means the caller's token is
bad, so it surfaces as UNAUTHENTICATED (the caller must refresh it), not as an upstream failure.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

from segue.v1 import common_pb2

from services.common.errors import UpstreamRejected
from services.common.identity import token_refused
from services.common.upstream_http import UpstreamClient
from services.seed_gatherer.spotify_objects import (
    ArtistSearch,
    Paging,
    SpotifyArtist,
    SpotifyTrack,
    TrackSearch,
    artists_of,
    parse,
    tracks_of,
)

TOP_LIMIT_MAX = 50
SEARCH_LIMIT_MAX = 50
# February 2026 Development-Mode cut: search `limit` max 50 → 10.
SEARCH_LIMIT_MAX_DEV_MODE = 10
TimeRange = Literal["short_term", "medium_term", "long_term"]


def search_query(*, track: str = "", artist: str = "", genre: str = "") -> str:
    """A search `q` from field filters; values are quoted so a multi-word name stays one filter."""
    filters = {"track": track, "artist": artist, "genre": genre}
    return " ".join(f'{name}:"{value.replace(chr(34), "")}"' for name, value in filters.items() if value)


class SpotifyClient:
    def __init__(self, http: UpstreamClient, *, extended_quota: bool) -> None:
        self._http = http
        self.search_limit_max = SEARCH_LIMIT_MAX if extended_quota else SEARCH_LIMIT_MAX_DEV_MODE

    async def top_tracks(self, token: str, limit: int, time_range: TimeRange = "medium_term") -> list[common_pb2.Track]:
        body = await self._get(token, "GET /me/top/tracks", "me/top/tracks", _top_params(limit, time_range))
        return tracks_of(parse(Paging[SpotifyTrack], body, "GET /me/top/tracks"))

    async def top_artists(
        self, token: str, limit: int, time_range: TimeRange = "medium_term"
    ) -> list[common_pb2.Artist]:
        body = await self._get(token, "GET /me/top/artists", "me/top/artists", _top_params(limit, time_range))
        return artists_of(parse(Paging[SpotifyArtist], body, "GET /me/top/artists"))

    async def search_tracks(self, token: str, query: str, limit: int, offset: int = 0) -> list[common_pb2.Track]:
        params = self._search_params(query, "track", limit, offset)
        body = await self._get(token, "GET /search", "search", params)
        return tracks_of(parse(TrackSearch, body, "GET /search").tracks)

    async def search_artists(self, token: str, query: str, limit: int, offset: int = 0) -> list[common_pb2.Artist]:
        params = self._search_params(query, "artist", limit, offset)
        body = await self._get(token, "GET /search", "search", params)
        return artists_of(parse(ArtistSearch, body, "GET /search").artists)

    def _search_params(self, query: str, kind: str, limit: int, offset: int) -> dict[str, Any]:
        params: dict[str, Any] = {"q": query, "type": kind, "limit": max(1, min(limit, self.search_limit_max))}
        if offset:
            params["offset"] = offset
        return params

    async def _get(self, token: str, endpoint: str, path: str, params: Mapping[str, Any]) -> Any:
        try:
            return await self._http.get_json(
                endpoint, path, params=params, headers={"authorization": f"Bearer {token}"}
            )
        except UpstreamRejected as exc:
            if exc.status == 401:
                raise token_refused() from exc
            raise


def _top_params(limit: int, time_range: TimeRange) -> dict[str, Any]:
    return {"limit": max(1, min(limit, TOP_LIMIT_MAX)), "time_range": time_range}

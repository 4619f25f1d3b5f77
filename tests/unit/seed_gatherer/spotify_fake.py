"""A scripted Spotify Web API for httpx.MockTransport: real paths and JSON shapes, every request recorded."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import httpx
from prometheus_client import CollectorRegistry

from services.common.metrics import UpstreamMetrics
from services.common.upstream_http import RetryPolicy, UpstreamClient
from services.seed_gatherer.spotify_client import SpotifyClient

TOKEN = "user-7-demo-token"


def artist_json(
    artist_id: str, name: str = "", genres: list[str] | None = None, popularity: int | None = None
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": artist_id,
        "name": name or f"Artist {artist_id}",
        "uri": f"spotify:artist:{artist_id}",
        "type": "artist",
        "genres": genres or [],
        "images": [],
    }
    if popularity is not None:
        body["popularity"] = popularity
    return body


def track_json(
    track_id: str | None, artist_ids: list[str], *, name: str = "", popularity: int | None = None, isrc: str = ""
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": track_id,
        "name": name or f"Track {track_id}",
        "uri": f"spotify:track:{track_id}" if track_id else None,
        "type": "track",
        "duration_ms": 200_000,
        "explicit": False,
        "is_local": track_id is None,
        "artists": [{"id": a, "name": f"Artist {a}", "type": "artist"} for a in artist_ids],
        "album": {"id": "alb", "name": f"Album of {track_id}", "album_type": "album", "images": []},
    }
    if isrc:
        body["external_ids"] = {"isrc": isrc}
    if popularity is not None:
        body["popularity"] = popularity
    return body


def user_of(token: str) -> str:
    """The user a scripted token belongs to: `user-7-…` is "user-7" (the id the tests name), else "someone"."""
    m = re.match(r"(user-\d+)-", token)
    return m.group(1) if m else "someone"


def user_json(authorization: str) -> dict[str, Any]:
    """GET /me, as Spotify answers in Development Mode."""
    user_id = user_of(authorization.removeprefix("Bearer "))
    return {"id": user_id, "type": "user", "uri": f"spotify:user:{user_id}", "display_name": user_id, "images": []}


def paging(items: list[Any], limit: int) -> dict[str, Any]:
    shown = items[:limit]
    return {
        "href": "",
        "items": shown,
        "limit": limit,
        "next": None,
        "offset": 0,
        "previous": None,
        "total": len(items),
    }


@dataclass
class FakeSpotify:
    top_tracks: list[dict[str, Any]] = field(default_factory=list)
    top_artists: list[dict[str, Any]] = field(default_factory=list)
    searches: dict[str, list[dict[str, Any]]] = field(default_factory=dict)  # q → tracks
    status: dict[str, int] = field(default_factory=dict)  # path or search query → forced HTTP status
    requests: list[httpx.Request] = field(default_factory=list)

    def transport(self) -> httpx.MockTransport:
        return httpx.MockTransport(self.handle)

    def paths(self) -> list[str]:
        return [r.url.path for r in self.requests]

    def handle(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        path = request.url.path.removeprefix("/v1")
        code = self.status.get(path) or self.status.get(request.url.params.get("q", ""))
        if code:
            return httpx.Response(code, json={"error": {"status": code, "message": "scripted failure"}})
        limit = int(request.url.params.get("limit", "20"))
        if path == "/me":
            return httpx.Response(200, json=user_json(request.headers.get("authorization", "")))
        if path == "/me/top/tracks":
            return httpx.Response(200, json=paging(self.top_tracks, limit))
        if path == "/me/top/artists":
            return httpx.Response(200, json=paging(self.top_artists, limit))
        if path == "/search":
            kind = request.url.params["type"]
            items = self.searches.get(request.url.params["q"], [])
            return httpx.Response(200, json={f"{kind}s": paging(items, limit)})
        return httpx.Response(404, json={"error": {"status": 404, "message": "Service not found"}})


@asynccontextmanager
async def spotify_http(transport: httpx.AsyncBaseTransport) -> AsyncIterator[UpstreamClient]:
    """The upstream client as the services build it, with fast retries, over a scripted transport."""
    http = UpstreamClient(
        "spotify",
        "https://api.spotify.com/v1",
        timeout_s=5,
        metrics=UpstreamMetrics.create(CollectorRegistry()),
        retry=RetryPolicy(max_attempts=2, base_delay_s=0.001, max_delay_s=0.001),
        transport=transport,
    )
    try:
        yield http
    finally:
        await http.aclose()


@asynccontextmanager
async def spotify_client(
    fake: FakeSpotify | httpx.MockTransport, *, extended_quota: bool = False
) -> AsyncIterator[SpotifyClient]:
    async with spotify_http(fake.transport() if isinstance(fake, FakeSpotify) else fake) as http:
        yield SpotifyClient(http, extended_quota=extended_quota)

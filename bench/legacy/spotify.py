"""The monolith's Spotify tools and `SpotifyService` (§2.3), against a Development Mode app.

Every tool is a `RateLimitedTool` at 60/min per instance, no minimum interval, no global semaphore; only
artist search is cached (900 s). In Development Mode (2026) `GET /artists/{id}/top-tracks` answers 403 and
search `limit` > 10 answers 400: each is a 4xx, so the tool raises at once, the service logs it and
returns [] — which is what this model does.
"""

from __future__ import annotations

from typing import Any

from bench.legacy.tools import ApiError, RunContext, Tool, ToolSpec

SPOTIFY_PER_MINUTE = 60  # §2.3
TOP_TRACKS_MARKETS = ("US", "GB", "CA", "AU", "DE", "FR", "ES", "JP", "BR")  # §2.3 market loop
FALLBACK_SEARCH_LIMIT = 20  # §2.3: GET /artists/{id} + a track search (limit 20) after every market failed


def _spec(name: str, cache_ttl_s: float | None = None) -> ToolSpec:
    return ToolSpec(name, "spotify", SPOTIFY_PER_MINUTE, cache_ttl_s=cache_ttl_s)


class SpotifyApi:
    def __init__(self, run: RunContext, token: str) -> None:
        self._headers = {"Authorization": f"Bearer {token}"}
        self._top_tracks = Tool(_spec("get_user_top_tracks"), run)  # not cached before Phase 1 (§2.3)
        self._top_artists = Tool(_spec("get_user_top_artists"), run)
        self._search_artists = Tool(_spec("search_spotify_artists", cache_ttl_s=900), run)
        self._search_tracks = Tool(_spec("search_spotify_tracks"), run)
        self._artist_top = Tool(_spec("get_artist_top_tracks"), run)

    async def _items(
        self, tool: Tool, endpoint: str, path: str, params: dict[str, Any], key: str | None
    ) -> list[dict[str, Any]]:
        """The service pattern: call the tool; on APIError log and return [] (§2.3).

        `key` names the list (or paging object) in the answer; None: the answer is a paging object.
        """
        try:
            body = await tool.get(endpoint, path, params, self._headers)
        except ApiError:
            return []
        container = body.get(key) if key is not None and isinstance(body, dict) else body
        items = container.get("items", []) if isinstance(container, dict) else container
        return [i for i in items if isinstance(i, dict)] if isinstance(items, list) else []

    async def top_tracks(self, limit: int = 20, time_range: str = "medium_term") -> list[dict[str, Any]]:
        params = {"limit": limit, "time_range": time_range}
        return await self._items(self._top_tracks, "GET /me/top/tracks", "/me/top/tracks", params, None)

    async def top_artists(self, limit: int = 15, time_range: str = "medium_term") -> list[dict[str, Any]]:
        params = {"limit": limit, "time_range": time_range}
        return await self._items(self._top_artists, "GET /me/top/artists", "/me/top/artists", params, None)

    async def search_artists(self, query: str, limit: int) -> list[dict[str, Any]]:
        params = {"q": query, "type": "artist", "limit": limit}
        return await self._items(self._search_artists, "GET /search", "/search", params, "artists")

    async def search_tracks(
        self, query: str, limit: int, market: str | None = None, tool: Tool | None = None
    ) -> list[dict[str, Any]]:
        params: dict[str, Any] = {"q": query, "type": "track", "limit": limit}
        if market:
            params["market"] = market
        return await self._items(tool or self._search_tracks, "GET /search", "/search", params, "tracks")

    async def artist_top_tracks(self, artist_id: str, market: str = "US") -> list[dict[str, Any]]:
        """`get_artist_top_tracks`: every market in turn, then the artist's name and a track search (§2.3).

        All of it runs through the one top-tracks tool, so it shares that tool's limiter.
        """
        for current in (market, *(m for m in TOP_TRACKS_MARKETS if m != market)):
            tracks = await self._items(
                self._artist_top,
                "GET /artists/{id}/top-tracks",
                f"/artists/{artist_id}/top-tracks",
                {"market": current},
                "tracks",
            )
            if tracks:
                return tracks
        try:
            artist = await self._artist_top.get("GET /artists/{id}", f"/artists/{artist_id}", None, self._headers)
        except ApiError:
            return []
        name = artist.get("name") if isinstance(artist, dict) else None
        if not name:
            return []
        found = await self.search_tracks(f"artist:{name}", FALLBACK_SEARCH_LIMIT, market, tool=self._artist_top)
        own = [t for t in found if (t.get("artists") or [{}])[0].get("id") == artist_id]
        return own[:10]

"""Spotify catalog searches, cached per query for everyone: what a search finds is the same for every user.

The key holds the query, never the token. A failed search is not cached, so the next request asks again.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from segue.cache.v1 import cache_pb2
from segue.v1 import common_pb2

from services.common.cache import Cache, digest
from services.seed_gatherer.spotify_client import SpotifyClient

Result = cache_pb2.CatalogSearchResult


@dataclass
class Found:
    tracks: list[common_pb2.Track]
    artists: list[common_pb2.Artist]
    hit: bool


class CatalogSearch:
    def __init__(self, spotify: SpotifyClient, cache: Cache, ttl_s: float) -> None:
        self._spotify = spotify
        self._cache = cache
        self._ttl_s = ttl_s

    @property
    def page_size(self) -> int:
        return self._spotify.search_limit_max

    async def tracks(self, token: str, query: str, limit: int, offset: int = 0) -> Found:
        async def produce() -> Result:
            return Result(tracks=await self._spotify.search_tracks(token, query, limit, offset))

        return await self._search("track", query, limit, offset, produce)

    async def artists(self, token: str, query: str, limit: int, offset: int = 0) -> Found:
        async def produce() -> Result:
            return Result(artists=await self._spotify.search_artists(token, query, limit, offset))

        return await self._search("artist", query, limit, offset, produce)

    async def _search(
        self, kind: str, query: str, limit: int, offset: int, produce: Callable[[], Awaitable[Result]]
    ) -> Found:
        limit = min(limit, self._spotify.search_limit_max)
        key = self._cache.key("search", kind, digest(query, str(limit), str(offset)))
        result, hit = await self._cache.get_or_produce(key, Result, self._ttl_s, produce)
        return Found(list(result.tracks), list(result.artists), hit)

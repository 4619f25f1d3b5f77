"""Artist search and an artist's tracks: one upstream call each, cached."""

from __future__ import annotations

from segue.v1 import common_pb2, reccobeat_gateway_pb2

from services.common.cache import Cache, digest, lookup_usage
from services.common.errors import InvalidArgument
from services.reccobeat_gateway.client import ReccoBeatsClient
from services.reccobeat_gateway.validation import page_size, reccobeats_id

MAX_QUERY_CHARS = 1000


class Artists:
    def __init__(self, client: ReccoBeatsClient, cache: Cache, ttl_s: float) -> None:
        self._client = client
        self._cache = cache
        self._ttl_s = ttl_s

    async def search(self, query: str, size: int) -> tuple[list[common_pb2.Artist], common_pb2.CacheUsage]:
        text = " ".join(query.split())
        if not text:
            raise InvalidArgument("query must not be empty")
        if len(text) > MAX_QUERY_CHARS:
            raise InvalidArgument(f"query must be at most {MAX_QUERY_CHARS} characters, got {len(text)}")
        size = page_size(size)

        async def produce() -> reccobeat_gateway_pb2.SearchArtistsResponse:
            return reccobeat_gateway_pb2.SearchArtistsResponse(artists=await self._client.search_artists(text, size))

        key = self._cache.key("artist-search", digest(text.casefold(), str(size)))
        answer, hit = await self._cache.get_or_produce(
            key, reccobeat_gateway_pb2.SearchArtistsResponse, self._ttl_s, produce
        )
        return list(answer.artists), lookup_usage(hit)

    async def tracks(self, artist_id: str, size: int) -> tuple[list[common_pb2.Track], common_pb2.CacheUsage]:
        artist = reccobeats_id(artist_id, "artist_id")
        size = page_size(size)

        async def produce() -> reccobeat_gateway_pb2.GetArtistTracksResponse:
            tracks = await self._client.artist_tracks(artist, size)
            return reccobeat_gateway_pb2.GetArtistTracksResponse(tracks=tracks)

        key = self._cache.key("artist-tracks", artist, str(size))
        answer, hit = await self._cache.get_or_produce(
            key, reccobeat_gateway_pb2.GetArtistTracksResponse, self._ttl_s, produce
        )
        return list(answer.tracks), lookup_usage(hit)

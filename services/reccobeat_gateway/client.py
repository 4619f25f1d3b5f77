"""The ReccoBeats REST API, spoken through the shared UpstreamClient (retries, 429 pauses, metrics).

Every call holds one of `max_concurrency` slots, so a burst of requests cannot put more than that
many calls in flight from one process. ID lists are sent as CSV (ReccoBeats accepts CSV or repeated
params) and must already be chunked to at most 40.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from segue.v1 import common_pb2, reccobeat_gateway_pb2

from services.common.errors import NotFound, UpstreamRejected
from services.common.upstream_http import UpstreamClient
from services.reccobeat_gateway.metrics import GatewayMetrics
from services.reccobeat_gateway.rows import (
    UPSTREAM,
    artist_from_row,
    features_from_row,
    rows_of,
    track_from_row,
)

MAX_IDS_PER_CALL = 40


@dataclass(frozen=True)
class RecommendationQuery:
    """Parameters of one `GET /track/recommendation`, already validated and balanced."""

    seeds: tuple[str, ...]
    negative_seeds: tuple[str, ...] = ()
    size: int = 20
    targets: Mapping[str, float] = field(default_factory=dict)

    def params(self) -> list[tuple[str, str]]:
        """Query parameters in a canonical order, so equal queries give equal cache digests."""
        params = [("size", str(self.size)), ("seeds", ",".join(self.seeds))]
        if self.negative_seeds:
            params.append(("negativeSeeds", ",".join(self.negative_seeds)))
        params.extend((name, repr(value)) for name, value in sorted(self.targets.items()))
        return params

    def without_negatives(self) -> RecommendationQuery:
        return RecommendationQuery(self.seeds, (), self.size, self.targets)


class ReccoBeatsClient:
    def __init__(self, http: UpstreamClient, metrics: GatewayMetrics, *, max_concurrency: int) -> None:
        self._http = http
        self._metrics = metrics
        self._slots = asyncio.Semaphore(max_concurrency)

    async def aclose(self) -> None:
        await self._http.aclose()

    async def audio_features(self, ids: Sequence[str]) -> list[reccobeat_gateway_pb2.TrackFeatures]:
        """`GET /audio-features?ids=` for ≤40 IDs. Tracks without analysed features are left out."""
        rows = await self._multi_get("GET /audio-features", "audio-features", ids)
        return [f for f in map(features_from_row, rows) if f is not None]

    async def artists(self, ids: Sequence[str]) -> list[common_pb2.Artist]:
        """`GET /artist?ids=` for ≤40 Spotify or ReccoBeats artist IDs. Unknown IDs are simply not in the answer."""
        rows = await self._multi_get("GET /artist", "artist", ids)
        return [a for a in map(artist_from_row, rows) if a is not None]

    async def recommendations(self, query: RecommendationQuery) -> list[common_pb2.Track]:
        """`GET /track/recommendation`. A 400 (a seed combination ReccoBeats refuses) raises UpstreamRejected."""
        endpoint = "GET /track/recommendation"
        rows = rows_of(await self._get(endpoint, "track/recommendation", query.params()), endpoint)
        return [t for t in map(track_from_row, rows) if t is not None]

    async def search_artists(self, text: str, size: int) -> list[common_pb2.Artist]:
        endpoint = "GET /artist/search"
        params = [("searchText", text), ("page", "0"), ("size", str(size))]
        rows = rows_of(await self._get(endpoint, "artist/search", params), endpoint)
        return [a for a in map(artist_from_row, rows) if a is not None]

    async def artist_tracks(self, artist_id: str, size: int) -> list[common_pb2.Track]:
        endpoint = "GET /artist/{id}/track"
        try:
            payload = await self._get(endpoint, f"artist/{artist_id}/track", [("page", "0"), ("size", str(size))])
        except UpstreamRejected as exc:
            if exc.status == 404:
                raise NotFound(f"reccobeats knows no artist {artist_id}") from exc
            raise
        return [t for t in map(track_from_row, rows_of(payload, endpoint)) if t is not None]

    async def _multi_get(self, endpoint: str, path: str, ids: Sequence[str]) -> list[Mapping[str, Any]]:
        if not 0 < len(ids) <= MAX_IDS_PER_CALL:
            raise ValueError(f"{endpoint} takes 1..{MAX_IDS_PER_CALL} ids, got {len(ids)}")
        self._metrics.batch_size.labels(endpoint).observe(len(ids))
        try:
            payload = await self._get(endpoint, path, [("ids", ",".join(ids))])
        except UpstreamRejected as exc:
            # Some ReccoBeats versions answer 404 when none of the IDs is known: that is an empty answer.
            if exc.status == 404:
                return []
            raise
        return rows_of(payload, endpoint)

    async def _get(self, endpoint: str, path: str, params: list[tuple[str, str]]) -> Any:
        async with self._slots:
            return await self._http.get_json(endpoint, path, params=params)


__all__ = ["MAX_IDS_PER_CALL", "UPSTREAM", "ReccoBeatsClient", "RecommendationQuery"]

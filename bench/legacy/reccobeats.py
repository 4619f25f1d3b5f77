"""The monolith's ReccoBeats tools and `RecoBeatService` (§2.2).

Every tool takes the global semaphore (5) and sleeps a 1.0 s minimum interval; recommendations and track
lookups allow 120/min, audio features 60/min. Audio features come **one track per call**, after an ID
conversion through `GET /track?ids=`; the service's own failures are logged and turn into empty results.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, TypeVar

from bench.legacy.tools import ApiError, RunContext, Tool, ToolSpec

T = TypeVar("T")
R = TypeVar("R")

MIN_INTERVAL_S = 1.0  # §2.2 table
ID_CHUNK = 40  # /v1/track?ids= takes ≤40 IDs (§2.2)
CONVERSION_CONCURRENCY = 5  # convert_spotify_tracks_to_reccobeat `_bounded_gather` (§2.2; Phase 2 raised it to 8)
FEATURE_CONCURRENCY = 10  # get_tracks_audio_features per-track calls (§2.2; Phase 2 raised it to 15)
SPOTIFY_TRACK_URL = "https://open.spotify.com/track/"


async def bounded_gather(items: Sequence[T], limit: int, work: Callable[[T], Awaitable[R]]) -> list[R]:
    gate = asyncio.Semaphore(limit)

    async def one(item: T) -> R:
        async with gate:
            return await work(item)

    return list(await asyncio.gather(*(one(i) for i in items)))


def spotify_id_of(row: dict[str, Any]) -> str:
    """A ReccoBeats row's Spotify ID, parsed from its `href` — the only way back (§2.2)."""
    href = str(row.get("href") or "")
    return href.removeprefix(SPOTIFY_TRACK_URL) if href.startswith(SPOTIFY_TRACK_URL) else ""


def _spec(name: str, per_minute: int, cache_ttl_s: float) -> ToolSpec:
    return ToolSpec(name, "reccobeats", per_minute, MIN_INTERVAL_S, global_semaphore=True, cache_ttl_s=cache_ttl_s)


class ReccoBeatsApi:
    def __init__(self, run: RunContext) -> None:
        # Per-minute limits and cache TTLs: the §2.2 table.
        self._recommend = Tool(_spec("get_track_recommendations", 120, cache_ttl_s=300), run)
        self._tracks = Tool(_spec("get_multiple_tracks", 120, cache_ttl_s=1800), run)
        self._features = Tool(_spec("get_track_audio_features", 60, cache_ttl_s=3600), run)
        self._feature_copy: dict[str, dict[str, Any]] = {}  # the service-level feature cache (3600 s)
        self._recommendation_copy: dict[str, list[dict[str, Any]]] = {}  # service-level, 1800 s

    async def _rows(self, tool: Tool, ids: Sequence[str]) -> list[dict[str, Any]]:
        """`get_multiple_tracks`: one ≤40-ID lookup; a 404 is an empty success (§2.2)."""
        try:
            body = await tool.get("GET /track", "/track", {"ids": list(ids)})
        except ApiError:
            return []
        content = body.get("content", []) if isinstance(body, dict) else []
        return [r for r in content if isinstance(r, dict)]

    async def convert(self, ids: Sequence[str]) -> dict[str, str]:
        """`convert_spotify_tracks_to_reccobeat`: input ID → ReccoBeats UUID, via the Spotify ID in `href`.

        IDs ReccoBeats lacks drop out silently. IDs that already are UUIDs never match a Spotify ID, so
        they drop out too — the bug of §2.2 that leaves seed-based recommendations without features.
        """
        chunks = [list(ids[i : i + ID_CHUNK]) for i in range(0, len(ids), ID_CHUNK)]
        found: dict[str, str] = {}
        for rows in await bounded_gather(chunks, CONVERSION_CONCURRENCY, lambda c: self._rows(self._tracks, c)):
            for row in rows:
                found[spotify_id_of(row)] = str(row.get("id"))
        return {i: found[i] for i in ids if i in found}

    async def audio_features(self, ids: Sequence[str]) -> dict[str, dict[str, Any]]:
        """`get_tracks_audio_features`: convert, check the service cache, then one call per track (§2.2)."""
        if not ids:
            return {}
        mapping = await self.convert(ids)

        async def one(pair: tuple[str, str]) -> tuple[str, dict[str, Any] | None]:
            source_id, uuid = pair
            if uuid in self._feature_copy:
                return source_id, self._feature_copy[uuid]
            try:
                body = await self._features.get("GET /track/{id}/audio-features", f"/track/{uuid}/audio-features")
            except ApiError:  # 404: this track has no features; logged and skipped
                return source_id, None
            self._feature_copy[uuid] = body
            return source_id, body

        results = await bounded_gather(list(mapping.items()), FEATURE_CONCURRENCY, one)
        return {i: f for i, f in results if f is not None}

    async def recommendations(
        self, seeds: Sequence[str], size: int, negative_seeds: Sequence[str] = ()
    ) -> list[dict[str, Any]]:
        """`RecoBeatService.get_track_recommendations`: the call, then `GET /track?ids=` for durations;
        on any failure (a 400 on negative seeds included) it logs and returns [] (§2.2, §5)."""
        key = repr((tuple(seeds), size, tuple(negative_seeds)))
        if key in self._recommendation_copy:
            return self._recommendation_copy[key]
        params: dict[str, Any] = {"seeds": list(seeds), "size": size}
        if negative_seeds:
            params["negativeSeeds"] = list(negative_seeds)
        try:
            body = await self._recommend.get("GET /track/recommendation", "/track/recommendation", params)
        except ApiError:
            return []
        rows = [r for r in (body.get("content", []) if isinstance(body, dict) else []) if isinstance(r, dict)]
        if rows:
            details = {str(r.get("id")): r for r in await self._rows(self._recommend, [str(r["id"]) for r in rows])}
            rows = [details.get(str(r.get("id")), r) for r in rows]
        self._recommendation_copy[key] = rows
        return rows

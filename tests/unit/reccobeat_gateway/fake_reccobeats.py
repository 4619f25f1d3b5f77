"""A small stand-in for the ReccoBeats REST API, served through httpx.MockTransport.

It speaks the documented shapes (rows with `href` links, `content` envelopes), records every
request, and can be told to fail: scripted answers for the next calls, IDs whose batch always
answers 500, or a 400 for any recommendation with negative seeds.
"""

from __future__ import annotations

import json
import uuid
from collections import deque
from dataclasses import dataclass, field
from typing import Any

import httpx

BASE_URL = "http://reccobeats.test/v1"
_NS = uuid.UUID("5d1c4b7e-1f0a-4f57-9a52-2f1c0e9b6a10")


@dataclass(frozen=True)
class FakeTrack:
    index: int

    @property
    def rb_id(self) -> str:
        return str(uuid.uuid5(_NS, f"track-{self.index}"))

    @property
    def spotify_id(self) -> str:
        return f"sp{self.index:020d}"  # 22 base-62 characters, like a real Spotify ID

    @property
    def artist_index(self) -> int:
        return self.index % 7

    @property
    def has_features(self) -> bool:
        return self.index % 10 != 9  # every tenth track was never analysed

    def features(self) -> dict[str, float]:
        i = self.index
        return {
            "acousticness": (i % 11) / 10,
            "danceability": (i % 5) / 4,
            "energy": (i % 13) / 12,
            "instrumentalness": (i % 3) / 2,
            "liveness": 0.1,
            "loudness": -5.0 - i % 20,
            "speechiness": 0.05,
            "tempo": 80.0 + i,
            "valence": (i % 7) / 6,
            "key": i % 12,
            "mode": i % 2,
        }


def artist_row(index: int) -> dict[str, Any]:
    return {
        "id": str(uuid.uuid5(_NS, f"artist-{index}")),
        "name": f"Artist {index}",
        "href": f"https://open.spotify.com/artist/ar{index:020d}",
    }


def track_row(t: FakeTrack) -> dict[str, Any]:
    return {
        "id": t.rb_id,
        "trackTitle": f"Song {t.index}",
        "artists": [artist_row(t.artist_index)],
        "durationMs": 180_000 + t.index,
        "isrc": f"USXX{t.index:08d}",
        "ean": None,
        "upc": None,
        "href": f"https://open.spotify.com/track/{t.spotify_id}",
        "availableCountries": "US,GB",
        "popularity": t.index % 100,
    }


def features_row(t: FakeTrack) -> dict[str, Any]:
    return {"id": t.rb_id, "href": f"https://open.spotify.com/track/{t.spotify_id}", "isrc": "X", **t.features()}


@dataclass
class FakeReccoBeats:
    size: int = 150
    bare_list: bool = False  # answer lists without the {"content": ...} envelope
    fail_ids: set[str] = field(default_factory=set)  # a batch holding any of these answers 500
    reject_negatives: bool = False  # 400 for any recommendation with negativeSeeds
    scripted: deque[httpx.Response] = field(default_factory=deque)  # answers for the next calls, in order
    requests: list[httpx.Request] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.tracks = [FakeTrack(i) for i in range(self.size)]
        self._by_id = {key: t for t in self.tracks for key in (t.rb_id, t.spotify_id)}

    def transport(self) -> httpx.MockTransport:
        return httpx.MockTransport(self.handle)

    def calls(self, path: str) -> list[httpx.Request]:
        return [r for r in self.requests if r.url.path == "/v1" + path]

    def ids_sent(self, path: str) -> list[list[str]]:
        return [r.url.params["ids"].split(",") for r in self.calls(path)]

    def handle(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if self.scripted:
            return self.scripted.popleft()
        path = request.url.path.removeprefix("/v1")
        params = request.url.params
        if path in ("/track", "/audio-features"):
            ids = params["ids"].split(",")
            if len(ids) > 40:
                return httpx.Response(400, text="at most 40 ids")
            if self.fail_ids.intersection(ids):
                return httpx.Response(500, text="boom")
            found = [self._by_id[i] for i in ids if i in self._by_id]
            if path == "/track":
                return self._list([track_row(t) for t in found])
            return self._list([features_row(t) for t in found if t.has_features])
        if path == "/track/recommendation":
            return self._recommend(params)
        if path == "/artist/search":
            text = params["searchText"].lower()
            rows = [artist_row(i) for i in range(7) if text in f"artist {i}"]
            return self._list(rows[: int(params["size"])])
        if path.startswith("/artist/") and path.endswith("/track"):
            artist_id = path.split("/")[2]
            index = next((i for i in range(7) if artist_row(i)["id"] == artist_id), None)
            if index is None:
                return httpx.Response(404, text="not found")
            rows = [track_row(t) for t in self.tracks if t.artist_index == index]
            return self._list(rows[: int(params["size"])])
        return httpx.Response(404, text="no such endpoint")

    def _recommend(self, params: httpx.QueryParams) -> httpx.Response:
        seeds = params["seeds"].split(",")
        negatives = params["negativeSeeds"].split(",") if "negativeSeeds" in params else []
        if not 1 <= len(seeds) <= 5 or len(negatives) >= len(seeds) or set(seeds) & set(negatives):
            return httpx.Response(400, text="bad seeds")
        if negatives and self.reject_negatives:
            return httpx.Response(400, json={"error": "bad seed"})
        size = int(params["size"])
        # The seeds come back first, as the real API sometimes does; then the catalog in order.
        seed_tracks = [self._by_id[s] for s in seeds if s in self._by_id]
        rest = [t for t in self.tracks if t not in seed_tracks]
        return self._list([track_row(t) for t in (seed_tracks + rest)[:size]])

    def _list(self, rows: list[dict[str, Any]]) -> httpx.Response:
        body: Any = rows if self.bare_list else {"content": rows, "page": 0, "size": len(rows)}
        return httpx.Response(200, content=json.dumps(body), headers={"content-type": "application/json"})

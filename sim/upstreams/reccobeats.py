"""The fake ReccoBeats API (base URL http://host:port/reccobeats/v1).

No auth. One token bucket covers every endpoint (429 + Retry-After, with an escalating block for clients
that keep calling during it). IDs: detail endpoints need the ReccoBeats UUID; `/track?ids=`,
`/audio-features?ids=` and recommendation seeds take UUIDs and Spotify IDs mixed; unknown IDs are dropped
without error. Tracks absent from ReccoBeats are unknown here by either ID. Only the endpoints segue calls are
served: the single-object reads /track/{id} and /artist/{id} are not (404). Errors use Spring Boot's body
(`timestamp`, `status`, `error`, `message`, `path`), as the service's shape suggests; clients should treat it
as opaque text.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime
from http import HTTPStatus
from typing import Any

from aiohttp import web

from sim.catalog import FEATURE_RANGES, Artist, Catalog, Track
from sim.catalog.recommend import recommend
from sim.catalog.search import search_artists
from sim.endpoints import PREFIXES
from sim.pipeline import UpstreamRoutes
from sim.reply import Call, Handler, Reply, ReplyError, retry_after
from sim.upstreams.params import ParamError, float_param, id_list, int_param
from sim.upstreams.spotify_objects import MARKETS, open_url

UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
MAX_IDS = 40
MAX_SEEDS = 5
COUNTRIES = ",".join(MARKETS)


def status_error(request: web.Request, status: int, message: str | None = None) -> Reply:
    body = {
        "timestamp": datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
        "status": status,
        "error": HTTPStatus(status).phrase,
        "message": message or HTTPStatus(status).description,
        "path": request.path.removeprefix(PREFIXES["reccobeats"].removesuffix("/v1")),
    }
    return Reply(status, body)


def _fail(call: Call, status: int, message: str) -> ReplyError:
    return ReplyError(status_error(call.request, status, message))


def _admit(call: Call) -> None:
    state = call.state
    wait = state.limiters.reccobeats.check(state.sim_now())
    if wait is not None:
        limited = status_error(call.request, 429, "Too many requests, please slow down")
        raise ReplyError(replace(limited, headers={"Retry-After": retry_after(state, wait)}))


def artist_json(artist: Artist) -> dict[str, Any]:
    return {"id": artist.reccobeats_id, "name": artist.name, "href": open_url("artist", artist.spotify_id)}


def track_json(catalog: Catalog, track: Track) -> dict[str, Any]:
    return {
        "id": track.reccobeats_id,
        "trackTitle": track.title,
        "artists": [artist_json(catalog.artists[a]) for a in track.artist_indices],
        "durationMs": track.duration_ms,
        "isrc": track.isrc,
        "ean": None,
        "upc": None,
        "href": open_url("track", track.spotify_id),
        "availableCountries": COUNTRIES,
        "popularity": track.popularity,
    }


def features_json(catalog: Catalog, track: Track) -> dict[str, Any] | None:
    values = catalog.audio_features(track)
    if values is None:
        return None
    return {"id": track.reccobeats_id, "href": open_url("track", track.spotify_id), "isrc": track.isrc, **values}


def _ids(call: Call, name: str = "ids") -> list[str]:
    ids = id_list(call.query, name)
    if not ids:
        raise ParamError(f"'{name}' must hold between 1 and {MAX_IDS} IDs")
    if len(ids) > MAX_IDS:
        raise ParamError(f"'{name}' must hold between 1 and {MAX_IDS} IDs, got {len(ids)}")
    return ids


def _known_tracks(call: Call, ids: list[str]) -> list[Track]:
    found = (call.state.catalog.reccobeats_track(any_id) for any_id in ids)
    return list(dict.fromkeys(t for t in found if t is not None))  # request order, each track once


def _uuid_param(call: Call) -> str:
    value = call.path_param("id")
    if not UUID.fullmatch(value):
        raise ParamError(f"Invalid UUID string: {value}")
    return value


def _track_at(call: Call) -> Track:
    track = call.state.catalog.track_by_reccobeats_id(_uuid_param(call))
    if track is None or not track.in_reccobeats:
        raise _fail(call, 404, "Track not found")
    return track


def _artist_at(call: Call) -> Artist:
    artist = call.state.catalog.artist_by_reccobeats_id(_uuid_param(call))
    if artist is None:
        raise _fail(call, 404, "Artist not found")
    return artist


def _page(call: Call, items: list[int], render: Callable[[int], dict[str, Any]]) -> dict[str, Any]:
    page = int_param(call.query, "page", 0, 0, 1000)
    size = int_param(call.query, "size", 25, 1, 50)
    chunk = items[page * size : (page + 1) * size]
    return {
        "content": [render(i) for i in chunk],
        "page": page,
        "size": size,
        "totalElements": len(items),
        "totalPages": math.ceil(len(items) / size),
    }


def several_tracks(call: Call) -> Reply:
    _admit(call)
    catalog = call.state.catalog
    return Reply(200, {"content": [track_json(catalog, t) for t in _known_tracks(call, _ids(call))]})


def one_track_features(call: Call) -> Reply:
    _admit(call)
    catalog = call.state.catalog
    features = features_json(catalog, _track_at(call))
    if features is None:
        raise _fail(call, 404, "Audio features not found")
    return Reply(200, features)


def several_features(call: Call) -> Reply:
    _admit(call)
    catalog = call.state.catalog
    rows = [features_json(catalog, t) for t in _known_tracks(call, _ids(call))]
    return Reply(200, {"content": [r for r in rows if r is not None]})


def recommendation(call: Call) -> Reply:
    _admit(call)
    q = call.query
    size = int_param(q, "size", None, 1, 100)
    seeds = id_list(q, "seeds")
    if not 1 <= len(seeds) <= MAX_SEEDS:
        raise ParamError(f"'seeds' must hold between 1 and {MAX_SEEDS} track IDs, got {len(seeds)}")
    negatives = id_list(q, "negativeSeeds")
    if len(negatives) > MAX_SEEDS:
        raise ParamError(f"'negativeSeeds' must hold at most {MAX_SEEDS} track IDs, got {len(negatives)}")
    targets = {
        name: value
        for name, (low, high) in FEATURE_RANGES.items()  # the documented ranges of the feature targets
        if (value := float_param(q, name, low, high)) is not None
    }
    int_param(q, "key", -1, -1, 11)  # validated; pitch class does not steer the simulator's neighbours
    int_param(q, "mode", 0, 0, 1)
    popularity = float_param(q, "popularity", 0, 100)
    feature_weight = float_param(q, "featureWeight", 1, 5) or 1.0  # 1–5 when given
    rules = call.state.profile.reccobeats
    if rules.reject_more_negatives_than_seeds and len(negatives) > len(seeds):
        raise ParamError("negativeSeeds must not outnumber seeds")
    seed_tracks, negative_tracks = _known_tracks(call, seeds), _known_tracks(call, negatives)
    same_track = {t.index for t in seed_tracks} & {t.index for t in negative_tracks}  # e.g. UUID vs Spotify ID
    if rules.reject_seed_overlap and (set(seeds) & set(negatives) or same_track):
        raise ParamError("A track cannot be both a seed and a negative seed")
    catalog = call.state.catalog
    found = recommend(catalog, seed_tracks, negative_tracks, size, targets, feature_weight, popularity)
    return Reply(200, {"content": [track_json(catalog, t) for t in found]})


def several_artists(call: Call) -> Reply:
    _admit(call)
    catalog = call.state.catalog
    found = (catalog.artist_by_reccobeats_id(i) or catalog.artist_by_spotify_id(i) for i in _ids(call))
    return Reply(200, {"content": [artist_json(a) for a in dict.fromkeys(a for a in found if a is not None)]})


def artist_search(call: Call) -> Reply:
    _admit(call)
    text = call.query.get("searchText", "").strip()
    if not text or len(text) > 1000:
        raise ParamError("'searchText' must be between 1 and 1000 characters")
    catalog = call.state.catalog
    found = search_artists(catalog, text)
    return Reply(200, _page(call, found, lambda a: artist_json(catalog.artists[a])))


def artist_tracks(call: Call) -> Reply:
    _admit(call)
    catalog = call.state.catalog
    artist = _artist_at(call)
    own = [t for t in artist.track_indices if catalog.tracks[t].in_reccobeats]
    return Reply(200, _page(call, own, lambda t: track_json(catalog, catalog.tracks[t])))


_HANDLERS: dict[str, Handler] = {
    "GET /track": several_tracks,
    "GET /track/recommendation": recommendation,
    "GET /track/{id}/audio-features": one_track_features,
    "GET /audio-features": several_features,
    "GET /artist": several_artists,
    "GET /artist/search": artist_search,
    "GET /artist/{id}/track": artist_tracks,
}

ROUTES = UpstreamRoutes(name="reccobeats", handlers=_HANDLERS, error=status_error, path_prefix=PREFIXES["reccobeats"])

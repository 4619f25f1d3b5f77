"""The fake Spotify Web API (base URL http://host:port/spotify/v1).

Auth: `Authorization: Bearer <token>`, any token of 8–512 characters of [A-Za-z0-9._~+/=-] is valid; a missing,
non-bearer or malformed one → 401; a token starting with `expired-` → 401 "The access token expired".
The token picks the user (see sim.catalog.users). Then the app-wide rolling-window limit (429 +
Retry-After), then the endpoint. In Development Mode (`extended_quota = false`) artist top-tracks answers 403
and search `limit` is capped at 10. Only the endpoints segue calls are served (the batch reads /tracks and
/artists, /tracks/{id} and /recommendations are not: the catch-all answers 404).
"""

from __future__ import annotations

import re
from dataclasses import replace
from typing import Any

from aiohttp import web

from sim.catalog import Artist, Track
from sim.catalog.search import search_artists, search_tracks
from sim.catalog.users import TIME_RANGES, User, top_artists, top_tracks, user_for_token
from sim.endpoints import PREFIXES
from sim.pipeline import UpstreamRoutes
from sim.reply import Call, Handler, Reply, ReplyError, retry_after
from sim.upstreams import spotify_objects as objects
from sim.upstreams.params import ParamError, int_param

TOKEN = re.compile(r"[A-Za-z0-9._~+/=-]{8,512}")
SPOTIFY_ID = re.compile(r"[0-9A-Za-z]{22}")
SEARCH_TYPES = ("album", "artist", "playlist", "track", "show", "episode", "audiobook")
ARTIST_TOP_TRACKS = 10
_STATUS_MESSAGES = {
    404: "Service not found",
    500: "Server error.",
    502: "Bad gateway.",
    503: "Service unavailable",
    504: "Gateway timeout",
}


def error(status: int, message: str | None = None) -> Reply:
    return Reply(status, {"error": {"status": status, "message": message or _STATUS_MESSAGES.get(status, "Error")}})


def status_error(_request: web.Request, status: int, message: str | None = None) -> Reply:
    return error(status, message)


def _token(call: Call) -> str:
    header = call.request.headers.get("Authorization", "")
    if not header:
        raise ReplyError(error(401, "No token provided"))
    scheme, _, token = header.partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        raise ReplyError(error(401, "Only valid bearer authentication supported"))
    if not TOKEN.fullmatch(token):
        raise ReplyError(error(401, "Invalid access token"))
    if token.startswith("expired-"):
        raise ReplyError(error(401, "The access token expired"))
    return token


def _authorized(call: Call) -> User:
    """The caller's user, once the token is valid and the app is within its rate limit."""
    token = _token(call)
    state = call.state
    wait = state.limiters.spotify.check(state.sim_now())
    if wait is not None:
        limited = error(429, "API rate limit exceeded")
        raise ReplyError(replace(limited, headers={"Retry-After": retry_after(state, wait)}))
    return user_for_token(state.catalog, token)


def _extended(call: Call) -> bool:
    return call.state.profile.spotify.extended_quota


def _paging(call: Call, items: list[Any], total: int, limit: int, offset: int) -> dict[str, Any]:
    url = call.request.url

    def at(o: int) -> str:
        return str(url.update_query(offset=str(o), limit=str(limit)))

    return {
        "href": at(offset),
        "items": items,
        "limit": limit,
        "next": at(offset + limit) if offset + limit < total else None,
        "offset": offset,
        "previous": at(max(0, offset - limit)) if offset > 0 else None,
        "total": total,
    }


def _track_json(call: Call, track: Track) -> dict[str, Any]:
    return objects.full_track(call.state.catalog, track, _extended(call))


def _artist_json(call: Call, artist: Artist) -> dict[str, Any]:
    return objects.full_artist(artist, _extended(call))


def me(call: Call) -> Reply:
    return Reply(200, objects.user(_authorized(call)))


def _top(kind: str) -> Handler:
    def handler(call: Call) -> Reply:
        user = _authorized(call)
        limit = int_param(call.query, "limit", 20, 1, 50)
        offset = int_param(call.query, "offset", 0, 0, 1_000_000)
        time_range = call.query.get("time_range", "medium_term")
        if time_range not in TIME_RANGES:
            raise ParamError("Invalid time range")
        catalog = call.state.catalog
        if kind == "tracks":
            ranked = top_tracks(catalog, user.number, time_range)
            items = [_track_json(call, catalog.tracks[t]) for t in ranked[offset : offset + limit]]
        else:
            ranked = top_artists(catalog, user.number, time_range)
            items = [_artist_json(call, catalog.artists[a]) for a in ranked[offset : offset + limit]]
        return Reply(200, _paging(call, items, len(ranked), limit, offset))

    return handler


def search(call: Call) -> Reply:
    _authorized(call)
    q = call.query.get("q", "").strip()
    if not q:
        raise ParamError("No search query")
    types = [t.strip() for t in call.query.get("type", "").split(",") if t.strip()]
    if not types:
        raise ParamError("Missing parameter type")
    bad = [t for t in types if t not in SEARCH_TYPES]
    if bad:
        raise ParamError(f"Bad search type field {bad[0]}")
    profile = call.state.profile.spotify
    limit = int_param(call.query, "limit", profile.search_limit_default, 1, profile.search_limit_max)
    offset = int_param(call.query, "offset", 0, 0, 1_000)
    catalog = call.state.catalog
    body: dict[str, Any] = {}
    for kind in dict.fromkeys(types):
        page = slice(offset, offset + limit)
        items: list[dict[str, Any]]
        if kind == "track":
            found = search_tracks(catalog, q)
            items = [_track_json(call, catalog.tracks[i]) for i in found[page]]
        elif kind == "artist":
            found = search_artists(catalog, q)
            items = [_artist_json(call, catalog.artists[i]) for i in found[page]]
        else:  # albums, playlists, ... exist on Spotify; the simulator has none to find
            found, items = [], []
        body[f"{kind}s"] = _paging(call, items, len(found), limit, offset)
    return Reply(200, body)


def _valid_id(value: str) -> str:
    if not SPOTIFY_ID.fullmatch(value):
        raise ParamError("Invalid base62 id")
    return value


def _artist_at(call: Call) -> Artist:
    artist = call.state.catalog.artist_by_spotify_id(_valid_id(call.path_param("id")))
    if artist is None:
        raise ReplyError(error(404, "Resource not found"))
    return artist


def one_artist(call: Call) -> Reply:
    _authorized(call)
    return Reply(200, _artist_json(call, _artist_at(call)))


def artist_top_tracks(call: Call) -> Reply:
    _authorized(call)
    if not _extended(call):
        raise ReplyError(error(403, "Forbidden"))
    artist = _artist_at(call)
    catalog = call.state.catalog
    own = [catalog.tracks[t] for t in artist.track_indices if catalog.tracks[t].artist_indices[0] == artist.index]
    best = sorted(own, key=lambda t: (-t.popularity, t.index))[:ARTIST_TOP_TRACKS]
    return Reply(200, {"tracks": [_track_json(call, t) for t in best]})


def audio_features(call: Call) -> Reply:
    _authorized(call)  # removed for new and Development Mode apps on 2024-11-27: measured 403
    raise ReplyError(error(403, "Forbidden"))


_HANDLERS: dict[str, Handler] = {
    "GET /me": me,
    "GET /me/top/tracks": _top("tracks"),
    "GET /me/top/artists": _top("artists"),
    "GET /search": search,
    "GET /artists/{id}": one_artist,
    "GET /artists/{id}/top-tracks": artist_top_tracks,
    "GET /audio-features": audio_features,
}

ROUTES = UpstreamRoutes(name="spotify", handlers=_HANDLERS, error=status_error, path_prefix=PREFIXES["spotify"])

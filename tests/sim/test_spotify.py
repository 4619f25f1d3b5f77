"""The fake Spotify Web API against UPSTREAMS.md §2: auth, paging, Development Mode vs Extended Quota."""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest

from sim.testing import RunningSim
from tests.sim.conftest import AUTH

SPOTIFY_ID = re.compile(r"^[0-9A-Za-z]{22}$")


async def get(
    http: httpx.AsyncClient, sim: RunningSim, path: str, headers: dict[str, str] | None = None, **params: Any
) -> httpx.Response:
    return await http.get(sim.spotify_url + path, params=params, headers=AUTH if headers is None else headers)


@pytest.mark.parametrize(
    ("headers", "message"),
    [
        ({}, "No token provided"),
        ({"Authorization": "Basic abcdefgh"}, "Only valid bearer authentication supported"),
        ({"Authorization": "Bearer short"}, "Invalid access token"),
        ({"Authorization": "Bearer has spaces and !!! symbols"}, "Invalid access token"),
        ({"Authorization": "Bearer expired-session-token"}, "The access token expired"),
    ],
)
async def test_bad_tokens_get_401_with_spotifys_body(
    sim: RunningSim, http: httpx.AsyncClient, headers: dict[str, str], message: str
) -> None:
    r = await get(http, sim, "/me/top/tracks", headers=headers)
    assert r.status_code == 401
    assert r.json() == {"error": {"status": 401, "message": message}}


async def test_top_tracks_paging_envelope_and_loop_to_last_page(sim: RunningSim, http: httpx.AsyncClient) -> None:
    first = (await get(http, sim, "/me/top/tracks", limit=20)).json()
    assert set(first) == {"href", "items", "limit", "next", "offset", "previous", "total"}
    assert (first["limit"], first["offset"], first["total"], first["previous"]) == (20, 0, 50, None)
    items, page = list(first["items"]), first
    while page["next"]:
        page = (await http.get(page["next"], headers=AUTH)).json()
        items += page["items"]
    assert page["offset"] == 40 and len(page["items"]) == 10 and page["next"] is None
    assert page["previous"] is not None
    assert len(items) == 50 == len({t["id"] for t in items})
    track = items[0]
    assert SPOTIFY_ID.match(track["id"]) and track["uri"] == f"spotify:track:{track['id']}"
    assert {"name", "artists", "album", "duration_ms", "external_ids", "explicit", "href"} <= set(track)
    assert {"id", "name", "uri", "images", "release_date"} <= set(track["album"])
    assert "popularity" not in track and "available_markets" not in track  # removed in Development Mode
    assert sim.catalog.track_by_spotify_id(track["id"]) is not None


async def test_top_lists_depend_on_token_and_time_range(sim: RunningSim, http: httpx.AsyncClient) -> None:
    async def ids(token: str, path: str, time_range: str = "medium_term") -> list[str]:
        r = await get(http, sim, path, headers={"Authorization": f"Bearer {token}"}, limit=50, time_range=time_range)
        return [x["id"] for x in r.json()["items"]]

    assert await ids("user-7-a", "/me/top/tracks") == await ids("user-7-b", "/me/top/tracks")
    assert await ids("user-7-a", "/me/top/tracks") != await ids("user-8-a", "/me/top/tracks")
    assert await ids("opaque-token-1", "/me/top/tracks") == await ids("opaque-token-1", "/me/top/tracks")
    assert await ids("user-7-a", "/me/top/tracks", "short_term") != await ids("user-7-a", "/me/top/tracks", "long_term")
    artists = await ids("user-7-a", "/me/top/artists")
    assert len(artists) == 50
    artist = (await get(http, sim, "/me/top/artists", limit=1)).json()["items"][0]
    assert {"genres", "images", "name", "uri"} <= set(artist)
    assert "popularity" not in artist and "followers" not in artist


@pytest.mark.parametrize("params", [{"limit": 51}, {"limit": 0}, {"offset": -1}, {"time_range": "forever"}])
async def test_top_tracks_rejects_out_of_range_parameters(
    sim: RunningSim, http: httpx.AsyncClient, params: dict[str, Any]
) -> None:
    r = await get(http, sim, "/me/top/tracks", **params)
    assert r.status_code == 400
    assert r.json()["error"]["status"] == 400


async def test_search_limit_is_capped_at_10_in_development_mode(sim: RunningSim, http: httpx.AsyncClient) -> None:
    default = (await get(http, sim, "/search", q="genre:pop", type="track")).json()["tracks"]
    assert default["limit"] == 5 and len(default["items"]) == 5 and default["total"] > 10
    assert (await get(http, sim, "/search", q="genre:pop", type="track", limit=10)).status_code == 200
    too_many = await get(http, sim, "/search", q="genre:pop", type="track", limit=11)
    assert too_many.status_code == 400


async def test_search_limit_50_and_popularity_with_extended_quota(
    extended_sim: RunningSim, http: httpx.AsyncClient
) -> None:
    r = await get(http, extended_sim, "/search", q="genre:pop", type="track,artist", limit=50)
    assert r.status_code == 200
    body = r.json()
    assert len(body["tracks"]["items"]) == 50 and len(body["artists"]["items"]) == 50
    assert "popularity" in body["tracks"]["items"][0]
    assert {"popularity", "followers"} <= set(body["artists"]["items"][0])
    assert (await get(http, extended_sim, "/search", q="genre:pop", type="track")).json()["tracks"]["limit"] == 20
    assert (await get(http, extended_sim, "/search", q="genre:pop", type="track", limit=51)).status_code == 400


async def test_search_filters_find_what_they_name(sim: RunningSim, http: httpx.AsyncClient) -> None:
    catalog = sim.catalog
    artist = max(catalog.artists, key=lambda a: a.popularity)
    track = catalog.tracks[artist.track_indices[0]]
    r = await get(http, sim, "/search", q=f"artist:{artist.name}", type="artist", limit=3)
    assert r.json()["artists"]["items"][0]["id"] == artist.spotify_id
    r = await get(http, sim, "/search", q=f"track:{track.title} artist:{artist.name}", type="track", limit=10)
    found = r.json()["tracks"]["items"]
    assert track.spotify_id in [t["id"] for t in found]
    assert all(artist.spotify_id in [a["id"] for a in t["artists"]] for t in found)
    r = await get(http, sim, "/search", q="genre:jazz", type="artist", limit=10)
    assert all("jazz" in a["genres"] for a in r.json()["artists"]["items"])
    empty = (await get(http, sim, "/search", q="qqqzzzxxx", type="track,album")).json()
    assert empty["tracks"]["total"] == 0 and empty["albums"]["items"] == []


@pytest.mark.parametrize("params", [{"type": "track"}, {"q": "x"}, {"q": "x", "type": "song"}])
async def test_search_rejects_missing_or_bad_parameters(
    sim: RunningSim, http: httpx.AsyncClient, params: dict[str, Any]
) -> None:
    assert (await get(http, sim, "/search", **params)).status_code == 400


async def test_removed_endpoints_answer_403_in_development_mode(sim: RunningSim, http: httpx.AsyncClient) -> None:
    track, artist = sim.catalog.tracks[0], sim.catalog.artists[0]
    forbidden: list[tuple[str, dict[str, Any]]] = [
        (f"/artists/{artist.spotify_id}/top-tracks", {"market": "US"}),
        ("/audio-features", {"ids": track.spotify_id}),
    ]
    for path, params in forbidden:
        r = await get(http, sim, path, **params)
        assert r.status_code == 403, path
        assert r.json()["error"]["status"] == 403
    # Endpoints no caller uses are not served: the catch-all answers 404 in Spotify's error shape.
    for path in ["/recommendations", "/tracks", f"/tracks/{track.spotify_id}"]:
        r = await get(http, sim, path, ids=track.spotify_id)
        assert r.status_code == 404 and r.json()["error"]["status"] == 404, path
    # Single-item reads stay available in Development Mode.
    assert (await get(http, sim, f"/artists/{artist.spotify_id}")).json()["name"] == artist.name
    assert (await get(http, sim, "/artists/" + "0" * 22)).status_code == 404
    assert (await get(http, sim, "/artists/not-an-id")).status_code == 400


async def test_top_tracks_with_extended_quota(extended_sim: RunningSim, http: httpx.AsyncClient) -> None:
    catalog = extended_sim.catalog
    artist = max(catalog.artists, key=lambda a: len(a.track_indices))
    top = (await get(http, extended_sim, f"/artists/{artist.spotify_id}/top-tracks", market="US")).json()["tracks"]
    assert 1 <= len(top) <= 10
    assert [t["popularity"] for t in top] == sorted((t["popularity"] for t in top), reverse=True)
    assert all(t["artists"][0]["id"] == artist.spotify_id for t in top)


async def test_me_names_the_user_of_the_token_in_the_real_shape(sim: RunningSim, http: httpx.AsyncClient) -> None:
    me = (await get(http, sim, "/me")).json()
    assert me["id"] == "simuser7" and me["type"] == "user"
    assert me["uri"] == "spotify:user:simuser7"
    assert me["href"].endswith("/v1/users/simuser7")
    assert me["external_urls"]["spotify"] == "https://open.spotify.com/user/simuser7"
    assert me["images"] and all({"url", "height", "width"} <= set(i) for i in me["images"])
    # Development Mode removed the private fields in February 2026.
    assert not {"country", "email", "product", "followers", "explicit_content"} & set(me)
    opaque = {"Authorization": "Bearer some-opaque-token"}
    first, again = [(await get(http, sim, "/me", headers=opaque)).json()["id"] for _ in range(2)]
    assert first == again and first.startswith("simuser"), "any token is one stable user"


async def test_me_refuses_an_expired_token_and_is_counted(sim: RunningSim, http: httpx.AsyncClient) -> None:
    expired = await get(http, sim, "/me", headers={"Authorization": "Bearer expired-token-123"})
    assert expired.status_code == 401
    assert expired.json() == {"error": {"status": 401, "message": "The access token expired"}}
    stats = (await http.get(sim.base_url + "/__sim/stats")).json()["upstreams"]["spotify"]["endpoints"]["GET /me"]
    assert stats["calls"] == 1 and stats["status"] == {"401": 1}

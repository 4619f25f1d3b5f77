"""The fake ReccoBeats API against UPSTREAMS.md §1: ID handling, limits, paging, recommendation rules."""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest

from sim.catalog import Track
from sim.testing import RunningSim

UUID4 = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")


async def get(http: httpx.AsyncClient, sim: RunningSim, path: str, params: Any = None) -> httpx.Response:
    return await http.get(sim.reccobeats_url + path, params=params)


def present(sim: RunningSim, count: int, features: bool = True) -> list[Track]:
    return [t for t in sim.catalog.tracks if t.in_reccobeats and t.has_audio_features == features][:count]


def absent(sim: RunningSim, count: int) -> list[Track]:
    return [t for t in sim.catalog.tracks if not t.in_reccobeats][:count]


async def test_track_multiget_takes_both_id_kinds_and_drops_unknown(sim: RunningSim, http: httpx.AsyncClient) -> None:
    a, b = present(sim, 2)
    missing = absent(sim, 1)[0]
    ids = [a.spotify_id, str(b.reccobeats_id), missing.spotify_id, "00000000-0000-4000-8000-000000000000", "junk"]
    r = await get(http, sim, "/track", [("ids", i) for i in ids])
    assert r.status_code == 200
    content = r.json()["content"]
    assert {t["id"] for t in content} == {a.reccobeats_id, b.reccobeats_id}
    row = next(t for t in content if t["id"] == a.reccobeats_id)
    assert row["href"] == f"https://open.spotify.com/track/{a.spotify_id}"  # the only way back to Spotify
    assert set(row) >= {"id", "trackTitle", "artists", "durationMs", "isrc", "href", "popularity"}
    assert "spotify_id" not in row
    assert UUID4.match(row["id"]) and UUID4.match(row["artists"][0]["id"])
    assert row["artists"][0]["href"].startswith("https://open.spotify.com/artist/")
    csv = await get(http, sim, "/track", {"ids": f"{a.spotify_id},{b.spotify_id}"})
    assert len(csv.json()["content"]) == 2


@pytest.mark.parametrize("count", [0, 41])
async def test_track_multiget_needs_1_to_40_ids(sim: RunningSim, http: httpx.AsyncClient, count: int) -> None:
    ids = ",".join(t.spotify_id for t in sim.catalog.tracks[:count])
    r = await get(http, sim, "/track", {"ids": ids} if count else None)
    assert r.status_code == 400
    assert r.json()["status"] == 400
    assert (await get(http, sim, "/audio-features", {"ids": ids} if count else None)).status_code == 400


async def test_forty_ids_are_accepted(sim: RunningSim, http: httpx.AsyncClient) -> None:
    tracks = present(sim, 40)
    r = await get(http, sim, "/track", {"ids": ",".join(t.spotify_id for t in tracks)})
    assert r.status_code == 200 and len(r.json()["content"]) == 40


async def test_detail_endpoints_need_the_reccobeats_uuid(sim: RunningSim, http: httpx.AsyncClient) -> None:
    track = present(sim, 1)[0]
    features = (await get(http, sim, f"/track/{track.reccobeats_id}/audio-features")).json()
    assert features["id"] == track.reccobeats_id
    assert set(features) >= {
        "acousticness",
        "danceability",
        "energy",
        "instrumentalness",
        "key",
        "liveness",
        "loudness",
        "mode",
        "speechiness",
        "tempo",
        "valence",
        "href",
        "isrc",
    }
    assert "duration_ms" not in features
    assert (await get(http, sim, f"/track/{track.spotify_id}/audio-features")).status_code == 400
    assert (await get(http, sim, "/track/00000000-0000-4000-8000-000000000000/audio-features")).status_code == 404
    assert (await get(http, sim, f"/track/{track.reccobeats_id}")).status_code == 404  # not served: no caller
    without = present(sim, 1, features=False)[0]
    assert (await get(http, sim, f"/track/{without.reccobeats_id}/audio-features")).status_code == 404


async def test_audio_features_batch_leaves_out_tracks_without_features(
    sim: RunningSim, http: httpx.AsyncClient
) -> None:
    with_features = present(sim, 3)
    without = present(sim, 2, features=False)
    ids = [t.spotify_id for t in with_features + without] + [absent(sim, 1)[0].spotify_id]
    content = (await get(http, sim, "/audio-features", {"ids": ",".join(ids)})).json()["content"]
    assert {f["id"] for f in content} == {t.reccobeats_id for t in with_features}


async def test_recommendation_returns_neighbours_without_the_seeds(sim: RunningSim, http: httpx.AsyncClient) -> None:
    seeds = present(sim, 3)
    params = {"seeds": ",".join(t.spotify_id for t in seeds), "size": 25, "energy": 0.4, "featureWeight": 3}
    r = await get(http, sim, "/track/recommendation", params)
    assert r.status_code == 200
    content = r.json()["content"]
    assert len(content) == 25
    assert not {t["id"] for t in content} & {t.reccobeats_id for t in seeds}
    assert content == (await get(http, sim, "/track/recommendation", params)).json()["content"]


@pytest.mark.parametrize(
    "params",
    [
        {"size": 10},  # seeds missing
        {"size": 10, "seeds": "SIX"},  # 6 seeds
        {"seeds": "ONE"},  # size missing
        {"size": 0, "seeds": "ONE"},
        {"size": 101, "seeds": "ONE"},
        {"size": 10, "seeds": "ONE", "negativeSeeds": "SIX"},
        {"size": 10, "seeds": "ONE", "energy": 1.5},
        {"size": 10, "seeds": "ONE", "tempo": 251},
        {"size": 10, "seeds": "ONE", "loudness": -61},
        {"size": 10, "seeds": "ONE", "key": 12},
        {"size": 10, "seeds": "ONE", "mode": 2},
        {"size": 10, "seeds": "ONE", "popularity": 101},
        {"size": 10, "seeds": "ONE", "featureWeight": 6},
        {"size": 10, "seeds": "ONE", "featureWeight": 0.5},
        {"size": 10, "seeds": "ONE", "valence": "high"},
    ],
)
async def test_recommendation_rejects_out_of_range_parameters(
    sim: RunningSim, http: httpx.AsyncClient, params: dict[str, Any]
) -> None:
    ids = [t.spotify_id for t in present(sim, 12)]
    named = {"ONE": ids[0], "SIX": ",".join(ids[1:7])}
    params = {k: named.get(v, v) if isinstance(v, str) else v for k, v in params.items()}
    r = await get(http, sim, "/track/recommendation", params)
    assert r.status_code == 400


async def test_recommendation_bad_seed_combinations_are_400_in_realistic_rules(
    sim: RunningSim, http: httpx.AsyncClient
) -> None:
    ids = [t.spotify_id for t in present(sim, 8)]
    base = {"size": 10}
    more_negatives = {**base, "seeds": ",".join(ids[:2]), "negativeSeeds": ",".join(ids[2:5])}
    overlap = {**base, "seeds": ",".join(ids[:3]), "negativeSeeds": ids[2]}
    same_track = {**base, "seeds": ids[0], "negativeSeeds": str(present(sim, 1)[0].reccobeats_id)}
    fine = {**base, "seeds": ",".join(ids[:3]), "negativeSeeds": ",".join(ids[3:6])}
    assert (await get(http, sim, "/track/recommendation", same_track)).status_code == 400
    assert (await get(http, sim, "/track/recommendation", more_negatives)).status_code == 400
    assert (await get(http, sim, "/track/recommendation", overlap)).status_code == 400
    assert (await get(http, sim, "/track/recommendation", fine)).status_code == 200


async def test_unknown_seeds_give_an_empty_answer(sim: RunningSim, http: httpx.AsyncClient) -> None:
    params = {"size": 5, "seeds": absent(sim, 1)[0].spotify_id}
    r = await get(http, sim, "/track/recommendation", params)
    assert r.status_code == 200 and r.json() == {"content": []}


async def test_artist_search_pages_to_the_last_page(sim: RunningSim, http: httpx.AsyncClient) -> None:
    word = "The"
    first = (await get(http, sim, "/artist/search", {"searchText": word, "size": 7})).json()
    assert set(first) == {"content", "page", "size", "totalElements", "totalPages"}
    assert first["totalElements"] > 7 and first["totalPages"] == -(-first["totalElements"] // 7)
    names: list[str] = [a["name"] for a in first["content"]]
    page = first
    while page["page"] < page["totalPages"] - 1:
        params = {"searchText": word, "size": 7, "page": page["page"] + 1}
        page = (await get(http, sim, "/artist/search", params)).json()
        names += [a["name"] for a in page["content"]]
    assert len(names) == first["totalElements"]
    assert all("the" in n.lower().split() for n in names)
    for bad in (
        {"searchText": ""},
        {"searchText": "x" * 1001},
        {"searchText": "a", "size": 51},
        {"searchText": "a", "page": 1001},
    ):
        assert (await get(http, sim, "/artist/search", bad)).status_code == 400


async def test_artist_endpoints(sim: RunningSim, http: httpx.AsyncClient) -> None:
    artist = max(sim.catalog.artists, key=lambda a: len(a.track_indices))
    one = await get(http, sim, "/artist", {"ids": artist.reccobeats_id})
    assert one.json()["content"] == [
        {
            "id": artist.reccobeats_id,
            "name": artist.name,
            "href": f"https://open.spotify.com/artist/{artist.spotify_id}",
        }
    ]
    tracks = (await get(http, sim, f"/artist/{artist.reccobeats_id}/track", {"size": 5})).json()
    expected = [t for t in artist.track_indices if sim.catalog.tracks[t].in_reccobeats]
    assert tracks["totalElements"] == len(expected) and len(tracks["content"]) == 5
    many = await get(http, sim, "/artist", {"ids": f"{artist.reccobeats_id},{sim.catalog.artists[1].spotify_id}"})
    assert [a["id"] for a in many.json()["content"]] == [artist.reccobeats_id, sim.catalog.artists[1].reccobeats_id]
    assert (await get(http, sim, "/artist/00000000-0000-4000-8000-000000000000/track")).status_code == 404

"""Playlists that follow the prompt, end to end through Orchestrator.Recommend: the real services over gRPC,
a real redis-server and the simulator over HTTP. Every name in a prompt is one the simulator's catalog writes
that way; every check is against the catalog's truth, and every count comes from the simulator's stats.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from urllib.parse import unquote_plus

import grpc
import httpx
import pytest
import redis.asyncio as aioredis
from grpc import aio
from segue.v1 import common_pb2, orchestrator_pb2, orchestrator_pb2_grpc

from bench.quality import shared_title
from segue_cli.client import recommend_request
from segue_cli.mesh import Mesh
from services.common.identity import NAMESPACE as IDENTITY
from sim.app import DEFAULT_SEED
from sim.catalog import Artist, Catalog, Track, build_catalog
from sim.catalog.users import top_artists
from sim.profile import load_profile
from tests.integration.conftest import POPULAR_MOOD

pytestmark = [pytest.mark.integration, pytest.mark.asyncio(loop_scope="session")]

CATALOG = build_catalog(DEFAULT_SEED, load_profile("fast").catalog)
GEMINI = "POST /models/{model}:generateContent"  # RunTasks' calls
MOOD_CALL = "POST /models/{model}:streamGenerateContent"  # the mood's call streams


def token(n: int) -> tuple[tuple[str, str], ...]:
    return (("x-spotify-token", f"user-{n}-quality"),)


async def recommend(
    stub: orchestrator_pb2_grpc.OrchestratorAsyncStub, prompt: str, user: int, session: str = ""
) -> orchestrator_pb2.RecommendResponse:
    response: orchestrator_pb2.RecommendResponse = await stub.Recommend(
        recommend_request(prompt, "", 20, session),
        metadata=token(user),
        timeout=60,  # the token says who
    )
    return response


def catalog_tracks(response: orchestrator_pb2.RecommendResponse) -> list[Track]:
    found = [CATALOG.track_by_spotify_id(e.track.spotify_id) for e in response.tracks]
    assert all(t is not None for t in found)
    return [t for t in found if t is not None]


def artists_of(track: Track) -> Iterator[Artist]:
    return (CATALOG.artists[a] for a in track.artist_indices)


def plays(track: Track, genre: str) -> bool:
    """Whether one of the track's artists carries the genre (as a whole word: "metal" ~ "death metal")."""
    return any(f" {genre} " in f" {g} " for a in artists_of(track) for g in a.genres)


def popular_artist(catalog: Catalog, genre: str) -> Artist:
    return max((a for a in catalog.artists if a.genres[0] == genre), key=lambda a: (a.popularity, -a.index))


async def stats(sim_http: httpx.AsyncClient) -> dict[str, Any]:
    body: dict[str, Any] = (await sim_http.get("/__sim/stats")).json()
    return body


def endpoint_calls(before: dict[str, Any], after: dict[str, Any], upstream: str, endpoint: str) -> int:
    def calls(s: dict[str, Any]) -> int:
        return int(s["upstreams"][upstream]["endpoints"][endpoint]["calls"])

    return calls(after) - calls(before)


async def test_a_named_genre_fills_the_playlist_with_artists_of_that_genre(
    orchestrator: orchestrator_pb2_grpc.OrchestratorAsyncStub,
) -> None:
    response = await recommend(orchestrator, "country songs for a long road trip", 201)
    tracks = catalog_tracks(response)
    assert len(tracks) == 20
    assert sum(plays(t, "country") for t in tracks) >= 0.7 * len(tracks)
    country = [e for e in response.tracks if "country, like the mood asks" in e.reason]
    assert country, "reasons say why, in a listener's words"


async def test_a_named_track_is_in_the_playlist_and_opens_it(
    orchestrator: orchestrator_pb2_grpc.OrchestratorAsyncStub,
) -> None:
    artist = popular_artist(CATALOG, "soul")
    track = max(
        (CATALOG.tracks[t] for t in artist.track_indices if CATALOG.tracks[t].artist_indices[0] == artist.index),
        key=lambda t: (t.popularity, -t.index),
    )
    response = await recommend(orchestrator, f"songs like {track.title} by {artist.name}", 202)

    assert response.tracks[0].track.spotify_id == track.spotify_id
    assert response.tracks[0].source == common_pb2.TRACK_SOURCE_USER_MENTIONED
    assert response.tracks[0].reason.startswith("you asked for this song")


def user_without(catalog: Catalog, artists: set[int], first: int) -> int:
    """A user none of whose top artists is one of `artists` (their version would settle a title at once)."""
    ranges = ("short_term", "medium_term", "long_term")
    return next(
        n for n in range(first, first + 100) if not any(artists & set(top_artists(catalog, n, r)) for r in ranges)
    )


async def test_a_title_several_artists_recorded_is_settled_by_the_llm_shown_each_version(
    orchestrator: orchestrator_pb2_grpc.OrchestratorAsyncStub,
) -> None:
    known, other = shared_title(CATALOG)
    genre = CATALOG.artists[other.artist_indices[0]].genres[0]
    user = user_without(CATALOG, {known.artist_indices[0], other.artist_indices[0]}, 210)

    response = await recommend(orchestrator, f'"{known.title}", the {genre} one, and more {genre} like it', user)

    named = [e for e in response.tracks if e.source == common_pb2.TRACK_SOURCE_USER_MENTIONED]
    # The model read each version's artist and features against the prompt: the lesser known one is meant.
    assert [e.track.spotify_id for e in named] == [other.spotify_id]
    assert known.spotify_id not in {e.track.spotify_id for e in response.tracks}
    assert response.llm.calls == 2  # the mood, then one call for the request's ambiguous choices


async def test_a_named_artist_appears(orchestrator: orchestrator_pb2_grpc.OrchestratorAsyncStub) -> None:
    artist = popular_artist(CATALOG, "indie rock")
    response = await recommend(orchestrator, f"something like {artist.name}", 203)
    assert any(artist in artists_of(t) for t in catalog_tracks(response))


async def test_anything_but_metal_returns_no_metal_track(
    orchestrator: orchestrator_pb2_grpc.OrchestratorAsyncStub,
) -> None:
    response = await recommend(orchestrator, "energetic workout music, anything but metal", 204)
    tracks = catalog_tracks(response)
    assert len(tracks) == 20
    assert not [t.title for t in tracks if plays(t, "metal")]
    assert "metal" in response.mood.avoid and not any("metal" in g for g in response.mood.genres)


def overlap(a: dict[str, Any], b: dict[str, Any]) -> bool:
    return bool(max(a["started"], b["started"]) < min(a["finished"], b["finished"]))


async def test_the_seed_sources_run_side_by_side(
    orchestrator: orchestrator_pb2_grpc.OrchestratorAsyncStub, sim_http: httpx.AsyncClient
) -> None:
    """The LLM reads the prompt while the token is checked and then while the user's context loads; then the
    named track's search, the anchors' and exclusions' searches and artist discovery's search go out together,
    and discovery looks its artists' tracks up side by side. (Each call is slowed far beyond any scheduling
    delay, so overlaps are by design.)"""
    # Searches are cached for everyone: genres no other test asks for, so each goes upstream here.
    artist = popular_artist(CATALOG, "bossa nova")
    title = CATALOG.tracks[artist.track_indices[0]].title
    await sim_http.post("/__sim/faults", json={"upstream": "spotify", "extra_latency_s": 1.0})
    await sim_http.post("/__sim/faults", json={"upstream": "reccobeats", "extra_latency_s": 0.5})
    await sim_http.post("/__sim/faults", json={"upstream": "gemini", "extra_latency_s": 3.0})  # > GET /me + context
    await sim_http.post("/__sim/reset", json={"limits": False})
    try:
        await recommend(orchestrator, f'bossa nova like "{title}" by {artist.name}, no punk', 205)
    finally:
        await sim_http.post("/__sim/faults", json={"clear": True})
    calls: list[dict[str, Any]] = (await sim_http.get("/__sim/calls")).json()["calls"]

    def one(endpoint: str, *words: str) -> dict[str, Any]:
        found = [c for c in calls if c["endpoint"] == endpoint and all(w in unquote_plus(c["query"]) for w in words)]
        assert found, f"no call to {endpoint} with {words}"
        return found[0]

    llm = one(MOOD_CALL)
    assert overlap(one("GET /me"), llm), "the LLM reads the prompt while Spotify says whose token it is"
    assert overlap(one("GET /me/top/tracks"), llm), "the user's context loads while the LLM reads the prompt"
    named = one("GET /search", "track:", "type=track")
    discovery = one("GET /search", "type=artist")
    anchors = one("GET /search", 'genre:"bossa nova"', "type=track")
    ruled_out = one("GET /search", 'genre:"punk"', "type=track")
    assert overlap(named, discovery) and overlap(anchors, discovery) and overlap(ruled_out, named)
    lookups = sorted((c for c in calls if c["endpoint"] == "GET /artist/{id}/track"), key=lambda c: c["started"])
    assert len(lookups) >= 2 and overlap(lookups[0], lookups[1]), "the artists' tracks are looked up side by side"


async def test_a_refinement_in_the_session_reuses_discovery_and_mentions(
    orchestrator: orchestrator_pb2_grpc.OrchestratorAsyncStub, sim_http: httpx.AsyncClient
) -> None:
    first = await recommend(orchestrator, "rainy sunday, slow jazz", 206)
    before = await stats(sim_http)

    tweak = await recommend(orchestrator, "same but more upbeat", 206, session=first.session_id)

    after = await stats(sim_http)
    for upstream, endpoint in [
        ("spotify", "GET /search"),  # no mention resolution, no artist search
        ("reccobeats", "GET /artist"),
        ("reccobeats", "GET /artist/search"),
        ("reccobeats", "GET /artist/{id}/track"),
        ("gemini", GEMINI),
        ("gemini", MOOD_CALL),
    ]:
        assert endpoint_calls(before, after, upstream, endpoint) == 0, endpoint
    assert tweak.llm.calls == 0 and tweak.session_id == first.session_id
    assert len(tweak.tracks) == 20

    def mean_valence(r: orchestrator_pb2.RecommendResponse) -> float:
        values = [e.track.audio_features.valence for e in r.tracks if e.track.HasField("audio_features")]
        return sum(values) / len(values)

    assert mean_valence(tweak) > mean_valence(first), "more upbeat"


async def test_a_popular_mood_costs_a_new_user_no_llm_call_and_no_discovery(
    orchestrator: orchestrator_pb2_grpc.OrchestratorAsyncStub, sim_http: httpx.AsyncClient
) -> None:
    before = await stats(sim_http)
    response = await recommend(orchestrator, POPULAR_MOOD, 207)
    after = await stats(sim_http)

    assert len(response.tracks) == 20
    assert response.llm.calls == 0
    assert endpoint_calls(before, after, "gemini", GEMINI) == endpoint_calls(before, after, "gemini", MOOD_CALL) == 0
    assert endpoint_calls(before, after, "reccobeats", "GET /artist/{id}/track") == 0
    assert any(e.source == common_pb2.TRACK_SOURCE_ARTIST_DISCOVERY for e in response.tracks)


async def test_a_pass_that_finds_nothing_is_an_error_that_says_why_never_an_empty_success(
    mesh: Mesh, orchestrator: orchestrator_pb2_grpc.OrchestratorAsyncStub, sim_http: httpx.AsyncClient
) -> None:
    # The user is known (the token was verified once), and nothing else is cached (the mesh's own
    # redis-server, no process-local copies): with Spotify and ReccoBeats down, every source comes up empty.
    await recommend(orchestrator, "a first request, so the token's user is known", 208)
    client = aioredis.from_url(mesh.redis_url)
    try:
        stale = [k async for k in client.scan_iter() if not k.startswith(f"segue:{IDENTITY}:".encode())]
        await client.delete(*stale)
    finally:
        await client.aclose()
    await sim_http.post("/__sim/faults", json={"upstream": "spotify", "outage": True})
    await sim_http.post("/__sim/faults", json={"upstream": "reccobeats", "outage": True})
    try:
        with pytest.raises(aio.AioRpcError) as caught:
            await recommend(orchestrator, "late night synthwave for a new listener", 208)
    finally:
        await sim_http.post("/__sim/faults", json={"clear": True})
    assert caught.value.code() == grpc.StatusCode.UNAVAILABLE
    assert "no playlist could be made" in (caught.value.details() or "")

"""End to end in one process: the simulator ("fast"), the real ReccoBeat gateway and the seed gatherer."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import grpc
import pytest
from grpc import aio
from segue.v1 import common_pb2, seed_gatherer_pb2

from services.common.call_context import SPOTIFY_TOKEN_HEADER
from sim.catalog.users import top_tracks, user_number
from sim.testing import RunningSim, running_sim
from tests.unit.seed_gatherer.mesh import Mesh, running_mesh

TOKEN = "user-7-demo-token"
MOOD = common_pb2.MoodProfile(
    targets=[
        common_pb2.FeatureTarget(feature=common_pb2.AUDIO_FEATURE_ENERGY, target=0.3, min=0.1, max=0.5, weight=1.0),
        common_pb2.FeatureTarget(
            feature=common_pb2.AUDIO_FEATURE_ACOUSTICNESS, target=0.7, min=0.4, max=1.0, weight=0.6
        ),
    ],
)


@pytest.fixture
async def sim() -> AsyncIterator[RunningSim]:
    async with running_sim("fast") as s:
        yield s


@pytest.fixture
async def mesh(sim: RunningSim) -> AsyncIterator[Mesh]:
    async with running_mesh(
        env={"SPOTIFY_BASE_URL": sim.spotify_url}, gateway_env={"RECCOBEAT_BASE_URL": sim.reccobeats_url}
    ) as m:
        yield m


async def gather(mesh: Mesh, token: str = TOKEN, user_id: str = "") -> seed_gatherer_pb2.GatherSeedsResponse:
    response: seed_gatherer_pb2.GatherSeedsResponse = await mesh.stub.GatherSeeds(
        seed_gatherer_pb2.GatherSeedsRequest(user_id=user_id, mood_prompt="quiet", mood=MOOD),
        metadata=((SPOTIFY_TOKEN_HEADER, token),),
        timeout=20,
    )
    return response


def spotify_calls(sim: RunningSim, endpoint: str) -> int:
    return int(sim.stats()["upstreams"]["spotify"]["endpoints"][endpoint]["calls"])


async def test_seeds_are_the_tokens_users_top_tracks_with_their_catalog_features(sim: RunningSim, mesh: Mesh) -> None:
    response = await gather(mesh)

    user_top = {sim.catalog.tracks[i].spotify_id for i in top_tracks(sim.catalog, user_number(TOKEN), "medium_term")}
    assert len(response.seeds) == 5
    for seed in response.seeds:
        assert seed.source == common_pb2.TRACK_SOURCE_USER_TOP
        assert seed.track.spotify_id in user_top
        track = sim.catalog.track_by_spotify_id(seed.track.spotify_id)
        assert track is not None and seed.track.reccobeats_id == track.reccobeats_id
        expected = sim.catalog.audio_features(track)
        assert expected is not None
        assert seed.track.audio_features.energy == pytest.approx(expected["energy"])
        assert seed.track.audio_features.acousticness == pytest.approx(expected["acousticness"])
    assert [s.score for s in response.seeds] == sorted((s.score for s in response.seeds), reverse=True)
    assert {t.spotify_id for t in response.candidates} <= user_top
    assert not {t.spotify_id for t in response.candidates} & {s.track.spotify_id for s in response.seeds}


async def test_the_second_call_reads_the_user_context_from_the_cache(sim: RunningSim, mesh: Mesh) -> None:
    first = await gather(mesh)
    second = await gather(mesh, user_id="simuser7")  # naming the token's own user changes nothing

    assert spotify_calls(sim, "GET /me/top/tracks") == 1
    assert spotify_calls(sim, "GET /me/top/artists") == 1
    assert spotify_calls(sim, "GET /me") == 1, "the token's user is learnt once"
    assert [s.track.spotify_id for s in second.seeds] == [s.track.spotify_id for s in first.seeds]


async def test_another_token_is_another_user(sim: RunningSim, mesh: Mesh) -> None:
    other = "user-8-demo-token"
    response = await gather(mesh, token=other)

    user_top = {sim.catalog.tracks[i].spotify_id for i in top_tracks(sim.catalog, user_number(other), "medium_term")}
    assert response.seeds and all(s.track.spotify_id in user_top for s in response.seeds)


async def test_another_users_cached_context_is_out_of_reach(sim: RunningSim, mesh: Mesh) -> None:
    await gather(mesh)  # user 7's context, now cached

    with pytest.raises(aio.AioRpcError) as other_token:
        await gather(mesh, token="user-8-demo-token", user_id="simuser7")
    with pytest.raises(aio.AioRpcError) as expired:
        await gather(mesh, token="expired-user-7-token", user_id="simuser7")

    assert other_token.value.code() == grpc.StatusCode.PERMISSION_DENIED
    assert expired.value.code() == grpc.StatusCode.UNAUTHENTICATED
    assert spotify_calls(sim, "GET /me/top/tracks") == 1, "neither reached Spotify for user 7's data"


async def test_an_expired_token_is_unauthenticated(mesh: Mesh) -> None:
    with pytest.raises(aio.AioRpcError) as caught:
        await gather(mesh, token="expired-user-7-token")

    assert caught.value.code() == grpc.StatusCode.UNAUTHENTICATED
    assert "refresh" in (caught.value.details() or "")


# ---- artist discovery and the three seed sources, against the simulator's catalog


def genre_artists(sim: RunningSim, genre: str) -> list[str]:
    return [a.name for a in sim.catalog.artists if genre in a.genres]


async def discover(
    mesh: Mesh, prompt: str, mood: common_pb2.MoodProfile, token: str | None = TOKEN, shared: bool = False
) -> seed_gatherer_pb2.DiscoverArtistsResponse:
    metadata = ((SPOTIFY_TOKEN_HEADER, token),) if token else ()
    request = seed_gatherer_pb2.DiscoverArtistsRequest(mood_prompt=prompt, mood=mood, shared=shared)
    response: seed_gatherer_pb2.DiscoverArtistsResponse = await mesh.stub.DiscoverArtists(
        request, metadata=metadata, timeout=30
    )
    return response


def endpoint(sim: RunningSim, upstream: str, name: str) -> dict[str, int]:
    stats: dict[str, int] = sim.stats()["upstreams"][upstream]["endpoints"][name]
    return stats


async def test_discovery_fetches_artist_tracks_with_the_configured_parallelism_and_features_in_batches(
    sim: RunningSim,
) -> None:
    env = {"SPOTIFY_BASE_URL": sim.spotify_url, "DISCOVERY_MAX_ARTISTS": "6", "DISCOVERY_PARALLELISM": "3"}
    env["DISCOVERY_TRACKS_PER_ARTIST"] = "10"
    # No hedged copies: the counts below are the calls discovery makes.
    gateway_env = {"RECCOBEAT_BASE_URL": sim.reccobeats_url, "RECCOBEAT_HEDGE": "false"}
    async with running_mesh(env=env, gateway_env=gateway_env) as mesh:
        sim.set_faults(upstream="reccobeats", extra_latency_s=0.2)  # calls last long enough to overlap
        mood = common_pb2.MoodProfile(genres=["jazz", "soul"], targets=MOOD.targets)
        found = await discover(mesh, "slow jazz for a rainy sunday", mood)

    tracks = endpoint(sim, "reccobeats", "GET /artist/{id}/track")
    assert tracks["calls"] == 6 and tracks["inflight_peak"] == 3
    assert endpoint(sim, "reccobeats", "GET /artist")["calls"] == 1, "one batch of ReccoBeats artist IDs"
    features = endpoint(sim, "reccobeats", "GET /audio-features")
    assert features["calls"] == -(-len(found.tracks) // 40), "features in batches of 40"
    jazz = set(genre_artists(sim, "jazz"))
    fetched = {a.name for a in found.artists[:6]}
    assert fetched <= jazz, "the prompt names jazz: every fetched artist plays it"
    assert all(a.genres and a.reccobeats_id for a in found.artists[:6])
    assert found.tracks and {t.source for t in found.tracks} == {common_pb2.TRACK_SOURCE_ARTIST_DISCOVERY}
    assert all(any(a.name in jazz for a in t.track.artists) for t in found.tracks)
    assert [t.score for t in found.tracks] == sorted((t.score for t in found.tracks), reverse=True)


async def test_a_mood_is_discovered_once_then_served_from_the_cache_for_anyone(sim: RunningSim, mesh: Mesh) -> None:
    mood = common_pb2.MoodProfile(genres=["country"], targets=MOOD.targets)
    first = await discover(mesh, "country songs for a road trip", mood)
    calls = sim.stats()["upstreams"]["reccobeats"]["calls"], sim.stats()["upstreams"]["spotify"]["calls"]

    again = await discover(mesh, "Country songs for a road trip", mood, token="user-99-someone-else")

    assert (sim.stats()["upstreams"]["reccobeats"]["calls"], sim.stats()["upstreams"]["spotify"]["calls"]) == calls
    assert again.cache.hits == 1 and [t.track.spotify_id for t in again.tracks] == [
        t.track.spotify_id for t in first.tracks
    ]


def upstream_calls(sim: RunningSim) -> tuple[int, int]:
    stats = sim.stats()["upstreams"]
    return stats["reccobeats"]["calls"], stats["spotify"]["calls"]


async def test_a_lean_ask_reuses_the_discovery_of_another_mood_with_the_same_search(
    sim: RunningSim, mesh: Mesh
) -> None:
    calm = common_pb2.MoodProfile(genres=["jazz", "soul", "ambient"], targets=MOOD.targets)
    happy = common_pb2.MoodProfile(genres=["jazz", "funk", "disco"], targets=MOOD.targets)
    first = await discover(mesh, "calm jazz for a rainy evening", calm)
    calls = upstream_calls(sim)

    # The same genre searched for another mood: a lean ask takes what the first found, at no call.
    lean = await discover(mesh, "happy jazz for a workout", happy, shared=True)
    assert upstream_calls(sim) == calls
    assert (lean.cache.hits, lean.cache.misses) == (1, 0)
    assert [t.track.spotify_id for t in lean.tracks] == [t.track.spotify_id for t in first.tracks]

    # A full ask for that other mood makes its own discovery (its own pruning of the same search; the
    # searches and artist tracks it needs are in the caches by now).
    own = await discover(mesh, "happy jazz for a workout", happy)
    assert own.cache.misses >= 1

    # Another search (a different genre named) is not what the first found: discovered anew.
    folk = common_pb2.MoodProfile(genres=["folk", "soul", "ambient"], targets=MOOD.targets)
    other = await discover(mesh, "calm folk for a rainy evening", folk, shared=True)
    assert other.cache.misses >= 1
    assert {a.name for a in other.artists[:3]}.isdisjoint({a.name for a in first.artists[:3]})


async def test_lean_asks_missing_the_cache_together_share_one_discovery(sim: RunningSim, mesh: Mesh) -> None:
    moods = [
        common_pb2.MoodProfile(genres=["techno", extra], targets=MOOD.targets) for extra in ("house", "edm", "trance")
    ]
    sim.set_faults(upstream="reccobeats", extra_latency_s=0.2)  # the first is still running when the others ask
    found = await asyncio.gather(*(discover(mesh, "dark techno for a night out", m, shared=True) for m in moods))

    searches = endpoint(sim, "spotify", "GET /search")["calls"]
    assert searches == 1, "one artist search for the three asks"
    assert endpoint(sim, "reccobeats", "GET /artist")["calls"] == 1
    assert all([t.track.spotify_id for t in f.tracks] == [t.track.spotify_id for t in found[0].tracks] for f in found)
    assert found[0].tracks


async def test_a_named_artist_is_discovered_first_and_without_a_token_reccobeats_finds_it_by_name(
    sim: RunningSim, mesh: Mesh
) -> None:
    named = genre_artists(sim, "folk")[0]
    mood = common_pb2.MoodProfile(genres=["folk"], artists=[named], targets=MOOD.targets)
    with_token = await discover(mesh, f"something like {named}", mood)
    assert with_token.artists[0].name == named

    other_mood = common_pb2.MoodProfile(genres=["indie folk"], artists=[named], targets=MOOD.targets)  # not cached
    without = await discover(mesh, f"more like {named}, please", other_mood, token=None)
    assert without.artists[0].name == named and not without.artists[0].genres
    assert endpoint(sim, "reccobeats", "GET /artist/search")["calls"] >= 1
    assert any(w.code == common_pb2.WARNING_CODE_FALLBACK_USED for w in without.warnings)


async def test_gather_seeds_finds_the_named_track_and_what_the_prompt_rules_out(sim: RunningSim, mesh: Mesh) -> None:
    track = next(t for t in sim.catalog.tracks if t.in_reccobeats and len(t.title.split()) >= 2)
    artist = sim.catalog.artists[track.artist_indices[0]].name
    mood = common_pb2.MoodProfile(
        genres=["soul"],
        mentioned_tracks=[common_pb2.MentionedTrack(title=track.title, artist=artist)],
        avoid=["metal", "sad"],
        targets=MOOD.targets,
    )
    response: seed_gatherer_pb2.GatherSeedsResponse = await mesh.stub.GatherSeeds(
        seed_gatherer_pb2.GatherSeedsRequest(
            user_id="", mood_prompt=f"songs like {track.title} by {artist}, no metal", mood=mood, max_seeds=5
        ),
        metadata=((SPOTIFY_TOKEN_HEADER, TOKEN),),
        timeout=20,
    )

    assert response.seeds[0].track.spotify_id == track.spotify_id
    assert response.seeds[0].source == common_pb2.TRACK_SOURCE_USER_MENTIONED
    assert list(response.excluded.genres) == ["metal"], "metal is a genre in the catalog; sad is not"
    assert len(response.negative_seeds) == len(response.seeds) - 1
    metal = {
        t.spotify_id
        for t in sim.catalog.tracks
        if any("metal" in sim.catalog.artists[a].genres[0] for a in t.artist_indices)
    }
    assert set(response.negative_seeds) <= metal and not set(response.negative_seeds) & {
        s.track.spotify_id for s in response.seeds
    }


async def test_when_spotifys_search_fails_discovery_finds_the_named_artists_on_reccobeats(
    sim: RunningSim, mesh: Mesh
) -> None:
    named = genre_artists(sim, "soul")[0]
    sim.set_faults(upstream="spotify", outage=True)
    found = await discover(mesh, f"a soul evening with {named}", common_pb2.MoodProfile(artists=[named]))

    assert found.artists and found.artists[0].name == named and found.tracks
    assert any("Spotify's search failed" in w.message for w in found.warnings)

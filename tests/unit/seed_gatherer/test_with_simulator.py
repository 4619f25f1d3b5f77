"""End to end in one process: the simulator ("fast"), the real ReccoBeat gateway and the seed gatherer."""

from __future__ import annotations

from collections.abc import AsyncIterator

import grpc
import pytest
from grpc import aio
from segue.v1 import common_pb2, seed_gatherer_pb2

from services.common.context import SPOTIFY_TOKEN_HEADER
from sim.catalog.users import top_tracks, user_number
from sim.testing import RunningSim, running_sim
from tests.unit.seed_gatherer.mesh import Mesh, running_mesh

TOKEN = "user-7-demo-token"
MOOD = common_pb2.MoodProfile(
    targets=[
        common_pb2.FeatureTarget(feature="energy", target=0.3, min=0.1, max=0.5, weight=1.0),
        common_pb2.FeatureTarget(feature="acousticness", target=0.7, min=0.4, max=1.0, weight=0.6),
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

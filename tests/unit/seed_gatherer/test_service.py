"""The seed gatherer over gRPC, with the real ReccoBeat gateway and scripted Spotify / ReccoBeats HTTP."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Awaitable
from typing import Any

import grpc
import pytest
from grpc import aio
from segue.v1 import common_pb2, seed_gatherer_pb2

from services.common.call_context import SPOTIFY_TOKEN_HEADER
from services.common.features import fit_score
from services.seed_gatherer.seed_selection import GENRE_BONUS
from tests.unit.seed_gatherer.mesh import FakeReccoBeats, Mesh, features_row, running_mesh
from tests.unit.seed_gatherer.spotify_fake import TOKEN, FakeSpotify, artist_json, track_json

AUTH = ((SPOTIFY_TOKEN_HEADER, TOKEN),)
MOOD = common_pb2.MoodProfile(
    targets=[
        common_pb2.FeatureTarget(feature=common_pb2.AUDIO_FEATURE_ENERGY, target=0.9, min=0.7, max=1.0, weight=1.0),
        common_pb2.FeatureTarget(feature=common_pb2.AUDIO_FEATURE_VALENCE, target=0.8, min=0.6, max=1.0, weight=0.5),
    ],
    genres=["punk"],
)


def request(user_id: str = "user-7", max_seeds: int = 3) -> seed_gatherer_pb2.GatherSeedsRequest:
    return seed_gatherer_pb2.GatherSeedsRequest(
        user_id=user_id, mood_prompt="loud and happy", mood=MOOD, max_seeds=max_seeds
    )


@pytest.fixture
def spotify() -> FakeSpotify:
    """Top tracks in the user's order; by energy the best fits are hot1, hot2 (artist "a"), hot3 (artist "a")."""
    return FakeSpotify(
        top_tracks=[
            track_json("calm", ["b"]),
            track_json("hot3", ["a"]),
            track_json("hot1", ["a"]),
            track_json("hot2", ["a"]),
            track_json("warm", ["c"]),
            track_json("cold", ["d"]),
            track_json("unknown", ["e"]),  # not in ReccoBeats
        ],
        top_artists=[artist_json("a", genres=["pop"]), artist_json("c", genres=["skate punk"])],
        searches={'genre:"punk"': [track_json("punk1", ["p"]), track_json("punk2", ["q"])]},
    )


@pytest.fixture
def reccobeats() -> FakeReccoBeats:
    rows = {
        "calm": features_row("calm", energy=0.2, valence=0.3),
        "hot1": features_row("hot1", energy=0.9, valence=0.8),
        "hot2": features_row("hot2", energy=0.92, valence=0.8),
        "hot3": features_row("hot3", energy=0.85, valence=0.75),
        "warm": features_row("warm", energy=0.72, valence=0.7),
        "cold": features_row("cold", energy=0.05, valence=0.05),
        "punk1": features_row("punk1", energy=0.7, valence=0.6),
        "punk2": features_row("punk2", energy=0.95, valence=0.85),
    }
    return FakeReccoBeats(features=rows)


@pytest.fixture
async def mesh(spotify: FakeSpotify, reccobeats: FakeReccoBeats) -> AsyncIterator[Mesh]:
    async with running_mesh(spotify.transport(), reccobeats.transport()) as m:
        yield m


async def rpc_error(pending: Awaitable[Any]) -> aio.AioRpcError:
    with pytest.raises(aio.AioRpcError) as caught:
        await pending
    return caught.value


def seed_ids(response: seed_gatherer_pb2.GatherSeedsResponse) -> list[str]:
    return [s.track.spotify_id for s in response.seeds]


def codes(response: seed_gatherer_pb2.GatherSeedsResponse) -> set[int]:
    return {w.code for w in response.warnings}


@pytest.mark.parametrize("metadata", [(), ((SPOTIFY_TOKEN_HEADER, " "),)])
async def test_a_missing_token_is_unauthenticated(
    mesh: Mesh, spotify: FakeSpotify, metadata: tuple[tuple[str, str], ...]
) -> None:
    for pending in (
        mesh.stub.GatherSeeds(request(), metadata=metadata, timeout=5),
        mesh.stub.WarmUserContext(seed_gatherer_pb2.WarmUserContextRequest(user_id="u"), metadata=metadata, timeout=5),
    ):
        error = await rpc_error(pending)
        assert error.code() == grpc.StatusCode.UNAUTHENTICATED
        assert error.details() == "missing x-spotify-token metadata: pass the user's Spotify access token"
    assert spotify.requests == []


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        (seed_gatherer_pb2.GatherSeedsRequest(user_id="user-7\n", mood=MOOD), "user_id must be the Spotify user id"),
        (seed_gatherer_pb2.GatherSeedsRequest(user_id="u"), "mood is required"),
        (
            seed_gatherer_pb2.GatherSeedsRequest(user_id="u", mood=MOOD, max_seeds=6),
            "max_seeds must be 0..5 (0 means 5), got 6",
        ),
        (seed_gatherer_pb2.GatherSeedsRequest(user_id="u", mood=MOOD, max_seeds=-1), "got -1"),
        (seed_gatherer_pb2.GatherSeedsRequest(user_id="x" * 300, mood=MOOD), "up to 128 letters"),
        (
            seed_gatherer_pb2.GatherSeedsRequest(mood=common_pb2.MoodProfile(genres=["g"] * 51)),
            "mood.genres may hold at most 50 items, got 51",
        ),
        (seed_gatherer_pb2.GatherSeedsRequest(mood=MOOD, mood_prompt="x" * 2001), "mood_prompt must be at most 2000"),
    ],
)
async def test_bad_input_is_invalid_argument_with_a_message(
    mesh: Mesh, spotify: FakeSpotify, bad: seed_gatherer_pb2.GatherSeedsRequest, message: str
) -> None:
    error = await rpc_error(mesh.stub.GatherSeeds(bad, metadata=AUTH, timeout=5))

    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert message in error.details()
    assert spotify.requests == []


async def test_every_problem_is_named_at_once(mesh: Mesh) -> None:
    error = await rpc_error(
        mesh.stub.GatherSeeds(
            seed_gatherer_pb2.GatherSeedsRequest(user_id="a b", max_seeds=9), metadata=AUTH, timeout=5
        )
    )
    assert error.details().count(";") == 2


async def test_seeds_are_the_best_fitting_top_tracks_and_anchors_in_the_balanced_shares(mesh: Mesh) -> None:
    response = await mesh.stub.GatherSeeds(request(max_seeds=4), metadata=AUTH, timeout=10)

    # A vague prompt ("loud and happy") leans on the user's taste, who plays the mood's genre (skate punk):
    # 0.7 of the seeds are the user's own. hot3 fits better than warm, but artist "a" already has two seeds.
    assert response.user_top_share == pytest.approx(0.7)
    # The anchor is Spotify's first for the mood's genre; its features come later, with the recommendations'.
    assert seed_ids(response) == ["hot1", "hot2", "warm", "punk1"]
    assert [s.source for s in response.seeds] == [common_pb2.TRACK_SOURCE_USER_TOP] * 3 + [
        common_pb2.TRACK_SOURCE_MOOD_SEARCH
    ]
    for seed in response.seeds[:3]:
        assert seed.track.HasField("audio_features") and seed.track.reccobeats_id
    assert not response.seeds[3].track.HasField("audio_features")
    assert response.seeds[0].track.audio_features.energy == pytest.approx(0.9)
    # Candidates: the anchors, then the top tracks above the floor ("calm" and "cold" fit too poorly,
    # "unknown" has no features), each with its source.
    assert [(c.track.spotify_id, c.source) for c in response.candidates] == [
        ("punk1", common_pb2.TRACK_SOURCE_MOOD_SEARCH),
        ("punk2", common_pb2.TRACK_SOURCE_MOOD_SEARCH),
        ("hot1", common_pb2.TRACK_SOURCE_USER_TOP),
        ("hot2", common_pb2.TRACK_SOURCE_USER_TOP),
        ("hot3", common_pb2.TRACK_SOURCE_USER_TOP),
        ("warm", common_pb2.TRACK_SOURCE_USER_TOP),
    ]
    assert {t.phase for t in response.timings} == {"user_context", "mentions", "anchors", "exclusions", "select"}
    assert common_pb2.WARNING_CODE_MISSING_DATA in codes(response)
    assert response.cache.misses >= 1
    assert [a.spotify_id for a in response.top_artists] == ["a", "c"]


async def test_a_genre_of_the_users_top_artist_matching_the_mood_adds_the_bonus(mesh: Mesh) -> None:
    response = await mesh.stub.GatherSeeds(request(max_seeds=5), metadata=AUTH, timeout=10)
    seeds = {s.track.spotify_id: s for s in response.seeds}

    # warm's artist plays "skate punk" and the mood asks for punk; hot1's artist plays "pop"
    warm, hot1 = seeds["warm"], seeds["hot1"]
    assert warm.score == pytest.approx(fit_score(warm.track.audio_features, MOOD.targets) + GENRE_BONUS)
    assert hot1.score == pytest.approx(fit_score(hot1.track.audio_features, MOOD.targets))


async def test_a_second_call_for_the_same_user_reads_the_context_from_the_cache(
    mesh: Mesh, spotify: FakeSpotify, reccobeats: FakeReccoBeats
) -> None:
    first = await mesh.stub.GatherSeeds(request(), metadata=AUTH, timeout=10)
    calls_after_first = (len(spotify.requests), len(reccobeats.requests))

    second = await mesh.stub.GatherSeeds(request(), metadata=AUTH, timeout=10)

    assert spotify.paths().count("/v1/me/top/tracks") == 1
    assert (len(spotify.requests), len(reccobeats.requests)) == calls_after_first  # the gateway cached features
    assert seed_ids(second) == seed_ids(first)
    assert second.cache.hits >= 1 + len(seed_ids(first))
    assert second.cache.misses == 0


async def test_warm_user_context_caches_the_context_and_the_features(
    mesh: Mesh, spotify: FakeSpotify, reccobeats: FakeReccoBeats
) -> None:
    warm = seed_gatherer_pb2.WarmUserContextRequest(user_id="user-7")
    first = await mesh.stub.WarmUserContext(warm, metadata=AUTH, timeout=10)
    second = await mesh.stub.WarmUserContext(warm, metadata=AUTH, timeout=10)
    features_before = len(reccobeats.requests)

    gathered = await mesh.stub.GatherSeeds(request(), metadata=AUTH, timeout=10)

    assert (first.top_tracks, first.top_artists, first.from_cache) == (7, 2, False)
    assert second.from_cache
    assert spotify.paths().count("/v1/me/top/tracks") == 1 and spotify.paths().count("/v1/me/top/artists") == 1
    # GatherSeeds asked ReccoBeats for nothing: the top tracks' features were cached by the warming.
    assert reccobeats.requests[features_before:] == []
    assert seed_ids(gathered) == ["hot1", "hot2", "punk1"]


async def test_a_rejected_spotify_token_is_unauthenticated_and_never_logged(
    mesh: Mesh, spotify: FakeSpotify, caplog: pytest.LogCaptureFixture
) -> None:
    spotify.status["/me/top/tracks"] = 401
    with caplog.at_level(logging.DEBUG):
        error = await rpc_error(mesh.stub.GatherSeeds(request(), metadata=AUTH, timeout=10))

    assert error.code() == grpc.StatusCode.UNAUTHENTICATED
    assert "expired or invalid" in error.details()
    assert TOKEN not in error.details()
    assert caplog.records and TOKEN not in caplog.text


async def test_spotify_down_falls_back_to_a_genre_search(mesh: Mesh, spotify: FakeSpotify) -> None:
    spotify.status.update({"/me/top/tracks": 503, "/me/top/artists": 503})

    response = await mesh.stub.GatherSeeds(request(), metadata=AUTH, timeout=10)

    assert seed_ids(response) == ["punk1", "punk2"]
    assert {s.source for s in response.seeds} == {common_pb2.TRACK_SOURCE_MOOD_SEARCH}
    assert {common_pb2.WARNING_CODE_UPSTREAM_UNAVAILABLE, common_pb2.WARNING_CODE_FALLBACK_USED} <= codes(response)
    fallback = next(w for w in response.warnings if w.code == common_pb2.WARNING_CODE_FALLBACK_USED)
    assert "Spotify did not answer" in fallback.message and 'genre:"punk"' in fallback.message
    assert [(c.track.spotify_id, c.source) for c in response.candidates] == [
        ("punk1", common_pb2.TRACK_SOURCE_MOOD_SEARCH),
        ("punk2", common_pb2.TRACK_SOURCE_MOOD_SEARCH),
    ]
    assert response.user_top_share == 0


async def test_a_new_user_without_top_tracks_gets_seeds_from_the_genre_search(mesh: Mesh, spotify: FakeSpotify) -> None:
    spotify.top_tracks.clear()

    response = await mesh.stub.GatherSeeds(request(), metadata=AUTH, timeout=10)

    assert seed_ids(response) == ["punk1", "punk2"]
    assert codes(response) == {common_pb2.WARNING_CODE_FALLBACK_USED}
    assert "the user has none yet" in response.warnings[0].message


async def test_nothing_to_fall_back_on_gives_no_seeds_and_says_why(mesh: Mesh, spotify: FakeSpotify) -> None:
    spotify.top_tracks.clear()
    mood = common_pb2.MoodProfile(targets=MOOD.targets)  # no genres, no artists

    response = await mesh.stub.GatherSeeds(
        seed_gatherer_pb2.GatherSeedsRequest(user_id="user-7", mood=mood), metadata=AUTH, timeout=10
    )

    assert list(response.seeds) == []
    assert codes(response) == {common_pb2.WARNING_CODE_PARTIAL_RESULT}
    assert "names no genres or artists" in response.warnings[0].message


async def test_seed_phases_are_observed_in_the_histogram(mesh: Mesh) -> None:
    await mesh.stub.GatherSeeds(request(), metadata=AUTH, timeout=10)

    for phase in ("user_context", "mentions", "anchors", "exclusions", "select"):
        assert mesh.registry.get_sample_value("segue_seed_phase_seconds_count", {"phase": phase}) == 1


async def test_with_the_gateway_down_the_seeds_are_top_tracks_unscored_in_the_users_order(spotify: FakeSpotify) -> None:
    async with running_mesh(spotify.transport(), gateway_up=False, env={"PEER_TIMEOUT_S": "0.3"}) as mesh:
        response = await mesh.stub.GatherSeeds(request(max_seeds=4), metadata=AUTH, timeout=10)

    # three of four seeds the user's (hot2 would be artist a's third), one anchor
    assert seed_ids(response) == ["calm", "hot3", "hot1", "punk1"]
    assert {s.score for s in response.seeds} == {0.0}
    assert not any(s.track.HasField("audio_features") for s in response.seeds)
    assert [(w.code, w.component) for w in response.warnings] == [
        (common_pb2.WARNING_CODE_UPSTREAM_UNAVAILABLE, "reccobeat_gateway")
    ]

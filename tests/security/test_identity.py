"""The victim scenario of issue 9: with user 1's context warm in Redis, nobody but user 1's token reaches it.

Before: a Recommend naming user 1 with an expired token, or with user 2's token, was answered from user 1's
cached context (20 of 20 tracks identical to user 1's own playlist), and SeedGatherer.GatherSeeds with an
expired token returned user 1's top tracks. Now the user is whom the token belongs to, verified with
Spotify's GET /v1/me before any per-user read.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass

import grpc
import httpx
import pytest
import pytest_asyncio
import redis.asyncio as aioredis
from grpc import aio
from segue.v1 import (
    common_pb2,
    orchestrator_pb2,
    orchestrator_pb2_grpc,
    seed_gatherer_pb2,
    seed_gatherer_pb2_grpc,
)

from segue_cli.mesh import Mesh
from services.common import stubs
from sim.app import DEFAULT_SEED
from sim.catalog import build_catalog
from sim.catalog.users import TIME_RANGES, top_tracks
from sim.profile import load_profile
from tests.security.conftest import (
    ATTACKER_TOKEN,
    EXPIRED_TOKEN,
    VICTIM,
    VICTIM_ID,
    VICTIM_TOKEN,
    spotify_token_metadata,
)

pytestmark = [pytest.mark.integration, pytest.mark.asyncio(loop_scope="session")]

PROMPT = "rainy sunday, slow jazz, nothing sad"


def top_track_ids(user: int) -> set[str]:
    catalog = build_catalog(DEFAULT_SEED, load_profile("fast").catalog)
    return {catalog.tracks[i].spotify_id for r in TIME_RANGES for i in top_tracks(catalog, user, r)}


@dataclass
class Warm:
    orchestrator: orchestrator_pb2_grpc.OrchestratorAsyncStub
    seeds: seed_gatherer_pb2_grpc.SeedGathererAsyncStub
    victims_answer: orchestrator_pb2.RecommendResponse


@pytest_asyncio.fixture(loop_scope="session")
async def warm(open_mesh: Mesh) -> AsyncIterator[Warm]:
    """User 1 has asked for a playlist: their context (top tracks, artists) and a session are cached."""
    async with (
        aio.insecure_channel(open_mesh.orchestrator) as orchestrator,
        aio.insecure_channel(open_mesh.addresses["seed_gatherer"]) as seeds,
    ):
        stub = stubs.orchestrator(orchestrator)
        request = orchestrator_pb2.RecommendRequest(user_id=VICTIM_ID, mood_prompt=PROMPT, size=20)
        answer = await stub.Recommend(request, metadata=spotify_token_metadata(VICTIM_TOKEN), timeout=60)
        assert len(answer.tracks) == 20
        yield Warm(stub, stubs.seed_gatherer(seeds), answer)


async def spotify_top_calls(sim_http: httpx.AsyncClient) -> int:
    endpoints = (await sim_http.get("/__sim/stats")).json()["upstreams"]["spotify"]["endpoints"]
    return int(endpoints["GET /me/top/tracks"]["calls"] + endpoints["GET /me/top/artists"]["calls"])


async def refused(pending: object) -> aio.AioRpcError:
    with pytest.raises(aio.AioRpcError) as caught:
        await pending  # type: ignore[misc]
    return caught.value


def leaks(error: aio.AioRpcError, warm: Warm) -> list[str]:
    """Any of the victim's tracks (id or title) in what the refused caller got back: the status details."""
    text = (error.details() or "") + repr(error.trailing_metadata())
    return [
        e.track.spotify_id for e in warm.victims_answer.tracks if e.track.spotify_id in text or e.track.title in text
    ]


@pytest.mark.parametrize(
    ("token", "code", "message"),
    [
        (EXPIRED_TOKEN, grpc.StatusCode.UNAUTHENTICATED, "Spotify rejected the access token (expired or invalid)"),
        (ATTACKER_TOKEN, grpc.StatusCode.PERMISSION_DENIED, "user_id names a different user than the one"),
    ],
    ids=["expired-token", "another-users-token"],
)
async def test_a_recommend_naming_the_victim_gets_no_byte_of_their_data(
    warm: Warm, sim_http: httpx.AsyncClient, token: str, code: grpc.StatusCode, message: str
) -> None:
    before = await spotify_top_calls(sim_http)
    for rpc in ("Recommend", "RecommendStream"):
        request = orchestrator_pb2.RecommendRequest(user_id=VICTIM_ID, mood_prompt=PROMPT, size=20)
        if rpc == "Recommend":
            pending = warm.orchestrator.Recommend(request, metadata=spotify_token_metadata(token), timeout=30)
        else:
            stream = warm.orchestrator.RecommendStream(
                orchestrator_pb2.RecommendStreamRequest(request=request),
                metadata=spotify_token_metadata(token),
                timeout=30,
            )
            pending = stream.read()  # not even a progress event (the first carries the mood) comes back
        error = await refused(pending)
        assert error.code() == code, rpc
        assert message in (error.details() or ""), rpc
        assert not leaks(error, warm)
    assert await spotify_top_calls(sim_http) == before, "nothing of the victim's was fetched either"


@pytest.mark.parametrize(
    ("token", "code"),
    [(EXPIRED_TOKEN, grpc.StatusCode.UNAUTHENTICATED), (ATTACKER_TOKEN, grpc.StatusCode.PERMISSION_DENIED)],
    ids=["expired-token", "another-users-token"],
)
async def test_the_seed_gatherer_called_directly_gives_no_byte_of_the_victims_context(
    warm: Warm, sim_http: httpx.AsyncClient, token: str, code: grpc.StatusCode
) -> None:
    before = await spotify_top_calls(sim_http)
    gather = seed_gatherer_pb2.GatherSeedsRequest(user_id=VICTIM_ID, mood=warm.victims_answer.mood, max_seeds=5)
    warm_up = seed_gatherer_pb2.WarmUserContextRequest(user_id=VICTIM_ID)
    for pending in (
        warm.seeds.GatherSeeds(gather, metadata=spotify_token_metadata(token), timeout=30),
        warm.seeds.WarmUserContext(warm_up, metadata=spotify_token_metadata(token), timeout=30),
    ):
        error = await refused(pending)
        assert error.code() == code
        assert not leaks(error, warm)
    assert await spotify_top_calls(sim_http) == before


async def test_an_expired_token_with_no_user_named_is_refused_all_the_same(warm: Warm) -> None:
    request = orchestrator_pb2.RecommendRequest(mood_prompt=PROMPT, size=20)
    error = await refused(warm.orchestrator.Recommend(request, metadata=spotify_token_metadata(EXPIRED_TOKEN)))
    assert error.code() == grpc.StatusCode.UNAUTHENTICATED


async def test_the_attackers_own_request_holds_only_their_own_data(warm: Warm, open_mesh: Mesh) -> None:
    attackers_only, victims_only = top_track_ids(2) - top_track_ids(VICTIM), top_track_ids(VICTIM) - top_track_ids(2)
    seeds = await warm.seeds.GatherSeeds(
        seed_gatherer_pb2.GatherSeedsRequest(mood=warm.victims_answer.mood, max_seeds=5),
        metadata=spotify_token_metadata(ATTACKER_TOKEN),
        timeout=30,
    )
    # The user's own source: anchors and named tracks come from the catalog, whoever asks.
    chosen = {
        s.track.spotify_id for s in [*seeds.seeds, *seeds.candidates] if s.source == common_pb2.TRACK_SOURCE_USER_TOP
    }
    assert chosen and chosen <= attackers_only | (top_track_ids(2) & top_track_ids(VICTIM))
    assert not chosen & victims_only

    # Even with the victim's session id: sessions belong to the verified user, so the victim's is not found.
    request = orchestrator_pb2.RecommendRequest(mood_prompt=PROMPT, size=20, session_id=warm.victims_answer.session_id)
    answer = await warm.orchestrator.Recommend(request, metadata=spotify_token_metadata(ATTACKER_TOKEN), timeout=60)
    own = {e.track.spotify_id for e in answer.tracks if e.source == common_pb2.TRACK_SOURCE_USER_TOP}
    assert not own & victims_only
    # (The rest of a playlist for a catalog-style prompt is the catalog's, the same for anyone who asks.)
    # The two sessions with one id are two entries, one per verified user, neither naming a raw user id.
    redis = aioredis.from_url(open_mesh.redis_url)
    try:
        keys = [k.decode() async for k in redis.scan_iter(match=f"segue:orchestrator:session:*:{answer.session_id}")]
    finally:
        await redis.aclose()
    assert answer.session_id == warm.victims_answer.session_id
    assert len(keys) == 2 and len({k.split(":")[3] for k in keys}) == 2
    assert not any("simuser" in k for k in keys)


async def test_the_victim_still_gets_their_own_data_by_id_or_uri(warm: Warm) -> None:
    for user_id in (VICTIM_ID, f"spotify:user:{VICTIM_ID}", ""):
        request = orchestrator_pb2.RecommendRequest(user_id=user_id, mood_prompt=PROMPT, size=20)
        answer = await warm.orchestrator.Recommend(request, metadata=spotify_token_metadata(VICTIM_TOKEN), timeout=60)
        assert [e.track.spotify_id for e in answer.tracks] == [e.track.spotify_id for e in warm.victims_answer.tracks]

"""Recommend end to end: orchestrator → llm_gateway / seed_gatherer / reccobeat_gateway → simulator, over gRPC."""

from __future__ import annotations

import grpc
import httpx
import pytest
from grpc import aio
from segue.v1 import common_pb2, orchestrator_pb2, orchestrator_pb2_grpc

from segue_cli.client import recommend_request
from segue_cli.mesh import Mesh
from sim.app import DEFAULT_SEED
from sim.catalog import build_catalog
from sim.profile import load_profile
from tests.integration.probes import eventually, handled

pytestmark = [pytest.mark.integration, pytest.mark.asyncio(loop_scope="session")]

TOKEN = (("x-spotify-token", "user-11-integration"),)


def req(prompt: str, user: str = "", size: int | None = None, session: str = "") -> orchestrator_pb2.RecommendRequest:
    return recommend_request(prompt, user, size, session)


async def test_recommend_returns_the_requested_number_of_distinct_catalog_tracks(
    orchestrator: orchestrator_pb2_grpc.OrchestratorAsyncStub,
) -> None:
    response = await orchestrator.Recommend(
        req("rainy sunday, slow jazz, nothing sad", size=12), metadata=TOKEN, timeout=60
    )
    ids = [e.track.spotify_id for e in response.tracks]
    assert len(ids) == 12
    assert len(set(ids)) == 12

    catalog = build_catalog(DEFAULT_SEED, load_profile("fast").catalog)
    for entry in response.tracks:
        known = catalog.track_by_spotify_id(entry.track.spotify_id)
        assert known is not None, f"{entry.track.spotify_id} is not in the simulator's catalog"
        assert entry.track.title == known.title
        assert entry.track.spotify_uri == f"spotify:track:{known.spotify_id}"
        assert 0.0 <= entry.score <= 1.0 and entry.reason
    assert response.mood.targets, "the mood profile that was used comes back"
    assert {t.phase for t in response.timings} >= {"mood", "seeds", "candidates", "rank", "total"}
    assert response.session_id and response.request_id


async def test_unset_size_means_twenty(orchestrator: orchestrator_pb2_grpc.OrchestratorAsyncStub) -> None:
    response = await orchestrator.Recommend(req("upbeat indie for a summer road trip"), metadata=TOKEN, timeout=60)
    assert len(response.tracks) == 20


async def test_stream_yields_progress_in_phase_order_then_the_playlist(
    orchestrator: orchestrator_pb2_grpc.OrchestratorAsyncStub,
) -> None:
    call = orchestrator.RecommendStream(
        orchestrator_pb2.RecommendStreamRequest(request=req("late night techno, dark and driving", size=8)),
        metadata=TOKEN,
        timeout=60,
    )
    events = [event async for event in call]
    phases = [e.progress.phase for e in events if e.HasField("progress")]
    assert phases == [
        orchestrator_pb2.PHASE_MOOD_ANALYZED,
        orchestrator_pb2.PHASE_SEEDS_GATHERED,
        orchestrator_pb2.PHASE_CANDIDATES_FOUND,
        orchestrator_pb2.PHASE_RANKED,
    ]
    assert events[-1].HasField("result") and all(not e.HasField("result") for e in events[:-1])
    assert len(events[-1].result.tracks) == 8
    assert events[0].progress.mood.targets, "the first event carries the mood that was understood"


@pytest.mark.parametrize(
    ("request_", "metadata", "code", "message"),
    [
        (req(""), TOKEN, grpc.StatusCode.INVALID_ARGUMENT, "mood_prompt must not be empty"),
        (req("calm piano", size=-1), TOKEN, grpc.StatusCode.INVALID_ARGUMENT, "size must be between 1 and 100"),
        (req("calm piano", size=500), TOKEN, grpc.StatusCode.INVALID_ARGUMENT, "got 500"),
        (req("calm piano"), (), grpc.StatusCode.UNAUTHENTICATED, "missing x-spotify-token"),
        (
            # a user whose context is not cached yet: the token reaches Spotify, which refuses it
            req("calm piano", user="never-seen-user"),
            (("x-spotify-token", "expired-session-token"),),
            grpc.StatusCode.UNAUTHENTICATED,
            "token",
        ),
    ],
    ids=["empty-prompt", "size-minus-one", "size-500", "no-token", "expired-token"],
)
async def test_bad_input_gets_a_clear_status(
    orchestrator: orchestrator_pb2_grpc.OrchestratorAsyncStub,
    request_: orchestrator_pb2.RecommendRequest,
    metadata: tuple[tuple[str, str], ...],
    code: grpc.StatusCode,
    message: str,
) -> None:
    with pytest.raises(aio.AioRpcError) as exc:
        await orchestrator.Recommend(request_, metadata=metadata, timeout=30)
    assert exc.value.code() == code
    assert message in (exc.value.details() or "")


async def test_a_warm_repeat_makes_no_llm_call_and_a_session_follow_up_brings_new_tracks(
    orchestrator: orchestrator_pb2_grpc.OrchestratorAsyncStub, sim_http: httpx.AsyncClient
) -> None:
    prompt = "focus music for coding, instrumental, no vocals"
    first = await orchestrator.Recommend(req(prompt, size=10), metadata=TOKEN, timeout=60)
    stats_before = (await sim_http.get("/__sim/stats")).json()

    again = await orchestrator.Recommend(req(prompt, size=10), metadata=TOKEN, timeout=60)
    assert again.llm.calls == 0
    follow_up = await orchestrator.Recommend(req(prompt, size=10, session=first.session_id), metadata=TOKEN, timeout=60)
    stats_after = (await sim_http.get("/__sim/stats")).json()
    gemini_calls = stats_after["upstreams"]["gemini"]["calls"] - stats_before["upstreams"]["gemini"]["calls"]
    assert gemini_calls == 0, "the repeat and the follow-up reuse the mood"
    assert follow_up.session_id == first.session_id
    assert not {e.track.spotify_id for e in first.tracks} & {e.track.spotify_id for e in follow_up.tracks}


async def test_prefetch_warms_the_users_top_tracks(
    mesh: Mesh, orchestrator: orchestrator_pb2_grpc.OrchestratorAsyncStub, sim_http: httpx.AsyncClient
) -> None:
    async def top_calls() -> int:
        stats = (await sim_http.get("/__sim/stats")).json()
        return int(stats["upstreams"]["spotify"]["endpoints"]["GET /me/top/tracks"]["calls"])

    async def warmings() -> float:
        return await handled(mesh, "seed_gatherer", "WarmUserContext")

    token = (("x-spotify-token", "user-23-prefetch"),)
    before, warmed_before = await top_calls(), await warmings()
    reply = await orchestrator.Prefetch(
        orchestrator_pb2.PrefetchRequest(user_id="simuser23"), metadata=token, timeout=5
    )
    assert reply.accepted

    async def prefetch_done() -> bool:
        return await warmings() > warmed_before

    # Prefetch answers at once; its work has finished (the context is cached) when WarmUserContext has.
    await eventually(prefetch_done, "the prefetch's WarmUserContext call finished")
    warmed = await top_calls()
    assert warmed == before + 1
    await orchestrator.Recommend(req("chill acoustic morning", user="simuser23", size=5), metadata=token, timeout=60)
    assert await top_calls() == warmed, "Recommend found the context cached"


async def test_gemini_outage_degrades_to_a_heuristic_mood_and_says_so(
    orchestrator: orchestrator_pb2_grpc.OrchestratorAsyncStub, sim_http: httpx.AsyncClient
) -> None:
    await sim_http.post("/__sim/faults", json={"upstream": "gemini", "outage": True})
    try:
        response = await orchestrator.Recommend(
            req("sunny saturday brunch, happy acoustic", size=6), metadata=TOKEN, timeout=60
        )
    finally:
        await sim_http.post("/__sim/faults", json={"clear": True})
    assert len(response.tracks) == 6
    assert response.mood.source == common_pb2.MOOD_SOURCE_HEURISTIC
    assert any(
        w.code == common_pb2.WARNING_CODE_FALLBACK_USED and w.component == "llm_gateway" for w in response.warnings
    )


async def test_metrics_count_handled_recommend_calls_by_code(
    mesh: Mesh, orchestrator: orchestrator_pb2_grpc.OrchestratorAsyncStub
) -> None:
    before = await handled(mesh, "orchestrator", "Recommend")
    await orchestrator.Recommend(req("metrics check, mellow", size=3), metadata=TOKEN, timeout=60)
    assert await handled(mesh, "orchestrator", "Recommend") == before + 1


async def test_a_slow_reccobeats_gives_a_partial_playlist_at_the_deadline(
    orchestrator: orchestrator_pb2_grpc.OrchestratorAsyncStub, sim_http: httpx.AsyncClient
) -> None:
    token = (("x-spotify-token", "user-41-deadline"),)
    # First a normal request, so the user's context and its audio features are cached.
    await orchestrator.Recommend(req("mellow evening warm-up", user="simuser41", size=5), metadata=token, timeout=60)
    # The deadline leaves a loaded machine ample time for the mood and the seeds; ReccoBeats never makes it.
    await sim_http.post("/__sim/faults", json={"upstream": "reccobeats", "extra_latency_s": 10})
    try:
        response = await orchestrator.Recommend(
            req("stormy harbour at midnight, brooding", user="simuser41", size=5), metadata=token, timeout=5
        )
    finally:
        await sim_http.post("/__sim/faults", json={"clear": True})
    assert response.tracks, "the seeds and the user's own tracks still make a playlist"
    assert all(e.source != common_pb2.TRACK_SOURCE_RECOMMENDATION for e in response.tracks)
    partial = [w for w in response.warnings if w.code == common_pb2.WARNING_CODE_PARTIAL_RESULT]
    assert any(w.component == "reccobeat_gateway" and "deadline" in w.message for w in partial)

"""The orchestrator servicer over gRPC, with the real peers running in this process against the simulator."""

from __future__ import annotations

from collections.abc import AsyncIterator

import grpc
import httpx
import pytest
from google.rpc.error_details_pb2 import BadRequest
from grpc import aio
from grpc_status import rpc_status
from prometheus_client import CollectorRegistry
from segue.v1 import common_pb2, orchestrator_pb2

from services.common.metrics import GrpcMetrics
from services.orchestrator.peers import Peers
from services.orchestrator.popular import PopularMoods, PopularSettings, RecentPrompts
from tests.unit.orchestrator.inprocess_mesh import InProcessMesh, in_process_mesh

TOKEN = (("x-spotify-token", "user-5-unit"),)


@pytest.fixture
async def mesh() -> AsyncIterator[InProcessMesh]:
    async with in_process_mesh() as running:
        yield running


def recommend(prompt: str, size: int | None = None, user: str = "simuser5") -> orchestrator_pb2.RecommendRequest:
    request = orchestrator_pb2.RecommendRequest(user_id=user, mood_prompt=prompt)
    if size is not None:
        request.size = size
    return request


async def test_recommend_answers_with_an_ordered_playlist_and_its_accounting(mesh: InProcessMesh) -> None:
    response = await mesh.stub.Recommend(recommend("rainy sunday, slow jazz", size=7), metadata=TOKEN, timeout=30)
    assert len(response.tracks) == 7
    assert len({e.track.spotify_id for e in response.tracks}) == 7
    assert response.llm.calls == 1 and response.mood.source == common_pb2.MOOD_SOURCE_LLM
    assert [t.phase for t in response.timings] == ["admission", "mood", "seeds", "candidates", "rank", "total"]
    total = response.timings[-1].seconds
    assert total == pytest.approx(sum(t.seconds for t in response.timings[:-1]), abs=0.05), "the total counts them all"
    energies = [e.track.audio_features.energy for e in response.tracks if e.track.HasField("audio_features")]
    target = next(t for t in response.mood.targets if t.feature == common_pb2.AUDIO_FEATURE_ENERGY)
    assert sum(energies) / len(energies) < 0.6 and target.max < 0.7, "a slow jazz playlist is not high-energy"

    orchestrator = mesh.services["orchestrator"]
    for phase in ("mood", "seeds", "candidates", "rank", "total"):
        assert orchestrator.metric("segue_recommend_phase_seconds_count", phase=phase) == 1
    total = next(t.seconds for t in response.timings if t.phase == "total")
    assert orchestrator.metric("segue_recommend_phase_seconds_sum", phase="total") == pytest.approx(total)
    # the orchestrator's calls to its peers, seen from its side
    to_llm = {"grpc_type": "server_stream", "grpc_service": "segue.v1.LlmGateway", "grpc_method": "AnalyzeMoodStream"}
    assert orchestrator.metric("grpc_client_started_total", **to_llm) == 1


async def test_each_warning_in_an_answer_is_counted_by_code_and_component(mesh: InProcessMesh) -> None:
    # More tracks than the fast catalog's pool can fill: the answer is partial and says so.
    response = await mesh.stub.Recommend(recommend("rainy sunday, slow jazz", size=100), metadata=TOKEN, timeout=30)
    assert response.warnings
    orchestrator = mesh.services["orchestrator"]
    for warning in response.warnings:
        code = common_pb2.WarningCode.Name(warning.code).removeprefix("WARNING_CODE_").lower()
        expected = sum(w.code == warning.code and w.component == warning.component for w in response.warnings)
        assert orchestrator.metric("segue_recommend_warnings_total", code=code, component=warning.component) == expected


async def test_requests_are_checked_before_any_peer_is_called(mesh: InProcessMesh) -> None:
    for request, metadata, code in [
        (recommend("calm", size=101), TOKEN, grpc.StatusCode.INVALID_ARGUMENT),
        (recommend(" "), TOKEN, grpc.StatusCode.INVALID_ARGUMENT),
        (recommend("calm"), (), grpc.StatusCode.UNAUTHENTICATED),
    ]:
        with pytest.raises(aio.AioRpcError) as exc:
            await mesh.stub.Recommend(request, metadata=metadata, timeout=10)
        assert exc.value.code() == code


async def test_a_bad_request_names_its_fields_in_a_bad_request_detail(mesh: InProcessMesh) -> None:
    with pytest.raises(aio.AioRpcError) as exc:
        await mesh.stub.Recommend(recommend("calm", size=101), metadata=TOKEN, timeout=10)
    assert exc.value.details() == "size must be between 1 and 100 (or 0 for 20), got 101"
    status = rpc_status.from_call(exc.value)
    assert status is not None and status.code == grpc.StatusCode.INVALID_ARGUMENT.value[0]
    (detail,) = status.details
    bad = BadRequest()
    assert detail.Unpack(bad)
    assert [(v.field, v.description) for v in bad.field_violations] == [("size", exc.value.details())]


async def test_an_unreachable_llm_gateway_costs_a_connect_budget_and_the_mood_comes_from_keywords(
    mesh: InProcessMesh,
) -> None:
    await mesh.services["llm_gateway"].running.shutdown(drain_delay_s=0, grace_s=0)
    # The old behaviour waited for the gateway until this deadline and failed DEADLINE_EXCEEDED.
    response = await mesh.stub.Recommend(recommend("rainy sunday, slow jazz", size=5), metadata=TOKEN, timeout=20)
    assert response.mood.source == common_pb2.MOOD_SOURCE_HEURISTIC
    assert "jazz" in response.mood.genres
    assert len(response.tracks) == 5
    fallback = [w for w in response.warnings if w.code == common_pb2.WARNING_CODE_FALLBACK_USED]
    assert [w.component for w in fallback] == ["orchestrator"]
    assert "llm_gateway" in fallback[0].message and "keyword" in fallback[0].message


async def test_an_unreachable_seed_gatherer_leaves_seeds_from_the_moods_artists(mesh: InProcessMesh) -> None:
    await mesh.services["seed_gatherer"].running.shutdown(drain_delay_s=0, grace_s=0)
    response = await mesh.stub.Recommend(recommend("rainy sunday, slow jazz", size=5), metadata=TOKEN, timeout=20)
    assert len(response.tracks) == 5
    assert common_pb2.TRACK_SOURCE_USER_TOP not in {e.source for e in response.tracks}
    fallback = [w for w in response.warnings if w.code == common_pb2.WARNING_CODE_FALLBACK_USED]
    assert any("seed gatherer is unreachable" in w.message for w in fallback)


async def test_with_no_seed_gatherer_and_no_artist_to_start_from_the_error_names_the_peer(
    mesh: InProcessMesh,
) -> None:
    for name in ("seed_gatherer", "llm_gateway"):
        await mesh.services[name].running.shutdown(drain_delay_s=0, grace_s=0)
    # Keyword reading of a prompt that names no artist: nothing to seed recommendations with.
    with pytest.raises(aio.AioRpcError) as exc:
        await mesh.stub.Recommend(recommend("anything at all"), metadata=TOKEN, timeout=20)
    assert exc.value.code() == grpc.StatusCode.UNAVAILABLE
    assert "seed_gatherer" in (exc.value.details() or "")


async def test_prefetch_is_accepted_at_once_and_checks_its_input(mesh: InProcessMesh) -> None:
    reply = await mesh.stub.Prefetch(orchestrator_pb2.PrefetchRequest(user_id="simuser5"), metadata=TOKEN, timeout=5)
    assert reply.accepted and not reply.reason
    # PREFETCH_USER_QUOTA is 2 a minute: more for the same user are dropped, not queued, and say why.
    more = [await mesh.stub.Prefetch(orchestrator_pb2.PrefetchRequest(), metadata=TOKEN, timeout=5) for _ in range(4)]
    assert sum(r.accepted for r in more) <= 1
    assert all(r.reason.startswith("dropped: ") for r in more if not r.accepted)
    for user_id, code in (("a b", grpc.StatusCode.INVALID_ARGUMENT), ("simuser6", grpc.StatusCode.PERMISSION_DENIED)):
        with pytest.raises(aio.AioRpcError) as exc:
            await mesh.stub.Prefetch(orchestrator_pb2.PrefetchRequest(user_id=user_id), metadata=TOKEN, timeout=5)
        assert exc.value.code() == code


async def test_the_popular_moods_job_warms_a_mood_for_new_users_and_stops_cleanly(mesh: InProcessMesh) -> None:
    s = mesh.services
    registry = CollectorRegistry()
    peers = Peers.connect(
        s["llm_gateway"].address,
        s["seed_gatherer"].address,
        s["reccobeat_gateway"].address,
        10,
        GrpcMetrics.create(registry, "client"),
    )
    settings = PopularSettings(moods=("calm piano for reading",), interval_s=3600)
    job = PopularMoods(peers, settings, RecentPrompts(60), registry)
    try:
        assert await job.warm_once() == 1
        assert registry.get_sample_value("segue_popular_mood_passes_total", {"outcome": "done"}) == 1
        new_user = (("x-spotify-token", "user-6-new-to-segue"),)
        response = await mesh.stub.Recommend(
            recommend("Calm  piano for reading", size=20, user=""), metadata=new_user, timeout=30
        )
        assert response.llm.calls == 0 and response.mood.source == common_pb2.MOOD_SOURCE_CACHE
        assert any(e.source == common_pb2.TRACK_SOURCE_ARTIST_DISCOVERY for e in response.tracks)

        job.start()  # a pass starts at once; shutdown cancels it wherever it is
        await job.stop()
        await job.stop()  # a second stop is harmless
    finally:
        await peers.close()


async def test_a_token_spotify_cannot_check_gets_a_playlist_from_the_prompt_and_no_session(
    mesh: InProcessMesh,
) -> None:
    # Every Spotify call answered 429: GET /me cannot say whose token this is.
    async with httpx.AsyncClient(base_url=mesh.sim.base_url) as http:
        body = {"upstream": "spotify", "rate_limit_rate": 1.0, "retry_after_s": 0.05}
        (await http.post("/__sim/faults", json=body)).raise_for_status()
        answer = await mesh.stub.Recommend(
            recommend("rainy sunday, slow jazz", size=10), metadata=(("x-spotify-token", "user-6-storm"),), timeout=30
        )
        spotify = (await http.get("/__sim/stats")).json()["upstreams"]["spotify"]["endpoints"]
    assert len(answer.tracks) == 10 and not answer.session_id
    assert not [e for e in answer.tracks if e.source == common_pb2.TRACK_SOURCE_USER_TOP]
    assert any(
        w.code == common_pb2.WARNING_CODE_FALLBACK_USED and "Spotify could not confirm whose token" in w.message
        for w in answer.warnings
    )
    assert {name for name, e in spotify.items() if e["calls"]} == {"GET /me"}, "nothing else was asked of Spotify"
    orchestrator = mesh.services["orchestrator"]
    assert orchestrator.metric("segue_recommend_unverified_total", reason="rate_limited") == 1
    seeds = mesh.services["seed_gatherer"]
    gather = {"grpc_type": "unary", "grpc_service": "segue.v1.SeedGatherer", "grpc_method": "GatherSeeds"}
    assert seeds.metric("grpc_server_started_total", **gather) == 0, "GatherSeeds would verify the token again"


async def calls_of(http: httpx.AsyncClient, upstream: str, endpoint: str) -> list[dict[str, float]]:
    """The simulator's log of one endpoint's calls, first started first."""
    return sorted(
        (
            c
            for c in (await http.get("/__sim/calls")).json()["calls"]
            if (c["upstream"], c["endpoint"]) == (upstream, endpoint)
        ),
        key=lambda c: c["started"],
    )


async def test_a_first_prompt_is_read_while_the_token_is_checked_and_a_refused_token_stops_the_reading(
    mesh: InProcessMesh,
) -> None:
    generate = ("gemini", "POST /models/{model}:streamGenerateContent")
    async with httpx.AsyncClient(base_url=mesh.sim.base_url) as http:
        body = {"upstream": "spotify", "extra_latency_s": 0.5}  # GET /me is slow: the mood need not wait for it
        (await http.post("/__sim/faults", json=body)).raise_for_status()
        answer = await mesh.stub.Recommend(
            recommend("slow jazz for a rainy sunday", size=5), metadata=TOKEN, timeout=30
        )
        me = (await calls_of(http, "spotify", "GET /me"))[0]  # the orchestrator's (the seed gatherer checks too)
        (llm,) = await calls_of(http, *generate)
        assert len(answer.tracks) == 5 and answer.llm.calls == 1, "its LLM usage joined the answer's"
        assert llm["started"] < me["finished"], "the LLM call went out before Spotify said whose token it was"

        # A follow-up in the session: its mood depends on the session's, so it waits until the user is known.
        await http.post("/__sim/reset")
        await mesh.stub.Recommend(
            orchestrator_pb2.RecommendRequest(mood_prompt="now country for a road trip", session_id=answer.session_id),
            metadata=(("x-spotify-token", "user-5-second-token"),),  # a new token of the same user: GET /me again
            timeout=30,
        )
        me = (await calls_of(http, "spotify", "GET /me"))[0]
        (llm,) = await calls_of(http, *generate)
        assert llm["started"] >= me["finished"]

        with pytest.raises(aio.AioRpcError) as refused:
            await mesh.stub.Recommend(
                recommend("a brand new prompt for an expired token"),
                metadata=(("x-spotify-token", "expired-token"),),
                timeout=30,
            )
    assert refused.value.code() == grpc.StatusCode.UNAUTHENTICATED


async def test_a_known_tokens_repeat_asks_nothing_of_the_llm_gateway(mesh: InProcessMesh) -> None:
    """The mood is asked ahead only while Spotify is asked whose token it is: a repeat by a known token reuses
    its session's mood without even a cached AnalyzeMood."""
    orchestrator = mesh.services["orchestrator"]
    to_llm = {"grpc_type": "server_stream", "grpc_service": "segue.v1.LlmGateway", "grpc_method": "AnalyzeMoodStream"}
    first = await mesh.stub.Recommend(recommend("late night synthwave drive", size=5), metadata=TOKEN, timeout=30)
    assert orchestrator.metric("grpc_client_started_total", **to_llm) == 1
    again = await mesh.stub.Recommend(recommend("late night synthwave drive", size=5), metadata=TOKEN, timeout=30)
    assert again.mood == first.mood and again.llm.calls == 0
    assert orchestrator.metric("grpc_client_started_total", **to_llm) == 1, "no AnalyzeMoodStream for a repeat"

"""A 429 storm on Spotify: a new token whose user Spotify cannot confirm still gets a playlist from the prompt.

Spotify's every answer is a 429 (the simulator's fault injection), so `GET /v1/me` cannot say whose token a
new request carries. The answer is a full-size playlist that says so (a fallback warning), with none of
any user's top tracks, no session, and nothing written under a user key. A token Spotify refused, or a
claim naming another user, is still refused: only Spotify's trouble degrades.
"""

from __future__ import annotations

import json

import grpc
import httpx
import pytest
import redis.asyncio as aioredis
from grpc import aio
from segue.v1 import common_pb2, orchestrator_pb2, orchestrator_pb2_grpc

from segue_cli.mesh import Mesh
from tests.integration.probes import eventually, scraped

pytestmark = [pytest.mark.integration, pytest.mark.asyncio(loop_scope="session")]

PROMPT = "moody trip hop for a night drive"
# Namespaces whose keys hold something of one user's (services.orchestrator.sessions, services.common.identity,
# services.seed_gatherer.user_context): an unverified request must add none.
PER_USER = (
    "segue:orchestrator:session:",
    "segue:orchestrator:repeat:",
    "segue:identity:",
    "segue:seed_gatherer:user_context:",
)


def token(name: str) -> tuple[tuple[str, str], ...]:
    return (("x-spotify-token", name),)


async def spotify_calls(sim_http: httpx.AsyncClient) -> dict[str, int]:
    endpoints = (await sim_http.get("/__sim/stats")).json()["upstreams"]["spotify"]["endpoints"]
    return {name: int(e["calls"]) for name, e in endpoints.items() if e["calls"]}


async def redis_keys(mesh: Mesh) -> set[str]:
    redis = aioredis.from_url(mesh.redis_url)
    try:
        return {k.decode() async for k in redis.scan_iter(match="segue:*")}
    finally:
        await redis.aclose()


async def test_a_new_token_in_a_spotify_429_storm_gets_a_full_playlist_from_the_prompt_alone(
    mesh: Mesh, orchestrator: orchestrator_pb2_grpc.OrchestratorAsyncStub, sim_http: httpx.AsyncClient
) -> None:
    refused_before = "expired-unverified-test"
    known = "user-12-unverified-known"
    # Before the storm: one token is refused by Spotify, another verified (both remembered for a while).
    with pytest.raises(aio.AioRpcError) as caught:
        await orchestrator.Recommend(
            orchestrator_pb2.RecommendRequest(mood_prompt=PROMPT, size=5), metadata=token(refused_before), timeout=60
        )
    assert caught.value.code() == grpc.StatusCode.UNAUTHENTICATED
    await orchestrator.Recommend(
        orchestrator_pb2.RecommendRequest(mood_prompt="calm piano", size=5), metadata=token(known), timeout=60
    )

    await sim_http.post("/__sim/reset")
    keys_before = await redis_keys(mesh)
    counted_before = await scraped(
        mesh.metrics_ports["orchestrator"], "segue_recommend_unverified_total", reason="rate_limited"
    )
    body = {"upstream": "spotify", "rate_limit_rate": 1.0, "retry_after_s": 0.2}
    (await sim_http.post("/__sim/faults", json=body)).raise_for_status()
    try:
        request = orchestrator_pb2.RecommendRequest(user_id="simuser13", mood_prompt=PROMPT, size=15)
        answer = await orchestrator.Recommend(request, metadata=token("user-13-new-in-the-storm"), timeout=60)
        spotify_seen = await spotify_calls(sim_http)

        # Spotify's answers about tokens it already judged stay what they were: no storm turns a "no" into a yes.
        for name, claim, code in (
            (refused_before, "", grpc.StatusCode.UNAUTHENTICATED),
            (known, "simuser13", grpc.StatusCode.PERMISSION_DENIED),
        ):
            with pytest.raises(aio.AioRpcError) as caught:
                await orchestrator.Recommend(
                    orchestrator_pb2.RecommendRequest(user_id=claim, mood_prompt=PROMPT, size=5),
                    metadata=token(name),
                    timeout=60,
                )
            assert caught.value.code() == code, name
    finally:
        (await sim_http.post("/__sim/faults", json={"clear": True})).raise_for_status()

    assert len(answer.tracks) == 15 and len({e.track.spotify_id for e in answer.tracks}) == 15
    assert not [e for e in answer.tracks if e.source == common_pb2.TRACK_SOURCE_USER_TOP]
    (why,) = [w for w in answer.warnings if "Spotify could not confirm whose token this is" in w.message]
    assert why.code == common_pb2.WARNING_CODE_FALLBACK_USED and why.component == "orchestrator"
    assert not answer.session_id, "no session is started for a user nobody confirmed"
    # Spotify was asked only whose token this is (and refused): nothing else, and nothing of any user's.
    assert set(spotify_seen) == {"GET /me"}, spotify_seen

    added = await redis_keys(mesh) - keys_before
    assert not [k for k in added if k.startswith(PER_USER)], added

    orchestrator_port = mesh.metrics_ports["orchestrator"]
    counted = await scraped(orchestrator_port, "segue_recommend_unverified_total", reason="rate_limited")
    assert counted == counted_before + 1

    def ledger() -> list[dict[str, object]]:
        lines = (mesh.log_dir / "orchestrator.log").read_text().splitlines()
        entries = [json.loads(line) for line in lines if '"recommend ledger"' in line]
        return [e["ledger"] for e in entries if e.get("request_id") == answer.request_id]

    async def logged() -> bool:
        return bool(ledger())

    await eventually(logged, "the ledger line was written")
    (line,) = ledger()
    assert line["identity"] == "unverified" and line["unverified_reason"] == "rate_limited"
    assert "user" not in line and line["outcome"] == "OK" and line["tracks"] == 15


async def test_an_expired_token_is_still_refused_once_spotify_answers(
    orchestrator: orchestrator_pb2_grpc.OrchestratorAsyncStub,
) -> None:
    with pytest.raises(aio.AioRpcError) as caught:
        await orchestrator.Recommend(
            orchestrator_pb2.RecommendRequest(mood_prompt=PROMPT, size=5),
            metadata=token("expired-after-the-storm"),
            timeout=60,
        )
    assert caught.value.code() == grpc.StatusCode.UNAUTHENTICATED

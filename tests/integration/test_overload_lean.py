"""Overload admission end to end: a ReccoBeats budget that cannot serve a full pass in time gets a lean one.

The whole mesh runs as real processes. The test puts ReccoBeats in a cooldown in the mesh's Redis (as a
429's Retry-After would): every replica's view of the budget then says a full or impersonal pass would
wait past the queue target, while a lean pass, made from what an earlier request for the same genre
found, still fits the caller's deadline — and costs ReccoBeats no call at all.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
import pytest_asyncio
from segue.v1 import common_pb2, orchestrator_pb2_grpc

from segue_cli.client import recommend_request
from segue_cli.mesh import Mesh
from services.common.redis_client import RedisClient, connect
from services.common.scheduler import keys

pytestmark = [pytest.mark.integration, pytest.mark.asyncio(loop_scope="session")]

COOLDOWN_S = 25.0  # past the queue target (OVERLOAD_TARGET_S, 12 s), well within the 60 s deadline


def token(user: int) -> tuple[tuple[str, str], ...]:
    return (("x-spotify-token", f"user-{user}-overload-lean"),)


async def reccobeats_calls(sim_http: httpx.AsyncClient) -> int:
    stats: dict[str, Any] = (await sim_http.get("/__sim/stats")).json()
    return int(stats["upstreams"]["reccobeats"]["calls"])


@pytest_asyncio.fixture(loop_scope="session")
async def redis(mesh: Mesh) -> AsyncIterator[RedisClient]:
    client = connect(mesh.redis_url)
    yield client
    await client.aclose()


async def reccobeats_cooldown(redis: RedisClient, seconds: float) -> None:
    """What a 429's Retry-After leaves in Redis: the time (the server's clock, ms) the pause ends."""
    cooldown_key = keys("reccobeats")[0]
    now_s, now_us = await redis.time()
    ends_ms = now_s * 1000 + now_us // 1000 + int(seconds * 1000)
    await redis.set(cooldown_key, str(ends_ms), px=int(seconds * 1000))


async def test_a_saturated_reccobeats_budget_gets_a_full_size_lean_playlist_at_no_reccobeats_call(
    orchestrator: orchestrator_pb2_grpc.OrchestratorAsyncStub, sim_http: httpx.AsyncClient, redis: RedisClient
) -> None:
    # An earlier request for the same genre: its artist discovery and anchors are what the lean pass reuses.
    first = await orchestrator.Recommend(
        recommend_request("calm jazz for a rainy evening", "", 20, ""), metadata=token(31), timeout=60
    )
    assert len(first.tracks) == 20
    await reccobeats_cooldown(redis, COOLDOWN_S)
    try:
        before = await reccobeats_calls(sim_http)
        lean = await orchestrator.Recommend(
            recommend_request("happy jazz for a workout", "", 20, ""), metadata=token(32), timeout=60
        )
        after = await reccobeats_calls(sim_http)
    finally:
        await redis.delete(keys("reccobeats")[0])

    assert len(lean.tracks) == 20, "a lean answer is still full size"
    said = [w for w in lean.warnings if w.code == common_pb2.WARNING_CODE_FALLBACK_USED]
    assert any(
        "reccobeats budget is saturated" in w.message and "without fresh recommendations" in w.message for w in said
    )
    sources = {e.source for e in lean.tracks}
    assert common_pb2.TRACK_SOURCE_RECOMMENDATION not in sources and common_pb2.TRACK_SOURCE_USER_TOP not in sources
    assert common_pb2.TRACK_SOURCE_ARTIST_DISCOVERY in sources
    assert after == before, "made from what was found before: no ReccoBeats call during the cooldown"
    total = next(t.seconds for t in lean.timings if t.phase == "total")
    assert total < COOLDOWN_S, "it did not wait the cooldown out"

"""The request ledger: one line per Recommend whose upstream call counts match what the upstreams saw."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
from grpc import aio
from segue.v1 import orchestrator_pb2

from segue_cli.mesh import Mesh
from services.common import stubs
from tests.integration.probes import eventually

pytestmark = [pytest.mark.integration, pytest.mark.asyncio(loop_scope="session")]

PROMPT = "a ledger prompt: bright brass for a parade"


def ledger_lines(mesh: Mesh) -> list[dict[str, Any]]:
    lines = (mesh.log_dir / "orchestrator.log").read_text().splitlines()
    return [json.loads(line) for line in lines if '"recommend ledger"' in line]


async def upstream_calls(http: httpx.AsyncClient) -> dict[str, int]:
    stats = (await http.get("/__sim/stats")).json()["upstreams"]
    return {name: int(u["calls"]) for name, u in stats.items() if u["calls"]}


async def test_each_recommend_leaves_one_line_with_the_true_upstream_calls(
    open_mesh: Mesh, sim_http: httpx.AsyncClient
) -> None:
    token = "user-80-ledger-token"
    async with aio.insecure_channel(open_mesh.orchestrator) as channel:
        stub = stubs.orchestrator(channel)
        await sim_http.post("/__sim/reset")
        answer = await stub.Recommend(
            orchestrator_pb2.RecommendRequest(mood_prompt=PROMPT, size=6),
            metadata=(("x-spotify-token", token),),
            timeout=60,
        )
        seen = await upstream_calls(sim_http)

        async def logged() -> bool:
            return any(e.get("request_id") == answer.request_id for e in ledger_lines(open_mesh))

        await eventually(logged, "the ledger line was written")
        (entry,) = [e for e in ledger_lines(open_mesh) if e.get("request_id") == answer.request_id]
        ledger = entry["ledger"]
        assert ledger["outcome"] == "OK" and ledger["method"] == "Recommend"
        # Spotify (GET /me at the orchestrator, top tracks and artists at the seed gatherer), ReccoBeats (two
        # services) and Gemini: counted where they were made, carried back in trailers, added up.
        assert ledger["upstream_calls"] == seen
        assert seen["spotify"] >= 3 and seen["gemini"] == 1 and seen["reccobeats"] >= 1
        assert ledger["tracks"] == 6 and set(ledger["timings_ms"]) >= {"mood", "seeds", "candidates", "rank"}
        assert ledger["llm"]["calls"] == 1 and len(ledger["user"]) == 32
        # Where the time went inside the peers, as they report it: a new user's context came from Spotify.
        peers = ledger["peers"]
        assert set(peers["seed_gatherer.GatherSeeds"]["timings_ms"]) >= {"user_context", "select"}
        assert peers["seed_gatherer.WarmUserContext"]["from_cache"] is False
        assert peers["seed_gatherer.WarmUserContext"]["top_tracks"] > 0
        used = peers["reccobeat_gateway.GetRecommendations"]
        assert 0 < used["seeds_used"] <= used["seeds"] and used["negative_seeds_used"] <= used["negative_seeds"]
        assert (
            token not in json.dumps(entry) and PROMPT not in json.dumps(entry) and "simuser80" not in json.dumps(entry)
        )

        await sim_http.post("/__sim/reset")
        with pytest.raises(aio.AioRpcError):
            await stub.Recommend(
                orchestrator_pb2.RecommendRequest(mood_prompt=PROMPT),
                metadata=(("x-spotify-token", "expired-ledger-token"),),
                timeout=30,
            )
        failed = ledger_lines(open_mesh)[-1]["ledger"]
        assert failed["outcome"] == "UNAUTHENTICATED"
        assert failed["upstream_calls"] == await upstream_calls(sim_http) == {"spotify": 1}

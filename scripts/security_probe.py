"""Figures for issue 9's "let no one in" findings, measured against the real mesh and the simulator.

    .venv/bin/python scripts/security_probe.py [--flood 2000] [--json]

Starts the local mesh (simulator, a private redis-server, the four services) and measures, from the
simulator's own call counters:

- victim: user 1's context is warmed by a normal request; then a Recommend naming user 1 with an expired
  token, a Recommend naming user 1 with user 2's token, and a direct SeedGatherer.GatherSeeds naming user 1
  with an expired token. For each: the status and how many of user 1's own top tracks came back.
- many_ids: one GetAudioFeatures with 1,000 made-up IDs: the status and the ReccoBeats calls it caused
  (GetTracks, which shared its ID lookup and was measured here first, is no longer in the contract).
- run_tasks: one RunTasks at the old per-field limits (20 tasks x 200 candidates x 300-character
  descriptions): the status, Gemini calls and the prompt tokens Gemini was sent.
- prefetch: `--flood` Prefetch calls for distinct users, all at once (realistic profile, time scale 0.1):
  how many were accepted, and the Spotify calls and 429s they caused once the background work settled.

It only uses the public protos and the simulator, so the same script measures an older checkout too
(run it with that checkout first on PYTHONPATH).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from pathlib import Path
from typing import Any

import httpx
from grpc import aio

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # run as a file: the checkout it lives in
    sys.path.insert(0, str(ROOT))

from segue.v1 import (  # noqa: E402
    llm_gateway_pb2,
    orchestrator_pb2,
    reccobeat_gateway_pb2,
    seed_gatherer_pb2,
)

from segue_cli.mesh import Mesh, MeshOptions, running_mesh  # noqa: E402
from services.common import stubs  # noqa: E402
from sim.app import DEFAULT_SEED  # noqa: E402
from sim.catalog import build_catalog  # noqa: E402
from sim.catalog.users import top_tracks  # noqa: E402
from sim.profile import load_profile  # noqa: E402

VICTIM, ATTACKER = 1, 2
VICTIM_ID = f"simuser{VICTIM}"
VICTIM_TOKEN = f"user-{VICTIM}-victim-token"
ATTACKER_TOKEN = f"user-{ATTACKER}-attacker-token"
EXPIRED_TOKEN = "expired-token-of-nobody"
PROMPT = "rainy sunday, slow jazz, nothing sad"


def md(token: str) -> tuple[tuple[str, str], ...]:
    return (("x-spotify-token", token),)


async def sim_stats(http: httpx.AsyncClient, mesh: Mesh) -> dict[str, Any]:
    return dict((await http.get(f"{mesh.sim_url}/__sim/stats")).json())


async def sim_reset(http: httpx.AsyncClient, mesh: Mesh) -> None:
    await http.post(f"{mesh.sim_url}/__sim/reset")


def upstream(stats: dict[str, Any], name: str) -> dict[str, Any]:
    return dict(stats["upstreams"][name])


async def outcome(pending: Any) -> tuple[str, Any]:
    try:
        return "OK", await pending
    except aio.AioRpcError as exc:
        return exc.code().name, exc.details()


async def victim(mesh: Mesh) -> dict[str, Any]:
    catalog = build_catalog(DEFAULT_SEED, load_profile("fast").catalog)
    ranges = ("short_term", "medium_term", "long_term")
    victim_top = {catalog.tracks[i].spotify_id for r in ranges for i in top_tracks(catalog, VICTIM, r)}
    attacker_top = {catalog.tracks[i].spotify_id for r in ranges for i in top_tracks(catalog, ATTACKER, r)}
    only_victims = victim_top - attacker_top

    async with (
        aio.insecure_channel(mesh.orchestrator) as ch,
        aio.insecure_channel(mesh.addresses["seed_gatherer"]) as seeds_ch,
    ):
        orch = stubs.orchestrator(ch)
        seeds = stubs.seed_gatherer(seeds_ch)
        request = orchestrator_pb2.RecommendRequest(user_id=VICTIM_ID, mood_prompt=PROMPT, size=20)
        warm_code, warm = await outcome(orch.Recommend(request, metadata=md(VICTIM_TOKEN), timeout=60))
        victims_playlist = {e.track.spotify_id for e in warm.tracks} if warm_code == "OK" else set()
        results: dict[str, Any] = {"warm_up": {"code": warm_code, "tracks": len(victims_playlist)}}
        for name, token in (("expired_token", EXPIRED_TOKEN), ("other_users_token", ATTACKER_TOKEN)):
            code, answer = await outcome(orch.Recommend(request, metadata=md(token), timeout=60))
            entries = list(answer.tracks) if code == "OK" else []
            ids = [e.track.spotify_id for e in entries]
            results[f"recommend_{name}"] = {
                "code": code,
                "tracks": len(ids),
                # Tracks only the victim's context explains: their own top tracks, and the victim's playlist
                # (recommended around seeds taken from the victim's context).
                "victims_own_top_tracks": sum(i in only_victims for i in ids),
                "same_as_victims_playlist": sum(i in victims_playlist for i in ids),
            }
        mood = warm.mood if warm_code == "OK" else None
        gather = seed_gatherer_pb2.GatherSeedsRequest(user_id=VICTIM_ID, mood_prompt=PROMPT, mood=mood, max_seeds=5)
        code, answer = await outcome(seeds.GatherSeeds(gather, metadata=md(EXPIRED_TOKEN), timeout=30))
        ids = []
        if code == "OK":
            ids = [s.track.spotify_id for s in answer.seeds] + [t.spotify_id for t in answer.candidates]
        results["gather_seeds_expired_token"] = {
            "code": code,
            "tracks": len(ids),
            "victims_own_top_tracks": sum(i in victim_top for i in ids),
        }
    return results


async def many_ids(mesh: Mesh, http: httpx.AsyncClient) -> dict[str, Any]:
    await sim_reset(http, mesh)
    ids = [f"madeup{n:016d}" for n in range(1000)]  # well-formed Spotify IDs nobody has
    async with aio.insecure_channel(mesh.addresses["reccobeat_gateway"]) as ch:
        stub = stubs.reccobeat_gateway(ch)
        request = reccobeat_gateway_pb2.GetAudioFeaturesRequest(ids=ids)
        code, detail = await outcome(stub.GetAudioFeatures(request, timeout=60))
    recco = upstream(await sim_stats(http, mesh), "reccobeats")
    return {
        "code": code,
        "message": detail if code != "OK" else "",
        "reccobeats_calls": recco["calls"],
        "reccobeats_429": recco["rate_limited"],
    }


def run_tasks_request() -> llm_gateway_pb2.RunTasksRequest:
    tasks = [
        llm_gateway_pb2.LlmTask(
            task_id=f"t{t}",
            choose=llm_gateway_pb2.ChooseCandidatesTask(
                instruction="pick the calmest",
                max_choices=5,
                candidates=[
                    llm_gateway_pb2.Candidate(id=f"c{t}-{c}", description=("calm track " * 30)[:300])
                    for c in range(200)
                ],
            ),
        )
        for t in range(20)
    ]
    return llm_gateway_pb2.RunTasksRequest(context="x" * 2000, tasks=tasks)


async def run_tasks(mesh: Mesh, http: httpx.AsyncClient) -> dict[str, Any]:
    await sim_reset(http, mesh)
    request = run_tasks_request()
    chars = len(request.context) + sum(
        len(c.id) + len(c.description) for task in request.tasks for c in task.choose.candidates
    )
    async with aio.insecure_channel(
        mesh.addresses["llm_gateway"], options=[("grpc.max_send_message_length", 64 << 20)]
    ) as ch:
        stub = stubs.llm_gateway(ch)
        code, detail = await outcome(stub.RunTasks(request, timeout=120))
    gemini = upstream(await sim_stats(http, mesh), "gemini")
    return {
        "code": code,
        "message": detail if code != "OK" else "",
        "request_characters": chars,
        "gemini_calls": gemini["calls"],
        "gemini_tokens_in": gemini.get("tokens_in", 0),
    }


async def prefetch_flood(mesh: Mesh, http: httpx.AsyncClient, count: int) -> dict[str, Any]:
    await sim_reset(http, mesh)
    async with aio.insecure_channel(mesh.orchestrator) as ch:
        stub = stubs.orchestrator(ch)

        async def one(i: int) -> tuple[str, Any]:
            user = 1000 + i
            request = orchestrator_pb2.PrefetchRequest(user_id=f"simuser{user}")
            return await outcome(stub.Prefetch(request, metadata=md(f"user-{user}-flood"), timeout=30))

        t0 = time.monotonic()
        answers = await asyncio.gather(*(one(i) for i in range(count)))
        sent_s = time.monotonic() - t0
    codes: dict[str, int] = {}
    details: dict[str, str] = {}
    accepted = 0
    for code, answer in answers:
        codes[code] = codes.get(code, 0) + 1
        accepted += code == "OK" and bool(answer.accepted)
        if code == "OK" and not answer.accepted:
            details.setdefault(answer.reason.split(";")[0], answer.reason)
        elif code != "OK":
            details.setdefault(code, str(answer)[:160])
    # Background work goes on after the answers: wait until the simulator has seen no call for 3 s.
    last, quiet_since = -1, time.monotonic()
    while time.monotonic() - quiet_since < 3 and time.monotonic() - t0 < 300:
        calls = sum(u["calls"] for u in (await sim_stats(http, mesh))["upstreams"].values())
        if calls != last:
            last, quiet_since = calls, time.monotonic()
        await asyncio.sleep(0.25)
    spotify = upstream(await sim_stats(http, mesh), "spotify")
    return {
        "sent": count,
        "sent_within_s": round(sent_s, 1),
        "codes": codes,
        "accepted": accepted,
        "why_not": details,
        "spotify_calls": spotify["calls"],
        "spotify_429": spotify["rate_limited"],
    }


async def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--flood", type=int, default=2000, help="Prefetch calls in the flood (0: skip it)")
    args = parser.parse_args()
    report: dict[str, Any] = {}
    async with running_mesh(MeshOptions(profile="fast", redis="spawn")) as mesh, httpx.AsyncClient(timeout=30) as http:
        report["victim"] = await victim(mesh)
        report["get_audio_features_1000_made_up_ids"] = await many_ids(mesh, http)
        report["run_tasks_at_old_limits"] = await run_tasks(mesh, http)
    if args.flood:
        options = MeshOptions(profile="realistic", time_scale=0.1, redis="spawn")
        async with running_mesh(options) as mesh, httpx.AsyncClient(timeout=30) as http:
            report["prefetch_flood"] = await prefetch_flood(mesh, http, args.flood)
    print(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))

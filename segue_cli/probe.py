"""The synthetic probe: one Recommend with a fixed prompt, judged, and a verdict a CronJob can fail on.

An OK status is not enough: an answer that is short, repeats a track, or arrives later than the
probe's budget is a failure a user would notice, so the probe fails on it too, saying why.
"""

from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass, field

import grpc
from grpc import aio
from segue.v1 import orchestrator_pb2

from segue_cli.client import Target, Unreachable, call_recommend, orchestrator, recommend_request

PROMPT = "rainy sunday, slow jazz, nothing sad"
USER = ""  # whoever the probe's token belongs to (a user_id naming anyone else is refused)


@dataclass
class Verdict:
    ok: bool
    seconds: float
    tracks: int
    problems: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def line(self) -> str:
        return json.dumps({"probe": "recommend", **asdict(self)})


def judge(response: orchestrator_pb2.RecommendResponse, size: int, seconds: float, max_seconds: float) -> list[str]:
    problems = []
    if len(response.tracks) < size:
        problems.append(f"short playlist: {len(response.tracks)} of {size} tracks")
    ids = [entry.track.spotify_id for entry in response.tracks]
    if len(set(ids)) != len(ids):
        problems.append("a track appears twice")
    if any(not track_id for track_id in ids):
        problems.append("a track has no Spotify ID")
    if seconds > max_seconds:
        problems.append(f"slow: {seconds:.2f}s, the budget is {max_seconds:.2f}s")
    return problems


async def run(target: Target | str, token: str, size: int, max_seconds: float, prompt: str = PROMPT) -> Verdict:
    target = Target(target) if isinstance(target, str) else target
    t0 = time.perf_counter()
    try:
        async with orchestrator(target) as stub:
            request = recommend_request(prompt, USER, size)
            response = await call_recommend(
                stub, request, token, timeout_s=max_seconds, caller_token=target.caller_token
            )
    except Unreachable as exc:
        return Verdict(False, time.perf_counter() - t0, 0, [f"unreachable: {exc} ({exc.details})"])
    except aio.AioRpcError as exc:
        seconds = time.perf_counter() - t0
        why = "slow: no answer within the budget" if exc.code() == grpc.StatusCode.DEADLINE_EXCEEDED else "failed"
        return Verdict(False, seconds, 0, [f"{why} ({exc.code().name}: {exc.details()})"])
    seconds = time.perf_counter() - t0
    problems = judge(response, size, seconds, max_seconds)
    warnings = [f"{w.component}: {w.message}" for w in response.warnings]
    return Verdict(not problems, seconds, len(response.tracks), problems, warnings)

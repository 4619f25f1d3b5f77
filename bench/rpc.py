"""One `segue.v1.Orchestrator/Recommend` call, timed, with what its response says about itself."""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from grpc import aio
from segue.v1 import common_pb2, orchestrator_pb2, orchestrator_pb2_grpc

from segue_cli.client import call_recommend, recommend_request

PLAYLIST_SIZE = 20  # the monolith's mid target (bench.legacy.flow.TARGET_COUNT) and segue's default


@dataclass
class Reply:
    code: str  # "OK" or the gRPC status name
    wall_s: float
    phases: dict[str, float] = field(default_factory=dict)  # real seconds, as the orchestrator reports them
    llm_calls: int = 0
    llm_tokens_in: int = 0
    llm_tokens_out: int = 0
    tracks: int = 0
    warnings: list[str] = field(default_factory=list)  # WarningCode names, one per warning


async def recommend(
    stub: orchestrator_pb2_grpc.OrchestratorAsyncStub,
    prompt: str,
    user_id: str,
    token: str,
    timeout_s: float,
    caller_token: str = "",
) -> Reply:
    reply, _ = await recommend_full(stub, prompt, user_id, token, timeout_s, caller_token=caller_token)
    return reply


async def recommend_full(
    stub: orchestrator_pb2_grpc.OrchestratorAsyncStub,
    prompt: str,
    user_id: str,
    token: str,
    timeout_s: float,
    session: str = "",
    caller_token: str = "",
) -> tuple[Reply, orchestrator_pb2.RecommendResponse | None]:
    """The call's summary and, when it succeeded, the whole response (the quality scenarios judge it)."""
    request = recommend_request(prompt, user_id, PLAYLIST_SIZE, session)
    started = time.monotonic()
    try:
        response = await call_recommend(stub, request, token, timeout_s, caller_token=caller_token)
    except aio.AioRpcError as exc:
        return Reply(exc.code().name, time.monotonic() - started), None
    wall = time.monotonic() - started
    reply = Reply(
        "OK",
        wall,
        {t.phase: t.seconds for t in response.timings},
        response.llm.calls,
        response.llm.prompt_tokens,
        response.llm.output_tokens,
        len(response.tracks),
        [common_pb2.WarningCode.Name(w.code) for w in response.warnings],
    )
    return reply, response

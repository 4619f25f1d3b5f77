"""Calls to a running orchestrator, shared by the `segue` command and the benchmarks."""

from __future__ import annotations

from collections.abc import Callable

from segue.v1 import orchestrator_pb2, orchestrator_pb2_grpc

from services.common.context import SPOTIFY_TOKEN_HEADER

Metadata = tuple[tuple[str, str], ...]
OnProgress = Callable[[orchestrator_pb2.Progress], None]


def token_metadata(token: str) -> Metadata:
    """The user's Spotify access token travels in call metadata, never in a message that might be logged."""
    return ((SPOTIFY_TOKEN_HEADER, token),)


def recommend_request(
    prompt: str, user: str, size: int | None = None, session: str = ""
) -> orchestrator_pb2.RecommendRequest:
    """An unset `size` leaves the field out, so the orchestrator's default applies."""
    request = orchestrator_pb2.RecommendRequest(user_id=user, mood_prompt=prompt, session_id=session)
    if size is not None:
        request.size = size
    return request


async def call_recommend(
    stub: orchestrator_pb2_grpc.OrchestratorStub,
    request: orchestrator_pb2.RecommendRequest,
    token: str,
    timeout_s: float,
    stream: bool = False,
    on_progress: OnProgress | None = None,
    wait_for_ready: bool = False,
) -> orchestrator_pb2.RecommendResponse:
    """Recommend, or with `stream` RecommendStream, whose progress events go to `on_progress`.

    By default an unreachable orchestrator fails at once (UNAVAILABLE) instead of waiting out the
    deadline; `wait_for_ready` waits for one that is still starting.
    """
    if not stream:
        response: orchestrator_pb2.RecommendResponse = await stub.Recommend(
            request, metadata=token_metadata(token), timeout=timeout_s, wait_for_ready=wait_for_ready
        )
        return response
    call = stub.RecommendStream(
        orchestrator_pb2.RecommendStreamRequest(request=request),
        metadata=token_metadata(token),
        timeout=timeout_s,
        wait_for_ready=wait_for_ready,
    )
    async for event in call:
        if event.HasField("progress") and on_progress is not None:
            on_progress(event.progress)
        if event.HasField("result"):
            result: orchestrator_pb2.RecommendResponse = event.result
            return result
    raise RuntimeError("the stream ended without a result")

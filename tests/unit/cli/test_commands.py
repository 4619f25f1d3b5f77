"""`segue recommend` and `prefetch` end to end in this process, against an orchestrator double.

The double is served by the shared server runtime (its real interceptors turn domain errors into statuses
and `retry-after-ms` trailers), and behaves according to the prompt so one server shows each outcome.
"""

from __future__ import annotations

import json
import sys
from collections.abc import AsyncIterator

import pytest
from grpc import aio
from prometheus_client import CollectorRegistry
from segue.v1 import common_pb2, orchestrator_pb2, orchestrator_pb2_grpc

from segue_cli import main
from segue_cli.mesh import free_port
from services.common.config import ServerConfig
from services.common.errors import InvalidArgument, ResourceExhausted, Unavailable
from services.common.server import RunningService, ServiceDefinition, start

MOOD = common_pb2.MoodProfile(
    interpretation="A calm, warm mood",
    targets=[common_pb2.FeatureTarget(feature=common_pb2.AUDIO_FEATURE_TEMPO, min=67, max=97)],
    source=common_pb2.MOOD_SOURCE_HEURISTIC,
)


def answer(request: orchestrator_pb2.RecommendRequest) -> orchestrator_pb2.RecommendResponse:
    if request.mood_prompt == "busy":
        raise ResourceExhausted("the orchestrator is at capacity", retry_after_s=1.5)
    if request.mood_prompt == "peer down":
        raise Unavailable("seed_gatherer: unavailable")
    if request.mood_prompt == "bad":
        raise InvalidArgument("mood_prompt must not be 'bad'")
    track = common_pb2.Track(title="Stone of Empire", artists=[common_pb2.Artist(name="Zora Okafor")])
    return orchestrator_pb2.RecommendResponse(
        tracks=[orchestrator_pb2.PlaylistEntry(track=track, score=0.75)],
        mood=MOOD,
        session_id=request.session_id or "new-session",
        request_id="r1",
    )


class OrchestratorDouble(orchestrator_pb2_grpc.OrchestratorServicer):
    def __init__(self) -> None:
        self.calls: list[str] = []

    async def Recommend(
        self, request: orchestrator_pb2.RecommendRequest, ctx: aio.ServicerContext
    ) -> orchestrator_pb2.RecommendResponse:
        self.calls.append("Recommend")
        return answer(request)

    async def RecommendStream(
        self, request: orchestrator_pb2.RecommendStreamRequest, ctx: aio.ServicerContext
    ) -> AsyncIterator[orchestrator_pb2.RecommendStreamResponse]:
        self.calls.append("RecommendStream")
        yield orchestrator_pb2.RecommendStreamResponse(
            progress=orchestrator_pb2.Progress(
                phase=orchestrator_pb2.PHASE_MOOD_ANALYZED, message=MOOD.interpretation, elapsed_seconds=0.5, mood=MOOD
            )
        )
        result = answer(request.request)
        yield orchestrator_pb2.RecommendStreamResponse(
            progress=orchestrator_pb2.Progress(
                phase=orchestrator_pb2.PHASE_RANKED, message="1 tracks ranked and ordered", elapsed_seconds=0.9, count=1
            )
        )
        yield orchestrator_pb2.RecommendStreamResponse(result=result)

    async def Prefetch(
        self, request: orchestrator_pb2.PrefetchRequest, ctx: aio.ServicerContext
    ) -> orchestrator_pb2.PrefetchResponse:
        self.calls.append("Prefetch")
        return orchestrator_pb2.PrefetchResponse(accepted=True)


@pytest.fixture
async def served() -> AsyncIterator[tuple[str, OrchestratorDouble]]:
    double = OrchestratorDouble()
    definition = ServiceDefinition(
        service_names=["segue.v1.Orchestrator"],
        add_to_server=lambda server: orchestrator_pb2_grpc.add_OrchestratorServicer_to_server(double, server),
    )
    running: RunningService = await start(
        definition, ServerConfig(grpc_host="127.0.0.1", grpc_port=0, metrics_port=-1), CollectorRegistry()
    )
    yield f"127.0.0.1:{running.port}", double
    await running.shutdown(drain_delay_s=0, grace_s=0)


async def segue(*argv: str) -> int:
    return int(await main.run(main.parse_args(list(argv))))


async def test_on_a_terminal_progress_shows_without_stream_and_the_mood_once(
    served: tuple[str, OrchestratorDouble], capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    addr, double = served
    monkeypatch.setattr(sys.stdout, "isatty", lambda: True)
    assert await segue("recommend", "calm", "--user", "u", "--addr", addr) == main.Exit.OK
    out = capsys.readouterr().out
    assert double.calls == ["RecommendStream"]
    assert out.startswith("[  0.50s] mood analyzed: A calm, warm mood (from heuristic)\n")
    assert "[  0.90s] ranked: 1 tracks ranked and ordered" in out
    assert out.count("A calm, warm mood") == 1 and out.count("tempo 67–97 BPM") == 1
    assert "Stone of Empire" in out


async def test_on_a_terminal_no_progress_makes_a_plain_call(
    served: tuple[str, OrchestratorDouble], capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    addr, double = served
    monkeypatch.setattr(sys.stdout, "isatty", lambda: True)
    assert await segue("recommend", "calm", "--user", "u", "--addr", addr, "--no-progress") == main.Exit.OK
    out = capsys.readouterr().out
    assert double.calls == ["Recommend"]
    assert out.startswith("mood: A calm, warm mood (from heuristic)\n") and out.count("A calm, warm mood") == 1


async def test_not_on_a_terminal_no_progress_unless_stream(
    served: tuple[str, OrchestratorDouble], capsys: pytest.CaptureFixture[str]
) -> None:
    addr, double = served
    assert await segue("recommend", "calm", "--user", "u", "--addr", addr) == main.Exit.OK
    assert "[" not in capsys.readouterr().out.split("\n", 1)[0]
    assert await segue("recommend", "calm", "--user", "u", "--addr", addr, "--stream") == main.Exit.OK
    assert capsys.readouterr().out.startswith("[  0.50s] mood analyzed")
    assert double.calls == ["Recommend", "RecommendStream"]


async def test_json_stream_prints_one_object_per_event(
    served: tuple[str, OrchestratorDouble], capsys: pytest.CaptureFixture[str]
) -> None:
    addr, _ = served
    assert await segue("recommend", "calm", "--user", "u", "--addr", addr, "--json", "--stream") == main.Exit.OK
    events = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [next(iter(e)) for e in events] == ["progress", "progress", "result"]
    assert events[0]["progress"]["count"] == 0  # zero values are printed
    assert events[2]["result"]["warnings"] == [] and events[2]["result"]["tracks"][0]["score"] == 0.75


async def test_json_errors_carry_the_code_message_and_retry_after(
    served: tuple[str, OrchestratorDouble], capsys: pytest.CaptureFixture[str]
) -> None:
    addr, _ = served
    assert await segue("recommend", "busy", "--user", "u", "--addr", addr, "--json") == main.Exit.CALL_FAILED
    out, err = capsys.readouterr()
    assert json.loads(out) == {
        "error": {"code": "RESOURCE_EXHAUSTED", "message": "the orchestrator is at capacity", "retryAfterMs": 1500}
    }
    assert err == ""

    # Mid-stream, the error is the last JSON line, after the events that came before it.
    assert await segue("recommend", "bad", "--user", "u", "--addr", addr, "--json", "--stream") == 1
    events = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [next(iter(e)) for e in events] == ["progress", "error"]
    assert events[1]["error"] == {"code": "INVALID_ARGUMENT", "message": "mood_prompt must not be 'bad'"}


async def test_text_errors_go_to_stderr_with_the_retry_hint(
    served: tuple[str, OrchestratorDouble], capsys: pytest.CaptureFixture[str]
) -> None:
    addr, _ = served
    assert await segue("recommend", "busy", "--user", "u", "--addr", addr) == main.Exit.CALL_FAILED
    out, err = capsys.readouterr()
    assert out == ""
    assert err == "error: RESOURCE_EXHAUSTED: the orchestrator is at capacity (retry in 1.5 s)\n"


async def test_an_unavailable_answer_is_a_failed_call_not_an_unreachable_orchestrator(
    served: tuple[str, OrchestratorDouble], capsys: pytest.CaptureFixture[str]
) -> None:
    addr, _ = served
    assert await segue("recommend", "peer down", "--user", "u", "--addr", addr) == main.Exit.CALL_FAILED
    assert capsys.readouterr().err == "error: UNAVAILABLE: seed_gatherer: unavailable\n"


async def test_nothing_listening_says_what_to_do(capsys: pytest.CaptureFixture[str]) -> None:
    addr = f"127.0.0.1:{free_port()}"
    assert await segue("recommend", "calm", "--user", "u", "--addr", addr) == main.Exit.UNREACHABLE
    first = capsys.readouterr().err.splitlines()[0]
    assert first == f"error: nothing listens at {addr} — start `segue up` or pass --addr"

    assert await segue("prefetch", "--user", "u", "--addr", addr) == main.Exit.UNREACHABLE
    assert f"nothing listens at {addr}" in capsys.readouterr().err

    assert await segue("recommend", "calm", "--user", "u", "--addr", addr, "--json") == main.Exit.UNREACHABLE
    error = json.loads(capsys.readouterr().out)["error"]
    assert error["code"] == "UNAVAILABLE" and error["message"].startswith(f"nothing listens at {addr}")
    assert "Connection refused" in error["detail"]


async def test_prefetch(served: tuple[str, OrchestratorDouble], capsys: pytest.CaptureFixture[str]) -> None:
    addr, double = served
    assert await segue("prefetch", "--user", "u", "--addr", addr) == main.Exit.OK
    assert capsys.readouterr().out == "accepted\n" and double.calls == ["Prefetch"]

"""LlmGateway.AnalyzeMoodStream over gRPC, against the simulator's streamed Gemini: the start of the mood, then
the whole answer — or the whole answer alone when no LLM call streams it."""

from __future__ import annotations

from collections.abc import AsyncIterator

import grpc
import pytest
from grpc import aio
from segue.v1 import common_pb2, llm_gateway_pb2

from services.common import stubs
from services.llm_gateway import config, server
from sim.testing import RunningSim, running_sim
from tests.unit.inprocess import LOOPBACK, Served, serving

Gateway = Served["llm_gateway_pb2_grpc.LlmGatewayAsyncStub"]
STREAMED = "POST /models/{model}:streamGenerateContent"


@pytest.fixture
async def sim() -> AsyncIterator[RunningSim]:
    async with running_sim("fast") as s:
        yield s


@pytest.fixture
async def gateway(sim: RunningSim) -> AsyncIterator[Gateway]:
    env = {**LOOPBACK, "GEMINI_BASE_URL": sim.gemini_url, "GEMINI_API_KEY": "unit-test-key", "LLM_MAX_ATTEMPTS": "1"}
    async with serving(config.from_env(env), server.build, stubs.llm_gateway) as served:
        yield served


async def updates(gateway: Gateway, prompt: str) -> list[llm_gateway_pb2.AnalyzeMoodStreamResponse]:
    request = llm_gateway_pb2.AnalyzeMoodStreamRequest(request=llm_gateway_pb2.AnalyzeMoodRequest(prompt=prompt))
    return [update async for update in gateway.stub.AnalyzeMoodStream(request, timeout=10)]


def streamed_calls(sim: RunningSim) -> int:
    return int(sim.stats()["upstreams"]["gemini"]["endpoints"][STREAMED]["calls"])


async def test_the_start_of_the_mood_comes_first_then_the_whole_answer(sim: RunningSim, gateway: Gateway) -> None:
    start, done = await updates(gateway, "slow jazz for a rainy sunday, nothing sad")

    assert start.WhichOneof("update") == "start" and done.WhichOneof("update") == "done"
    assert "jazz" in start.start.genres and "sad" in start.start.avoid and start.start.artists
    assert not start.start.targets, "the targets come after the start"
    mood = done.done.mood
    assert mood.source == common_pb2.MOOD_SOURCE_LLM and mood.targets and mood.interpretation
    assert (list(mood.genres), list(mood.artists), list(mood.avoid)) == (
        list(start.start.genres),
        list(start.start.artists),
        list(start.start.avoid),
    ), "the start is the whole answer's start"
    assert done.done.usage.calls == 1 and streamed_calls(sim) == 1


async def test_a_cached_mood_comes_whole_without_a_start(sim: RunningSim, gateway: Gateway) -> None:
    await updates(gateway, "late night synthwave drive")
    (done,) = await updates(gateway, "Late night synthwave   drive")

    assert done.done.mood.source == common_pb2.MOOD_SOURCE_CACHE and done.done.usage.cache_hits == 1
    assert streamed_calls(sim) == 1


async def test_without_gemini_the_keyword_reading_comes_whole_and_says_so(sim: RunningSim, gateway: Gateway) -> None:
    sim.set_faults(upstream="gemini", outage=True)
    (done,) = await updates(gateway, "calm acoustic focus music")

    assert done.done.mood.source == common_pb2.MOOD_SOURCE_HEURISTIC
    assert any(w.code == common_pb2.WARNING_CODE_FALLBACK_USED for w in done.done.warnings)


async def test_an_empty_prompt_is_refused_before_the_stream_starts(gateway: Gateway) -> None:
    with pytest.raises(aio.AioRpcError) as refused:
        await updates(gateway, "   ")
    assert refused.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "prompt must not be empty" in (refused.value.details() or "")

"""streamGenerateContent through the real google-genai aio client: the unary answer in chunks, paced by the
model's speed, with generateContent's checks, errors and token stats."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest
from google import genai
from google.genai import errors, types

from services.llm_gateway import mood as mood_task
from services.llm_gateway.schemas import MoodAnswer
from sim.gemini import GeminiAnswer, stream_envelopes
from sim.gemini.envelope import estimate_tokens
from sim.testing import RunningSim, running_sim
from tests.sim.conftest import write_profile

MODEL = "gemini-2.5-flash"
PROMPT = "Mood prompt: rainy sunday, slow jazz, nothing sad"
STREAM = "POST /models/{model}:streamGenerateContent"
# As the llm_gateway asks for a mood.
CONFIG = types.GenerateContentConfig(
    system_instruction=mood_task.SYSTEM_INSTRUCTION,
    response_mime_type="application/json",
    response_schema=MoodAnswer,
    temperature=0.2,
    max_output_tokens=4096,
    thinking_config=types.ThinkingConfig(thinking_budget=0),
)


@asynccontextmanager
async def genai_client(sim: RunningSim) -> AsyncIterator[genai.Client]:
    client = genai.Client(api_key="test-key", http_options=types.HttpOptions(base_url=sim.gemini_url))
    try:
        yield client
    finally:
        await client.aio.aclose()


@pytest.fixture
async def client(sim: RunningSim) -> AsyncIterator[genai.Client]:
    async with genai_client(sim) as made:
        yield made


async def unary(client: genai.Client) -> types.GenerateContentResponse:
    return await client.aio.models.generate_content(model=MODEL, contents=PROMPT, config=CONFIG)


async def streamed(client: genai.Client, sim: RunningSim) -> list[tuple[float, types.GenerateContentResponse]]:
    """Every chunk with its arrival on the simulator's clock (simulated seconds)."""
    chunks = await client.aio.models.generate_content_stream(model=MODEL, contents=PROMPT, config=CONFIG)
    return [(sim.state.sim_now(), chunk) async for chunk in chunks]


async def test_the_stream_is_the_unary_answer_in_chunks(client: genai.Client, sim: RunningSim) -> None:
    whole = await unary(client)
    chunks = [chunk for _, chunk in await streamed(client, sim)]
    assert len(chunks) > 3
    assert "".join(chunk.text or "" for chunk in chunks) == whole.text
    MoodAnswer.model_validate_json(whole.text or "")
    last = chunks[-1]
    assert last.candidates and last.candidates[0].finish_reason == types.FinishReason.STOP
    assert last.usage_metadata and whole.usage_metadata
    assert last.usage_metadata.candidates_token_count == whole.usage_metadata.candidates_token_count
    assert all(chunk.usage_metadata is None for chunk in chunks[:-1])
    assert {chunk.response_id for chunk in chunks} == {whole.response_id}


def test_a_cut_answer_streams_its_tokens_and_finish_reason_in_the_last_chunk() -> None:
    answer = GeminiAnswer("x" * 100, prompt_tokens=7, output_tokens=25, finish_reason="MAX_TOKENS")
    chunks = stream_envelopes(answer, MODEL, "resp-1")
    assert sum(tokens for tokens, _ in chunks) == answer.output_tokens
    assert "".join(e["candidates"][0]["content"]["parts"][0]["text"] for _, e in chunks) == answer.text
    final = chunks[-1][1]
    assert final["candidates"][0]["finishReason"] == "MAX_TOKENS"
    assert final["usageMetadata"]["candidatesTokenCount"] == 25


async def test_the_first_chunk_arrives_before_the_last_by_about_the_output_time(tmp_path: Path) -> None:
    # A slow model (20 ms a token) at a quarter of real time: ~0.7 s of wall time between first and last chunk.
    slow = write_profile(tmp_path, 'extends = "fast"\n[gemini.speed]\nttft_s = 0.001\ns_per_output_token = 0.02\n')
    async with running_sim(slow, time_scale=0.25) as sim, genai_client(sim) as client:
        arrivals = await streamed(client, sim)
        (first_at, first), (last_at, last) = arrivals[0], arrivals[-1]
        assert last.usage_metadata and last.usage_metadata.candidates_token_count
        # After the first chunk, the rest of the output tokens (simulated seconds, as the clock measures).
        rest = last.usage_metadata.candidates_token_count - estimate_tokens(first.text or "")
        expected = sim.profile.gemini.speed.s_per_output_token * rest
        assert last_at - first_at >= expected / 2


async def test_a_rate_limited_stream_answers_429_as_generate_content_does(tmp_path: Path) -> None:
    one_a_minute = write_profile(tmp_path, 'extends = "fast"\n[gemini.rate_limit]\nrpm = 1\ntpm = 1000000\n')
    async with running_sim(one_a_minute) as sim, genai_client(sim) as client:
        await unary(client)
        with pytest.raises(errors.ClientError) as unary_429:
            await unary(client)
        with pytest.raises(errors.ClientError) as stream_429:
            await streamed(client, sim)
        assert stream_429.value.code == 429 and stream_429.value.status == "RESOURCE_EXHAUSTED"
        assert stream_429.value.details == unary_429.value.details  # quota id and RetryInfo alike
        endpoint = sim.stats()["upstreams"]["gemini"]["endpoints"][STREAM]
        assert endpoint["status"] == {"429": 1} and endpoint["rate_limited"] == 1


async def test_an_outage_answers_the_stream_503_before_any_chunk(client: genai.Client, sim: RunningSim) -> None:
    sim.set_faults(upstream="gemini", outage=True)
    with pytest.raises(errors.ServerError) as failure:
        await streamed(client, sim)
    assert failure.value.code == 503 and failure.value.status == "UNAVAILABLE"


async def test_stats_count_the_streamed_call_and_its_tokens(client: genai.Client, sim: RunningSim) -> None:
    chunks = await streamed(client, sim)
    usage = chunks[-1][1].usage_metadata
    assert usage and usage.prompt_token_count and usage.candidates_token_count
    gemini = sim.stats()["upstreams"]["gemini"]
    assert gemini["endpoints"][STREAM] == {"calls": 1, "status": {"200": 1}, "rate_limited": 0, "inflight_peak": 1}
    assert (gemini["tokens_in"], gemini["tokens_out"]) == (usage.prompt_token_count, usage.candidates_token_count)
    assert gemini["endpoints"]["POST /models/{model}:generateContent"]["calls"] == 0

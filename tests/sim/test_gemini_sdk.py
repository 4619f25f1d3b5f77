"""The real google-genai SDK (async) against a small aiohttp server whose route calls sim.gemini, so the fake
model's answers are checked end to end independently of the full simulator."""

from __future__ import annotations

import enum
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any, Literal

import pytest
from aiohttp import web
from google import genai
from google.genai import errors, types
from pydantic import BaseModel, Field

from sim.gemini import GeminiRequestError, count_tokens, error_body, generate, response_envelope
from tests.sim.test_gemini_support import VOCAB

MODEL = "gemini-2.5-flash"


@dataclass
class FakeServer:
    base_url: str
    calls: list[tuple[str, str, str]] = field(default_factory=list)  # (api version, model, method)


@pytest.fixture
async def server() -> AsyncIterator[FakeServer]:
    fake = FakeServer("")

    async def model_call(request: web.Request) -> web.Response:
        if not request.headers.get("x-goog-api-key"):
            return web.json_response(
                error_body(403, "PERMISSION_DENIED", "Method doesn't allow unregistered callers."), status=403
            )
        model, _, method = request.match_info["name"].rpartition(":")
        fake.calls.append((request.match_info["version"], model, method))
        payload = await request.json()
        try:
            if method == "generateContent":
                return web.json_response(response_envelope(generate(payload, model, VOCAB), model, "test-response"))
            if method == "countTokens":
                return web.json_response({"totalTokens": count_tokens(payload)})
        except GeminiRequestError as exc:
            return web.json_response(error_body(400, "INVALID_ARGUMENT", str(exc)), status=400)
        return web.json_response(error_body(404, "NOT_FOUND", f"unknown method {method}"), status=404)

    app = web.Application()
    app.router.add_post("/{version}/models/{name}", model_call)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    fake.base_url = f"http://127.0.0.1:{port}"
    try:
        yield fake
    finally:
        await runner.cleanup()


@pytest.fixture
async def client(server: FakeServer) -> AsyncIterator[genai.Client]:
    sdk = genai.Client(api_key="test-key", http_options=types.HttpOptions(base_url=server.base_url))
    try:
        yield sdk
    finally:
        await sdk.aio.aclose()


class FeatureRange(BaseModel):
    min: float = Field(ge=0, le=1)
    max: float = Field(ge=0, le=1)


class Track(BaseModel):
    track_name: str
    artist_name: str | None = None


class MoodPlan(BaseModel):
    mood_interpretation: str
    energy_level: Literal["low", "medium", "high"]
    energy: FeatureRange
    valence: FeatureRange
    genres: list[str] = Field(min_length=1, max_length=4)
    artist_recommendations: list[str] = Field(max_length=8)
    mentioned_tracks: list[Track]
    decade: str | None = None


def json_config(**kwargs: Any) -> types.GenerateContentConfig:
    return types.GenerateContentConfig(
        response_mime_type="application/json", thinking_config=types.ThinkingConfig(thinking_budget=0), **kwargs
    )


async def test_pydantic_response_schema_comes_back_parsed(server: FakeServer, client: genai.Client) -> None:
    resp = await client.aio.models.generate_content(
        model=MODEL,
        contents='Mood: rainy slow jazz, like "Blue Rain" by Miles Quartet',
        config=json_config(system_instruction="You are a music curator.", response_schema=MoodPlan),
    )
    plan = resp.parsed
    assert isinstance(plan, MoodPlan)
    assert plan.energy_level == "low" and plan.energy.max < 0.5
    assert plan.genres[0] == "jazz" and set(plan.genres) <= set(VOCAB.genres)
    assert plan.mentioned_tracks == [Track(track_name="Blue Rain", artist_name="Miles Quartet")]
    assert plan.artist_recommendations[0] == "Miles Quartet"
    assert resp.usage_metadata is not None
    assert resp.usage_metadata.prompt_token_count and resp.usage_metadata.candidates_token_count
    assert resp.usage_metadata.total_token_count == (
        resp.usage_metadata.prompt_token_count + resp.usage_metadata.candidates_token_count
    )
    assert server.calls == [("v1", MODEL, "generateContent")]  # google-genai 3.x uses /v1 by default


async def test_dict_response_json_schema_comes_back_parsed(client: genai.Client) -> None:
    resp = await client.aio.models.generate_content(
        model=MODEL,
        contents="workout party anthems",
        config=json_config(response_json_schema=MoodPlan.model_json_schema()),
    )
    assert isinstance(resp.parsed, dict)
    plan = MoodPlan.model_validate(resp.parsed)
    assert plan.energy_level == "high" and plan.energy.min > 0.5


async def test_list_schema_and_v1beta(server: FakeServer) -> None:
    options = types.HttpOptions(base_url=server.base_url, api_version="v1beta")
    sdk = genai.Client(api_key="test-key", http_options=options)
    try:
        resp = await sdk.aio.models.generate_content(
            model=MODEL, contents='play "Neon Rush" and more like it', config=json_config(response_schema=list[Track])
        )
    finally:
        await sdk.aio.aclose()
    assert isinstance(resp.parsed, list) and all(isinstance(t, Track) for t in resp.parsed)
    assert resp.parsed[0].track_name == "Neon Rush"
    assert server.calls == [("v1beta", MODEL, "generateContent")]


class Energy(enum.Enum):
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"


async def test_enum_schema_with_the_enum_mime_type(client: genai.Client) -> None:
    resp = await client.aio.models.generate_content(
        model=MODEL,
        contents="sleepy ambient for bedtime",
        config=types.GenerateContentConfig(response_mime_type="text/x.enum", response_schema=Energy),
    )
    assert resp.parsed == Energy.LOW


class Choice(BaseModel):
    chosen_ids: list[str] = Field(max_length=2)
    reasoning: str


async def test_choosing_among_listed_candidates_through_the_sdk(client: genai.Client) -> None:
    prompt = (
        "Mood: calm piano for studying\nChoose 1 of these tracks:\n"
        "[t1] Neon Rush (edm, energy 0.92)\n[t2] Piano Lines (piano, energy 0.1)\n[t3] Hammer Down (metal)\n"
    )
    resp = await client.aio.models.generate_content(
        model=MODEL, contents=prompt, config=json_config(response_schema=Choice)
    )
    assert isinstance(resp.parsed, Choice)
    assert resp.parsed.chosen_ids == ["t2"]


async def test_count_tokens_through_the_sdk(server: FakeServer, client: genai.Client) -> None:
    resp = await client.aio.models.count_tokens(model=MODEL, contents="x" * 40)
    assert resp.total_tokens == 10
    assert server.calls[-1] == ("v1", MODEL, "countTokens")


async def test_a_malformed_request_is_a_client_error_with_the_message(client: genai.Client) -> None:
    with pytest.raises(errors.ClientError) as caught:
        await client.aio.models.generate_content(
            model=MODEL, contents="rainy jazz", config=types.GenerateContentConfig(response_schema=MoodPlan)
        )
    assert caught.value.code == 400
    assert caught.value.status == "INVALID_ARGUMENT"
    assert "response_mime_type" in (caught.value.message or "")


async def test_plain_text_answers(client: genai.Client) -> None:
    resp = await client.aio.models.generate_content(model=MODEL, contents="rainy slow jazz")
    assert resp.text and "jazz" in resp.text
    assert resp.candidates and resp.candidates[0].finish_reason == types.FinishReason.STOP

"""The Gemini route's HTTP side: API key, both API versions, token stats, errors, and the real google-genai
SDK getting a parsed pydantic answer. (What the model answers is tested in test_gemini*.)"""

from __future__ import annotations

import json

import httpx
import pytest
from google import genai
from google.genai import errors, types
from pydantic import BaseModel, Field

from sim.testing import RunningSim

KEY = {"x-goog-api-key": "test-key"}
BODY = {
    "systemInstruction": {"parts": [{"text": "You are a music curator."}]},
    "contents": [{"role": "user", "parts": [{"text": "Pick genres for a calm rainy evening with jazz"}]}],
    "generationConfig": {
        "responseMimeType": "application/json",
        "responseSchema": {
            "type": "OBJECT",
            "properties": {"genres": {"type": "ARRAY", "items": {"type": "STRING"}}},
            "required": ["genres"],
        },
    },
}


def url(sim: RunningSim, version: str, method: str, model: str = "gemini-2.5-flash") -> str:
    return f"{sim.gemini_url}/{version}/models/{model}:{method}"


@pytest.mark.parametrize("version", ["v1", "v1beta"])
async def test_generate_content_envelope_on_both_api_versions(
    sim: RunningSim, http: httpx.AsyncClient, version: str
) -> None:
    r = await http.post(url(sim, version, "generateContent"), json=BODY, headers=KEY)
    assert r.status_code == 200
    body = r.json()
    candidate = body["candidates"][0]
    assert candidate["finishReason"] == "STOP"
    answer = json.loads(candidate["content"]["parts"][0]["text"])
    assert isinstance(answer, dict)
    usage = body["usageMetadata"]
    assert usage["promptTokenCount"] > 0 and usage["totalTokenCount"] >= usage["promptTokenCount"]
    assert body["responseId"]
    stats = sim.stats()["upstreams"]["gemini"]
    assert stats["tokens_in"] == usage["promptTokenCount"]
    assert stats["tokens_out"] == usage["candidatesTokenCount"]
    assert stats["endpoints"]["POST /models/{model}:generateContent"]["calls"] == 1


async def test_same_request_same_answer(sim: RunningSim, http: httpx.AsyncClient) -> None:
    first = (await http.post(url(sim, "v1", "generateContent"), json=BODY, headers=KEY)).json()
    second = (await http.post(url(sim, "v1", "generateContent"), json=BODY, headers=KEY)).json()
    assert first == second


async def test_missing_api_key_is_403_permission_denied(sim: RunningSim, http: httpx.AsyncClient) -> None:
    r = await http.post(url(sim, "v1beta", "generateContent"), json=BODY)
    assert r.status_code == 403
    assert r.json()["error"]["status"] == "PERMISSION_DENIED"
    assert (await http.post(url(sim, "v1beta", "generateContent") + "?key=abc", json=BODY)).status_code == 200


@pytest.mark.parametrize(
    ("content", "status", "google_status"),
    [(b"{not json", 400, "INVALID_ARGUMENT"), (b"[]", 400, "INVALID_ARGUMENT")],
)
async def test_malformed_bodies_are_invalid_argument(
    sim: RunningSim, http: httpx.AsyncClient, content: bytes, status: int, google_status: str
) -> None:
    r = await http.post(url(sim, "v1", "generateContent"), content=content, headers=KEY)
    assert r.status_code == status and r.json()["error"]["status"] == google_status


async def test_a_request_the_model_rejects_is_invalid_argument_naming_the_field(
    sim: RunningSim, http: httpx.AsyncClient
) -> None:
    r = await http.post(url(sim, "v1beta", "generateContent"), json={"contents": []}, headers=KEY)
    assert r.status_code == 400
    assert r.json()["error"] == {
        "code": 400,
        "message": "* GenerateContentRequest.contents: contents is not specified",
        "status": "INVALID_ARGUMENT",
    }
    html = {**BODY, "generationConfig": {"responseMimeType": "text/html"}}
    r = await http.post(url(sim, "v1beta", "generateContent"), json=html, headers=KEY)
    assert r.status_code == 400 and r.json()["error"]["status"] == "INVALID_ARGUMENT"
    assert r.json()["error"]["message"].startswith("* GenerateContentRequest.generation_config.response_mime_type:")
    gemini = sim.stats()["upstreams"]["gemini"]
    assert gemini["status"] == {"400": 2} and gemini["tokens_in"] == 0


async def test_unknown_model_and_version_are_404(sim: RunningSim, http: httpx.AsyncClient) -> None:
    r = await http.post(url(sim, "v1", "generateContent", model="gpt-4"), json=BODY, headers=KEY)
    assert r.status_code == 404 and r.json()["error"]["status"] == "NOT_FOUND"
    assert (await http.post(url(sim, "v2", "generateContent"), json=BODY, headers=KEY)).status_code == 404


async def test_methods_segue_does_not_call_are_not_served(sim: RunningSim, http: httpx.AsyncClient) -> None:
    r = await http.post(url(sim, "v1", "countTokens"), json=BODY, headers=KEY)
    assert r.status_code == 404 and r.json()["error"]["status"] == "NOT_FOUND"


class MoodGenres(BaseModel):
    genres: list[str] = Field(min_length=1)
    energy: float = Field(ge=0, le=1)


@pytest.mark.parametrize("api_version", [None, "v1beta"])
async def test_google_genai_sdk_gets_a_parsed_pydantic_answer(sim: RunningSim, api_version: str | None) -> None:
    client = genai.Client(
        api_key="test-key", http_options=types.HttpOptions(base_url=sim.gemini_url, api_version=api_version)
    )
    try:
        response = await client.aio.models.generate_content(
            model="gemini-2.5-flash",
            contents="Genres and an energy level (0-1) for a calm, rainy evening with some jazz",
            config=types.GenerateContentConfig(
                system_instruction="You are a music curator.",
                response_mime_type="application/json",
                response_schema=MoodGenres,
                thinking_config=types.ThinkingConfig(thinking_budget=0),
            ),
        )
        assert isinstance(response.parsed, MoodGenres)
        assert response.usage_metadata is not None and response.usage_metadata.prompt_token_count
        sim.set_faults(upstream="gemini", outage=True)
        with pytest.raises(errors.ServerError) as failure:
            await client.aio.models.generate_content(model="gemini-2.5-flash", contents="hi")
        assert failure.value.code == 503
    finally:
        await client.aio.aclose()

"""The JSON around an answer: request checks, the response envelope, error bodies, token counts, truncation."""

from __future__ import annotations

import json
from typing import Any

import pytest

from sim.catalog import build_catalog
from sim.gemini import GeminiAnswer, GeminiRequestError, error_body, generate, knowledge, response_envelope
from sim.profile import load_profile

KB = knowledge(build_catalog(42, load_profile("fast").catalog))
SCHEMA = {
    "type": "OBJECT",
    "properties": {"reasoning": {"type": "STRING"}, "genres": {"type": "ARRAY", "items": {"type": "STRING"}}},
    "required": ["reasoning", "genres"],
    "property_ordering": ["reasoning", "genres"],
}


def body(prompt: str = "Mood prompt: rainy jazz", schema: Any = SCHEMA, **config: Any) -> dict[str, Any]:
    """A generateContent body as google-genai sends it."""
    generation = {"responseMimeType": "application/json", "responseSchema": schema} if schema else {}
    return {
        "contents": [{"role": "user", "parts": [{"text": prompt}]}],
        "systemInstruction": {"role": "user", "parts": [{"text": "You are a music curator."}]},
        "generationConfig": {**generation, **config},
    }


def test_response_envelope_has_the_real_shape() -> None:
    envelope = response_envelope(GeminiAnswer('{"a": 1}', 12, 40, "STOP"), "gemini-2.5-flash", "resp-1")
    assert envelope == {
        "candidates": [
            {"content": {"role": "model", "parts": [{"text": '{"a": 1}'}]}, "finishReason": "STOP", "index": 0}
        ],
        "usageMetadata": {
            "promptTokenCount": 12,
            "candidatesTokenCount": 40,
            "totalTokenCount": 52,
            "thoughtsTokenCount": 0,
            "promptTokensDetails": [{"modality": "TEXT", "tokenCount": 12}],
        },
        "modelVersion": "gemini-2.5-flash",
        "responseId": "resp-1",
    }


def test_quota_error_body_carries_quota_failure_and_retry_info() -> None:
    quota = "GenerateRequestsPerMinutePerProjectPerModel-FreeTier"
    error = error_body(429, "RESOURCE_EXHAUSTED", "You exceeded your current quota.", 12, quota)["error"]
    assert (error["code"], error["status"]) == (429, "RESOURCE_EXHAUSTED")
    assert [d["@type"].rsplit(".", 1)[-1] for d in error["details"]] == ["QuotaFailure", "RetryInfo"]
    assert error["details"][0]["violations"][0]["quotaId"] == quota
    assert error["details"][1]["retryDelay"] == "12s"


@pytest.mark.parametrize(("seconds", "text"), [(12, "12s"), (0.15, "0.15s"), (0.0004, "0s"), (2.0006, "2.001s")])
def test_retry_delay_is_a_protobuf_duration(seconds: float, text: str) -> None:
    assert error_body(429, "RESOURCE_EXHAUSTED", "m", retry_delay_s=seconds)["error"]["details"] == [
        {"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": text}
    ]
    assert error_body(400, "INVALID_ARGUMENT", "bad") == {
        "error": {"code": 400, "message": "bad", "status": "INVALID_ARGUMENT"}
    }


def test_tokens_are_about_four_characters_over_the_system_instruction_and_every_part() -> None:
    prompt = "x" * 400
    result = generate(body(prompt), "gemini-2.5-flash", KB)
    assert result.prompt_tokens == 107  # ⌈(24 characters of system + a newline + 400) / 4⌉
    assert result.output_tokens == -(-len(result.text) // 4)
    assert result.finish_reason == "STOP"
    assert list(json.loads(result.text)) == ["reasoning", "genres"]  # propertyOrdering


def test_max_output_tokens_cuts_the_answer_like_the_real_model() -> None:
    full = generate(body(), "m", KB)
    cut = generate(body(maxOutputTokens=5), "m", KB)
    assert full.output_tokens > 5 and (cut.finish_reason, cut.output_tokens) == ("MAX_TOKENS", 5)
    assert full.text.startswith(cut.text) and len(cut.text) == 20
    with pytest.raises(json.JSONDecodeError):
        json.loads(cut.text)


def test_same_body_same_answer_and_plain_text_without_a_schema() -> None:
    assert generate(body(), "m", KB) == generate(body(), "m", KB)
    plain = generate(body("rainy slow jazz", schema=None), "m", KB).text
    assert "jazz" in plain and not plain.startswith("{")


def test_the_sdks_snake_case_keys_are_read() -> None:
    schema = {
        "type": "OBJECT",
        "properties": {"genres": {"type": "ARRAY", "items": {"type": "STRING"}, "max_items": 1, "min_items": 1}},
        "property_ordering": ["genres"],
    }
    request = {
        "contents": [{"role": "user", "parts": [{"text": "rainy jazz"}]}],
        "generation_config": {"response_mime_type": "application/json", "response_schema": schema},
    }
    assert json.loads(generate(request, "m", KB).text) == {"genres": ["jazz"]}


@pytest.mark.parametrize(
    ("request_body", "message"),
    [
        ({"contents": []}, "contents: contents is not specified"),
        ({"contents": [{"role": "user", "parts": []}]}, "contents[0].parts: contents.parts must not be empty"),
        ({"contents": [{"role": "robot", "parts": [{"text": "hi"}]}]}, "valid role: user, model"),
        (body(responseMimeType="text/html"), "response_mime_type: allowed mimetypes"),
        (body(responseMimeType="text/plain"), "must be application/json with a response schema"),
        (body(responseJsonSchema=SCHEMA), "only one of response_schema and response_json_schema"),
        (body(temperature=3), "temperature must be in the range"),
        (body(maxOutputTokens=0), "max_output_tokens must be a positive integer"),
        (body(schema={"type": "OBJECT"}), "properties: should be non-empty for OBJECT type"),
        (body(schema={"type": "ARRAY"}), "items: missing field"),
        (body(schema={"type": "WHATEVER"}), "type: must be one of OBJECT"),
        (body(schema={**SCHEMA, "required": ["mood"]}), "required: ['mood'] are not properties"),
        (body(schema={"type": "INTEGER", "minimum": 5, "maximum": 1}), "minimum: 5 is greater than the maximum 1"),
        (body(schema={"anyOf": [{"type": "STRING"}], "type": "STRING"}), "anyOf not supported by the simulator"),
        (body(schema={"type": "STRING", "pattern": "^a"}), "pattern not supported by the simulator"),
    ],
)
def test_malformed_requests_are_refused_naming_the_problem(request_body: dict[str, Any], message: str) -> None:
    with pytest.raises(GeminiRequestError) as refused:
        generate(request_body, "m", KB)
    assert message in str(refused.value)

"""The JSON around an answer: response envelope, error bodies, token counts, truncation, stop sequences."""

from __future__ import annotations

import json

import pytest

from sim.gemini import GeminiAnswer, GeminiRequestError, count_tokens, error_body, generate, response_envelope
from tests.sim.test_gemini_support import VOCAB, body

SCHEMA = {
    "type": "OBJECT",
    "properties": {"reasoning": {"type": "STRING"}, "genres": {"type": "ARRAY", "items": {"type": "STRING"}}},
    "required": ["reasoning", "genres"],
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


def test_quota_error_body_carries_quota_failure_help_and_retry_info() -> None:
    body_ = error_body(
        429,
        "RESOURCE_EXHAUSTED",
        "You exceeded your current quota.",
        retry_delay_s=12,
        quota_id="GenerateRequestsPerMinutePerProjectPerModel-FreeTier",
    )
    error = body_["error"]
    assert (error["code"], error["status"], error["message"]) == (
        429,
        "RESOURCE_EXHAUSTED",
        "You exceeded your current quota.",
    )
    kinds = [d["@type"].rsplit(".", 1)[-1] for d in error["details"]]
    assert kinds == ["QuotaFailure", "Help", "RetryInfo"]
    violation = error["details"][0]["violations"][0]
    assert violation["quotaId"] == "GenerateRequestsPerMinutePerProjectPerModel-FreeTier"
    assert violation["quotaMetric"] == "generativelanguage.googleapis.com/generate_content_free_tier_requests"
    assert error["details"][2]["retryDelay"] == "12s"


def test_token_quota_names_the_token_metric() -> None:
    error = error_body(429, "RESOURCE_EXHAUSTED", "m", quota_id="GenerateContentInputTokensPerModelPerMinute")["error"]
    assert error["details"][0]["violations"][0]["quotaMetric"].endswith("paid_tier_input_token_count")


@pytest.mark.parametrize(
    ("seconds", "text"), [(12, "12s"), (0.15, "0.15s"), (1.5, "1.5s"), (0.0004, "0s"), (2.0006, "2.001s")]
)
def test_retry_delay_is_a_protobuf_duration(seconds: float, text: str) -> None:
    assert error_body(429, "RESOURCE_EXHAUSTED", "m", retry_delay_s=seconds)["error"]["details"] == [
        {"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": text}
    ]


def test_plain_errors_have_no_details() -> None:
    assert error_body(400, "INVALID_ARGUMENT", "bad") == {
        "error": {"code": 400, "message": "bad", "status": "INVALID_ARGUMENT"}
    }


def test_token_counts_are_about_four_characters_a_token_over_system_and_contents() -> None:
    text = "x" * 400
    assert count_tokens({"contents": text}) == 100
    assert count_tokens({"contents": [{"role": "user", "parts": [{"text": "hi"}]}]}) == 1
    with_system = {"contents": text, "systemInstruction": {"parts": [{"text": "y" * 399}]}}
    assert count_tokens(with_system) == 200  # 400 + newline + 399 characters
    wrapped = {
        "generateContentRequest": {"model": "models/gemini-2.5-flash", "contents": [{"parts": [{"text": text}]}]}
    }
    assert count_tokens(wrapped) == 100
    with pytest.raises(GeminiRequestError, match="contents is not specified"):
        count_tokens({})


def test_generate_reports_prompt_and_output_tokens() -> None:
    request = body("rainy jazz " * 40, SCHEMA, dialect="openapi", system="You are a curator.")
    result = generate(request, "gemini-2.5-flash", VOCAB)
    assert result.prompt_tokens == count_tokens(request)
    assert result.output_tokens == -(-len(result.text) // 4)
    assert result.finish_reason == "STOP"


def test_max_output_tokens_truncates_like_the_real_model() -> None:
    full = generate(body("rainy jazz", SCHEMA, dialect="openapi"), "m", VOCAB)
    cut = generate(body("rainy jazz", SCHEMA, dialect="openapi", maxOutputTokens=5), "m", VOCAB)
    assert full.output_tokens > 5
    assert (cut.finish_reason, cut.output_tokens) == ("MAX_TOKENS", 5)
    assert full.text.startswith(cut.text) and len(cut.text) == 20
    with pytest.raises(json.JSONDecodeError):
        json.loads(cut.text)


def test_stop_sequences_end_the_answer_early() -> None:
    full = generate(body("rainy jazz"), "m", VOCAB).text
    stopped = generate(body("rainy jazz", stopSequences=["jazz"]), "m", VOCAB).text
    assert stopped == full[: full.index("jazz")]

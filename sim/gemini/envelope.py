"""The JSON the real API answers with: the response envelope, error bodies, token estimates."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

CHARS_PER_TOKEN = 4  # the usual rule of thumb for English text with Gemini's tokenizer


@dataclass(frozen=True)
class GeminiAnswer:
    text: str  # candidates[0].content.parts[0].text
    prompt_tokens: int
    output_tokens: int
    finish_reason: str  # "STOP", or "MAX_TOKENS" when maxOutputTokens cut the answer


def estimate_tokens(text: str) -> int:
    """Deterministic estimate: about four characters a token, at least one."""
    return max(1, math.ceil(len(text) / CHARS_PER_TOKEN))


def response_envelope(answer: GeminiAnswer, model: str, response_id: str) -> dict[str, Any]:
    return {
        "candidates": [
            {
                "content": {"role": "model", "parts": [{"text": answer.text}]},
                "finishReason": answer.finish_reason,
                "index": 0,
            }
        ],
        "usageMetadata": {
            "promptTokenCount": answer.prompt_tokens,
            "candidatesTokenCount": answer.output_tokens,
            "totalTokenCount": answer.prompt_tokens + answer.output_tokens,
            "thoughtsTokenCount": 0,
            "promptTokensDetails": [{"modality": "TEXT", "tokenCount": answer.prompt_tokens}],
        },
        "modelVersion": model,
        "responseId": response_id,
    }


def duration(seconds: float) -> str:
    """A protobuf Duration in its JSON form: "12s", "0.15s" (at most millisecond precision)."""
    return f"{max(seconds, 0.0):.3f}".rstrip("0").rstrip(".") + "s"


def error_body(
    code: int,
    status: str,
    message: str,
    retry_delay_s: float | None = None,
    quota_id: str | None = None,
) -> dict[str, Any]:
    """Google's error envelope; QuotaFailure only with a quota id, RetryInfo only with a delay.

    The real API also sends a Help link and a quotaMetric; no caller reads them, so the simulator leaves them out."""
    details: list[dict[str, Any]] = []
    if quota_id is not None:
        violation = {"quotaId": quota_id}
        details.append({"@type": "type.googleapis.com/google.rpc.QuotaFailure", "violations": [violation]})
    if retry_delay_s is not None:
        details.append({"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": duration(retry_delay_s)})
    error: dict[str, Any] = {"code": code, "message": message, "status": status}
    if details:
        error["details"] = details
    return {"error": error}

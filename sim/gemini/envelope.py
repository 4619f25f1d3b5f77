"""The JSON the real API answers with: the response envelope, error bodies, token estimates."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

CHARS_PER_TOKEN = 4  # the usual rule of thumb for English text with Gemini's tokenizer
# Text per streamed chunk: about 8 tokens, a whole number of tokens so the chunks' token estimates add up
# to the answer's.
STREAM_CHUNK_CHARS = 8 * CHARS_PER_TOKEN


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
    return _envelope(answer.text, model, response_id, answer)


def stream_envelopes(answer: GeminiAnswer, model: str, response_id: str) -> list[tuple[int, dict[str, Any]]]:
    """streamGenerateContent's chunks as (output tokens, envelope): the answer's text in pieces of
    STREAM_CHUNK_CHARS, each envelope holding its own piece; only the last carries finishReason and
    usageMetadata (the unary answer's). An empty answer is one empty chunk, so the finish reason is still sent."""
    step = STREAM_CHUNK_CHARS
    pieces = [answer.text[i : i + step] for i in range(0, len(answer.text), step)] or [""]
    last = len(pieces) - 1
    return [
        (estimate_tokens(piece), _envelope(piece, model, response_id, answer if i == last else None))
        for i, piece in enumerate(pieces)
    ]


def _envelope(text: str, model: str, response_id: str, final: GeminiAnswer | None) -> dict[str, Any]:
    """A GenerateContentResponse holding `text`; with `final`, its finish reason and token counts too."""
    candidate: dict[str, Any] = {"content": {"role": "model", "parts": [{"text": text}]}, "index": 0}
    envelope: dict[str, Any] = {"candidates": [candidate]}
    if final is not None:
        candidate["finishReason"] = final.finish_reason
        envelope["usageMetadata"] = {
            "promptTokenCount": final.prompt_tokens,
            "candidatesTokenCount": final.output_tokens,
            "totalTokenCount": final.prompt_tokens + final.output_tokens,
            "thoughtsTokenCount": 0,
            "promptTokensDetails": [{"modality": "TEXT", "tokenCount": final.prompt_tokens}],
        }
    return {**envelope, "modelVersion": model, "responseId": response_id}


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

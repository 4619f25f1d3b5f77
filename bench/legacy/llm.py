"""The monolith's one shared LLM, as calls to the simulator's Gemini.

The monolith used `ChatOpenAI(model="google/gemini-2.5-flash-lite-preview-09-2025", base_url=openrouter,
temperature=0.25)` (§1) and pulled JSON out of the answer text (§2.5). Here every call is a Gemini
`generateContent` with a JSON schema of the shape the monolith's prompt asked for, so the fake model
answers in that shape. Retries follow the OpenAI SDK defaults LangChain inherits: 2 retries after 0.5 s
and 1 s on timeouts, 408/409/429 and 5xx; request timeout 600 s. No client-side limiter (there was none).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import httpx

from bench.legacy.ledger import CallRecord
from bench.legacy.tools import RunContext
from bench.simctl import GENERATE

MODEL = "gemini-2.5-flash-lite-preview-09-2025"
TEMPERATURE = 0.25  # §1
API_KEY = "sim-local-api-key"  # the simulator accepts any key
RETRY_DELAYS_S = (0.5, 1.0)  # openai-python: min(0.5 · 2^n, 8) s, 2 retries
TIMEOUT_S = 600.0  # openai-python default request timeout
_RETRYABLE = frozenset({408, 409, 429})


@dataclass(frozen=True)
class LlmTask:
    name: str  # e.g. "mood_analysis"
    system: str
    user: str
    schema: dict[str, Any]  # JSON Schema of the answer


async def ask(run: RunContext, task: LlmTask) -> dict[str, Any] | None:
    """The parsed answer, or None when every attempt failed (each caller then takes its fallback path)."""
    body = request_body(task)
    url = f"{run.base_urls['gemini']}/v1beta/models/{MODEL}:generateContent"
    headers = {"x-goog-api-key": API_KEY}
    for attempt in range(len(RETRY_DELAYS_S) + 1):
        status = 0
        answer: dict[str, Any] | None = None
        try:
            response = await run.http.post(url, json=body, headers=headers, timeout=TIMEOUT_S * run.clock.scale)
            status = response.status_code
            if status == 200:
                answer = _read(response.json())
        except httpx.TransportError:
            status = 0
        run.ledger.add(CallRecord("gemini", GENERATE, status, task.name))
        if answer is not None:
            return answer
        if attempt == len(RETRY_DELAYS_S) or not (status == 0 or status >= 500 or status in _RETRYABLE):
            return None
        await run.clock.sleep(RETRY_DELAYS_S[attempt])
    return None


def request_body(task: LlmTask) -> dict[str, Any]:
    """The generateContent REST body for a task."""
    return {
        "systemInstruction": {"parts": [{"text": task.system}]},
        "contents": [{"role": "user", "parts": [{"text": task.user}]}],
        "generationConfig": {
            "temperature": TEMPERATURE,
            "responseMimeType": "application/json",
            "responseJsonSchema": task.schema,
        },
    }


def _read(envelope: dict[str, Any]) -> dict[str, Any] | None:
    try:
        text = envelope["candidates"][0]["content"]["parts"][0]["text"]
        parsed = json.loads(text)
    except (KeyError, IndexError, ValueError):
        return None  # llm_response_parser finds no JSON: the caller's fallback
    return parsed if isinstance(parsed, dict) else None

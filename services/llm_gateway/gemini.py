"""Gemini through the real `google-genai` SDK (async), retried by the mesh's one retry loop.

The SDK's own retries stay off (`attempts=1`, which also disables its silent 1–10 s reconnect sleep
under aiohttp): `upstream_http.retrying` retries 5xx, timeouts and connection errors with full-jitter
backoff, and a 429 after at least the RetryInfo delay Gemini asked for — every wait bounded by the
caller's deadline, failing fast with RESOURCE_EXHAUSTED when Gemini's pause outlasts it. Every answer is
checked against its pydantic schema; an answer outside it is asked for once more, then given up on.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Callable
from typing import Protocol, TypeVar

from google import genai
from google.genai import types
from pydantic import BaseModel, ValidationError

from services.common import call_context, margins, upstream_calls
from services.common.degradation import GEMINI
from services.common.errors import (
    DeadlineExceeded,
    ResourceExhausted,
    UpstreamError,
    UpstreamRejected,
)
from services.common.logs import register_secret
from services.common.upstream_http import (
    Attempts,
    Failed,
    LatencyWindow,
    LocalCooldown,
    Pacer,
    RetryPolicy,
    call_time_s,
    retrying,
)
from services.llm_gateway.gemini_errors import Failure, classify
from services.llm_gateway.metrics import LlmMetrics
from services.llm_gateway.usage import Usage

log = logging.getLogger(__name__)

M = TypeVar("M", bound=BaseModel)

UPSTREAM = GEMINI
_CHARS_PER_TOKEN = 4  # Gemini's rule of thumb for English text
_ANSWERS_PER_CALL = 2  # an answer outside the schema is asked for once more, then given up on


class InvalidAnswer(UpstreamError):
    """The LLM answered, but twice not in the shape it was asked for."""


# Everything `generate` raises when the LLM cannot answer; callers degrade on these.
LLM_FAILURES: tuple[type[Exception], ...] = (UpstreamError, UpstreamRejected, ResourceExhausted, DeadlineExceeded)


class StructuredLlm(Protocol):
    """An LLM that answers a prompt with an instance of a pydantic schema (the seam for other models)."""

    @property
    def model(self) -> str: ...

    async def generate(
        self,
        *,
        task: str,
        system: str,
        prompt: str,
        schema: type[M],
        usage: Usage,
        wire_schema: type[BaseModel] | None = None,
        on_text: Callable[[str], None] | None = None,
    ) -> M: ...


def estimate_tokens(system: str, prompt: str) -> int:
    """Input tokens of a request, before sending it: what Gemini's tokens-per-minute limit meters.

    Output tokens are not counted: Gemini's TPM (and the simulator's) counts input only, and charging
    every call its max output tokens (4096) would make TPM, not RPM, the limit at a tenth of real use.
    """
    return -(-(len(system) + len(prompt)) // _CHARS_PER_TOKEN)


def parse_answer(response: types.GenerateContentResponse, schema: type[M]) -> M | None:
    """The schema instance an answer holds, or None. The SDK swallows validation errors into parsed=None."""
    if isinstance(response.parsed, schema):
        return response.parsed
    text = response.text
    if not text:
        return None
    try:
        return schema.model_validate_json(text)
    except ValidationError:
        return None


async def streamed(
    chunks: AsyncIterator[types.GenerateContentResponse], on_text: Callable[[str], None]
) -> types.GenerateContentResponse:
    """A streamed answer read to its end as one response (its whole text, the last chunk's finish reason and
    usage), `on_text` called with the text so far after each chunk."""
    text, last = "", types.GenerateContentResponse()
    async for chunk in chunks:
        last = chunk
        if chunk.text:
            text += chunk.text
            on_text(text)
    finish = last.candidates[0].finish_reason if last.candidates else None
    content = types.Content(role="model", parts=[types.Part(text=text)])
    return types.GenerateContentResponse(
        candidates=[types.Candidate(content=content, finish_reason=finish)], usage_metadata=last.usage_metadata
    )


class GeminiClient:
    def __init__(
        self,
        *,
        api_key: str,
        base_url: str,
        model: str,
        metrics: LlmMetrics,
        api_version: str = "",
        timeout_s: float = 30.0,
        max_attempts: int = 3,
        pacer: Pacer | None = None,
        retry: RetryPolicy | None = None,
        temperature: float = 0.2,
        max_output_tokens: int = 4096,
        margin_s: float = margins.ANSWER_S,
    ) -> None:
        # Masked in every log line and in any error text Gemini sends back (config registers it too).
        register_secret(api_key)
        options = types.HttpOptions(
            base_url=base_url,
            timeout=int(timeout_s * 1000),
            retry_options=types.HttpRetryOptions(attempts=1),
        )
        if api_version:
            options.api_version = api_version
        self._client = genai.Client(api_key=api_key, http_options=options)
        self._model = model
        self._metrics = metrics
        self._timeout_s = timeout_s
        self._pacer = pacer or LocalCooldown()
        self._retry = retry or RetryPolicy(max_attempts=max_attempts, base_delay_s=0.25, max_delay_s=4.0)
        self._temperature = temperature
        self._max_output_tokens = max_output_tokens
        self._margin_s = margin_s  # left to the caller to answer (or fall back) after the last attempt
        self._latency = LatencyWindow(200)  # answered calls, for the time kept back from a wait

    @property
    def model(self) -> str:
        return self._model

    async def aclose(self) -> None:
        await self._client.aio.aclose()

    async def generate(
        self,
        *,
        task: str,
        system: str,
        prompt: str,
        schema: type[M],
        usage: Usage,
        wire_schema: type[BaseModel] | None = None,
        on_text: Callable[[str], None] | None = None,
    ) -> M:
        """One structured answer. `task` labels the metrics; `usage` accumulates every request sent.

        `wire_schema`, when given, is what Gemini is asked to answer in, while the answer is parsed with
        `schema`: a bundle sends strict parts but parses leniently, to judge each part on its own.
        `on_text`, when given, streams the answer (streamGenerateContent) and is called with the text so far
        after each chunk, so a caller can act on the start of the answer before the model has finished it.
        """
        answers = 0

        async def once() -> M | Failed:
            nonlocal answers
            response, failure = await self._send(task, system, prompt, wire_schema or schema, usage, on_text)
            if failure is not None:
                self._metrics.calls.labels(task, failure.kind).inc()
                # A 429's RetryInfo delay pauses every replica; without one the loop backs off.
                return Failed(failure.kind, failure.status, failure.detail, pause_s=failure.retry_delay_s or None)
            assert response is not None
            answer = parse_answer(response, schema)
            if answer is not None:
                self._metrics.calls.labels(task, "ok").inc()
                return answer
            self._metrics.calls.labels(task, "invalid_answer").inc()
            answers += 1
            if answers >= _ANSWERS_PER_CALL:
                raise InvalidAnswer(UPSTREAM, f"answered outside the {schema.__name__} schema {answers} times")
            log.info("%s answered outside the %s schema, asking again", UPSTREAM, schema.__name__)
            return Failed("invalid_answer", again=True)

        # Requests and input tokens per minute, shared by every replica; a wait beyond the caller's
        # deadline (less a typical call) is refused at once, never slept through.
        return await retrying(
            once,
            Attempts(UPSTREAM, "generateContent", self._timeout_s, self._margin_s, estimate_tokens(system, prompt)),
            pacer=self._pacer,
            policy=self._retry,
            keep_s=lambda: call_time_s(self._latency, self._timeout_s, self._margin_s),
        )

    async def _send(
        self,
        task: str,
        system: str,
        prompt: str,
        schema: type[BaseModel],
        usage: Usage,
        on_text: Callable[[str], None] | None = None,
    ) -> tuple[types.GenerateContentResponse | None, Failure | None]:
        budget = call_context.budget(self._timeout_s, self._margin_s)
        config = types.GenerateContentConfig(
            system_instruction=system,
            response_mime_type="application/json",
            response_schema=schema,
            temperature=self._temperature,
            max_output_tokens=self._max_output_tokens,
            thinking_config=types.ThinkingConfig(thinking_budget=0),
            # The SDK's timeout also tells Gemini (X-Server-Timeout) how long we will wait.
            http_options=types.HttpOptions(timeout=max(1, int(budget * 1000))),
        )
        usage.calls += 1
        upstream_calls.count(UPSTREAM)
        t0 = time.perf_counter()
        try:
            async with asyncio.timeout(budget):
                if on_text is None:
                    response = await self._client.aio.models.generate_content(
                        model=self._model, contents=prompt, config=config
                    )
                else:
                    chunks = await self._client.aio.models.generate_content_stream(
                        model=self._model, contents=prompt, config=config
                    )
                    response = await streamed(chunks, on_text)
        except Exception as exc:
            failure = classify(exc)
            if failure is None:
                raise
            return None, failure
        finally:
            self._metrics.seconds.labels(task).observe(time.perf_counter() - t0)
        self._latency.observe(time.perf_counter() - t0)
        self._count_tokens(response, usage)
        return response, None

    def _count_tokens(self, response: types.GenerateContentResponse, usage: Usage) -> None:
        meta = response.usage_metadata
        if meta is None:
            return
        prompt_tokens = meta.prompt_token_count or 0
        # Thinking is billed as output.
        output_tokens = (meta.candidates_token_count or 0) + (meta.thoughts_token_count or 0)
        usage.prompt_tokens += prompt_tokens
        usage.output_tokens += output_tokens
        self._metrics.tokens.labels("prompt").inc(prompt_tokens)
        self._metrics.tokens.labels("output").inc(output_tokens)

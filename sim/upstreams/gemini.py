"""The fake Gemini API (google-genai base_url http://host:port/gemini; /v1 and /v1beta both served).

The methods segue calls: generateContent and streamGenerateContent (the same answer as server-sent events,
`data: <GenerateContentResponse>` per chunk of about 8 tokens, each sent when its tokens are generated). The
answers' content comes from sim.gemini (pure functions); this module owns the HTTP side: the
`x-goog-api-key` check (any non-empty key; `?key=` works too), per-model RPM/TPM limits (429
RESOURCE_EXHAUSTED with QuotaFailure and RetryInfo), the model's speed (time to first token plus time per
output token, on top of the endpoint's latency) and token counting.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
from typing import Any

from aiohttp import web

from sim import gemini as gem
from sim.endpoints import PREFIXES
from sim.pipeline import UpstreamRoutes
from sim.reply import Call, Event, Handler, Reply, ReplyError

MODEL = re.compile(r"^(gemini|gemma)[a-z0-9.\-]*$")
_STATUS = {
    400: "INVALID_ARGUMENT",
    403: "PERMISSION_DENIED",
    404: "NOT_FOUND",
    429: "RESOURCE_EXHAUSTED",
    500: "INTERNAL",
    502: "UNAVAILABLE",
    503: "UNAVAILABLE",
    504: "DEADLINE_EXCEEDED",
}
_MESSAGES = {
    404: "Requested entity was not found.",
    500: "An internal error has occurred. Please retry or report in https://developers.generativeai.google/guide/troubleshooting",
    502: "The service is currently unavailable.",
    503: "The model is overloaded. Please try again later.",
    504: "The request timed out. Please try again.",
}


def error(code: int, message: str, **extra: Any) -> Reply:
    return Reply(code, gem.error_body(code, _STATUS.get(code, "UNKNOWN"), message, **extra))


def status_error(_request: web.Request, status: int, message: str | None = None) -> Reply:
    return error(status, message or _MESSAGES.get(status, "Error"))


def _check_key(call: Call) -> None:
    if not (call.request.headers.get("x-goog-api-key") or call.query.get("key")):
        raise ReplyError(
            error(
                403,
                "Method doesn't allow unregistered callers (callers without established identity). "
                "Please use API Key or other form of API consumer identity to call this API.",
            )
        )


def _model(call: Call, method: str) -> str:
    model = call.path_param("model")
    if not MODEL.match(model):
        version = call.path_param("version")
        raise ReplyError(
            error(404, f"models/{model} is not found for API version {version}, or is not supported for {method}.")
        )
    return model


def _body(call: Call) -> dict[str, Any]:
    try:
        body = json.loads(call.body or b"{}")
    except ValueError:
        raise ReplyError(error(400, "Invalid JSON payload received.")) from None
    if not isinstance(body, dict):
        raise ReplyError(error(400, "Invalid JSON payload received. Expected an object."))
    return body


def _response_id(body: bytes) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(body).digest()[:16]).decode().rstrip("=")


def _answer(call: Call, method: str) -> tuple[str, gem.GeminiAnswer]:
    """Both generate methods' checks (key, model, body, rate limit), then the model and its answer."""
    _check_key(call)
    model = _model(call, method)
    body = _body(call)
    state = call.state
    breach = state.limiters.gemini.check(state.sim_now(), model, gem.read_request(body).prompt_tokens)
    if breach is not None:
        wait, quota_id = breach
        raise ReplyError(
            error(
                429,
                "You exceeded your current quota, please check your plan and billing details. "
                "For more information on this error, head to: https://ai.google.dev/gemini-api/docs/rate-limits.",
                retry_delay_s=state.scaled(wait),
                quota_id=quota_id,
            )
        )
    return model, gem.generate(body, model, state.knowledge)


def generate_content(call: Call) -> Reply:
    """The whole answer at once, after the time to first token and every output token."""
    model, answer = _answer(call, "generateContent")
    speed = call.state.profile.gemini.speed
    return Reply(
        200,
        gem.response_envelope(answer, model, _response_id(call.body)),
        work_s=speed.ttft_s + speed.s_per_output_token * answer.output_tokens,
        tokens_in=answer.prompt_tokens,
        tokens_out=answer.output_tokens,
    )


def stream_generate_content(call: Call) -> Reply:
    """The same answer as server-sent events (google-genai asks `?alt=sse`): the first chunk after the time to
    first token, each chunk after its own output tokens, so the whole takes as long as generateContent."""
    model, answer = _answer(call, "streamGenerateContent")
    speed = call.state.profile.gemini.speed
    chunks = gem.stream_envelopes(answer, model, _response_id(call.body))
    return Reply(
        200,
        work_s=speed.ttft_s,
        tokens_in=answer.prompt_tokens,
        tokens_out=answer.output_tokens,
        events=tuple(Event(envelope, speed.s_per_output_token * tokens) for tokens, envelope in chunks),
    )


_HANDLERS: dict[str, Handler] = {
    "POST /models/{model}:generateContent": generate_content,
    "POST /models/{model}:streamGenerateContent": stream_generate_content,
}

ROUTES = UpstreamRoutes(
    name="gemini",
    handlers=_HANDLERS,
    error=status_error,
    path_prefix=PREFIXES["gemini"] + "/{version:v1beta|v1}",
    placeholder_patterns={"model": "[^/:]+"},
    bad_request=(gem.GeminiRequestError,),
)

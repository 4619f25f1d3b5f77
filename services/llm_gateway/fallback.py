"""The warning a caller gets when a fallback answered instead of the LLM."""

from __future__ import annotations

from segue.v1 import common_pb2

from services.common.degradation import LLM_GATEWAY, fallback_used
from services.common.errors import DeadlineExceeded, ResourceExhausted, SegueError, UpstreamRejected
from services.common.logs import short
from services.llm_gateway.gemini import InvalidAnswer


def why(exc: Exception) -> str:
    """A short, secret-free reason the LLM could not answer."""
    if isinstance(exc, InvalidAnswer):
        reason = "the LLM answered outside the expected JSON schema twice"
    elif isinstance(exc, ResourceExhausted):
        reason = "the LLM is rate limited beyond this request's deadline"
    elif isinstance(exc, DeadlineExceeded):
        reason = "no time was left for an LLM call"
    elif isinstance(exc, TimeoutError):
        reason = "the LLM did not answer within this step's time budget"
    elif isinstance(exc, UpstreamRejected):
        reason = "the LLM rejected the request"
    else:
        reason = "the LLM is unavailable"
    detail = exc.message if isinstance(exc, SegueError) else exc.__class__.__name__
    return short(f"{reason} ({detail})", 300)


def fallback_warning(exc: Exception, what_instead: str) -> common_pb2.Warning:
    return fallback_used(LLM_GATEWAY, f"{why(exc)}; {what_instead}")

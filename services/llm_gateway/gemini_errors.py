"""How a failed Gemini request should be handled: its kind, and how long Gemini asked us to wait.

Pure functions over the SDK's exceptions, so the retry loop in gemini.py stays readable.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import httpx
from google.genai import errors as genai_errors

from services.common.logs import short
from services.common.upstream_http import parse_retry_after

# google-genai's async transport is aiohttp when it is installed (the simulator's `sim` extra brings it to
# development installs), else httpx2; a service-only install has no aiohttp.
try:
    import httpx2

    _HTTPX_ERRORS: tuple[type[Exception], ...] = (httpx.TransportError, httpx2.TransportError)
except ImportError:  # pragma: no cover - depends on the SDK's optional transport
    _HTTPX_ERRORS = (httpx.TransportError,)
try:
    import aiohttp

    _AIOHTTP_ERRORS: tuple[type[Exception], ...] = (aiohttp.ClientError,)
except ImportError:  # pragma: no cover - a service-only install
    _AIOHTTP_ERRORS = ()

# Connection-level failures from any transport the SDK may use.
TRANSPORT_ERRORS: tuple[type[Exception], ...] = (*_AIOHTTP_ERRORS, OSError, *_HTTPX_ERRORS)

FailureKind = Literal["rate_limited", "server_error", "timeout", "error", "rejected"]
_RETRY_INFO_TYPE = "type.googleapis.com/google.rpc.RetryInfo"
_DURATION = re.compile(r"^\s*(\d+(?:\.\d*)?)s\s*$")


@dataclass(frozen=True)
class Failure:
    kind: FailureKind
    status: int | None = None  # HTTP status, when there was an answer
    retry_delay_s: float | None = None  # RetryInfo.retryDelay (or Retry-After) of a 429
    detail: str = ""  # safe to show: secrets masked, kept short


def classify(exc: BaseException) -> Failure | None:
    """The failure a request raised, or None when it is not an upstream failure (a bug: let it propagate)."""
    if isinstance(exc, genai_errors.APIError):
        code = int(exc.code or 0)
        detail = short(f"{exc.status or code}: {exc.message or ''}")
        if code == 429:
            return Failure("rate_limited", code, retry_delay_s(exc.details, _retry_after_header(exc)), detail)
        if code == 408 or code >= 500:
            return Failure("server_error", code, None, detail)
        return Failure("rejected", code, None, detail)
    if isinstance(exc, TimeoutError):
        return Failure("timeout")
    if isinstance(exc, TRANSPORT_ERRORS):
        return Failure("error", None, None, exc.__class__.__name__)
    return None


def retry_delay_s(details: Any, fallback: float | None = None) -> float | None:
    """RetryInfo.retryDelay from a Google error body (`{"error": {"details": [...]}}`), in seconds."""
    if not isinstance(details, Mapping):
        return fallback
    error = details.get("error", details)
    entries = error.get("details") if isinstance(error, Mapping) else None
    if not isinstance(entries, Sequence):
        return fallback
    for entry in entries:
        if isinstance(entry, Mapping) and entry.get("@type") == _RETRY_INFO_TYPE:
            parsed = parse_duration(entry.get("retryDelay"))
            if parsed is not None:
                return parsed
    return fallback


def parse_duration(value: Any) -> float | None:
    """A protobuf Duration in its JSON form ("12.5s") or as {"seconds": N, "nanos": M}."""
    if isinstance(value, str):
        match = _DURATION.match(value)
        return float(match.group(1)) if match else None
    if isinstance(value, Mapping):
        try:
            return float(value.get("seconds", 0)) + float(value.get("nanos", 0)) / 1e9
        except (TypeError, ValueError):
            return None
    return None


def _retry_after_header(exc: genai_errors.APIError) -> float | None:
    headers = getattr(getattr(exc, "response", None), "headers", None)
    return parse_retry_after(headers.get("retry-after") if headers is not None else None, None)

"""JSON-lines logging to stdout with the service name and request id on every line.

Secrets never reach the output: values registered with `register_secret` and anything shaped like
a bearer token or API key are masked by the formatter itself, as a last line of defence behind the
rule that code never logs them.
"""

from __future__ import annotations

import json
import logging
import re
import sys
import time
from typing import Any

from services.common import call_context, tracing

_SECRET_PATTERNS = [
    re.compile(r"(?i)(bearer\s+)[A-Za-z0-9._~+/=-]+"),
    re.compile(
        r"(?i)((?:x-spotify-token|x-goog-api-key|api[_-]?key|access[_-]?token|authorization)[\"']?\s*[:=]\s*[\"']?)[^\s\"',}]+"
    ),
]
_registered_secrets: set[str] = set()
_STANDARD_ATTRS = set(vars(logging.makeLogRecord({}))) | {"message", "asctime"}


def register_secret(value: str) -> None:
    """Mask this exact value wherever it would appear in a log line (e.g. an API key from config)."""
    if len(value) >= 6:
        _registered_secrets.add(value)


def redact(text: str) -> str:
    for secret in _registered_secrets:
        text = text.replace(secret, "***")
    for pattern in _SECRET_PATTERNS:
        text = pattern.sub(r"\1***", text)
    return text


def short(text: str, limit: int = 200) -> str:
    """Outside text (an upstream's error body) safe for a log line or an error: secrets masked, one line, bounded."""
    text = redact(" ".join(text.split()))
    return text if len(text) <= limit else text[:limit] + "…"


class JsonFormatter(logging.Formatter):
    def __init__(self, service: str) -> None:
        super().__init__()
        self._service = service

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "timestamp": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created)) + f".{int(record.msecs):03d}Z",
            "severity": record.levelname,
            "service": self._service,
            "logger": record.name,
            "message": record.getMessage(),
        }
        request_id = call_context.request_id()
        if request_id:
            entry["request_id"] = request_id
        ids = tracing.current_ids()
        if ids is not None:
            entry["trace_id"], entry["span_id"] = ids
        for key, value in vars(record).items():
            if key not in _STANDARD_ATTRS and not key.startswith("_"):
                entry[key] = value
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return redact(json.dumps(entry, default=str))


def configure(service: str, level: str = "INFO") -> None:
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(JsonFormatter(service))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    # httpx logs every request URL at INFO; URLs can carry user data, and the metrics already count calls.
    logging.getLogger("httpx").setLevel(logging.WARNING)

"""Tracing off costs nothing; a log line written inside a span names its trace."""

from __future__ import annotations

import json
import logging

from opentelemetry import trace
from opentelemetry.trace import NonRecordingSpan, SpanContext, TraceFlags

from services.common import tracing
from services.common.logs import JsonFormatter


def test_without_an_endpoint_nothing_is_installed() -> None:
    assert tracing.configure("orchestrator", "") is False
    assert not tracing.enabled()
    assert tracing.server_interceptors() == [] and tracing.client_interceptors() == []
    # the API's default provider: spans are non-recording no-ops
    assert not trace.get_tracer("test").start_span("x").is_recording()


def record(message: str) -> dict[str, str]:
    line = JsonFormatter("orchestrator").format(logging.makeLogRecord({"msg": message, "levelname": "INFO"}))
    parsed: dict[str, str] = json.loads(line)
    return parsed


def test_a_log_line_inside_a_span_carries_its_trace_and_span_id() -> None:
    span = NonRecordingSpan(
        SpanContext(trace_id=0x5CE0E9A56015FEC5AADFA328AE398115, span_id=0xAB54A98CEB1F0AD2, is_remote=False,
                    trace_flags=TraceFlags(TraceFlags.SAMPLED))
    )  # fmt: skip
    with trace.use_span(span):
        entry = record("inside")
    assert entry["trace_id"] == "5ce0e9a56015fec5aadfa328ae398115"
    assert entry["span_id"] == "ab54a98ceb1f0ad2"
    assert "trace_id" not in record("outside")

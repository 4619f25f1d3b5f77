"""OpenTelemetry traces across the mesh, exported over OTLP/HTTP when an endpoint is configured.

With `OTEL_EXPORTER_OTLP_ENDPOINT` unset nothing is installed: no SDK provider, no interceptors, no
patched clients — the API's no-op tracer costs nothing. When it is set, one Recommend becomes one trace:
the official instrumentations add a span for every incoming and outgoing gRPC call (W3C `traceparent`
in the metadata of every hop), every httpx request to an upstream and every Redis command.
"""

from __future__ import annotations

import logging
from typing import Any

from opentelemetry import trace

log = logging.getLogger(__name__)

_HEALTH = "grpc.health.v1.Health"  # probes every few seconds: spans nobody wants

_provider: Any = None  # the SDK's TracerProvider once `configure` has installed one


def configure(service: str, endpoint: str) -> bool:
    """Install the SDK, the OTLP exporter and the httpx/Redis instrumentations; True when tracing is on."""
    global _provider
    if not endpoint or _provider is not None:
        return _provider is not None
    # Imported here so that a process without an endpoint never loads the SDK.
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    from opentelemetry.instrumentation.httpx import HTTPXClientInstrumentor
    from opentelemetry.instrumentation.redis import RedisInstrumentor
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor

    provider = TracerProvider(resource=Resource.create({"service.name": service}))
    # The generic endpoint variable names the collector's root; traces go to its /v1/traces.
    provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter(endpoint=f"{endpoint.rstrip('/')}/v1/traces")))
    trace.set_tracer_provider(provider)
    HTTPXClientInstrumentor().instrument()
    RedisInstrumentor().instrument()
    _provider = provider
    log.info("tracing on", extra={"otlp_endpoint": endpoint})
    return True


def enabled() -> bool:
    return _provider is not None


def server_interceptors() -> list[Any]:
    """The OTel server interceptor (outermost, so the span covers all the others), or nothing."""
    if not enabled():
        return []
    from opentelemetry.instrumentation.grpc import aio_server_interceptor, filters

    return [aio_server_interceptor(filter_=filters.negate(filters.service_name(_HEALTH)))]  # type: ignore[no-untyped-call]


def client_interceptors() -> list[Any]:
    if not enabled():
        return []
    from opentelemetry.instrumentation.grpc import aio_client_interceptors, filters

    return list(aio_client_interceptors(filter_=filters.negate(filters.service_name(_HEALTH))))  # type: ignore[no-untyped-call]


def shutdown() -> None:
    """Export what is still buffered; a stopping pod must not lose its last traces."""
    if _provider is not None:
        _provider.shutdown()


def current_ids() -> tuple[str, str] | None:
    """The trace and span id of the active span, hex as in W3C traceparent, or None outside a sampled span."""
    ctx = trace.get_current_span().get_span_context()
    if not ctx.is_valid:
        return None
    return format(ctx.trace_id, "032x"), format(ctx.span_id, "016x")

"""Prometheus metrics. Every server gets its own registry so tests can run several in one process.

gRPC server metrics use the go-grpc-prometheus names and labels, so the usual dashboards work;
segue's own metrics are prefixed `segue_`.
"""

from __future__ import annotations

from dataclasses import dataclass

from prometheus_client import CollectorRegistry, Counter, Histogram

_GRPC_LABELS = ("grpc_type", "grpc_service", "grpc_method")
# Default buckets stop at 10 s; a cold recommendation or an LLM call can take longer.
_LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120)


@dataclass(frozen=True)
class GrpcServerMetrics:
    started: Counter
    handled: Counter
    handling_seconds: Histogram

    @classmethod
    def create(cls, registry: CollectorRegistry) -> GrpcServerMetrics:
        return cls(
            started=Counter(
                "grpc_server_started_total", "RPCs started on the server.", _GRPC_LABELS, registry=registry
            ),
            handled=Counter(
                "grpc_server_handled_total",
                "RPCs completed on the server, regardless of success or failure.",
                (*_GRPC_LABELS, "grpc_code"),
                registry=registry,
            ),
            handling_seconds=Histogram(
                "grpc_server_handling_seconds",
                "Response latency of RPCs handled by the server.",
                _GRPC_LABELS,
                buckets=_LATENCY_BUCKETS,
                registry=registry,
            ),
        )


@dataclass(frozen=True)
class UpstreamMetrics:
    """Calls to an external API, as the gateways make them."""

    requests: Counter
    seconds: Histogram
    retries: Counter

    @classmethod
    def create(cls, registry: CollectorRegistry) -> UpstreamMetrics:
        return cls(
            requests=Counter(
                "segue_upstream_requests_total",
                "HTTP requests sent to an upstream API, by outcome (status code, 'timeout' or 'error').",
                ("upstream", "endpoint", "outcome"),
                registry=registry,
            ),
            seconds=Histogram(
                "segue_upstream_request_seconds",
                "Latency of single upstream HTTP requests.",
                ("upstream", "endpoint"),
                buckets=_LATENCY_BUCKETS,
                registry=registry,
            ),
            retries=Counter(
                "segue_upstream_retries_total",
                "Upstream requests retried, by reason.",
                ("upstream", "reason"),
                registry=registry,
            ),
        )


@dataclass(frozen=True)
class CacheMetrics:
    lookups: Counter
    errors: Counter

    @classmethod
    def create(cls, registry: CollectorRegistry) -> CacheMetrics:
        return cls(
            lookups=Counter(
                "segue_cache_lookups_total", "Cache lookups by result.", ("namespace", "result"), registry=registry
            ),
            errors=Counter(
                "segue_cache_errors_total",
                "Cache operations that failed (the request went on without the cache).",
                ("operation",),
                registry=registry,
            ),
        )

"""Prometheus metrics. Every server gets its own registry so tests can run several in one process.

gRPC server and client metrics use the go-grpc-prometheus names, labels and code names
(`InvalidArgument`, not `INVALID_ARGUMENT`), so the usual dashboards and alerts work; segue's own
metrics are prefixed `segue_`.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import metadata

import grpc
from prometheus_client import (
    GC_COLLECTOR,
    PLATFORM_COLLECTOR,
    PROCESS_COLLECTOR,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    Info,
    disable_created_metrics,
)

# Counters and histograms would each export a `*_created` timestamp series: nothing reads them, and they
# double the series Prometheus stores. Turned off here, once, for every registry in the process.
disable_created_metrics()  # type: ignore[no-untyped-call]

_GRPC_LABELS = ("grpc_type", "grpc_service", "grpc_method")
# Default buckets stop at 10 s; a cold recommendation or an LLM call can take longer.
_LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120)


# grpc-go's codes.Code.String(), which go-grpc-prometheus puts in grpc_code.
GO_CODE_NAMES: dict[grpc.StatusCode, str] = {
    code: "Canceled" if code is grpc.StatusCode.CANCELLED else "".join(w.title() for w in code.name.split("_"))
    for code in grpc.StatusCode
}
GO_CODE_NAMES[grpc.StatusCode.OK] = "OK"


def server_registry(revision: str) -> CollectorRegistry:
    """A server's registry: process (CPU, memory, fds), platform and GC collectors, and segue_build_info."""
    registry = CollectorRegistry()
    for collector in (PROCESS_COLLECTOR, PLATFORM_COLLECTOR, GC_COLLECTOR):
        registry.register(collector)
    Info("segue_build", "The running build: package version and source revision.", registry=registry).info(
        {"version": _version(), "revision": revision or "unknown"}
    )
    return registry


def _version() -> str:
    try:
        return metadata.version("segue")
    except metadata.PackageNotFoundError:
        return "unknown"


@dataclass(frozen=True)
class GrpcMetrics:
    """started / handled / handling_seconds for one side: `grpc_server_*` or `grpc_client_*`."""

    started: Counter
    handled: Counter
    handling_seconds: Histogram

    @classmethod
    def create(cls, registry: CollectorRegistry, side: str = "server") -> GrpcMetrics:
        where = "on the server" if side == "server" else "by the client"
        return cls(
            started=Counter(f"grpc_{side}_started_total", f"RPCs started {where}.", _GRPC_LABELS, registry=registry),
            handled=Counter(
                f"grpc_{side}_handled_total",
                f"RPCs completed {where}, regardless of success or failure.",
                (*_GRPC_LABELS, "grpc_code"),
                registry=registry,
            ),
            handling_seconds=Histogram(
                f"grpc_{side}_handling_seconds",
                f"Latency of RPCs {where}, until the status is known.",
                _GRPC_LABELS,
                buckets=_LATENCY_BUCKETS,
                registry=registry,
            ),
        )

    def preset(self, grpc_type: str, service: str, method: str) -> None:
        """Every series of a method exists from the start at 0, as go-grpc-prometheus does, so rates and
        ratios over them are defined before the first call (and an error's first occurrence is a rise)."""
        self.started.labels(grpc_type, service, method)
        self.handling_seconds.labels(grpc_type, service, method)
        for code in GO_CODE_NAMES.values():
            self.handled.labels(grpc_type, service, method, code)


@dataclass(frozen=True)
class UpstreamMetrics:
    """Calls to an external API, as the gateways make them."""

    requests: Counter
    seconds: Histogram
    retries: Counter
    hedges: Counter

    @classmethod
    def create(cls, registry: CollectorRegistry) -> UpstreamMetrics:
        return cls(
            requests=Counter(
                "segue_upstream_requests_total",
                "HTTP requests sent to an upstream API, by outcome (status code, 'timeout', 'error', or 'cancelled' "
                "when a hedge race or the caller gave it up).",
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
            hedges=Counter(
                "segue_upstream_hedges_total",
                "Hedged copies of slow idempotent GETs: 'sent', and 'won' when the copy answered first.",
                ("upstream", "endpoint", "result"),
                registry=registry,
            ),
        )


@dataclass(frozen=True)
class CacheMetrics:
    lookups: Counter
    errors: Counter
    bypassed: Counter
    breaker_state: Gauge

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
            bypassed=Counter(
                "segue_cache_bypassed_total",
                "Cache operations skipped because the cache breaker was open (or no time was left).",
                ("operation",),
                registry=registry,
            ),
            breaker_state=Gauge(
                "segue_cache_breaker_state",
                "The cache breaker: 0 closed (Redis in use), 1 half-open (probing), 2 open (Redis bypassed).",
                registry=registry,
            ),
        )


# Keys per batch: ReccoBeats takes at most 40 IDs a call; a Gemini bundle holds a handful of prompts.
_BATCH_BUCKETS = (1, 2, 3, 5, 8, 10, 20, 30, 40)
_CALLERS_BUCKETS = (1, 2, 3, 5, 10, 20, 50, 100)


@dataclass(frozen=True)
class WorkSharingMetrics:
    """Work done once for several callers: single-flight and cross-caller micro-batches."""

    flights: Counter
    batch_keys: Counter
    batch_size: Histogram
    batch_callers: Histogram

    @classmethod
    def create(cls, registry: CollectorRegistry) -> WorkSharingMetrics:
        return cls(
            flights=Counter(
                "segue_singleflight_calls_total",
                "Calls for work that single-flight shares, by role: 'led' started the work, 'joined' shared it.",
                ("flight", "role"),
                registry=registry,
            ),
            batch_keys=Counter(
                "segue_batch_keys_total",
                "Keys handed to a micro-batcher: 'queued' went into a batch, 'joined' was already pending for "
                "another caller and shares its answer.",
                ("batcher", "result"),
                registry=registry,
            ),
            batch_size=Histogram(
                "segue_batch_size",
                "Keys sent in one batched upstream call.",
                ("batcher",),
                buckets=_BATCH_BUCKETS,
                registry=registry,
            ),
            batch_callers=Histogram(
                "segue_batch_callers",
                "Callers whose keys one batched upstream call answered.",
                ("batcher",),
                buckets=_CALLERS_BUCKETS,
                registry=registry,
            ),
        )


@dataclass(frozen=True)
class SchedulerMetrics:
    """The shared upstream budget as this process sees it (services/common/scheduler.py)."""

    admissions: Counter
    wait_seconds: Histogram
    cooldowns: Counter
    cooldown_seconds: Gauge
    redis_fallback: Gauge

    @classmethod
    def create(cls, registry: CollectorRegistry) -> SchedulerMetrics:
        return cls(
            admissions=Counter(
                "segue_scheduler_admissions_total",
                "Upstream calls asked of the scheduler, by lane and outcome: admitted (at once), waited (for a "
                "slot), refused (the wait exceeded the caller's deadline), local_fallback (admitted by the "
                "per-process limiter while Redis was unreachable).",
                ("upstream", "lane", "outcome"),
                registry=registry,
            ),
            wait_seconds=Histogram(
                "segue_scheduler_wait_seconds",
                "How long admitted upstream calls waited for the shared budget.",
                ("upstream", "lane"),
                buckets=(0, *_LATENCY_BUCKETS),
                registry=registry,
            ),
            cooldowns=Counter(
                "segue_scheduler_cooldowns_total",
                "429 answers that set (or extended) the upstream's shared cooldown.",
                ("upstream",),
                registry=registry,
            ),
            cooldown_seconds=Gauge(
                "segue_scheduler_cooldown_seconds",
                "Seconds left of the upstream's cooldown, as this process last learnt it.",
                ("upstream",),
                registry=registry,
            ),
            redis_fallback=Gauge(
                "segue_scheduler_redis_fallback",
                "1 while Redis is unreachable and this process paces upstream calls with its local share.",
                registry=registry,
            ),
        )

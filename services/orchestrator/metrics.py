"""The Recommend workflow seen from Prometheus: how long each phase took and how answers degraded."""

from __future__ import annotations

from dataclasses import dataclass

from prometheus_client import CollectorRegistry, Counter, Histogram
from segue.v1 import common_pb2, orchestrator_pb2

from services.orchestrator.admission import UnverifiedReason

# A warm answer takes milliseconds, a cold one seconds, a bad day's tail a minute.
_PHASE_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2, 4, 8, 15, 30, 60, 120)
_WARNING_PREFIX = "WARNING_CODE_"


def warning_label(code: common_pb2.WarningCode.ValueType) -> str:
    """`WARNING_CODE_PARTIAL_RESULT` → `partial_result`, as the CLI prints it."""
    return common_pb2.WarningCode.Name(code).removeprefix(_WARNING_PREFIX).lower()


@dataclass(frozen=True)
class RecommendMetrics:
    phase_seconds: Histogram
    warnings: Counter
    unverified: Counter

    @classmethod
    def create(cls, registry: CollectorRegistry) -> RecommendMetrics:
        metrics = cls(
            phase_seconds=Histogram(
                "segue_recommend_phase_seconds",
                "Time spent in each phase of a Recommend (admission, mood, seeds, candidates, rank) and in all.",
                ("phase",),
                buckets=_PHASE_BUCKETS,
                registry=registry,
            ),
            warnings=Counter(
                "segue_recommend_warnings_total",
                "Warnings in Recommend answers (a degraded answer), by code and the component that degraded.",
                ("code", "component"),
                registry=registry,
            ),
            unverified=Counter(
                "segue_recommend_unverified_total",
                "Recommend calls answered without a verified user (a playlist from the prompt alone, nothing "
                "per-user read or written) because Spotify could not say whose token it was, by why: "
                "rate_limited (GET /me answered 429, or no Spotify slot before the deadline) or unavailable.",
                ("reason",),
                registry=registry,
            ),
        )
        for reason in UnverifiedReason:
            metrics.unverified.labels(reason.value)
        for phase in ("admission", "mood", "seeds", "candidates", "rank", "total"):
            metrics.phase_seconds.labels(phase)
        return metrics

    def record(self, response: orchestrator_pb2.RecommendResponse) -> None:
        for timing in response.timings:
            self.phase_seconds.labels(timing.phase).observe(timing.seconds)
        for warning in response.warnings:
            self.warnings.labels(warning_label(warning.code), warning.component or "unknown").inc()

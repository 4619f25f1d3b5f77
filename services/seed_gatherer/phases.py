"""Phase timings of one request: reported in the answer and observed in `segue_seed_phase_seconds`."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from prometheus_client import CollectorRegistry, Histogram
from segue.v1 import common_pb2

_PHASE_BUCKETS = (0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30)


@dataclass(frozen=True)
class PhaseMetrics:
    seconds: Histogram

    @classmethod
    def create(cls, registry: CollectorRegistry) -> PhaseMetrics:
        return cls(
            seconds=Histogram(
                "segue_seed_phase_seconds",
                "Time spent in each phase of seed gathering (user_context, features, select, fallback).",
                ("phase",),
                buckets=_PHASE_BUCKETS,
                registry=registry,
            )
        )


class PhaseClock:
    """Times the phases of one request; a failed phase is still observed in the histogram."""

    def __init__(self, metrics: PhaseMetrics) -> None:
        self._metrics = metrics
        self.timings: list[common_pb2.PhaseTiming] = []

    @contextmanager
    def phase(self, name: str) -> Iterator[None]:
        t0 = time.perf_counter()
        try:
            yield
        finally:
            elapsed = time.perf_counter() - t0
            self._metrics.seconds.labels(name).observe(elapsed)
            self.timings.append(common_pb2.PhaseTiming(phase=name, seconds=elapsed))

"""The gateway's own metrics (upstream calls themselves are counted by UpstreamMetrics)."""

from __future__ import annotations

from dataclasses import dataclass

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

# A batch holds at most 40 IDs (the ReccoBeats cap).
_BATCH_BUCKETS = (1, 2, 5, 10, 20, 30, 40)


@dataclass(frozen=True)
class GatewayMetrics:
    batch_size: Histogram
    ids: Counter
    absent_ids: Counter
    absent_fill: Gauge

    @classmethod
    def create(cls, registry: CollectorRegistry) -> GatewayMetrics:
        return cls(
            batch_size=Histogram(
                "segue_reccobeats_batch_size",
                "IDs sent in one ReccoBeats multi-get call.",
                ("endpoint",),
                buckets=_BATCH_BUCKETS,
                registry=registry,
            ),
            ids=Counter(
                "segue_reccobeats_ids_total",
                "Requested IDs by outcome: found upstream, missing upstream, or answered from the cache.",
                ("kind", "result"),
                registry=registry,
            ),
            absent_ids=Counter(
                "segue_absent_registry_ids_total",
                "The absent-ID registry, per ID: 'hit' skipped an upstream call, 'recheck' was let through to be "
                "asked again, 'resurrected' was re-checked and found, 'marked' was added; 'error' counts failed "
                "registry operations.",
                ("kind", "result"),
                registry=registry,
            ),
            absent_fill=Gauge(
                "segue_absent_registry_fill_ratio",
                "Estimated IDs in the registry's current generation over its configured capacity (1 = the "
                "false-positive bound is reached).",
                ("kind",),
                registry=registry,
            ),
        )

"""The gateway's own metrics (upstream calls themselves are counted by UpstreamMetrics)."""

from __future__ import annotations

from dataclasses import dataclass

from prometheus_client import CollectorRegistry, Counter, Histogram

# A batch holds at most 40 IDs (the ReccoBeats cap).
_BATCH_BUCKETS = (1, 2, 5, 10, 20, 30, 40)


@dataclass(frozen=True)
class GatewayMetrics:
    batch_size: Histogram
    ids: Counter

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
        )

"""The load scenario seen as overload (issue 7): goodput against the capacity bound, sheds, batching.

Goodput is full-size playlists per simulated second, over the load's whole span (first request sent to
last answer). Fast sheds (RESOURCE_EXHAUSTED with retry-after-ms) are counted apart from failures.
Callers per batch come from the ReccoBeat gateways' own /metrics (`segue_batch_callers`, every replica),
read before and after the load.
"""

from __future__ import annotations

import statistics
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import httpx
from prometheus_client.parser import text_string_to_metric_families

from bench.rpc import PLAYLIST_SIZE
from bench.samples import Sample

SHED = "RESOURCE_EXHAUSTED"
BATCH_FAMILIES = ("segue_batch_callers", "segue_batch_size")
ADMISSIONS = "segue_recommend_admissions"  # the orchestrator's counter, by verdict
VERDICTS = ("full", "impersonal", "lean", "shed")


def is_shed(sample: Sample) -> bool:
    return sample.code == SHED


def failed(samples: Iterable[Sample]) -> list[Sample]:
    """Requests that neither answered nor were shed at admission."""
    return [s for s in samples if not s.ok and not is_shed(s)]


def load_figures(samples: Sequence[Sample], duration_wall_s: float, time_scale: float) -> dict[str, Any]:
    ok = [s for s in samples if s.ok]
    full = [s for s in ok if s.tracks >= PLAYLIST_SIZE]
    shed = [s for s in samples if is_shed(s)]
    span_sim_s = max(duration_wall_s, 1e-9) / time_scale
    return {
        "full_size": len(full),
        "short": len(ok) - len(full),
        "shed": len(shed),
        "failed": len(failed(samples)),
        "short_share_of_answers": (len(ok) - len(full)) / len(ok) if ok else None,
        "goodput_rps_sim": len(full) / span_sim_s,
        "shed_p50_sim_s": statistics.median(s.sim_s for s in shed) if shed else None,
        "shed_p50_wall_s": statistics.median(s.wall_s for s in shed) if shed else None,
        "degraded_impersonal": sum(1 for s in ok if "WARNING_CODE_FALLBACK_USED" in s.warnings),
    }


async def metric_totals(metrics_ports: Iterable[int]) -> dict[str, float]:
    """Over every given process: the sums and counts of the batch histograms, and the admissions by verdict
    (as `segue_recommend_admissions:<verdict>`)."""
    totals: dict[str, float] = {}
    async with httpx.AsyncClient(timeout=10) as http:
        for port in metrics_ports:
            text = (await http.get(f"http://127.0.0.1:{port}/metrics")).text
            for family in text_string_to_metric_families(text):
                for sample in family.samples:
                    if family.name in BATCH_FAMILIES and sample.name.endswith(("_sum", "_count")):
                        name = sample.name
                    elif family.name == ADMISSIONS and sample.name.endswith("_total"):
                        name = f"{ADMISSIONS}:{sample.labels.get('verdict', '')}"
                    else:
                        continue
                    totals[name] = totals.get(name, 0.0) + sample.value
    return totals


def admissions(before: Mapping[str, float], after: Mapping[str, float]) -> dict[str, int]:
    """Fresh passes admitted between the two readings, by verdict (full, impersonal, lean, shed)."""
    return {v: round(after.get(f"{ADMISSIONS}:{v}", 0.0) - before.get(f"{ADMISSIONS}:{v}", 0.0)) for v in VERDICTS}


def batching(before: Mapping[str, float], after: Mapping[str, float]) -> dict[str, Any]:
    """Batched upstream calls made between the two readings, and callers and IDs per batch."""

    def delta(name: str) -> float:
        return after.get(name, 0.0) - before.get(name, 0.0)

    batches = delta("segue_batch_callers_count")
    return {
        "batches": batches,
        "callers_per_batch": delta("segue_batch_callers_sum") / batches if batches else None,
        "ids_per_batch": delta("segue_batch_size_sum") / batches if batches else None,
    }

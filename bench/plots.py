"""PNG plots of the results (matplotlib, Agg backend): latency per scenario, upstream calls per request."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt

from bench.report import SCENARIOS
from sim.endpoints import UPSTREAMS

UPSTREAM_BOUND = ("legacy", "cold", "load")
COLOURS = {"spotify": "#1db954", "reccobeats": "#e8a33d", "gemini": "#4285f4"}


def _latencies(doc: Mapping[str, Any], name: str, key: str) -> list[float]:
    return [s[key] for s in doc["scenarios"][name]["samples"] if s["code"] == "OK"]


def latency_plot(doc: Mapping[str, Any], path: Path) -> None:
    """Left: upstream-bound scenarios in simulated seconds (log scale) with the lower bound; right: warm in
    wall milliseconds with the 50 ms target."""
    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4.5), gridspec_kw={"width_ratios": [3, 1]})
    data = [_latencies(doc, n, "sim_s") or [float("nan")] for n in UPSTREAM_BOUND]
    left.boxplot(data, showfliers=True)
    for i, values in enumerate(data, 1):
        left.scatter([i] * len(values), values, s=10, alpha=0.5, color="#555555", zorder=3)
    left.set_xticks(range(1, len(UPSTREAM_BOUND) + 1), UPSTREAM_BOUND)
    left.set_yscale("log")
    left.axhline(
        doc["lower_bound"]["median_s"],
        color="#c0392b",
        linestyle="--",
        label=f"lower bound (median {doc['lower_bound']['median_s']:.2f} s)",
    )
    left.set_ylabel("latency, simulated seconds (log)")
    left.set_title("Recommend latency per request")
    left.legend(loc="upper right", fontsize=8)
    warm = [v * 1000 for v in _latencies(doc, "warm", "wall_s")] or [float("nan")]
    right.boxplot([warm], showfliers=True)
    right.scatter([1] * len(warm), warm, s=10, alpha=0.5, color="#555555", zorder=3)
    right.set_xticks([1], ["warm"])
    right.axhline(50, color="#c0392b", linestyle="--", label="target 50 ms")
    right.set_ylabel("latency, wall milliseconds")
    right.set_title("Warm (cache hit)")
    right.legend(loc="upper right", fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def calls_plot(doc: Mapping[str, Any], path: Path) -> None:
    """Mean upstream calls per request, per scenario and upstream (log scale: legacy makes hundreds)."""
    fig, ax = plt.subplots(figsize=(9, 4.5))
    width = 0.8 / len(UPSTREAMS)
    for j, upstream in enumerate(UPSTREAMS):
        values = [doc["scenarios"][n]["upstream_calls_per_request"][upstream]["total"] for n in SCENARIOS]
        xs = [i + (j - 1) * width for i in range(len(SCENARIOS))]
        bars = ax.bar(xs, [max(v, 1e-3) for v in values], width, label=upstream, color=COLOURS[upstream])
        ax.bar_label(bars, labels=[f"{v:.1f}" if v else "" for v in values], fontsize=7)
        for x, v in zip(xs, values, strict=True):
            if not v:  # a zero bar is invisible on a log axis: say it
                ax.text(x, 0.07, "0", ha="center", fontsize=7)
    ax.set_xticks(range(len(SCENARIOS)), SCENARIOS)
    ax.set_yscale("log")
    ax.set_ylim(bottom=0.05)
    ax.set_ylabel("upstream calls per request (log)")
    ax.set_title("Upstream calls per request")
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def write_plots(doc: Mapping[str, Any], out_dir: Path) -> list[Path]:
    paths = [out_dir / "latency.png", out_dir / "upstream_calls.png"]
    latency_plot(doc, paths[0])
    calls_plot(doc, paths[1])
    return paths

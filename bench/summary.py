"""From raw samples to the figures in latest.json: percentiles, calls per request, ratios and targets."""

from __future__ import annotations

import statistics
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

import numpy as np

from bench.overload import load_figures
from bench.rpc import PLAYLIST_SIZE
from bench.samples import Sample, ScenarioResult
from sim.endpoints import UPSTREAMS

# The mesh phase that calls each upstream (seed_gatherer: Spotify and features; candidates: ReccoBeats).
UPSTREAM_PHASE = {"spotify": "seeds", "reccobeats": "candidates (and seeds' audio features)", "gemini": "mood"}
# Which part of the lower bound each mesh phase stands for, to name the phase that holds a target back.
PHASE_SHARE = {"mood": ("llm_s",), "candidates": ("recommendation_s", "features_s")}
PHASE_SKIP = frozenset({"total"})


def percentiles(values: Sequence[float]) -> dict[str, float | None]:
    if not values:
        return {"p50": None, "p95": None, "p99": None, "mean": None, "min": None, "max": None}
    arr = np.asarray(values, dtype=float)
    return {
        "p50": float(np.percentile(arr, 50)),
        "p95": float(np.percentile(arr, 95)),
        "p99": float(np.percentile(arr, 99)),
        "mean": float(arr.mean()),
        "min": float(arr.min()),
        "max": float(arr.max()),
    }


def per_request(calls: Mapping[str, Mapping[str, int]], requests: int) -> dict[str, dict[str, Any]]:
    """{upstream: {"total": mean calls, "endpoints": {endpoint: mean calls}}} per request."""
    n = max(1, requests)
    return {
        upstream: {
            "total": sum(calls.get(upstream, {}).values()) / n,
            "endpoints": {e: c / n for e, c in sorted(calls.get(upstream, {}).items())},
        }
        for upstream in UPSTREAMS
    }


def phase_medians(samples: Iterable[Sample], divide_by: float = 1.0) -> dict[str, float]:
    """Median seconds per phase over the successful samples (÷ `divide_by`, e.g. the time scale)."""
    by_phase: dict[str, list[float]] = {}
    for s in samples:
        if s.ok:
            for phase, seconds in s.phases.items():
                by_phase.setdefault(phase, []).append(seconds / divide_by)
    return {p: statistics.median(v) for p, v in by_phase.items()}


def summarize(result: ScenarioResult) -> dict[str, Any]:
    samples = result.samples
    ok = [s for s in samples if s.ok]
    requests = len(samples)
    legacy = result.name == "legacy"
    out: dict[str, Any] = {
        "time_scale": result.time_scale,
        "requests": requests,
        "ok": len(ok),
        "latency_sim_s": percentiles([s.sim_s for s in ok]),
        "latency_wall_s": percentiles([s.wall_s for s in ok]),
        "upstream_calls_per_request": per_request(result.calls, requests),
        "llm": {
            "calls_per_request": result.llm_calls / max(1, requests),
            "calls_max": max((s.llm_calls for s in samples), default=0) if result.name != "load" else None,
            "tokens_in_per_request": result.llm_tokens_in / max(1, requests),
            "tokens_out_per_request": result.llm_tokens_out / max(1, requests),
        },
        "rate_limited": {u: result.rate_limited.get(u, 0) for u in UPSTREAMS},
        "rate_limited_after_first_cooldown": {u: result.rate_limited_after_cooldown.get(u, 0) for u in UPSTREAMS},
        "rate_limited_by_endpoint": result.rate_limited_endpoints,
        "errors_by_code": dict(Counter(s.code for s in samples if not s.ok)),
        "tracks_per_request": statistics.mean(s.tracks for s in ok) if ok else None,
        "short_playlists": sum(s.tracks < PLAYLIST_SIZE for s in ok),  # answered with fewer tracks than asked
        "warnings": dict(Counter(w for s in samples for w in s.warnings)),
        # the mesh reports real seconds per phase; the legacy model reports simulated ones
        "phases_median_sim_s": phase_medians(samples, 1.0 if legacy else result.time_scale),
        "notes": list(result.notes),
    }
    short = out["short_playlists"]
    if result.name != "legacy" and short:
        out["notes"].append(
            f"{short} of {len(ok)} answers had fewer than {PLAYLIST_SIZE} tracks "
            f"(mean {out['tracks_per_request']:.1f}); warnings: {out['warnings'] or 'none'}"
        )
    if legacy:
        out["ledger_matches_simulator"] = all(s.ledger_calls == s.calls for s in samples)
    if result.name == "load":
        wall = max(result.duration_wall_s, 1e-9)
        out["offered_rps_sim"] = result.offered_rps_sim
        out["duration_wall_s"] = result.duration_wall_s
        out["throughput_rps_wall"] = len(ok) / wall
        out["throughput_rps_sim"] = len(ok) / wall * result.time_scale
        out["mesh_reported_llm_calls_per_request"] = sum(s.llm_calls for s in samples) / max(1, requests)
        out["overload"] = load_figures(samples, result.duration_wall_s, result.time_scale)
        out["batching"] = dict(result.batching)
        out["admissions"] = dict(result.admissions)
    out["samples"] = [sample_json(s) for s in samples]
    return out


def sample_json(s: Sample) -> dict[str, Any]:
    row: dict[str, Any] = {
        "prompt": s.prompt_index,
        "user": s.user,
        "code": s.code,
        "wall_s": round(s.wall_s, 4),
        "sim_s": round(s.sim_s, 4),
        "tracks": s.tracks,
        "llm_calls": s.llm_calls,
        "phases": {k: round(v, 4) for k, v in s.phases.items()},
    }
    if s.calls:
        row["calls"] = s.calls
    if any(s.rate_limited.values()):
        row["rate_limited"] = s.rate_limited
    return row


def bound_tokens(cold: ScenarioResult, prompt_index: int, computed: Callable[[], int]) -> tuple[int, str]:
    """Output tokens of the mood analysis for a prompt: what the fake model produced in the cold runs
    (tokens_out per LLM call), else `computed()` — sim.gemini's answer to the legacy mood request."""
    per_call = [s.llm_tokens_out / s.llm_calls for s in cold.samples if s.prompt_index == prompt_index and s.llm_calls]
    if per_call:
        return round(statistics.median(per_call)), "cold runs (simulator tokens_out per LLM call)"
    return computed(), "sim.gemini on the legacy mood-analysis request"


def ratio(numerator: float | None, denominator: float | None) -> float | None:
    if numerator is None or not denominator:
        return None
    return numerator / denominator


def holding_back(summary: Mapping[str, Any], bound: Mapping[str, float] | None = None) -> str:
    """The phase with the most time (beyond its share of the bound, when given), from the phase medians."""
    phases = {p: v for p, v in summary["phases_median_sim_s"].items() if p not in PHASE_SKIP}
    if not phases:
        return "no phase timings reported"
    if bound is None:
        phase, seconds = max(phases.items(), key=lambda kv: kv[1])
        return f"phase '{phase}' (median {seconds:.3f} s simulated)"
    excess = {p: v - sum(bound[k] for k in PHASE_SHARE.get(p, ())) for p, v in phases.items()}
    phase = max(excess, key=lambda p: excess[p])
    share = sum(bound[k] for k in PHASE_SHARE.get(phase, ()))
    return f"phase '{phase}': median {phases[phase]:.2f} s against {share:.2f} s of the bound"


def targets(
    scenarios: Mapping[str, Mapping[str, Any]], ratios: Mapping[str, float | None], median_bound: Mapping[str, float]
) -> list[dict[str, Any]]:
    """Each target of issue 4 beside its figure; a missed one names what holds it back."""
    cold, warm, load, legacy = scenarios["cold"], scenarios["warm"], scenarios["load"], scenarios["legacy"]
    rows: list[dict[str, Any]] = []

    def add(name: str, target: str, figure: str, met: bool | None, note: str = "") -> None:
        rows.append({"name": name, "target": target, "figure": figure, "met": met, "note": "" if met else note})

    r = ratios.get("cold_over_bound")
    add(
        "cold_vs_bound",
        "cold p50 ≤ 1.5 × lower bound",
        _fmt_ratio(r),
        None if r is None else r <= 1.5,
        holding_back(cold, median_bound),
    )
    r = ratios.get("legacy_over_cold")
    add(
        "legacy_vs_cold",
        "legacy p50 ÷ cold p50 ≥ 20",
        _fmt_ratio(r),
        None if r is None else r >= 20,
        f"cold: {holding_back(cold)}; legacy: {holding_back(legacy)}",
    )
    p50 = warm["latency_wall_s"]["p50"]
    add(
        "warm_p50",
        "warm p50 ≤ 50 ms (wall)",
        "n/a" if p50 is None else f"{p50 * 1000:.1f} ms",
        None if p50 is None else p50 <= 0.050,
        holding_back(warm),
    )
    for name, summary, most in (("cold_llm_calls", cold, 1), ("warm_llm_calls", warm, 0)):
        calls = summary["llm"]["calls_max"]
        add(
            name,
            f"≤ {most} LLM call per {name.split('_')[0]} request",
            f"max {calls}, mean {summary['llm']['calls_per_request']:.2f}",
            calls <= most,
            f"{calls} Gemini calls in one request (simulator counters)",
        )
    for name in ("cold", "warm", "load"):
        after = scenarios[name]["rate_limited_after_first_cooldown"]
        total = scenarios[name]["rate_limited"]
        bad = {u: n for u, n in after.items() if n}
        by_endpoint = scenarios[name]["rate_limited_by_endpoint"]
        add(
            f"{name}_429s",
            f"0 upstream 429s after the first cooldown ({name})",
            f"{sum(after.values())} after / {sum(total.values())} total",
            not bad,
            "; ".join(
                f"{u} ×{n} after the first cooldown ("
                + ", ".join(f"{e} ×{c}" for e, c in sorted(by_endpoint.get(u, {}).items()))
                + f" in all) — phase '{UPSTREAM_PHASE[u]}'"
                for u, n in bad.items()
            ),
        )
    errors = {c: n for c, n in load["errors_by_code"].items() if c != "RESOURCE_EXHAUSTED"}
    shed = load["errors_by_code"].get("RESOURCE_EXHAUSTED", 0)
    add(
        "load_errors",
        "0 failed requests under load (fast sheds counted apart)",
        f"{sum(errors.values())} of {load['requests']} ({shed} shed)",
        not errors,
        "errors by code: "
        + ", ".join(f"{c} ×{n}" for c, n in errors.items())
        + f"; slowest phase of the successful ones: {holding_back(load)}",
    )
    return rows


def overload_targets(scenarios: Mapping[str, Mapping[str, Any]], capacity_rps: float) -> list[dict[str, Any]]:
    """Issue 7's targets beside issue 4's: short playlists, goodput against the capacity bound, the cold tail.

    (Issue 7's "0 429s after the first cooldown" and "0 failed requests" are the load rows above.)
    """
    load, cold = scenarios["load"], scenarios["cold"]
    rows: list[dict[str, Any]] = []
    figures = load.get("overload")
    if figures is not None:
        share = figures["short_share_of_answers"]
        rows.append(
            _target(
                "load_short",
                "short playlists ≤ 2 % of answers (load)",
                "n/a"
                if share is None
                else f"{share:.1%} ({figures['short']} of {figures['short'] + figures['full_size']})",
                None if share is None else share <= 0.02,
                f"warnings: {load['warnings'] or 'none'}",
            )
        )
        goodput = figures["goodput_rps_sim"]
        r = ratio(goodput, capacity_rps)
        rows.append(
            _target(
                "goodput",
                "goodput ≥ 90 % of the capacity bound (load)",
                f"{goodput:.2f}/s of {capacity_rps:.2f}/s (sim) = {_fmt_ratio(r)}",
                None if r is None else r >= 0.9,
                f"{figures['shed']} shed (p50 {_fmt_s(figures['shed_p50_sim_s'])} sim), {figures['short']} short, "
                f"{figures['failed']} failed; ReccoBeats calls per request "
                f"{load['upstream_calls_per_request']['reccobeats']['total']:.2f}",
            )
        )
    p50, p95 = cold["latency_sim_s"]["p50"], cold["latency_sim_s"]["p95"]
    r = ratio(p95, p50)
    rows.append(
        _target(
            "cold_tail",
            "cold p95 ≤ 1.5 × p50",
            _fmt_ratio(r),
            None if r is None else r <= 1.5,
            holding_back(cold),
        )
    )
    return rows


def _fmt_s(seconds: float | None) -> str:
    return "n/a" if seconds is None else f"{seconds:.2f} s"


def _fmt_ratio(r: float | None) -> str:
    return "n/a" if r is None else f"{r:.2f}×"


def _target(name: str, target: str, figure: str, met: bool | None, note: str = "") -> dict[str, Any]:
    return {"name": name, "target": target, "figure": figure, "met": met, "note": "" if met else note}


def quality_targets(quality: Mapping[str, Any], followups: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Issue 8's targets: the quality of the labelled prompt set, refinements and popular moods."""
    rows: list[dict[str, Any]] = []
    if quality:
        precision, low = quality["genre_precision_mean"], quality["genre_precision_min"]
        weakest = min(
            (r for r in quality["results"] if r["genre_precision"] is not None),
            key=lambda r: r["genre_precision"],
            default=None,
        )
        rows.append(
            _target(
                "genre_precision",
                "genre precision ≥ 0.7 where a genre is named",
                "n/a"
                if precision is None
                else f"mean {precision:.2f}, min {low:.2f} ({quality['genre_cases']} prompts)",
                None if precision is None else precision >= 0.7,
                "" if weakest is None else f"weakest: {weakest['prompt']!r} at {weakest['genre_precision']:.2f}",
            )
        )
        for name, target, found, total, label, absent in (
            (
                "mentions",
                "every mentioned catalog track included",
                "mentioned_included",
                "mentioned_tracks",
                "tracks",
                "missing in: ",
            ),
            (
                "named_artists",
                "each named catalog artist represented",
                "named_artists_represented",
                "named_artists",
                "artists",
                "absent in: ",
            ),
        ):
            per_case = "mentioned_found" if label == "tracks" else "named_artists_found"
            short = [r["prompt"] for r in quality["results"] if r[per_case] < len(r["labels"][label])]
            rows.append(
                _target(
                    name,
                    target,
                    f"{quality[found]} of {quality[total]}",
                    quality[found] == quality[total],
                    absent + "; ".join(repr(p) for p in short),
                )
            )
        offending = [f"{r['prompt']!r} ×{r['excluded_present']}" for r in quality["results"] if r["excluded_present"]]
        rows.append(
            _target(
                "exclusions",
                "0 excluded tracks",
                f"{quality['excluded_present']} in {quality['exclusion_cases']} prompts with exclusions",
                quality["excluded_present"] == 0,
                "; ".join(offending),
            )
        )
        gap = quality["gap_ratio"]
        rows.append(
            _target(
                "feature_gap",
                "feature gap ≤ 0.1 × random catalog tracks",
                "n/a"
                if gap is None
                else f"{gap:.3f}× ({quality['feature_gap_mean']:.4f} vs {quality['random_gap_mean']:.4f})",
                None if gap is None else gap <= 0.1,
                "playlist tracks sit outside the mood's ranges more than a tenth as often as random ones",
            )
        )
    cold, refine = followups["refine_cold"], followups["refine"]
    r = ratio(refine["latency_wall_s"]["p50"], cold["latency_wall_s"]["p50"])
    rows.append(
        _target(
            "refine",
            "refine p50 ≤ 0.3 × cold p50",
            _fmt_ratio(r) + f" (LLM calls per refine {refine['llm']['calls_per_request']:.2f})",
            None if r is None else r <= 0.3,
            holding_back(refine),
        )
    )
    popular = followups["popular"]
    calls = popular["llm"]["calls_max"] if popular["requests"] else None
    rows.append(
        _target(
            "popular",
            "popular mood for a new user: 0 LLM calls",
            "n/a" if calls is None else f"max {calls}, mean {popular['llm']['calls_per_request']:.2f}",
            None if calls is None else calls == 0,
            f"{calls} Gemini calls in one request (simulator counters)",
        )
    )
    return rows

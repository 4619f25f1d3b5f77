"""The whole benchmark: legacy on its own simulator, then cold, warm and load on the mesh; then the report."""

from __future__ import annotations

import dataclasses
import json
import secrets
import statistics
import time
from collections.abc import Callable
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Any

import httpx
from grpc import aio

from bench import overload, quality_runs, report, scenarios
from bench import prompts as bench_prompts
from bench.bound import REQUIRED_CALLS, allowed_rates, capacity_rps, computed_mood_tokens, lower_bound
from bench.config import RESULTS_DIR, BenchConfig
from bench.machine import machine
from bench.plots import write_plots
from bench.quality_runs import FollowUps
from bench.samples import ScenarioResult
from bench.simctl import SimControl
from bench.summary import bound_tokens, overload_targets, quality_targets, ratio, summarize, targets
from segue_cli.errors import MeshError
from segue_cli.mesh import MeshOptions, running_mesh
from services.common import stubs
from sim.endpoints import UPSTREAMS
from sim.profile import load_profile

README = RESULTS_DIR.parent.parent / "README.md"
Progress = Callable[[str], None]


def _printer(started: float) -> Progress:
    def progress(message: str) -> None:
        print(f"[{time.monotonic() - started:6.1f}s] {message}", flush=True)

    return progress


def popular_env() -> dict[str, dict[str, str]]:
    """The orchestrator keeps the bench's popular moods warm: one pass at start, none again during the bench."""
    return {
        "orchestrator": {
            "POPULAR_MOODS": "|".join(bench_prompts.POPULAR_PROMPTS),
            "POPULAR_MOODS_INTERVAL_S": "3600",
            "POPULAR_MOODS_RECENT": "0",
        }
    }


async def run_mesh_scenarios(
    config: BenchConfig, cases: list[bench_prompts.Case], progress: Progress
) -> tuple[ScenarioResult, ScenarioResult, ScenarioResult, FollowUps, list[str]]:
    profile = load_profile(config.profile)
    cold, warm = ScenarioResult("cold", config.mesh_scale), ScenarioResult("warm", config.mesh_scale)
    load = ScenarioResult("load", config.mesh_scale)
    followups = FollowUps()
    notes: list[str] = []
    progress(f"starting the mesh (profile {config.profile}, time scale {config.mesh_scale:g})")
    caller_token = secrets.token_urlsafe(24) if config.caller_auth else ""
    options = MeshOptions(
        profile=config.profile,
        time_scale=config.mesh_scale,
        redis="spawn",
        seed=config.seed,
        one_service_env=popular_env(),
        replicas=config.replicas,
    )
    # A cold run flushes Redis: no process-local copy may stand in for what was flushed.
    options.service_env = {"CACHE_LOCAL_COPY_S": "0"}
    if caller_token:
        options.service_env = {**options.service_env, "CALLER_TOKENS": f"bench={caller_token}"}
    try:
        async with running_mesh(options) as mesh:
            sim = SimControl(mesh.sim_url)
            try:
                handles = scenarios.MeshHandles(mesh.orchestrator, sim, mesh.redis_url, config.mesh_scale, caller_token)
                metrics_url = f"http://127.0.0.1:{mesh.metrics_ports['orchestrator']}/metrics"
                async with aio.insecure_channel(mesh.orchestrator) as channel:
                    stub = stubs.orchestrator(channel)
                    # First, while the popular-moods pass of the mesh's start is all that has run.
                    await quality_runs.run_popular(handles, config, stub, metrics_url, progress, followups)
                cold, warm = await scenarios.cold_and_warm(handles, config, cases, progress)
                async with aio.insecure_channel(mesh.orchestrator) as channel:
                    stub = stubs.orchestrator(channel)
                    followups.quality = await quality_runs.run_quality(handles, config, stub, progress)
                    await quality_runs.run_refine(handles, config, stub, progress, followups)
                rate = config.load_factor * capacity_rps(profile, REQUIRED_CALLS)
                scraped = [mesh.metrics_ports[i] for i in ("orchestrator", *mesh.instances("reccobeat_gateway"))]
                before = await _metric_totals(scraped, notes)
                load = await scenarios.load(handles, config, rate, progress)
                after = await _metric_totals(scraped, notes)
                if before is not None and after is not None:
                    load.batching = overload.batching(before, after)
                    load.admissions = overload.admissions(before, after)
            finally:
                await sim.aclose()
    except MeshError as exc:
        notes.append(f"the mesh did not run: {exc}")
        progress(f"mesh error: {exc}")
    return cold, warm, load, followups, notes


async def _metric_totals(ports: list[int], notes: list[str]) -> dict[str, float] | None:
    try:
        return await overload.metric_totals(ports)
    except httpx.HTTPError as exc:
        notes.append(f"callers per batch and admissions omitted: /metrics could not be read ({exc!r})")
        return None


async def run_bench(config: BenchConfig, command: str, progress: Progress | None = None) -> dict[str, Any]:
    started = time.monotonic()
    progress = progress or _printer(started)
    all_prompts = bench_prompts.prompts(config.profile, config.seed)
    legacy = await scenarios.legacy(config, bench_prompts.cases(all_prompts, config.legacy_runs), progress)
    cold, warm, load, followups, notes = await run_mesh_scenarios(
        config, bench_prompts.cases(all_prompts, config.cold_runs), progress
    )
    progress("writing the report")
    doc = build_document(config, command, all_prompts, legacy, cold, warm, load, notes, followups)
    doc["bench_wall_s"] = time.monotonic() - started
    write_outputs(doc, config)
    progress(f"done in {doc['bench_wall_s']:.0f} s")
    return doc


def build_document(
    config: BenchConfig,
    command: str,
    all_prompts: list[str],
    legacy: ScenarioResult,
    cold: ScenarioResult,
    warm: ScenarioResult,
    load: ScenarioResult,
    notes: list[str],
    followups: FollowUps | None = None,
) -> dict[str, Any]:
    profile = load_profile(config.profile)
    followups = followups or FollowUps()
    summaries = {r.name: summarize(r) for r in (legacy, cold, warm, load)}
    per_prompt: list[dict[str, Any]] = []
    run_ratios: list[float] = []
    for i, prompt in enumerate(all_prompts):
        tokens, source = bound_tokens(cold, i, partial(computed_mood_tokens, config.profile, config.seed, prompt))
        bound = lower_bound(profile, tokens)
        runs = [s.sim_s for s in cold.samples if s.prompt_index == i and s.ok]
        run_ratios += [r / bound.bound_s for r in runs]
        p50 = statistics.median(runs) if runs else None
        per_prompt.append(
            {
                "prompt_index": i,
                "prompt": prompt,
                "tokens_source": source,
                **bound.as_json(),
                "cold_p50_sim_s": p50,
                "cold_over_bound": ratio(p50, bound.bound_s),
            }
        )
    median_bound = {
        k: statistics.median(b[k] for b in per_prompt) for k in ("llm_s", "recommendation_s", "features_s", "bound_s")
    }
    cold_p50 = summaries["cold"]["latency_sim_s"]["p50"]
    ratios = {
        "legacy_over_cold": ratio(summaries["legacy"]["latency_sim_s"]["p50"], cold_p50),
        "cold_over_bound": statistics.median(run_ratios) if run_ratios else None,
        "cold_p50_over_median_bound": ratio(cold_p50, median_bound["bound_s"]),
        "warm_over_cold": ratio(summaries["warm"]["latency_wall_s"]["p50"], summaries["cold"]["latency_wall_s"]["p50"]),
    }
    cold_calls: dict[str, float] = {u: summaries["cold"]["upstream_calls_per_request"][u]["total"] for u in UPSTREAMS}
    doc: dict[str, Any] = {
        "generated_at": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "command": command,
        "mode": config.mode,
        "profile": config.profile,
        "machine": machine(),
        "config": {k: str(v) if isinstance(v, Path) else v for k, v in dataclasses.asdict(config).items()},
        "replicas": config.replicas,
        "prompts": all_prompts,
        "lower_bound": {
            "per_prompt": per_prompt,
            "median_s": median_bound["bound_s"],
            "required_calls": REQUIRED_CALLS,
            "allowed_rates_per_s": allowed_rates(profile),
            "capacity_rps_sim": capacity_rps(profile, REQUIRED_CALLS),
            "mesh_cold_calls_capacity_rps_sim": capacity_rps(profile, cold_calls) if cold.samples else None,
        },
        "scenarios": summaries,
        "ratios": ratios,
        "quality": followups.quality,
        "followups": {
            "refine_cold": summarize(followups.refine_cold),
            "refine": summarize(followups.refine),
            "refine_shift": followups.refine_shift,
            "popular": summarize(followups.popular),
        },
        "notes": notes + followups.notes,
    }
    doc["targets"] = (
        targets(summaries, ratios, median_bound)
        + overload_targets(summaries, doc["lower_bound"]["capacity_rps_sim"])
        + quality_targets(doc["quality"], doc["followups"])
    )
    return doc


def write_outputs(doc: dict[str, Any], config: BenchConfig) -> None:
    out = config.out_dir
    out.mkdir(parents=True, exist_ok=True)
    (out / "latest.json").write_text(json.dumps(doc, indent=1, ensure_ascii=False) + "\n")
    (out / "latest.md").write_text(report.markdown(doc))
    if config.plots:
        write_plots(doc, out)
    print("\n" + report.terminal(doc) + "\n", flush=True)
    section = report.readme_section(doc, "bench/results/")
    updated = None
    if out.resolve() == RESULTS_DIR.resolve() and README.exists():
        updated = report.replace_between_markers(README.read_text(), section)
    if updated is not None:
        README.write_text(updated)
    else:  # results elsewhere (a test, a one-off run): keep the section beside them instead
        (out / "README-section.md").write_text(section + "\n")

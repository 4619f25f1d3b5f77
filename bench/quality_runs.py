"""The quality scenarios on the mesh: the labelled prompt set, refinements in a session, popular moods.

- quality: each labelled prompt once, as a new user; the answer is judged against the catalog (bench.quality).
- refine: a cold request, then a tweak of it in the same session ("same but more upbeat"); both measured
  alone (Redis flushed and the simulator reset before the cold one), with their own upstream counters.
- popular: the orchestrator warms the configured popular moods in the background when it starts; once a
  pass has finished (its metric says so), new users ask for them, each measured alone.
"""

from __future__ import annotations

import asyncio
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
from prometheus_client.parser import text_string_to_metric_families
from segue.v1 import orchestrator_pb2, orchestrator_pb2_grpc

from bench import quality
from bench.catalog import sim_catalog
from bench.config import BenchConfig
from bench.prompts import POPULAR_PROMPTS, REFINE_PROMPTS, REFINE_TWEAK
from bench.rpc import recommend_full
from bench.samples import Sample, ScenarioResult
from bench.scenarios import ISOLATED_DEADLINE_S, MeshHandles, flush_redis
from bench.simctl import RateLimitWatch

Progress = Callable[[str], None]
QUALITY_USER_BASE = 30_000
REFINE_USER_BASE = 40_000
POPULAR_USER_BASE = 50_000
POPULAR_RUNS_METRIC = "segue_popular_mood_passes_total"
POPULAR_WAIT_S = 120.0  # real seconds to wait for the first popular-moods pass


@dataclass
class FollowUps:
    quality: dict[str, Any] = field(default_factory=dict)
    refine_cold: ScenarioResult = field(default_factory=lambda: ScenarioResult("refine-cold", 1.0))
    refine: ScenarioResult = field(default_factory=lambda: ScenarioResult("refine", 1.0))
    refine_shift: dict[str, float | None] = field(default_factory=dict)
    popular: ScenarioResult = field(default_factory=lambda: ScenarioResult("popular", 1.0))
    notes: list[str] = field(default_factory=list)


async def _measured(
    mesh: MeshHandles,
    stub: orchestrator_pb2_grpc.OrchestratorAsyncStub,
    prompt: str,
    user: int,
    poll_s: float,
    session: str = "",
    prompt_index: int = -1,
) -> tuple[Sample, orchestrator_pb2.RecommendResponse | None]:
    async with RateLimitWatch(mesh.sim, poll_s * mesh.scale) as watch:
        reply, response = await recommend_full(
            stub,
            prompt,
            f"simuser{user}",  # the simulator's user of the token: the orchestrator refuses any other
            f"user-{user}-bench",
            ISOLATED_DEADLINE_S * mesh.scale,
            session,
            caller_token=mesh.caller_token,
        )
    sample = Sample(
        prompt_index=prompt_index,
        user=user,
        wall_s=reply.wall_s,
        sim_s=reply.wall_s / mesh.scale,
        code=reply.code,
        phases=reply.phases,
        tracks=reply.tracks,
        warnings=reply.warnings,
        **watch.counted(),
    )
    return sample, response


async def run_quality(
    mesh: MeshHandles, config: BenchConfig, stub: orchestrator_pb2_grpc.OrchestratorAsyncStub, progress: Progress
) -> dict[str, Any]:
    catalog = sim_catalog(config.profile, config.seed)
    cases = quality.cases(catalog) if config.quality_all else quality.quick_cases(catalog)
    results = []
    for i, case in enumerate(cases):
        progress(f"quality run {i + 1}/{len(cases)}: {case.prompt!r}")
        user = QUALITY_USER_BASE + i
        sample, response = await _measured(mesh, stub, case.prompt, user, config.poll_s)
        results.append(quality.judge(case, user, response, sample.code, catalog))
    return quality.summarize(results)


def _mean_feature(response: orchestrator_pb2.RecommendResponse | None, name: str) -> float | None:
    if response is None:
        return None
    values = [getattr(e.track.audio_features, name) for e in response.tracks if e.track.HasField("audio_features")]
    return statistics.mean(values) if values else None


async def run_refine(
    mesh: MeshHandles,
    config: BenchConfig,
    stub: orchestrator_pb2_grpc.OrchestratorAsyncStub,
    progress: Progress,
    out: FollowUps,
) -> None:
    out.refine_cold, out.refine = ScenarioResult("refine-cold", mesh.scale), ScenarioResult("refine", mesh.scale)
    shifts: dict[str, list[float]] = {"valence": [], "energy": []}
    for i, prompt in enumerate(REFINE_PROMPTS[: config.refine_runs]):
        progress(f"refine  run {i + 1}/{config.refine_runs}: {prompt!r} → {REFINE_TWEAK!r}")
        await flush_redis(mesh.redis_url)
        await mesh.sim.reset()
        user = REFINE_USER_BASE + i
        cold, first = await _measured(mesh, stub, prompt, user, config.poll_s, prompt_index=i)
        out.refine_cold.add_isolated(cold)
        if first is None:
            out.notes.append(f"refine: the cold request for {prompt!r} failed ({cold.code})")
            continue
        await mesh.sim.reset(limits=False)
        tweak, second = await _measured(
            mesh, stub, REFINE_TWEAK, user, config.poll_s, session=first.session_id, prompt_index=i
        )
        out.refine.add_isolated(tweak)
        for name, values in shifts.items():
            before, after = _mean_feature(first, name), _mean_feature(second, name)
            if before is not None and after is not None:
                values.append(after - before)
    out.refine_shift = {name: statistics.mean(v) if v else None for name, v in shifts.items()}


async def _popular_passes(metrics_url: str) -> float | None:
    """Completed passes of the popular-moods job, from the orchestrator's /metrics (None: no such job)."""
    async with httpx.AsyncClient(timeout=10) as http:
        text = (await http.get(metrics_url)).text
    values = [
        sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
        if sample.name == POPULAR_RUNS_METRIC
    ]
    return sum(values) if values else None


async def run_popular(
    mesh: MeshHandles,
    config: BenchConfig,
    stub: orchestrator_pb2_grpc.OrchestratorAsyncStub,
    metrics_url: str,
    progress: Progress,
    out: FollowUps,
) -> None:
    """Runs first on a fresh mesh: the job's startup pass is the one measured against."""
    out.popular = ScenarioResult("popular", mesh.scale)
    deadline = time.monotonic() + POPULAR_WAIT_S
    passes = await _popular_passes(metrics_url)
    if passes is None:
        out.notes.append("popular: this build has no popular-moods job; new users pay the cold cost")
    while passes is not None and passes < 1 and time.monotonic() < deadline:
        await asyncio.sleep(0.25)
        passes = await _popular_passes(metrics_url)
    if passes is not None and passes < 1:
        out.notes.append(f"popular: no pass of the popular-moods job finished within {POPULAR_WAIT_S:.0f} s")
    for i, prompt in enumerate(POPULAR_PROMPTS[: config.popular_runs]):
        progress(f"popular run {i + 1}/{config.popular_runs}: {prompt!r} (a new user)")
        await mesh.sim.reset(limits=False)
        sample, _ = await _measured(mesh, stub, prompt, POPULAR_USER_BASE + i, config.poll_s, prompt_index=i)
        out.popular.add_isolated(sample)

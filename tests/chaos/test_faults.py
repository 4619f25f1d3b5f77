"""Keep answering through every fault: each one injected under load, its answers counted ok / degraded / failed.

0 failed wherever a degraded playlist is possible, answers still coming while the fault lasts (no request
waits out its deadline on a dead dependency), the fault visible in the answers' warnings, and plain ok
answers again within a bounded time after it ends. Windows are short so the suite fits a 2-core CI run;
`python -m tests.chaos.measure` runs the same faults with longer windows and prints the figures.
"""

from __future__ import annotations

import asyncio
import signal
from collections.abc import Callable
from pathlib import Path

import pytest

from segue_cli.mesh import SERVICES, Mesh
from tests.chaos import faults
from tests.chaos.faults import Fault
from tests.chaos.runner import Figures, Windows, run_fault
from tests.chaos.traffic import Traffic

pytestmark = [pytest.mark.chaos, pytest.mark.asyncio(loop_scope="session")]

# Recovered: 8 ok answers in a row arriving at a fifth of the baseline rate or more (lenient: the machine is shared).
WINDOWS = Windows(baseline_s=2.0, fault_s=5.0, after_s=1.0, clean=8, rate_share=0.2, warmup=8)
# A fault window of 5 s answers dozens of requests even on a loaded 2-core machine (the first requests
# after a peer dies may each wait a connect budget, 2 s, at two hops); before these fixes a frozen Redis or
# a dead peer answered none of those started in it.
MIN_ANSWERED_DURING = 5
PROBED_BACK_POLLS = 60  # half-second looks for each service's "available again" line after the fault


def log_sizes(mesh: Mesh) -> dict[str, int]:
    return {name: (mesh.log_dir / f"{name}.log").stat().st_size for name in SERVICES}


def new_log_text(mesh: Mesh, name: str, since: dict[str, int]) -> str:
    path: Path = mesh.log_dir / f"{name}.log"
    with path.open("rb") as log:
        log.seek(since[name])
        return log.read().decode(errors="replace")


async def under_load(mesh: Mesh, fault: Fault, tag: str) -> Figures:
    async with Traffic(mesh.orchestrator, tag=tag) as traffic:
        figures = await run_fault(mesh, traffic, fault, WINDOWS)
    failed = [r for r in traffic.results if r.kind == "failed"]
    assert not failed, f"{fault.name}: {len(failed)} failed, e.g. {failed[:3]}"
    return figures


def assert_answers_kept_coming(figures: Figures, warning: str) -> None:
    during = figures.during
    assert during.answered >= MIN_ANSWERED_DURING, f"{figures.fault}: only {during.answered} answers during the fault"
    if warning:
        assert during.warnings[warning] > 0, f"{figures.fault}: no {warning!r} warning in {dict(during.warnings)}"


async def test_a_frozen_redis_is_bypassed_with_a_warning_and_probed_back(chaos_mesh: Mesh) -> None:
    since = log_sizes(chaos_mesh)
    figures = await under_load(chaos_mesh, faults.redis_frozen(), "frozen")
    assert_answers_kept_coming(figures, "WARNING_CODE_UPSTREAM_UNAVAILABLE cache")
    # A service probes Redis back on its next cache call once the breaker's pause is over; the llm_gateway
    # may have had none yet (moods come from the orchestrator's sessions). Fresh prompts reach every service.
    async with Traffic(chaos_mesh.orchestrator, fresh_every=1, tag="frozen-after"):
        for _ in range(PROBED_BACK_POLLS):
            if all("cache available again" in new_log_text(chaos_mesh, n, since) for n in SERVICES):
                break
            await asyncio.sleep(0.5)
    for name in SERVICES:
        text = new_log_text(chaos_mesh, name, since)
        # One line when the cache goes away and one when it is back: state changes, not one per call.
        assert text.count("cache unavailable (") == 1, f"{name}: {text.count('cache unavailable (')} lines"
        assert text.count("cache available again") == 1, name


async def test_redis_killed_and_restarted_empty(chaos_mesh: Mesh) -> None:
    figures = await under_load(chaos_mesh, faults.redis_restarted_empty(), "emptied")
    assert_answers_kept_coming(figures, "WARNING_CODE_UPSTREAM_UNAVAILABLE cache")


@pytest.mark.parametrize(
    ("service", "warning"),
    [
        ("llm_gateway", "WARNING_CODE_FALLBACK_USED orchestrator"),  # keyword mood, read in the orchestrator
        ("seed_gatherer", "WARNING_CODE_FALLBACK_USED orchestrator"),  # seeds from the mood's artists
        ("reccobeat_gateway", "WARNING_CODE_UPSTREAM_UNAVAILABLE reccobeat_gateway"),  # unscored top tracks
    ],
)
async def test_a_killed_service_is_worked_around_at_once_then_used_again(
    chaos_mesh: Mesh, service: str, warning: str
) -> None:
    figures = await under_load(chaos_mesh, faults.service_down(service, signal.SIGKILL), f"kill-{service}")
    assert_answers_kept_coming(figures, warning)


@pytest.mark.parametrize("service", SERVICES)
async def test_sigterm_under_load_then_restart_fails_nothing(chaos_mesh: Mesh, service: str) -> None:
    figures = await under_load(chaos_mesh, faults.service_down(service, signal.SIGTERM), f"term-{service}")
    assert chaos_mesh.processes[service].poll() is None, "the service runs again"
    assert figures.after.answered > 0


async def test_a_prefetch_flood_leaves_normal_traffic_flowing(chaos_mesh: Mesh) -> None:
    flood = faults.prefetch_flood()
    figures = await under_load(chaos_mesh, flood, "flood")
    assert_answers_kept_coming(figures, "")
    codes = flood.state["prefetch_codes"]
    assert sum(codes.values()) == 2000
    # Accepted, or refused past a bound (RESOURCE_EXHAUSTED): never an error or a hang.
    assert set(codes) <= {"OK", "RESOURCE_EXHAUSTED"}, codes


# Spotify's storm with ReccoBeats', and ReccoBeats' with Gemini's, not all three at once: a new user whose
# GET /me (three 429s) and mood reading (three 429s from Gemini) both fail has only the prompt's keywords,
# which name no artist to start from, and is answered UNAVAILABLE (about 1 of 60 requests of a 10 s storm of
# all three, measured with `python -m tests.chaos.measure --faults upstream-429`): no playlist is possible.
@pytest.mark.parametrize(
    "fault",
    [
        faults.upstream_5xx_burst,
        lambda: faults.upstream_429_storm(upstreams=("spotify", "reccobeats")),
        lambda: faults.upstream_429_storm(upstreams=("reccobeats", "gemini")),
    ],
    ids=["5xx-burst", "429-storm-spotify-reccobeats", "429-storm-reccobeats-gemini"],
)
async def test_upstream_5xx_bursts_and_429_storms_fail_nothing(chaos_mesh: Mesh, fault: Callable[[], Fault]) -> None:
    figures = await under_load(chaos_mesh, fault(), "upstream")
    assert_answers_kept_coming(figures, "")

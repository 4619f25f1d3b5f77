"""Run sizes and time scales: `make bench` (full), `make bench-quick` (quick) and the test's tiny one.

Budgets on a 2-core machine, mesh start included: full < 10 min, quick < 2 min. The mesh runs at scale
1.0 in full mode, so its own (unscaled) overhead is not magnified when figures are turned into simulated
seconds; the legacy model makes only light client work per call, so it runs 20× faster than real time.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

RESULTS_DIR = Path(__file__).resolve().parent / "results"


@dataclass(frozen=True)
class BenchConfig:
    mode: str
    mesh_scale: float  # the mesh's simulator time scale (cold, warm, load)
    legacy_scale: float  # the legacy scenario's own simulator
    legacy_runs: int  # cycling over the prompts, a new user each
    cold_runs: int  # cycling over the prompts, a new user each
    warm_repeats: int  # warm calls after each cold run (same user and prompt)
    load_seconds: float  # simulated seconds of offered load
    quality_all: bool = True  # every labelled prompt; else one of each kind (quick and the harness test)
    refine_runs: int = 4  # cold request + tweak in its session
    popular_runs: int = 3  # new users asking for a popular mood
    load_factor: float = 2.0  # offered rate ÷ the rate the upstream limits sustain for the required calls
    load_deadline_s: float = 60.0  # simulated seconds a load request may take
    profile: str = "realistic"
    seed: int = 42
    poll_s: float = 0.25  # simulated seconds between rate-limit polls
    out_dir: Path = RESULTS_DIR
    plots: bool = True
    caller_auth: bool = False  # the mesh authenticates callers: every request carries a caller token
    replicas: int = 2  # processes of each gateway, sharing one Redis (the orchestrator runs once)


FULL = BenchConfig(
    "full", mesh_scale=1.0, legacy_scale=0.05, legacy_runs=10, cold_runs=20, warm_repeats=2, load_seconds=60.0
)
QUICK = BenchConfig(
    "quick",
    mesh_scale=0.5,
    legacy_scale=0.02,
    legacy_runs=2,
    cold_runs=3,
    warm_repeats=2,
    load_seconds=20.0,
    quality_all=False,
    refine_runs=2,
    popular_runs=2,
)
# For the harness test: everything runs, nothing is meant to be measured. The legacy model's HTTP timeouts
# scale too (30 s → 0.6 s, connect 10 s → 0.2 s): room for a loaded CI machine, so its ledger still
# matches the simulator's counters. Callers authenticate, so the harness carries a caller token everywhere.
TINY = BenchConfig(
    "tiny",
    mesh_scale=0.05,
    legacy_scale=0.02,
    legacy_runs=1,
    cold_runs=1,
    warm_repeats=1,
    load_seconds=4.0,
    quality_all=False,
    refine_runs=1,
    popular_runs=1,
    load_factor=1.5,
    caller_auth=True,
)


def preset(quick: bool) -> BenchConfig:
    return QUICK if quick else FULL

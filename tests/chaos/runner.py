"""One fault under load: a baseline window, the fault, then the wait until answers are plain ok again.

Figures per fault: requests started / ok / degraded / failed and throughput before, during and after
it, and the time from its end until `clean` answers in a row were ok again (recovery).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from segue_cli.mesh import Mesh
from tests.chaos.faults import Fault
from tests.chaos.traffic import Counts, NotRecovered, Traffic


@dataclass(frozen=True)
class Windows:
    baseline_s: float = 3.0
    fault_s: float = 4.0
    after_s: float = 3.0  # measured after recovery, for the "after" throughput
    clean: int = 12  # ok answers in a row that count as recovered...
    rate_share: float = 0.5  # ...arriving at this share of the baseline throughput or more
    recover_within_s: float = 90.0  # generous: a loaded 2-core machine must not fail a healthy mesh
    warmup: int = 12  # answers before the baseline starts
    strict: bool = True  # fail when not recovered in time (tests); else report it (measurements)


@dataclass(frozen=True)
class Figures:
    fault: str
    before: Counts
    during: Counts
    after: Counts
    recovery_s: float | None  # None: not recovered within Windows.recover_within_s


async def run_fault(mesh: Mesh, traffic: Traffic, fault: Fault, windows: Windows = Windows()) -> Figures:
    await traffic.wait_for(windows.warmup, within_s=windows.recover_within_s)
    t_base = traffic.now()
    await asyncio.sleep(windows.baseline_s)
    t_fault = traffic.now()
    try:
        await fault.inject(mesh)
        await asyncio.sleep(windows.fault_s)
    finally:
        await fault.heal(mesh)  # whatever happened, later tests get a whole mesh
    t_heal = traffic.now()
    baseline = traffic.count(t_base, t_fault)
    min_rate = windows.rate_share * baseline.throughput
    try:
        recovery_s: float | None = await traffic.wait_recovered(
            t_heal, windows.clean, min_rate, windows.recover_within_s
        )
    except NotRecovered:
        if windows.strict:
            raise
        recovery_s = None
    t_after = t_heal + (windows.recover_within_s if recovery_s is None else recovery_s)
    await asyncio.sleep(max(0.0, t_after + windows.after_s - traffic.now()))
    # Let the requests of the windows finish (bounded by their deadline) before counting them.
    await traffic.settle(traffic.now())
    return Figures(
        fault.name,
        baseline,
        traffic.count(t_fault, t_heal),
        traffic.count(t_after, t_after + windows.after_s),
        recovery_s,
    )


def _counts(c: Counts) -> str:
    return f"{c.started} / {c.ok} / {c.degraded} / {c.failed}"


def table(figures: list[Figures], within_s: float = Windows.recover_within_s) -> str:
    """The figures as a Markdown table (requests counted by the window they started in)."""
    head = (
        "| fault | before: started / ok / degraded / failed | during | after "
        "| answers/s before / during / after | recovery | failures | warnings during |\n"
        "|---|---|---|---|---|---|---|---|"
    )
    rows = []
    for f in figures:
        d = f.during
        warnings = ", ".join(f"{k} ×{v}" for k, v in d.warnings.most_common(3))
        failures = dict(f.before.failures + d.failures + f.after.failures)
        recovery = f"{f.recovery_s:.1f} s" if f.recovery_s is not None else f"not within {within_s:g} s"
        rows.append(
            f"| {f.fault} | {_counts(f.before)} | {_counts(d)} | {_counts(f.after)} "
            f"| {f.before.throughput:.1f} / {d.throughput:.1f} / {f.after.throughput:.1f} "
            f"| {recovery} | {failures or '-'} | {warnings or '-'} |"
        )
    return "\n".join([head, *rows])

"""Before/after figures for every fault of the chaos suite, with longer windows than the tests use.

    .venv/bin/python -m tests.chaos.measure                      # all faults, profile fast
    .venv/bin/python -m tests.chaos.measure --faults redis-frozen,llm-killed --fault-s 15

Starts its own mesh (simulator, a private redis-server, the four services) on loopback, drives closed-loop
Recommend traffic, injects each fault in turn and prints one Markdown row per fault: requests started /
ok / degraded / failed during the fault, throughput before / during / after, and the time from the
fault's end until answers were plain ok again, at half the baseline throughput or more. The machine's
load average is printed with them.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

from segue_cli.mesh import MeshOptions, running_mesh
from tests.chaos import faults
from tests.chaos.faults import Fault
from tests.chaos.runner import Figures, Windows, run_fault, table
from tests.chaos.soak import report, soak
from tests.chaos.traffic import CHAOS_ENV, Traffic

FAULTS: dict[str, Callable[[], Fault]] = {
    "redis-frozen": faults.redis_frozen,
    "redis-restarted-empty": faults.redis_restarted_empty,
    "llm-killed": lambda: faults.service_down("llm_gateway", signal.SIGKILL),
    "seeds-killed": lambda: faults.service_down("seed_gatherer", signal.SIGKILL),
    "recco-killed": lambda: faults.service_down("reccobeat_gateway", signal.SIGKILL),
    "llm-sigterm": lambda: faults.service_down("llm_gateway", signal.SIGTERM),
    "seeds-sigterm": lambda: faults.service_down("seed_gatherer", signal.SIGTERM),
    "recco-sigterm": lambda: faults.service_down("reccobeat_gateway", signal.SIGTERM),
    "orchestrator-sigterm": lambda: faults.service_down("orchestrator", signal.SIGTERM),
    "prefetch-flood": faults.prefetch_flood,
    "upstream-5xx": faults.upstream_5xx_burst,
    "upstream-429": faults.upstream_429_storm,
}


async def measure(args: argparse.Namespace) -> list[Figures]:
    windows = Windows(
        baseline_s=args.baseline_s,
        fault_s=args.fault_s,
        after_s=args.after_s,
        clean=args.clean,
        recover_within_s=args.recover_within_s,
        warmup=args.warmup,
        strict=False,
    )
    log_dir = Path(tempfile.mkdtemp(prefix="segue-chaos-"))
    options = MeshOptions(
        profile=args.profile, time_scale=args.time_scale, redis="spawn", log_dir=log_dir, service_env=CHAOS_ENV
    )
    figures = []
    async with running_mesh(options) as mesh:
        print(f"mesh up; logs in {log_dir}", file=sys.stderr)
        for name in filter(None, args.faults.split(",")):
            async with Traffic(
                mesh.orchestrator, concurrency=args.concurrency, fresh_every=args.fresh_every, tag=name
            ) as traffic:
                result = await run_fault(mesh, traffic, FAULTS[name](), windows)
            figures.append(result)
            print(table([result], args.recover_within_s).splitlines()[-1], file=sys.stderr)
        if args.soak:
            print(report(await soak(mesh)))
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--faults", default=",".join(FAULTS), help="comma-separated, of: " + ", ".join(FAULTS))
    parser.add_argument("--profile", default="fast")
    parser.add_argument("--time-scale", type=float, default=1.0)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--fresh-every", type=int, default=4, help="every n-th request a new user (0: none)")
    parser.add_argument("--warmup", type=int, default=12, help="answers before the baseline window starts")
    parser.add_argument("--baseline-s", type=float, default=5.0)
    parser.add_argument("--fault-s", type=float, default=10.0)
    parser.add_argument("--after-s", type=float, default=5.0)
    parser.add_argument("--clean", type=int, default=20, help="ok answers in a row that count as recovered")
    parser.add_argument("--soak", action="store_true", help="then a soak: process sizes and Redis memory")
    parser.add_argument("--recover-within-s", type=float, default=60.0, help="give up waiting for recovery")
    args = parser.parse_args()
    unknown = set(args.faults.split(",")) - set(FAULTS) - {""}
    if unknown:
        parser.error(f"unknown fault(s): {', '.join(sorted(unknown))}")
    load_before = os.getloadavg()
    figures = asyncio.run(measure(args))
    load_after = os.getloadavg()
    print(table(figures, args.recover_within_s))
    print(
        f"\nprofile {args.profile}, {args.concurrency} callers, windows {args.baseline_s:g}/{args.fault_s:g}/"
        f"{args.after_s:g} s; load average (1 min) {load_before[0]:.2f} before, {load_after[0]:.2f} after, "
        f"{os.cpu_count()} CPUs"
    )


if __name__ == "__main__":
    main()

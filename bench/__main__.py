"""`python -m bench [--quick] [--out DIR]`: run every scenario and write bench/results/latest.{json,md} + plots."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from dataclasses import replace
from pathlib import Path

from bench.config import preset
from bench.runner import run_bench, write_outputs


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="fewer runs and shorter load (make bench-quick)")
    parser.add_argument("--out", type=Path, default=None, help="output directory (default bench/results)")
    parser.add_argument("--no-plots", action="store_true", help="skip the PNG plots")
    parser.add_argument(
        "--render-only", action="store_true", help="re-render tables, plots and the README section from latest.json"
    )
    parser.add_argument(
        "--caller-auth", action="store_true", help="run the mesh with caller authentication on (a bearer token)"
    )
    args = parser.parse_args(argv)
    config = preset(args.quick)
    if args.out is not None:
        config = replace(config, out_dir=args.out)
    if args.no_plots:
        config = replace(config, plots=False)
    if args.caller_auth:
        config = replace(config, caller_auth=True)
    if args.render_only:
        write_outputs(json.loads((config.out_dir / "latest.json").read_text()), config)
        return 0
    command = "make bench-quick" if args.quick else "make bench"
    asyncio.run(run_bench(config, command))
    return 0


if __name__ == "__main__":
    sys.exit(main())

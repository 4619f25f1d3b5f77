"""`python -m sim --profile realistic --port 0 --time-scale 0.05` — run the upstream simulator.

When the catalog is built and the socket listens, prints one JSON line to stdout:
{"event": "listening", "host": ..., "port": N, "base_urls": {"spotify": ..., "reccobeats": ..., "gemini": ...}}
(callers read the port from it). Nothing is logged per request. SIGTERM/SIGINT → exit 0.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import signal
import sys

from aiohttp import web

from sim.app import DEFAULT_SEED, create_app
from sim.endpoints import PREFIXES
from sim.profile import ProfileError, checked_in_profiles, load_profile


def _positive(text: str) -> float:
    value = float(text)
    if not value > 0:
        raise argparse.ArgumentTypeError("must be > 0")
    return value


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m sim", description="Spotify, ReccoBeats and Gemini on loopback")
    parser.add_argument(
        "--profile",
        default="realistic",
        help=f"a checked-in profile ({', '.join(checked_in_profiles())}) or a path to a .toml",
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8089, help="0 binds a free port")
    parser.add_argument(
        "--time-scale",
        type=_positive,
        default=1.0,
        help="multiplies every delay, window and Retry-After (0.05 = 20× faster)",
    )
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED, help="catalog and fault randomness")
    return parser.parse_args(argv)


def listening_line(host: str, port: int) -> dict[str, object]:
    reachable = "127.0.0.1" if host in ("0.0.0.0", "") else "[::1]" if host == "::" else host
    base = f"http://{reachable}:{port}"
    return {
        "event": "listening",
        "host": host,
        "port": port,
        "base_urls": {name: base + prefix for name, prefix in PREFIXES.items()},
    }


async def serve(args: argparse.Namespace) -> None:
    app = create_app(load_profile(args.profile), args.time_scale, args.seed)
    runner = web.AppRunner(app, access_log=None, handle_signals=False, shutdown_timeout=1.0)
    await runner.setup()
    await web.TCPSite(runner, args.host, args.port).start()
    port = int(runner.addresses[0][1])
    print(json.dumps(listening_line(args.host, port)), flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    try:
        await stop.wait()
    finally:
        await runner.cleanup()


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        asyncio.run(serve(args))
    except ProfileError as exc:
        print(f"sim: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:
        print(f"sim: cannot listen on {args.host}:{args.port}: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""The `segue` command: run the local mesh, call it, or do both once (the demo)."""

from __future__ import annotations

import argparse
import asyncio
import enum
import importlib.metadata
import os
import signal
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from grpc import aio
from segue.v1 import orchestrator_pb2

from segue_cli import probe, render
from segue_cli.client import (
    OnProgress,
    Target,
    Unreachable,
    call_recommend,
    check_addr,
    orchestrator,
    recommend_request,
    retry_after_ms,
    tls_credentials,
    token_metadata,
)
from segue_cli.errors import MeshError

if TYPE_CHECKING:
    # The local mesh needs the simulator's packages; the client commands (recommend, prefetch, probe)
    # run from the service image, which has none of them, so the mesh is imported only where it is used.
    from segue_cli.mesh import Mesh, MeshOptions

DEFAULT_ADDR = "127.0.0.1:50051"
DEMO_PROMPT = "rainy sunday, slow jazz, nothing sad"
# The simulator derives a Spotify user from the token ("user-7-…" is simuser7); real deployments pass the
# user's access token, and the user id, if given, must be the token's own.
DEMO_TOKEN = "user-7-demo-token"
DEMO_USER = "simuser7"
TIMEOUT_S = 120.0  # the deadline the command gives a Recommend call


@enum.unique
class Exit(enum.IntEnum):
    """The command's exit codes (README, "The `segue` command")."""

    OK = 0
    CALL_FAILED = 1  # the orchestrator answered with an error
    USAGE = 2  # a bad command line (argparse exits with 2 itself)
    UNREACHABLE = 3  # nothing answers at --addr
    MESH = 4  # the local mesh could not start, or `segue up` lost one of its processes
    INTERRUPTED = 130  # Ctrl-C (128 + SIGINT, as shells report it)
    OUTPUT_CLOSED = 141  # the reader went away, e.g. `| head -1` (128 + SIGPIPE)


class _PrintProgress:
    """Prints each progress event as a line; remembers whether one of them showed the mood."""

    def __init__(self) -> None:
        self.mood_shown = False

    def __call__(self, event: orchestrator_pb2.Progress) -> None:
        print(render.progress(event), flush=True)
        self.mood_shown = self.mood_shown or event.HasField("mood")


def _print_json_event(event: orchestrator_pb2.Progress) -> None:
    print(render.as_json(orchestrator_pb2.RecommendStreamResponse(progress=event), one_line=True), flush=True)


def _target(args: argparse.Namespace) -> Target:
    return Target(args.addr, tls_credentials(args.tls_ca, args.tls_cert, args.tls_key), args.caller_token)


async def _recommend_at(
    target: Target,
    request: orchestrator_pb2.RecommendRequest,
    token: str,
    stream: bool,
    on_progress: OnProgress | None,
) -> orchestrator_pb2.RecommendResponse:
    async with orchestrator(target) as stub:
        return await call_recommend(
            stub, request, token, TIMEOUT_S, stream=stream, on_progress=on_progress, caller_token=target.caller_token
        )


def _mesh_options(args: argparse.Namespace, orchestrator_port: int = 0) -> MeshOptions:
    from segue_cli.mesh import MeshOptions

    return MeshOptions(
        profile=args.profile,
        time_scale=args.time_scale,
        redis=args.redis,
        orchestrator_port=orchestrator_port,
        metrics_port_base=getattr(args, "metrics_port_base", 0),
        log_dir=Path(args.log_dir) if args.log_dir else None,
        replicas=getattr(args, "replicas", 1),
    )


def _describe(mesh: Mesh) -> str:
    redis = {"external": f"Redis at {mesh.redis_url}", "spawned": f"a local redis-server ({mesh.redis_url})"}.get(
        mesh.redis_kind, "the in-process cache (no Redis found)"
    )
    services = "\n".join(
        f"  {name:18} {addr}  metrics :{mesh.metrics_ports[name]}" for name, addr in mesh.addresses.items()
    )
    return f"simulator: {mesh.base_urls}\ncache: {redis}\nservices:\n{services}\nlogs: {mesh.log_dir}"


async def _demo(args: argparse.Namespace) -> int:
    from segue_cli.mesh import running_mesh

    print(f"starting the simulator and the four services (profile {args.profile}, time scale {args.time_scale})…")
    async with running_mesh(_mesh_options(args)) as mesh:
        print(_describe(mesh))
        print(f'\nRecommend(user={DEMO_USER!r}, prompt="{args.prompt}", size={args.size}):')
        request = recommend_request(args.prompt, DEMO_USER, args.size)
        progress = _PrintProgress()
        response = await _recommend_at(Target(mesh.orchestrator), request, DEMO_TOKEN, True, progress)
        print()
        print(render.full(response, with_mood=not progress.mood_shown))
        print("\nshutting down…")
    print("done.")
    return 0


async def _up(args: argparse.Namespace) -> int:
    from segue_cli.mesh import running_mesh

    async with running_mesh(_mesh_options(args, orchestrator_port=args.port)) as mesh:
        print(_describe(mesh))
        print(
            f"\norchestrator listening on {mesh.orchestrator}. Try:\n"
            f'  segue recommend "{DEMO_PROMPT}" --user {DEMO_USER} --token {DEMO_TOKEN} \\\n'
            f"      --addr {mesh.orchestrator} --stream\n"
            "Ctrl-C stops everything.",
            flush=True,
        )
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        signalled = asyncio.ensure_future(stop.wait())
        exited = asyncio.ensure_future(mesh.first_exit())
        done, pending = await asyncio.wait({signalled, exited}, return_when=asyncio.FIRST_COMPLETED)
        for task in pending:
            task.cancel()
        if exited in done:
            name, code = exited.result()
            print(
                f"\nerror: {name} exited with code {code}; stopping the mesh. Its last log lines:\n"
                f"{mesh.log_tail(name)}",
                file=sys.stderr,
                flush=True,
            )
            return Exit.MESH
        print("\nshutting down…")
    return 0


def _streams(args: argparse.Namespace) -> bool:
    """Use RecommendStream when asked to, or to show progress on a terminal (text output only)."""
    return bool(args.stream or (not args.json and not args.no_progress and sys.stdout.isatty()))


async def _recommend(args: argparse.Namespace) -> int:
    request = recommend_request(args.prompt, args.user, args.size, args.session)
    stream = _streams(args)
    if args.json:
        # With --stream, JSON lines: one object per stream message, {"progress": …} then {"result": …}.
        response = await _recommend_at(_target(args), request, args.token, stream, _print_json_event)
        result = orchestrator_pb2.RecommendStreamResponse(result=response) if stream else response
        print(render.as_json(result, one_line=stream))
        return Exit.OK
    progress = _PrintProgress()
    response = await _recommend_at(_target(args), request, args.token, stream, progress)
    if stream:
        print()
    print(render.full(response, with_mood=not progress.mood_shown, asked_session=args.session))
    return Exit.OK


async def _prefetch(args: argparse.Namespace) -> int:
    async with orchestrator(_target(args)) as stub:
        reply = await stub.Prefetch(
            orchestrator_pb2.PrefetchRequest(user_id=args.user),
            metadata=token_metadata(args.token, args.caller_token),
            timeout=10,
        )
    print("accepted" if reply.accepted else f"not accepted: {reply.reason}")
    return Exit.OK


class _HelpFormatter(argparse.ArgumentDefaultsHelpFormatter, argparse.RawDescriptionHelpFormatter):
    """Shows each option's default, except where there is none to show; keeps the examples' line breaks."""

    def _get_help_string(self, action: argparse.Action) -> str | None:
        if action.default is None or action.default == "" or isinstance(action.default, bool):
            return action.help
        return super()._get_help_string(action)


def _version() -> str:
    try:
        return importlib.metadata.version("segue")
    except importlib.metadata.PackageNotFoundError:  # run from a source tree that was never installed
        return "unknown (not installed)"


def _addr(text: str) -> str:
    try:
        return check_addr(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


_EXIT_CODES = (
    "exit codes: 0 ok, 1 the call failed, 2 usage error, 3 nothing listens at --addr,\n"
    "            4 the local mesh could not start (or lost a process), 130 interrupted, 141 output closed early"
)
_EXAMPLES = {
    "segue": f"""examples:
  segue demo                          # start the mesh, one Recommend, show the playlist, stop
  segue up                            # the local mesh on {DEFAULT_ADDR} until Ctrl-C
  segue recommend "{DEMO_PROMPT}" --user {DEMO_USER}

{_EXIT_CODES}""",
    "demo": """example:
  segue demo --prompt "late night drive, synthwave" --size 10 --profile fast""",
    "up": """example:
  segue up --port 0 --redis spawn     # any free port; the address is printed
  segue up --replicas 2 --redis spawn  # two processes of each gateway sharing one Redis""",
    "recommend": f"""examples:
  segue recommend "{DEMO_PROMPT}" --user {DEMO_USER}
  segue recommend "more like that" --user {DEMO_USER} --session SESSION_ID
  segue recommend "gym, heavy" --user {DEMO_USER} --json --stream    # JSON lines, one per event

On a terminal, progress lines (with the time since the request started) come first; --stream shows them
when the output is not a terminal too, --no-progress never. --json prints every field, zero values
included; a failure under --json is {{"error": {{"code", "message", "retryAfterMs"?, "detail"?}}}} on stdout.

{_EXIT_CODES}""",
    "prefetch": f"""example:
  segue prefetch --user {DEMO_USER} --addr 127.0.0.1:50051""",
    "probe": """example:
  segue probe --addr dns:///orchestrator-headless.segue.svc.cluster.local:50051 --size 10 --max-seconds 30

Prints one JSON line (ok, seconds, tracks, problems, warnings); exits 1 when the call fails or the answer is
short, repeats a track or comes later than --max-seconds (the Kubernetes CronJob fails with it).""",
}


async def _probe(args: argparse.Namespace) -> int:
    verdict = await probe.run(_target(args), args.token, args.size, args.max_seconds, args.prompt)
    print(verdict.line(), flush=True)
    return Exit.OK if verdict.ok else Exit.CALL_FAILED


def _replicas(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if not 1 <= value <= 8:
        raise argparse.ArgumentTypeError(f"--replicas must be a whole number from 1 to 8, got {text!r}")
    return value


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="segue",
        description="Mood prompt in, ordered playlist out.",
        epilog=_EXAMPLES["segue"],
        formatter_class=_HelpFormatter,
    )
    p.add_argument("--version", action="version", version=f"%(prog)s {_version()}")
    sub = p.add_subparsers(dest="command", required=True)

    def command(name: str, summary: str) -> argparse.ArgumentParser:
        return sub.add_parser(
            name, help=summary, description=summary, epilog=_EXAMPLES[name], formatter_class=_HelpFormatter
        )

    def mesh_flags(q: argparse.ArgumentParser) -> None:
        q.add_argument("--profile", default="realistic", help="simulator profile (sim/profiles/*.toml or a path)")
        q.add_argument("--time-scale", type=float, default=1.0, help="multiplies every simulated delay and window")
        q.add_argument("--redis", choices=["auto", "spawn", "none"], default="auto", help="cache backend")
        q.add_argument("--log-dir", default="", help="where service logs go (default: a temporary directory)")

    demo = command("demo", "start the mesh, make one Recommend call, show the playlist, stop")
    mesh_flags(demo)
    demo.add_argument("--prompt", default=DEMO_PROMPT, help="the mood prompt")
    demo.add_argument("--size", type=int, default=15, help="tracks asked for")

    up = command("up", "run the local mesh until Ctrl-C")
    mesh_flags(up)
    up.add_argument("--port", type=int, default=50051, help="orchestrator port (0: any free port)")
    up.add_argument(
        "--metrics-port-base",
        type=int,
        default=0,
        help="/metrics on N..N+3 (orchestrator, llm, seeds, reccobeats), as deploy/prometheus/local.yml expects",
    )
    up.add_argument(
        "--replicas",
        type=_replicas,
        default=1,
        help="processes of each gateway (1..8), sharing one Redis and reached round-robin by their callers",
    )

    def client_flags(q: argparse.ArgumentParser, user: bool = True) -> None:
        q.add_argument(
            "--addr",
            type=_addr,
            default=os.environ.get("SEGUE_ADDR", DEFAULT_ADDR),
            help="the orchestrator, host:port or dns:///host:port (env SEGUE_ADDR)",
        )
        if user:
            q.add_argument("--user", default="", help="the Spotify user id the token belongs to (default: its owner)")
        # No default here: --help prints defaults, and this one may be a real token (resolved in main).
        q.add_argument("--token", help=f"the user's Spotify access token (default: $SPOTIFY_TOKEN, else {DEMO_TOKEN})")
        q.add_argument(
            "--caller-token",
            help="this caller's own token or JWT, when the orchestrator authenticates callers "
            "(default: $SEGUE_CALLER_TOKEN)",
        )
        q.add_argument(
            "--tls-ca",
            default=os.environ.get("SEGUE_TLS_CA", ""),
            help="CA certificate (PEM) to verify an orchestrator that serves TLS (env SEGUE_TLS_CA)",
        )
        q.add_argument(
            "--tls-cert", default=os.environ.get("SEGUE_TLS_CERT", ""), help="client certificate, for mutual TLS"
        )
        q.add_argument("--tls-key", default=os.environ.get("SEGUE_TLS_KEY", ""), help="its private key")

    rec = command("recommend", "ask a running orchestrator for a playlist")
    rec.add_argument("prompt", help='the mood, e.g. "rainy sunday, slow jazz, nothing sad"')
    client_flags(rec)
    rec.add_argument("--size", type=int, default=None, help="tracks asked for, 1..100 (default: 20)")
    rec.add_argument("--session", default="", help="continue a session (a follow-up or a tweaked prompt)")
    shown = rec.add_mutually_exclusive_group()
    shown.add_argument(
        "--stream", action="store_true", help="progress lines even when not on a terminal; with --json, JSON lines"
    )
    shown.add_argument("--no-progress", action="store_true", help="no progress lines, even on a terminal")
    rec.add_argument("--json", action="store_true", help="print the response as JSON, every field")

    pre = command("prefetch", "warm a user's caches ahead of a request")
    client_flags(pre)

    prb = command("probe", "one Recommend with a fixed prompt; exit 1 when the answer is wrong or slow")
    client_flags(prb, user=False)
    prb.add_argument("--prompt", default=probe.PROMPT, help="the fixed mood prompt")
    prb.add_argument("--size", type=int, default=10, help="tracks asked for; fewer is a failure")
    prb.add_argument("--max-seconds", type=float, default=30.0, help="an answer later than this is a failure")
    return p


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    args = parser().parse_args(argv)
    if "token" in args and args.token is None:
        args.token = os.environ.get("SPOTIFY_TOKEN", DEMO_TOKEN)
    if "caller_token" in args and args.caller_token is None:
        args.caller_token = os.environ.get("SEGUE_CALLER_TOKEN", "")
    return args


async def run(args: argparse.Namespace) -> int:
    """Runs the parsed command; prints a failure as text on stderr or, under --json, as JSON on stdout."""
    handlers = {"demo": _demo, "up": _up, "recommend": _recommend, "prefetch": _prefetch, "probe": _probe}
    handler = handlers[args.command]
    try:
        return await handler(args)
    except MeshError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return Exit.MESH
    except Unreachable as exc:
        hint = f"{exc} — start `segue up` or pass --addr"
        failure, code = render.Failure("UNAVAILABLE", hint, detail=exc.details), Exit.UNREACHABLE
    except aio.AioRpcError as exc:  # the orchestrator's own words: they name the bad field or the failing peer
        failure, code = render.Failure(exc.code().name, exc.details() or "", retry_after_ms(exc)), Exit.CALL_FAILED
    if getattr(args, "json", False):
        print(failure.json(one_line=_streams(args)), flush=True)
    else:
        print(failure.text(), file=sys.stderr)
    return code


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    try:
        code = asyncio.run(run(args))
    except KeyboardInterrupt:
        code = Exit.INTERRUPTED
    except BrokenPipeError:
        # Point stdout at /dev/null so the interpreter's final flush does not fail a second time.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        code = Exit.OUTPUT_CLOSED
    sys.exit(code)

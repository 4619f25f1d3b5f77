"""The `segue` command: run the local mesh, call it, or do both once (the demo)."""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import sys
from pathlib import Path

import grpc
from google.protobuf import json_format
from grpc import aio
from segue.v1 import orchestrator_pb2, orchestrator_pb2_grpc

from segue_cli import render
from segue_cli.client import OnProgress, call_recommend, recommend_request, token_metadata
from segue_cli.mesh import Mesh, MeshError, MeshOptions, running_mesh

DEFAULT_ADDR = "127.0.0.1:50051"
DEMO_PROMPT = "rainy sunday, slow jazz, nothing sad"
DEMO_USER = "demo-user"
# The simulator derives a Spotify user from the token; real deployments pass the user's access token.
DEMO_TOKEN = "user-7-demo-token"
TIMEOUT_S = 120.0  # the deadline the command gives a Recommend call


def _print_progress(progress: orchestrator_pb2.Progress) -> None:
    print(render.progress(progress), flush=True)


async def _recommend_at(
    addr: str, request: orchestrator_pb2.RecommendRequest, token: str, stream: bool, on_progress: OnProgress | None
) -> orchestrator_pb2.RecommendResponse:
    async with aio.insecure_channel(addr) as channel:
        stub = orchestrator_pb2_grpc.OrchestratorStub(channel)
        return await call_recommend(stub, request, token, TIMEOUT_S, stream=stream, on_progress=on_progress)


def _mesh_options(args: argparse.Namespace, orchestrator_port: int = 0) -> MeshOptions:
    return MeshOptions(
        profile=args.profile,
        time_scale=args.time_scale,
        redis=args.redis,
        orchestrator_port=orchestrator_port,
        log_dir=Path(args.log_dir) if args.log_dir else None,
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
    print(f"starting the simulator and the four services (profile {args.profile}, time scale {args.time_scale})…")
    async with running_mesh(_mesh_options(args)) as mesh:
        print(_describe(mesh))
        print(f'\nRecommend(user={DEMO_USER!r}, prompt="{args.prompt}", size={args.size}):')
        request = recommend_request(args.prompt, DEMO_USER, args.size)
        response = await _recommend_at(mesh.orchestrator, request, DEMO_TOKEN, True, _print_progress)
        print()
        print(render.full(response))
        print("\nshutting down…")
    print("done.")
    return 0


async def _up(args: argparse.Namespace) -> int:
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
        await stop.wait()
        print("\nshutting down…")
    return 0


async def _recommend(args: argparse.Namespace) -> int:
    request = recommend_request(args.prompt, args.user, args.size, args.session)
    on_progress = None if args.json else _print_progress
    response = await _recommend_at(args.addr, request, args.token, args.stream, on_progress)
    if args.json:
        print(json_format.MessageToJson(response))
    else:
        if args.stream:
            print()
        print(render.full(response))
    return 0


async def _prefetch(args: argparse.Namespace) -> int:
    async with aio.insecure_channel(args.addr) as channel:
        stub = orchestrator_pb2_grpc.OrchestratorStub(channel)
        reply = await stub.Prefetch(
            orchestrator_pb2.PrefetchRequest(user_id=args.user), metadata=token_metadata(args.token), timeout=10
        )
    print("accepted" if reply.accepted else "not accepted")
    return 0


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="segue", description="Mood prompt in, ordered playlist out.")
    sub = p.add_subparsers(dest="command", required=True)

    def mesh_flags(q: argparse.ArgumentParser) -> None:
        q.add_argument("--profile", default="realistic", help="simulator profile (sim/profiles/*.toml or a path)")
        q.add_argument("--time-scale", type=float, default=1.0, help="multiplies every simulated delay and window")
        q.add_argument("--redis", choices=["auto", "spawn", "none"], default="auto", help="cache backend")
        q.add_argument("--log-dir", default="", help="where service logs go (default: a temporary directory)")

    demo = sub.add_parser("demo", help="start the mesh, make one Recommend call, show the playlist, stop")
    mesh_flags(demo)
    demo.add_argument("--prompt", default=DEMO_PROMPT)
    demo.add_argument("--size", type=int, default=15)

    up = sub.add_parser("up", help="run the local mesh until Ctrl-C")
    mesh_flags(up)
    up.add_argument("--port", type=int, default=50051, help="orchestrator port (0: any free port)")

    def client_flags(q: argparse.ArgumentParser) -> None:
        q.add_argument(
            "--addr", default=os.environ.get("SEGUE_ADDR", DEFAULT_ADDR), help="orchestrator (env SEGUE_ADDR)"
        )
        q.add_argument("--user", required=True, help="the user id")
        q.add_argument(
            "--token",
            default=os.environ.get("SPOTIFY_TOKEN", DEMO_TOKEN),
            help="the user's Spotify access token (env SPOTIFY_TOKEN)",
        )

    rec = sub.add_parser("recommend", help="ask a running orchestrator for a playlist")
    rec.add_argument("prompt")
    client_flags(rec)
    rec.add_argument("--size", type=int, default=None, help="1..100 (default 20)")
    rec.add_argument("--session", default="", help="continue a session (a follow-up or a tweaked prompt)")
    rec.add_argument("--stream", action="store_true", help="show progress as each phase finishes")
    rec.add_argument("--json", action="store_true", help="print the response as JSON")

    pre = sub.add_parser("prefetch", help="warm a user's caches ahead of a request")
    client_flags(pre)
    return p


def main(argv: list[str] | None = None) -> None:
    args = parser().parse_args(argv)
    handler = {"demo": _demo, "up": _up, "recommend": _recommend, "prefetch": _prefetch}[args.command]
    try:
        sys.exit(asyncio.run(handler(args)))
    except aio.AioRpcError as exc:  # the orchestrator's own words: they name the bad field or the failing peer
        print(f"error: {exc.code().name}: {exc.details()}", file=sys.stderr)
        sys.exit(3 if exc.code() == grpc.StatusCode.UNAVAILABLE else 1)
    except MeshError as exc:
        print(f"error: {exc}", file=sys.stderr)
        sys.exit(2)
    except KeyboardInterrupt:
        sys.exit(130)

"""The whole mesh on loopback: the simulator, Redis, and the four services as real processes.

`make demo`, `segue up`, the integration tests and the benchmarks all start the mesh through
`running_mesh`, so there is one way to run it locally. The chaos tests also stop, restart, freeze
and empty its parts through `Mesh` (same ports, same settings), as an operator's bad day would.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import grpc
from grpc import aio
from grpc_health.v1 import health_pb2, health_pb2_grpc

from segue_cli.errors import MeshError
from services.common import service_names
from services.common.redis_client import connect
from sim.profile import Profile, ProfileError, load_profile

ROOT = Path(__file__).resolve().parent.parent
SERVICES = ("reccobeat_gateway", "llm_gateway", "seed_gatherer", "orchestrator")
GATEWAYS = ("reccobeat_gateway", "llm_gateway", "seed_gatherer")  # run as N replicas with --replicas N
PROTO_NAMES = service_names.BY_PACKAGE  # each service's full gRPC name, read from its proto
METRICS_ORDER = ("orchestrator", "llm_gateway", "seed_gatherer", "reccobeat_gateway")
SIM_API_KEY = "sim-local-api-key"  # the simulator accepts any key; real deployments set GEMINI_API_KEY

RedisMode = Literal["auto", "spawn", "none"]


@dataclass
class MeshOptions:
    profile: str = "realistic"
    time_scale: float = 1.0
    redis: RedisMode = "auto"  # auto: $REDIS_URL if reachable, else a spawned redis-server if installed, else none
    seed: int | None = None
    orchestrator_port: int = 0  # 0: any free port
    # N: /metrics on N.. N+3 (orchestrator, llm_gateway, seed_gatherer, reccobeat_gateway), the targets of
    # deploy/prometheus/local.yml; 0: any free ports
    metrics_port_base: int = 0
    log_dir: Path | None = None  # service logs (JSON lines); default: a temporary directory
    startup_timeout_s: float = 60.0
    # A spawned Redis is a cache: bounded, evicting the least recently used key when full (every key
    # segue writes can be rebuilt; the hot rate-limit and cooldown keys are the most recently used).
    redis_maxmemory: str = "128mb"
    # Extra settings for every service (e.g. CALLER_TOKENS, MESH_CREDENTIAL, TLS_*), and the credentials to
    # reach them when they serve TLS. Without them the mesh runs with auth off, and each service says so.
    service_env: Mapping[str, str] = field(default_factory=dict)
    channel_credentials: grpc.ChannelCredentials | None = None
    # Extra settings for one service (e.g. the bench's popular moods for the orchestrator), on top of the rest.
    one_service_env: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    # Processes of each gateway, sharing one Redis (the upstream budget) and reached round-robin by their
    # callers; the orchestrator runs once.
    replicas: int = 1


def replica_names(service: str, replicas: int) -> list[str]:
    """The processes of a service: its own name for the first, then `<name>-2`, `<name>-3`, ..."""
    count = replicas if service in GATEWAYS else 1
    return [service, *(f"{service}-{i}" for i in range(2, count + 1))]


def service_of(instance: str) -> str:
    """`llm_gateway-2` → `llm_gateway`."""
    base, _, number = instance.rpartition("-")
    return base if base in SERVICES and number.isdigit() else instance


def peer_target(addresses: list[str]) -> str:
    """What a caller dials: one host:port, or every replica's as one `ipv4:` target, which the channels'
    round_robin policy spreads calls over (services.common.channels)."""
    return addresses[0] if len(addresses) == 1 else "ipv4:" + ",".join(addresses)


@dataclass
class Mesh:
    sim_url: str
    base_urls: dict[str, str]
    addresses: dict[str, str]  # process name (a service, or a replica `<service>-N`) -> host:port
    metrics_ports: dict[str, int]  # process name -> its /metrics port
    redis_url: str
    redis_kind: str  # "external", "spawned" or "in-process"
    log_dir: Path
    processes: dict[str, subprocess.Popen[bytes]]
    service_envs: dict[str, dict[str, str]] = field(default_factory=dict)  # what each service was started with
    redis_maxmemory: str = ""
    startup_timeout_s: float = 60.0
    replicas: dict[str, list[str]] = field(default_factory=dict)  # service -> its process names

    def instances(self, service: str) -> list[str]:
        return self.replicas.get(service, [service])

    @property
    def orchestrator(self) -> str:
        return self.addresses["orchestrator"]

    async def first_exit(self, poll_s: float = 0.2) -> tuple[str, int]:
        """Wait until any process of the mesh exits; its name and exit code. Nothing here should ever exit."""
        while True:
            for name, proc in self.processes.items():
                code = proc.poll()
                if code is not None:
                    return name, code
            await asyncio.sleep(poll_s)

    def log_tail(self, name: str, chars: int = 2000) -> str:
        return _tail(self.log_dir / f"{name}.log", chars)

    async def stop_service(self, name: str, sig: signal.Signals = signal.SIGTERM) -> int | None:
        """SIGTERM (it drains) or SIGKILL one service and wait for it to exit; its port stays reserved for it."""
        proc = self.processes[name]
        if proc.poll() is None:
            proc.send_signal(sig)
        return await asyncio.get_running_loop().run_in_executor(None, stop_process, proc)

    async def start_service(self, name: str) -> None:
        """Start a stopped service again on its port with its settings; return once it reports SERVING."""
        if self.processes[name].poll() is None:
            raise MeshError(f"{name} is still running")
        port = int(self.addresses[name].rsplit(":", 1)[1])
        log_path = self.log_dir / f"{name}.log"
        self.processes[name] = spawn_service(service_of(name), port, self.service_envs[name], log_path)
        await wait_serving(name, self.addresses[name], self.processes[name], log_path, self.startup_timeout_s)

    async def restart_service(self, name: str, sig: signal.Signals = signal.SIGTERM) -> None:
        await self.stop_service(name, sig)
        await self.start_service(name)

    def _redis_process(self) -> subprocess.Popen[bytes]:
        if "redis" not in self.processes:
            raise MeshError(f"this mesh's Redis ({self.redis_kind}) is not ours to freeze or restart")
        return self.processes["redis"]

    def freeze_redis(self) -> None:
        """SIGSTOP: Redis still accepts connections (the kernel does) but answers nothing."""
        self._redis_process().send_signal(signal.SIGSTOP)

    def thaw_redis(self) -> None:
        self._redis_process().send_signal(signal.SIGCONT)

    async def kill_redis(self) -> None:
        """SIGKILL: every connection drops and the data is gone (it never persists)."""
        proc = self._redis_process()
        proc.kill()
        await asyncio.get_running_loop().run_in_executor(None, proc.wait)

    async def start_redis(self) -> None:
        """A new, empty redis-server on the same port."""
        if self._redis_process().poll() is None:
            raise MeshError("redis-server is still running")
        port = int(self.redis_url.rsplit(":", 1)[1].split("/", 1)[0])
        self.processes["redis"] = await start_redis_server(port, self.log_dir / "redis.log", self.redis_maxmemory)


def _ephemeral_low() -> int:
    """Where the kernel's range for outgoing connections' source ports begins (IANA's 49152 elsewhere)."""
    try:
        return int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return 49152


_PICKED: set[int] = set()


def free_port() -> int:
    """A free loopback port for a process started later, never one this process picked before.

    Not from the kernel's ephemeral range: between the pick and the service's bind, any outgoing connection
    (this process and the services open many, to Redis and the simulator) may take such a port as its source
    port, and the service would fail to start ("Failed to bind"). Ports just below that range are never given
    out that way.
    """
    high = _ephemeral_low()
    low = max(1024, high - 12_000)
    for _ in range(1000):
        port = secrets.randbelow(high - low) + low
        if port in _PICKED:
            continue
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue  # someone listens there
        _PICKED.add(port)
        return port
    raise MeshError(f"no free port between {low} and {high}")


def check_port_free(port: int, what: str) -> None:
    """Refuse a fixed port someone already listens on, before anything starts.

    Otherwise our service dies at bind while the health check, dialling the same address, is answered by
    whoever holds the port (another `segue up`), and we would report their server as ours. SO_REUSEADDR
    as gRPC sets it, so a port in TIME_WAIT from a mesh that just stopped still counts as free.
    """
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(("127.0.0.1", port))
        except OSError as exc:
            raise MeshError(
                f"port {port} ({what}) is already in use — is another `segue up` running? "
                "Stop it or choose another port with --port."
            ) from exc


def _python_env() -> dict[str, str]:
    env = dict(os.environ)
    gen = str(ROOT / "gen")
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), gen, env.get("PYTHONPATH", "")) if p)
    env["PYTHONUNBUFFERED"] = "1"
    return env


def _spawn(
    args: list[str], env: Mapping[str, str], log_path: Path, *, pipe_stdout: bool = False
) -> subprocess.Popen[bytes]:
    """Start a process in its own session (a terminal's Ctrl-C reaches only us; we stop it with SIGTERM)."""
    with open(log_path, "ab") as log:  # the child keeps its own descriptor
        return subprocess.Popen(
            args,
            cwd=ROOT,
            env=dict(env),
            stdout=subprocess.PIPE if pipe_stdout else log,
            stderr=log,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )


async def _redis_reachable(url: str) -> bool:
    client = connect(url)
    try:
        return bool(await client.ping())
    except Exception:
        return False
    finally:
        await client.aclose()


async def start_redis_server(port: int, log_path: Path, maxmemory: str = "128mb") -> subprocess.Popen[bytes]:
    """A private, never-persisting redis-server on 127.0.0.1:port, bounded in memory; returned once it answers."""
    binary = shutil.which("redis-server")
    if binary is None:
        raise MeshError("redis-server is not installed (apt-get install redis-server)")
    args = [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
    args += ["--daemonize", "no", "--maxmemory", maxmemory, "--maxmemory-policy", "allkeys-lru"]
    proc = _spawn(args, os.environ, log_path)
    url = f"redis://127.0.0.1:{port}/0"
    deadline = time.monotonic() + 10
    while not await _redis_reachable(url):
        if proc.poll() is not None or time.monotonic() > deadline:
            await asyncio.get_running_loop().run_in_executor(None, stop_process, proc)
            raise MeshError(f"redis-server did not start on port {port}:\n" + _tail(log_path))
        await asyncio.sleep(0.05)
    return proc


async def _start_redis(
    mode: RedisMode, log_path: Path, maxmemory: str = "128mb"
) -> tuple[str, str, subprocess.Popen[bytes] | None]:
    url = os.environ.get("REDIS_URL", "")
    if mode == "auto" and url and await _redis_reachable(url):
        return url, "external", None
    if mode == "none" or shutil.which("redis-server") is None:
        if mode == "spawn":
            raise MeshError("redis-server is not installed (apt-get install redis-server)")
        return "", "in-process", None
    port = free_port()
    proc = await start_redis_server(port, log_path, maxmemory)
    return f"redis://127.0.0.1:{port}/0", "spawned", proc


@dataclass(frozen=True)
class SimProcess:
    process: subprocess.Popen[bytes]
    url: str  # the control API's root: {url}/__sim/stats, /__sim/reset, /__sim/faults
    base_urls: dict[str, str]  # "spotify", "reccobeats", "gemini" → the base URL a client of that upstream uses


async def start_sim(
    profile: str, time_scale: float, seed: int | None, log_path: Path, timeout_s: float = 60.0
) -> SimProcess:
    """`python -m sim` on a free port, returned once it listens (its one stdout line says where)."""
    args = [sys.executable, "-m", "sim", "--profile", profile, "--port", "0", "--time-scale", str(time_scale)]
    if seed is not None:
        args += ["--seed", str(seed)]
    proc = _spawn(args, _python_env(), log_path, pipe_stdout=True)
    assert proc.stdout is not None
    loop = asyncio.get_running_loop()
    why = "exited before listening"
    try:
        line = await asyncio.wait_for(loop.run_in_executor(None, proc.stdout.readline), timeout_s)
    except TimeoutError:
        line, why = b"", f"did not listen within {timeout_s:.0f}s"
    if not line:
        await loop.run_in_executor(None, stop_process, proc)
        raise MeshError(f"the simulator {why}:\n" + _tail(log_path))
    info = json.loads(line)
    return SimProcess(proc, f"http://{info['host']}:{info['port']}", dict(info["base_urls"]))


def _profile(name: str) -> Profile:
    try:
        return load_profile(name)
    except ProfileError as exc:
        raise MeshError(str(exc)) from exc


# The gateways' shared budget sits a little below what the simulator enforces, as their defaults sit
# below the realistic profile: the same shares give exactly those defaults for `realistic` at ×1.
RATE_SHARE = 0.9
BURST_SHARE = 0.75


def upstream_limits_env(profile: Profile, time_scale: float) -> dict[str, dict[str, str]]:
    """Per service, the limit variables matching the simulator's profile, in real seconds at `time_scale`."""
    spotify, reccobeats, gemini = profile.spotify.rate_limit, profile.reccobeats.rate_limit, profile.gemini.rate_limit
    spotify_requests = max(2, int(spotify.max_requests * RATE_SHARE))
    spotify_env = {
        "SPOTIFY_LIMIT_REQUESTS": str(spotify_requests),
        "SPOTIFY_LIMIT_WINDOW_S": repr(spotify.window_s * time_scale),
        "SPOTIFY_LIMIT_BURST": str(max(1, min(4, spotify_requests // 2))),
    }
    rpm = max(2, int(gemini.rpm * RATE_SHARE / time_scale))  # a simulated minute lasts 60 × time_scale s
    tpm = max(2, int(gemini.tpm * RATE_SHARE / time_scale))
    return {
        "seed_gatherer": spotify_env,
        "reccobeat_gateway": {
            "RECCOBEAT_LIMIT_RATE_PER_S": repr(reccobeats.rate_per_s * RATE_SHARE / time_scale),
            "RECCOBEAT_LIMIT_BURST": str(max(1, int(reccobeats.burst * BURST_SHARE))),
        },
        "llm_gateway": {
            "GEMINI_LIMIT_RPM": str(rpm),
            "GEMINI_LIMIT_REQUEST_BURST": str(max(1, min(10, rpm // 2))),
            "GEMINI_LIMIT_TPM": str(tpm),
            "GEMINI_LIMIT_TOKEN_BURST": str(max(1, tpm // 20)),
        },
        "orchestrator": dict(spotify_env),  # the identity check's GET /me shares Spotify's budget
    }


def _tail(path: Path, chars: int = 3000) -> str:
    return path.read_text(errors="replace")[-chars:] if path.exists() else ""


def spawn_service(name: str, port: int, env: Mapping[str, str], log_path: Path) -> subprocess.Popen[bytes]:
    """Start `python -m services.<name>` on 127.0.0.1:port with `env` on top of this process's environment."""
    full = {**_python_env(), "GRPC_HOST": "127.0.0.1", "GRPC_PORT": str(port), **env}
    return _spawn([sys.executable, "-m", f"services.{name}"], full, log_path)


def open_channel(address: str, credentials: grpc.ChannelCredentials | None = None) -> aio.Channel:
    """A channel to one of the mesh's services: TLS when it serves TLS (`credentials`), else plaintext."""
    if credentials is not None:
        return aio.secure_channel(address, credentials)
    return aio.insecure_channel(address)


async def wait_serving(
    name: str,
    address: str,
    proc: subprocess.Popen[bytes],
    log_path: Path,
    timeout_s: float,
    credentials: grpc.ChannelCredentials | None = None,
) -> None:
    """Poll the standard health service until `name` reports SERVING; fail early if the process dies."""
    deadline = time.monotonic() + timeout_s
    async with open_channel(address, credentials) as channel:
        stub = health_pb2_grpc.HealthStub(channel)
        while True:
            if proc.poll() is not None:
                tail = _tail(log_path)
                raise MeshError(f"{name} exited with code {proc.returncode} during startup:\n{tail}")
            with contextlib.suppress(aio.AioRpcError):
                request = health_pb2.HealthCheckRequest(service=PROTO_NAMES[service_of(name)])
                reply = await stub.Check(request, timeout=1)
                if reply.status == health_pb2.HealthCheckResponse.SERVING:
                    return
            if time.monotonic() > deadline:
                raise MeshError(f"{name} did not report SERVING within {timeout_s:.0f}s")
            await asyncio.sleep(0.1)


def stop_process(proc: subprocess.Popen[bytes], timeout_s: float = 15.0) -> int | None:
    """SIGTERM, wait for a clean exit, SIGKILL if it hangs."""
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        proc.send_signal(signal.SIGCONT)  # a frozen (SIGSTOPped) process acts on the SIGTERM only once it runs
        try:
            proc.wait(timeout_s)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    return proc.returncode


@contextlib.asynccontextmanager
async def running_mesh(opts: MeshOptions | None = None) -> AsyncIterator[Mesh]:
    opts = opts or MeshOptions()
    log_dir = opts.log_dir or Path(tempfile.mkdtemp(prefix="segue-mesh-"))
    log_dir.mkdir(parents=True, exist_ok=True)
    processes: dict[str, subprocess.Popen[bytes]] = {}
    if opts.orchestrator_port:
        check_port_free(opts.orchestrator_port, "the orchestrator's gRPC port")
    fixed_metrics = {name: opts.metrics_port_base + i for i, name in enumerate(METRICS_ORDER)}
    if opts.metrics_port_base:
        for name, port in fixed_metrics.items():
            check_port_free(port, f"{name}'s metrics port")
    try:
        profile = _profile(opts.profile)
        limits = upstream_limits_env(profile, opts.time_scale)
        # One after the other, so a failure leaves nothing running that `finally` does not know of.
        redis_url, redis_kind, redis_proc = await _start_redis(opts.redis, log_dir / "redis.log", opts.redis_maxmemory)
        if redis_proc is not None:
            processes["redis"] = redis_proc
        sim = await start_sim(opts.profile, opts.time_scale, opts.seed, log_dir / "sim.log", opts.startup_timeout_s)
        processes["sim"] = sim.process
        base_urls = sim.base_urls
        replicas = {name: replica_names(name, opts.replicas) for name in SERVICES}
        instances = [(instance, name) for name in SERVICES for instance in replicas[name]]
        ports = {instance: free_port() for instance, _ in instances}
        if opts.orchestrator_port:
            ports["orchestrator"] = opts.orchestrator_port
        addresses = {instance: f"127.0.0.1:{port}" for instance, port in ports.items()}
        targets = {name: peer_target([addresses[i] for i in replicas[name]]) for name in SERVICES}
        metrics_ports = {
            instance: fixed_metrics[instance] if opts.metrics_port_base and instance in fixed_metrics else free_port()
            for instance, _ in instances
        }
        common = {
            "REDIS_URL": redis_url,
            "DRAIN_DELAY_S": "0",
            "SHUTDOWN_GRACE_S": "5",
            "LOG_LEVEL": "INFO",
            # One key for the mesh, so a token's user is learnt once, whichever service meets it first.
            "IDENTITY_KEY": secrets.token_hex(32),
            # Each replica's share of every upstream limit while Redis is unreachable.
            "SCHEDULER_REPLICAS": str(max(1, opts.replicas)),
        }
        per_service = {
            "reccobeat_gateway": {"RECCOBEAT_BASE_URL": base_urls["reccobeats"]},
            "llm_gateway": {"GEMINI_BASE_URL": base_urls["gemini"], "GEMINI_API_KEY": SIM_API_KEY},
            "seed_gatherer": {
                "SPOTIFY_BASE_URL": base_urls["spotify"],
                "SPOTIFY_EXTENDED_QUOTA": "true" if profile.spotify.extended_quota else "false",
                "RECCOBEAT_GATEWAY_ADDR": targets["reccobeat_gateway"],
            },
            "orchestrator": {
                "SPOTIFY_BASE_URL": base_urls["spotify"],
                "LLM_GATEWAY_ADDR": targets["llm_gateway"],
                "SEED_GATHERER_ADDR": targets["seed_gatherer"],
                "RECCOBEAT_GATEWAY_ADDR": targets["reccobeat_gateway"],
            },
        }
        envs = {
            instance: {
                **common,
                **limits[name],
                **per_service[name],
                "METRICS_PORT": str(metrics_ports[instance]),
                **opts.service_env,
                **opts.one_service_env.get(name, {}),
            }
            for instance, name in instances
        }
        for instance, name in instances:
            processes[instance] = spawn_service(name, ports[instance], envs[instance], log_dir / f"{instance}.log")
        await asyncio.gather(
            *(
                wait_serving(
                    instance,
                    addresses[instance],
                    processes[instance],
                    log_dir / f"{instance}.log",
                    opts.startup_timeout_s,
                    opts.channel_credentials,
                )
                for instance, _ in instances
            )
        )
        yield Mesh(
            sim_url=sim.url,
            base_urls=base_urls,
            addresses=addresses,
            metrics_ports=metrics_ports,
            redis_url=redis_url,
            redis_kind=redis_kind,
            log_dir=log_dir,
            processes=processes,
            service_envs=envs,
            redis_maxmemory=opts.redis_maxmemory,
            startup_timeout_s=opts.startup_timeout_s,
            replicas=replicas,
        )
    finally:
        # Services first (they drain), callers before their peers, then what they depend on.
        stopping = [i for i in reversed(processes) if i not in ("sim", "redis")]
        for name in (*stopping, "sim", "redis"):
            if name in processes:
                await asyncio.get_running_loop().run_in_executor(None, stop_process, processes[name])

"""The image's recipe, run for real: deploy/Dockerfile replayed step by step in a scratch root.

No container engine runs on these machines, so the test plays Docker's part for the instructions the
Dockerfile uses: the build context filtered by Dockerfile.dockerignore, COPY, WORKDIR, ENV, ARG and every
RUN of the build stages, with the image's absolute paths (/opt, /src, /app) moved under a scratch
directory. Then each runtime target's CMD starts from the installed venv alone, in an empty working
directory, as in the image: the services answer gRPC health checks and the simulator answers HTTP.
What it cannot check is the base image itself (python:3.11-slim; this machine's CPython 3.11 stands in).
The one liberty taken: pip may use its cache (the Dockerfile turns it off to keep layers small).
"""

from __future__ import annotations

import fnmatch
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc

from segue_cli.mesh import free_port
from tests.deploy.conftest import ROOT
from tests.deploy.dockerfile import DOCKERIGNORE, Stage, stages

IMAGE_DIRS = re.compile(r"(?<![\w./-])/(opt|src|app)(?=/|\b)")
START_BUDGET_S = 60.0


def ignore_patterns() -> list[str]:
    lines = (line.strip() for line in DOCKERIGNORE.read_text().splitlines())
    return [line for line in lines if line and not line.startswith("#")]


def in_context(rel: str, patterns: list[str]) -> bool:
    """Docker's rule: the last pattern matching the path or one of its parent directories decides."""
    parts = rel.split("/")
    prefixes = ["/".join(parts[: i + 1]) for i in range(len(parts))]
    keep = True
    for pattern in patterns:
        negated = pattern.startswith("!")
        glob = pattern.removeprefix("!").rstrip("/")
        if any(fnmatch.fnmatchcase(p, glob) for p in prefixes):
            keep = negated
    return keep


def build_context(into: Path) -> None:
    patterns = ignore_patterns()
    for path in ROOT.rglob("*"):
        rel = path.relative_to(ROOT).as_posix()
        if path.is_file() and in_context(rel, patterns):
            (into / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(path, into / rel)


class Replay:
    """One scratch root standing for the image's filesystem; stages run in order and share it."""

    def __init__(self, root: Path, context: Path) -> None:
        self.root = root
        self.context = context
        self.workdir = root
        self.env: dict[str, str] = {}
        self.args: dict[str, str] = {}
        shims = root / "shim-bin"  # `python` as the base image has it
        shims.mkdir(parents=True, exist_ok=True)
        (shims / "python").symlink_to(sys._base_executable)
        self.base_path = f"{shims}:/usr/bin:/bin"

    def path(self, text: str) -> str:
        return IMAGE_DIRS.sub(lambda m: f"{self.root}/{m.group(1)}", text)

    def expand(self, text: str) -> str:
        values = {**self.args, **self.env, "PATH": self.env.get("PATH", self.base_path)}
        return re.sub(r"\$\{?(\w+)\}?", lambda m: values.get(m.group(1), ""), text)

    def run_stage(self, stage: Stage) -> None:
        for instruction, arg in stage.instructions:
            if instruction == "WORKDIR":
                self.workdir = Path(self.path(arg))
                self.workdir.mkdir(parents=True, exist_ok=True)
            elif instruction == "ARG":
                name, _, default = arg.partition("=")
                self.args.setdefault(name, default)
            elif instruction == "ENV":
                for pair in shlex.split(arg):
                    name, _, value = pair.partition("=")
                    self.env[name] = self.expand(self.path(value))
            elif instruction == "COPY":
                self.copy(arg)
            elif instruction == "RUN":
                self.run(arg)

    def copy(self, arg: str) -> None:
        words = arg.split()
        if words[0].startswith("--from="):
            src, dest = words[1:]
            assert src == dest, "a stage's files land where the stage had them; the replay shares one root"
            assert Path(self.path(src)).exists(), f"{src} was never built"
            return
        *sources, dest = words
        target = self.workdir / dest if not dest.startswith("/") else Path(self.path(dest))
        for source in sources:
            origin = self.context / source
            assert origin.exists(), f"COPY {source}: not in the build context (Dockerfile.dockerignore)"
            if origin.is_dir():
                shutil.copytree(origin, target, dirs_exist_ok=True)
            elif dest.endswith("/"):
                target.mkdir(parents=True, exist_ok=True)
                shutil.copy2(origin, target / origin.name)
            else:
                shutil.copy2(origin, target)

    def run(self, command: str) -> None:
        command = self.path(command).replace(" --no-cache-dir", "")
        env = {**self.env, "PATH": self.env.get("PATH", self.base_path), "HOME": os.environ.get("HOME", "/root")}
        env.pop("PIP_NO_CACHE_DIR", None)
        result = subprocess.run(["sh", "-c", command], cwd=self.workdir, env=env, capture_output=True, text=True)
        assert result.returncode == 0, f"RUN {command}\n{result.stdout[-2000:]}\n{result.stderr[-2000:]}"

    def runtime_env(self, stages: list[Stage]) -> dict[str, str]:
        """The environment these stages set (their ENV and ARG; nothing runs), apart from the build's."""
        saved, self.env = self.env, {}
        try:
            for stage in stages:
                settings = [(i, arg) for i, arg in stage.instructions if i in ("ENV", "ARG")]
                self.run_stage(Stage(stage.name, stage.base, settings))
            return self.env
        finally:
            self.env = saved


def chain(target: str) -> list[Stage]:
    """The stages a target is built from, first to last (FROM <stage> continues that stage)."""
    by_name = {s.name: s for s in stages()}
    order = [by_name[target]]
    while order[-1].base in by_name:
        order.append(by_name[order[-1].base])
    return order[::-1]


def cmd_of(stage: Stage) -> list[str]:
    (cmd,) = stage.args("CMD")
    return [str(word) for word in json.loads(cmd)]


@pytest.fixture(scope="module")
def image(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Replay, dict[str, Stage]]]:
    scratch = tmp_path_factory.mktemp("image")
    context = scratch / "context"
    build_context(context)
    replay = Replay(scratch / "root", context)
    for stage in chain("build-sim"):  # build, then the simulator's extra on top: every RUN of the file
        replay.run_stage(stage)
    yield replay, {s.name: s for s in stages()}


def in_image(argv: list[str], env: dict[str, str]) -> list[str]:
    """The command as the image's PATH resolves it (its venv's python, not this one)."""
    found = shutil.which(argv[0], path=env["PATH"])
    assert found and "/opt/segue/bin/" in found, f"{argv[0]} resolves to {found}, not the image's venv"
    return [found, *argv[1:]]


def started(argv: list[str], env: dict[str, str], cwd: Path) -> subprocess.Popen[str]:
    return subprocess.Popen(argv, env=env, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def stop(process: subprocess.Popen[str]) -> str:
    process.terminate()
    try:
        out, _ = process.communicate(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()
        out, _ = process.communicate()
    return out[-3000:]


def runtime(replay: Replay, target: str) -> tuple[dict[str, str], Path]:
    """A runtime target's environment and working directory: what its own and the base stage set."""
    env = replay.runtime_env([s for s in chain(target) if s.name in ("base", target)])
    env.setdefault("PATH", replay.base_path)
    app = replay.root / "app"
    app.mkdir(exist_ok=True)
    assert not any(app.iterdir()), "the runtime's working directory holds no sources: the venv must suffice"
    return env, app


@pytest.mark.parametrize(
    "module", ["services.orchestrator", "services.llm_gateway", "services.seed_gatherer", "services.reccobeat_gateway"]
)
def test_each_service_starts_from_the_runtime_image_and_answers_health_checks(
    image: tuple[Replay, dict[str, Stage]], module: str
) -> None:
    replay, by_name = image
    env, app = runtime(replay, "runtime")
    argv = cmd_of(by_name["runtime"])
    assert argv == ["python", "-m", "services.orchestrator"], "the default command is the orchestrator"
    argv[-1] = module  # the service to run is the command
    port = free_port()
    # What a cluster's ConfigMaps and Secret give; peers need not run (channels connect on first use).
    peers = {f"{peer}_ADDR": "127.0.0.1:9" for peer in ("LLM_GATEWAY", "SEED_GATHERER", "RECCOBEAT_GATEWAY")}
    env |= {"GRPC_PORT": str(port), "METRICS_PORT": "0", "GEMINI_API_KEY": "not-a-real-key", **peers}
    process = started(in_image(argv, env), env, app)
    try:
        status = None
        deadline = time.monotonic() + START_BUDGET_S
        with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
            health = health_pb2_grpc.HealthStub(channel)
            while status is None and time.monotonic() < deadline and process.poll() is None:
                try:
                    status = health.Check(health_pb2.HealthCheckRequest(), timeout=2).status
                except grpc.RpcError:
                    time.sleep(0.3)
        assert status == health_pb2.HealthCheckResponse.SERVING, stop(process)
    finally:
        stop(process)


def test_the_segue_command_runs_from_the_runtime_image(image: tuple[Replay, dict[str, Stage]]) -> None:
    replay, _ = image
    env, app = runtime(replay, "runtime")
    result = subprocess.run(in_image(["segue", "--version"], env), env=env, cwd=app, capture_output=True, text=True)
    assert result.returncode == 0 and result.stdout.startswith("segue "), result.stdout + result.stderr


def test_the_sim_target_serves_the_simulated_apis(image: tuple[Replay, dict[str, Stage]]) -> None:
    replay, by_name = image
    env, app = runtime(replay, "sim")
    argv = cmd_of(by_name["sim"])
    port = free_port()
    argv[argv.index("--port") + 1] = str(port)
    argv[argv.index("--host") + 1] = "127.0.0.1"
    process = started(in_image(argv, env), env, app)
    try:
        answer: int | None = None
        deadline = time.monotonic() + START_BUDGET_S
        while answer is None and time.monotonic() < deadline and process.poll() is None:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/__sim/health", timeout=2) as response:
                    answer = response.status
            except urllib.error.HTTPError as exc:
                answer = exc.code
            except OSError:
                time.sleep(0.3)
        assert answer == 200, stop(process)
    finally:
        stop(process)

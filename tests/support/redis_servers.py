"""Private redis-server processes for tests, on free loopback ports: one node, or a 3-node Redis Cluster.

Never the shared Redis on 6379. Both expose `url` (what REDIS_URL would be) and `flush()`; a single
node can also `stop()` and `start()` again on the same port (Redis going away and coming back).
`redis-server` and `redis-cli` come from Debian's redis-server and redis-tools packages.
"""

from __future__ import annotations

import shutil
import subprocess
import time
from pathlib import Path

import redis

from segue_cli.mesh import free_port

START_TIMEOUT_S = 30.0


def _binary(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        raise RuntimeError(f"{name} is not installed (apt-get install redis-server redis-tools)")
    return path


class RedisNode:
    """One redis-server process; `extra` are more command-line options (e.g. cluster mode)."""

    def __init__(self, directory: Path, extra: tuple[str, ...] = ()) -> None:
        self.port = free_port()
        self.directory = directory
        self.extra = extra
        self.process: subprocess.Popen[bytes] | None = None
        directory.mkdir(parents=True, exist_ok=True)

    def start(self) -> None:
        args = [_binary("redis-server"), "--port", str(self.port), "--bind", "127.0.0.1", "--save", ""]
        args += ["--appendonly", "no", "--daemonize", "no", "--dir", str(self.directory), *self.extra]
        with open(self.directory / "redis.log", "ab") as log:
            self.process = subprocess.Popen(args, stdout=log, stderr=log, stdin=subprocess.DEVNULL)
        deadline = time.monotonic() + START_TIMEOUT_S
        while not self.answers():
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                log_text = (self.directory / "redis.log").read_text(errors="replace")[-2000:]
                raise RuntimeError(f"redis-server did not start on port {self.port}:\n{log_text}")
            time.sleep(0.05)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None

    def client(self) -> redis.Redis:
        return redis.Redis(host="127.0.0.1", port=self.port, socket_timeout=2, socket_connect_timeout=2)

    def answers(self) -> bool:
        try:
            with self.client() as c:
                return bool(c.ping())
        except redis.RedisError:
            return False


class RedisServer(RedisNode):
    """A single Redis, as REDIS_URL=redis://127.0.0.1:<port>/0."""

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def flush(self) -> None:
        with self.client() as c:
            c.flushall()


class RedisClusterNodes:
    """Three masters (no replicas) sharing the 16384 slots, as REDIS_URL=redis+cluster://127.0.0.1:<port>."""

    def __init__(self, directory: Path, size: int = 3) -> None:
        self.nodes: list[RedisNode] = []
        for i in range(size):
            node_dir = directory / f"node{i}"
            # The cluster bus gets its own free port (the default, port + 10000, may be taken).
            options = ("--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf")
            options += ("--cluster-node-timeout", "5000", "--cluster-port", str(free_port()))
            self.nodes.append(RedisNode(node_dir, options))

    @property
    def url(self) -> str:
        return f"redis+cluster://127.0.0.1:{self.nodes[0].port}"

    def start(self) -> None:
        for node in self.nodes:
            node.start()
        addresses = [f"127.0.0.1:{node.port}" for node in self.nodes]
        create = [_binary("redis-cli"), "--cluster", "create", *addresses, "--cluster-replicas", "0", "--cluster-yes"]
        done = subprocess.run(create, capture_output=True, timeout=60, check=False, stdin=subprocess.DEVNULL)
        if done.returncode != 0:
            self.stop()
            raise RuntimeError(f"redis-cli --cluster create failed: {done.stdout[-2000:]!r} {done.stderr[-2000:]!r}")
        deadline = time.monotonic() + START_TIMEOUT_S
        while not all(self._node_ready(node) for node in self.nodes):
            if time.monotonic() > deadline:
                self.stop()
                raise RuntimeError("the Redis Cluster did not reach cluster_state:ok")
            time.sleep(0.1)

    @staticmethod
    def _node_ready(node: RedisNode) -> bool:
        with node.client() as c:
            info = c.execute_command("CLUSTER", "INFO")
        text = info.decode() if isinstance(info, bytes) else str(info)
        return "cluster_state:ok" in text and "cluster_slots_assigned:16384" in text

    def flush(self) -> None:
        for node in self.nodes:
            with node.client() as c:
                c.flushall()

    def stop(self) -> None:
        for node in self.nodes:
            node.stop()

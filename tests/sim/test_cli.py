"""`python -m sim` as a subprocess: the listening line, the port file, a clean exit on SIGTERM."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[2]


def test_cli_reports_the_port_serves_and_exits_cleanly() -> None:
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "sim",
            "--profile",
            "fast",
            "--port",
            "0",
            "--time-scale",
            "0.5",
        ],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        line = json.loads(proc.stdout.readline())
        assert line["event"] == "listening" and line["host"] == "127.0.0.1"
        port = line["port"]
        assert port > 0
        assert line["base_urls"] == {
            "spotify": f"http://127.0.0.1:{port}/spotify/v1",
            "reccobeats": f"http://127.0.0.1:{port}/reccobeats/v1",
            "gemini": f"http://127.0.0.1:{port}/gemini",
        }
        health = httpx.get(f"http://127.0.0.1:{port}/__sim/health", timeout=10).json()
        assert health["profile"] == "fast" and health["time_scale"] == 0.5
        me = httpx.get(line["base_urls"]["spotify"] + "/me", headers={"Authorization": "Bearer user-3-cli"}, timeout=10)
        assert me.json()["id"] == "simuser3"
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=15)
        assert proc.returncode == 0
        assert out == "" and err == ""  # nothing logged per request
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()


def test_cli_rejects_an_unknown_profile() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "sim", "--profile", "no-such-profile", "--port", "0"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert "no-such-profile" in result.stderr

"""The `segue` command against the running mesh, as a user would type it."""

from __future__ import annotations

import asyncio
import importlib.metadata
import json
import os
import pty
import re
import signal
import sys
from pathlib import Path

import pytest

from segue_cli.main import DEMO_PROMPT
from segue_cli.mesh import ROOT, Mesh, free_port

pytestmark = [pytest.mark.integration, pytest.mark.asyncio(loop_scope="session")]


WAIT_S = 120  # a bound for a hung command on a loaded machine, not a speed target


async def segue(*args: str) -> tuple[int, str, str]:
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "segue_cli",
        *args,
        cwd=ROOT,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        out, err = await asyncio.wait_for(proc.communicate(), WAIT_S)
    except TimeoutError:
        proc.kill()
        raise
    return int(proc.returncode or 0), out.decode(), err.decode()


async def segue_on_a_terminal(*args: str) -> tuple[int, str]:
    """The command with its stdout on a pseudo-terminal, as when a user types it; returns what the terminal got."""
    terminal, its_end = pty.openpty()
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "segue_cli", *args, cwd=ROOT, stdout=its_end, stderr=asyncio.subprocess.DEVNULL
    )
    os.close(its_end)

    def read_all() -> bytes:
        chunks = []
        while True:
            try:
                chunk = os.read(terminal, 65536)
            except OSError:  # EIO: the command exited and closed its end
                break
            if not chunk:
                break
            chunks.append(chunk)
        return b"".join(chunks)

    try:
        shown = await asyncio.wait_for(asyncio.to_thread(read_all), WAIT_S)
        await asyncio.wait_for(proc.wait(), WAIT_S)
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
        os.close(terminal)
    return int(proc.returncode or 0), shown.decode()


def phases(lines: list[str]) -> list[str]:
    return [line.split("] ", 1)[1].split(":")[0] for line in lines if line.startswith("[")]


async def test_on_a_terminal_recommend_shows_progress_then_the_playlist_and_the_mood_once(mesh: Mesh) -> None:
    code, shown = await segue_on_a_terminal(
        "recommend", "sunset drive, warm synths", "--user", "simuser51", "--size", "4",
        "--addr", mesh.orchestrator, "--token", "user-51-cli",
    )  # fmt: skip
    assert code == 0
    lines = shown.splitlines()
    assert phases(lines) == ["mood analyzed", "seeds gathered", "candidates found", "ranked"]
    mood_line = next(line for line in lines if line.startswith("[") and "mood analyzed" in line)
    interpretation = mood_line.split("mood analyzed: ", 1)[1].rsplit(" (from ", 1)[0]
    assert interpretation and shown.count(interpretation) == 1
    assert sum(line.strip().startswith("targets:") for line in lines) == 1
    header = next(i for i, line in enumerate(lines) if line.split()[:2] == ["#", "title"])
    rows = [line for line in lines[header + 2 :] if line.strip()[:1].isdigit()]
    assert [row.split()[0] for row in rows] == ["1", "2", "3", "4"]
    assert any(line.startswith("timings:") for line in lines)


async def test_piped_recommend_prints_the_answer_only_unless_stream(mesh: Mesh) -> None:
    ask = ("recommend", DEMO_PROMPT, "--user", "simuser7", "--size", "3", "--addr", mesh.orchestrator)
    code, out, _ = await segue(*ask)
    assert code == 0
    lines = out.splitlines()
    assert phases(lines) == [] and lines[0].startswith("mood: ")
    targets = [line for line in lines if line.startswith("targets: ")]
    assert len(targets) == 1
    shown = dict(part.split(" ", 1) for part in targets[0].removeprefix("targets: ").split(", "))
    assert re.fullmatch(r"\d+–\d+ BPM", shown.pop("tempo"))  # a slow-jazz mood sets a tempo
    if "loudness" in shown:
        assert re.fullmatch(r"−\d+ to −?\d+ dB", shown.pop("loudness"))
    assert shown and all(re.fullmatch(r"[01]\.\d\d–[01]\.\d\d", span) for span in shown.values())

    code, out, _ = await segue(*ask, "--stream")
    assert code == 0
    assert phases(out.splitlines()) == ["mood analyzed", "seeds gathered", "candidates found", "ranked"]


async def test_an_unknown_session_says_a_new_session_began_and_then_continues_it(mesh: Mesh) -> None:
    ask = ("recommend", "quiet rain", "--user", "simuser52", "--size", "3", "--addr", mesh.orchestrator)
    code, out, _ = await segue(*ask, "--token", "user-52-cli", "--session", "no-such-session")
    assert code == 0
    assert "session no-such-session was not found (expired, or never made): started a new session" in out
    code, out, _ = await segue(*ask, "--token", "user-52-cli", "--session", "no-such-session", "--json")
    assert code == 0
    response = json.loads(out)
    assert (response["sessionId"], response["sessionStarted"]) == ("no-such-session", False)


async def test_recommend_json_prints_every_field_and_stream_prints_json_lines(mesh: Mesh) -> None:
    ask = ("recommend", "quiet rain", "--user", "simuser51", "--size", "3", "--addr", mesh.orchestrator)
    code, out, _ = await segue(*ask, "--token", "user-51-cli", "--json")
    assert code == 0
    response = json.loads(out)
    assert len(response["tracks"]) == 3
    assert {"warnings", "timings", "cache", "llm", "sessionId", "requestId", "mood"} <= set(response)
    assert {"calls", "promptTokens", "outputTokens", "cacheHits"} <= set(response["llm"])  # zero or not

    code, out, _ = await segue(*ask, "--token", "user-51-cli", "--json", "--stream")
    assert code == 0
    events = [json.loads(line) for line in out.splitlines()]
    assert [next(iter(e)) for e in events] == ["progress"] * 4 + ["result"]
    assert [e["progress"]["phase"] for e in events[:4]] == [
        "PHASE_MOOD_ANALYZED",
        "PHASE_SEEDS_GATHERED",
        "PHASE_CANDIDATES_FOUND",
        "PHASE_RANKED",
    ]
    assert events[0]["progress"]["count"] == 0  # a zero value, printed
    assert len(events[-1]["result"]["tracks"]) == 3


async def test_recommend_errors_as_text_and_as_json(mesh: Mesh) -> None:
    ask = ("recommend", "quiet rain", "--user", "simuser51", "--size", "500", "--addr", mesh.orchestrator)
    code, _, err = await segue(*ask)
    assert code == 1
    assert "INVALID_ARGUMENT" in err and "size must be between 1 and 100" in err

    code, out, err = await segue(*ask, "--json")
    assert code == 1 and err == ""
    error = json.loads(out)["error"]
    assert error["code"] == "INVALID_ARGUMENT" and "size must be between 1 and 100" in error["message"]


async def test_an_unreachable_orchestrator_fails_at_once_saying_what_to_do() -> None:
    addr = f"127.0.0.1:{free_port()}"
    code, out, err = await segue("recommend", "quiet rain", "--user", "simuser51", "--addr", addr)
    assert code == 3 and out == ""
    assert err.startswith(f"error: nothing listens at {addr} — start `segue up` or pass --addr\n")


async def test_an_invalid_addr_is_a_usage_error_before_any_call() -> None:
    code, out, err = await segue("recommend", "quiet rain", "--user", "simuser51", "--addr", "localhost")
    assert code == 2 and out == ""
    assert "usage: segue recommend" in err and "argument --addr: 'localhost' is not host:port" in err


async def test_version() -> None:
    code, out, _ = await segue("--version")
    assert code == 0 and out.strip() == f"segue {importlib.metadata.version('segue')}"


async def test_demo_starts_the_mesh_shows_a_playlist_and_stops(tmp_path: Path) -> None:
    """`make demo`'s command end to end (the fast profile, its own Redis-less cache): a full playlist shown."""
    code, out, err = await segue("demo", "--profile", "fast", "--redis", "none", "--log-dir", str(tmp_path))
    assert code == 0, out[-2000:] + err[-2000:]
    entries = [line for line in out.splitlines() if re.match(r" ?\d+  \S", line)]
    assert len(entries) == 15, out
    assert "shutting down" in out and "Traceback" not in out + err


def children(pid: int) -> dict[int, str]:
    """The direct child processes of `pid` and their command lines, from /proc."""
    found = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
            if int(fields[1]) == pid:
                found[int(stat.parent.name)] = (stat.parent / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except (OSError, IndexError, ValueError):
            continue  # the process ended while we looked
    return found


def alive(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


async def test_segue_up_refuses_a_taken_port_and_stops_when_a_child_dies(tmp_path: Path) -> None:
    port = free_port()
    up = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "segue_cli", "up", "--port", str(port), "--profile", "fast", "--redis", "none",
        "--log-dir", str(tmp_path / "first"),
        cwd=ROOT, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    try:
        assert up.stdout is not None and up.stderr is not None
        while b"orchestrator listening" not in (line := await asyncio.wait_for(up.stdout.readline(), 120)):
            assert line, "segue up exited before the mesh was up: " + (await up.stderr.read()).decode()

        # A second mesh on the same port is refused before it starts anything, naming the port.
        code, _, err = await segue("up", "--port", str(port), "--profile", "fast", "--redis", "none")
        assert code == 4
        assert f"port {port}" in err and "already in use" in err

        # Killing one of the first mesh's services stops the whole mesh, saying which one died.
        kids = children(up.pid)
        victim = next(pid for pid, cmd in kids.items() if "services.reccobeat_gateway" in cmd)
        os.kill(victim, signal.SIGKILL)
        _, err_bytes = await asyncio.wait_for(up.communicate(), 120)
        assert up.returncode == 4
        assert "reccobeat_gateway exited" in err_bytes.decode()
        assert not [pid for pid in kids if alive(pid)], "segue up left processes running"
    finally:
        if up.returncode is None:
            up.send_signal(signal.SIGTERM)
            await up.wait()


async def test_probe_passes_a_good_answer_and_fails_a_slow_one_visibly(mesh: Mesh) -> None:
    code, out, _ = await segue("probe", "--addr", mesh.orchestrator, "--token", "user-52-probe", "--size", "5")
    verdict = json.loads(out)
    assert code == 0 and verdict["ok"] and verdict["tracks"] == 5 and verdict["problems"] == []

    code, out, _ = await segue(
        "probe", "--addr", mesh.orchestrator, "--token", "user-53-probe", "--prompt", "an unheard mood, cold cache",
        "--max-seconds", "0.001",
    )  # fmt: skip
    verdict = json.loads(out)
    assert code == 1 and not verdict["ok"]
    assert verdict["problems"][0].startswith("slow")

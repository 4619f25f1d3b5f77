"""The `segue` command against the running mesh, as a user would type it."""

from __future__ import annotations

import asyncio
import json
import sys

import pytest

from segue_cli.mesh import ROOT, Mesh, free_port

pytestmark = [pytest.mark.integration, pytest.mark.asyncio(loop_scope="session")]


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
        out, err = await asyncio.wait_for(proc.communicate(), 60)
    except TimeoutError:
        proc.kill()
        raise
    return int(proc.returncode or 0), out.decode(), err.decode()


async def test_recommend_streams_progress_then_prints_the_playlist_table(mesh: Mesh) -> None:
    code, out, _ = await segue(
        "recommend", "sunset drive, warm synths", "--user", "cli-user", "--size", "4", "--stream",
        "--addr", mesh.orchestrator, "--token", "user-51-cli",
    )  # fmt: skip
    assert code == 0
    lines = out.splitlines()
    progress = [line for line in lines if line.startswith("[")]
    assert [p.split("] ", 1)[1].split(":")[0] for p in progress] == [
        "mood analyzed",
        "seeds gathered",
        "candidates found",
        "ranked",
    ]
    header = next(i for i, line in enumerate(lines) if line.split()[:2] == ["#", "title"])
    rows = [line for line in lines[header + 2 :] if line.strip()[:1].isdigit()]
    assert [row.split()[0] for row in rows] == ["1", "2", "3", "4"]
    assert any(line.startswith("timings:") for line in lines)


async def test_recommend_json_and_a_clear_error(mesh: Mesh) -> None:
    code, out, _ = await segue(
        "recommend", "quiet rain", "--user", "cli-user", "--size", "3", "--json",
        "--addr", mesh.orchestrator, "--token", "user-51-cli",
    )  # fmt: skip
    assert code == 0
    assert len(json.loads(out)["tracks"]) == 3

    code, _, err = await segue(
        "recommend", "quiet rain", "--user", "cli-user", "--size", "500", "--addr", mesh.orchestrator
    )
    assert code == 1
    assert "INVALID_ARGUMENT" in err and "size must be between 1 and 100" in err


async def test_an_unreachable_orchestrator_fails_at_once_with_exit_code_3() -> None:
    code, _, err = await segue("recommend", "quiet rain", "--user", "cli-user", "--addr", f"127.0.0.1:{free_port()}")
    assert code == 3
    assert "UNAVAILABLE" in err

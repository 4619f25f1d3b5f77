"""A soak: a few hundred requests with Redis held to a small memory limit, process sizes taken twice.

The sizes are taken after a warm-up (caches, pools and imports settle) and again after the soak; a bounded
process levels off. Redis gets a small limit for the soak so its LRU eviction is exercised, not assumed.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import redis.asyncio as aioredis

from segue_cli.mesh import Mesh
from tests.chaos.traffic import Result, Traffic

WARMUP = 120
SOAK = 300
SOAK_MAXMEMORY = 4 * 1024 * 1024
PATIENCE_S = 600.0


def rss_kb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise AssertionError(f"no VmRSS for {pid}")


def sizes(mesh: Mesh) -> dict[str, int]:
    """Resident size (kB) of every process of the mesh."""
    return {name: rss_kb(proc.pid) for name, proc in mesh.processes.items() if proc.poll() is None}


@dataclass(frozen=True)
class SoakFigures:
    before_kb: dict[str, int]
    after_kb: dict[str, int]
    redis_memory: dict[str, Any]  # INFO memory at the end
    evicted_keys: int
    results: list[Result]


async def soak(mesh: Mesh, warmup: int = WARMUP, requests: int = SOAK) -> SoakFigures:
    client = aioredis.from_url(mesh.redis_url)
    original = (await client.config_get("maxmemory"))["maxmemory"]
    await client.config_set("maxmemory", SOAK_MAXMEMORY)
    try:
        async with Traffic(mesh.orchestrator, concurrency=6, fresh_every=3, tag="soak") as traffic:
            await traffic.wait_for(warmup, within_s=PATIENCE_S)
            before = sizes(mesh)
            await traffic.wait_for(requests, within_s=PATIENCE_S)
            after = sizes(mesh)
        memory = await client.info("memory")
        stats = await client.info("stats")
    finally:
        await client.config_set("maxmemory", original)
        await client.aclose()
    return SoakFigures(before, after, memory, int(stats["evicted_keys"]), list(traffic.results))


def report(figures: SoakFigures) -> str:
    kinds = {k: sum(r.kind == k for r in figures.results) for k in ("ok", "degraded", "failed")}
    lines = [f"soak: {len(figures.results)} requests, {kinds}", "| process | RSS after warm-up | RSS after soak |"]
    lines.append("|---|---|---|")
    for name, kb in figures.after_kb.items():
        lines.append(f"| {name} | {figures.before_kb[name] / 1024:.1f} MiB | {kb / 1024:.1f} MiB |")
    m = figures.redis_memory
    lines.append(
        f"redis: used_memory {m['used_memory_human']} (peak {m['used_memory_peak_human']}) of maxmemory "
        f"{SOAK_MAXMEMORY // 1024 // 1024} MiB ({m['maxmemory_policy']}), {figures.evicted_keys} keys evicted"
    )
    return "\n".join(lines)

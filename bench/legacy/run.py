"""One legacy run: a fresh monolith (its tools, limiters and caches) serving one request."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import httpx

from bench.legacy.clock import ScaledClock
from bench.legacy.flow import Outcome, run_workflow
from bench.legacy.ledger import Ledger
from bench.legacy.tools import RunContext

# BaseAPITool's pool (§2.1); HTTP/2 is left out: the simulator speaks HTTP/1.1 and on loopback it makes no difference.
POOL = httpx.Limits(max_keepalive_connections=50, max_connections=200, keepalive_expiry=30.0)


@dataclass
class LegacyResult:
    outcome: Outcome
    ledger: Ledger


async def run_legacy(
    base_urls: Mapping[str, str], time_scale: float, prompt: str, token: str, minute_offset_s: float = 0.0
) -> LegacyResult:
    """`base_urls`: the simulator's {"spotify", "reccobeats", "gemini"} URLs; `minute_offset_s`: where in a
    simulated minute the run starts (the per-minute limiter counts from the minute's start)."""
    ledger = Ledger()
    async with httpx.AsyncClient(limits=POOL) as http:
        run = RunContext(http, base_urls, ScaledClock(time_scale, start_s=minute_offset_s), ledger)
        outcome = await run_workflow(run, prompt, token)
    return LegacyResult(outcome, ledger)

"""Cold `GET /track/recommendation` latency through UpstreamClient against the realistic simulator,
hedging off then on, one call at a time under the simulator's 3/s limit. Figures are in simulated
seconds (wall ÷ the time scale), so the client's own overhead is magnified by 1 / SCALE.

    .venv/bin/python scripts/measure_hedging.py [calls]     # default 400
"""

from __future__ import annotations

import asyncio
import statistics
import sys
import time

from prometheus_client import CollectorRegistry

from services.common.metrics import UpstreamMetrics
from services.common.upstream_http import HedgePolicy, UpstreamClient
from sim.testing import running_sim

SCALE = 0.1
ENDPOINT = "GET /track/recommendation"


async def run(hedge: bool, n: int) -> None:
    async with running_sim("realistic", time_scale=SCALE, seed=7) as sim:
        registry = CollectorRegistry()
        client = UpstreamClient(
            "reccobeats",
            sim.reccobeats_url,
            timeout_s=4.5 * SCALE,  # the gateway's default for this endpoint, scaled
            metrics=UpstreamMetrics.create(registry),
            hedge=HedgePolicy(enabled=hedge, min_delay_s=0.25 * SCALE, default_delay_s=1.0 * SCALE),
        )
        seeds = [t.spotify_id for t in sim.catalog.tracks if t.has_audio_features]
        latencies: list[float] = []
        failed = 0
        for i in range(n):
            t0 = time.perf_counter()
            try:
                await client.get_json(ENDPOINT, "track/recommendation", params=[("size", "20"), ("seeds", seeds[i])])
            except Exception:
                failed += 1
            latencies.append((time.perf_counter() - t0) / SCALE)
            await asyncio.sleep(0.4 * SCALE)  # under the 3/s limit
        latencies.sort()

        def hedges(result: str) -> int:
            labels = {"upstream": "reccobeats", "endpoint": ENDPOINT, "result": result}
            return int(registry.get_sample_value("segue_upstream_hedges_total", labels) or 0)

        print(
            f"hedging {'on ' if hedge else 'off'}: {n} calls, p50 {statistics.median(latencies):.2f} s, "
            f"p95 {latencies[int(0.95 * n)]:.2f} s, p99 {latencies[int(0.99 * n)]:.2f} s, max {latencies[-1]:.2f} s; "
            f"upstream requests {sim.stats()['upstreams']['reccobeats']['calls']}, hedges sent {hedges('sent')}, "
            f"won {hedges('won')}, failed {failed}"
        )
        await client.aclose()


async def main(n: int) -> None:
    await run(False, n)
    await run(True, n)


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1]) if len(sys.argv) > 1 else 400))

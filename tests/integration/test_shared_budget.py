"""Two real reccobeat_gateway processes sharing one private Redis, offered 1.5× what the simulator allows.

Counts come from the simulator's /__sim/stats and the gateways' /metrics. Phases:
1. The test itself spends the simulator's ReccoBeats bucket and trips its block, so the gateways'
   first calls meet a 429: the cooldown one of them records in Redis must hold both, and after it
   the simulator refuses nothing more (any call sent during its block would be refused again).
2. Redis stops: each gateway paces with its local share (SCHEDULER_REPLICAS=2), and together they
   still stay under the simulator's limit.
3. Redis comes back: both return to the shared budget, still without a 429.
Overload beyond the budget is refused early (RESOURCE_EXHAUSTED), never sent.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest
from grpc import aio
from redis.exceptions import RedisError
from segue.v1 import reccobeat_gateway_pb2 as pb
from segue.v1 import reccobeat_gateway_pb2_grpc

from bench.simctl import after_first_cooldown
from segue_cli.mesh import (
    SimProcess,
    free_port,
    spawn_service,
    start_sim,
    stop_process,
    upstream_limits_env,
    wait_serving,
)
from services.common import stubs
from services.common.redis_client import connect
from services.common.scheduler import keys
from sim.profile import load_profile
from tests.integration.probes import eventually, scraped
from tests.support.redis_servers import RedisServer

pytestmark = [pytest.mark.integration, pytest.mark.asyncio(loop_scope="session")]

PROFILE = Path(__file__).parent / "profiles" / "shared_budget.toml"
TIME_SCALE = 0.25  # the simulator's 3/s bucket of 8 allows 12 calls a real second; its block lasts 2 s
SIM_RATE = 3.0 / TIME_SCALE
OFFERED_PER_S = 1.5 * SIM_RATE
RPC_DEADLINE_S = 2.0
UPSTREAM = "reccobeats"


@dataclass
class Gateway:
    channel: aio.Channel
    metrics_port: int

    @property
    def stub(self) -> reccobeat_gateway_pb2_grpc.ReccoBeatGatewayAsyncStub:
        return stubs.reccobeat_gateway(self.channel)

    async def metric(self, name: str, **labels: str) -> float:
        return await scraped(self.metrics_port, name, **labels)

    async def upstream_calls(self) -> float:
        return await self.metric("segue_upstream_requests_total", upstream=UPSTREAM)


@dataclass
class Load:
    """SearchArtists with a new query each time (one upstream call each), alternating between gateways."""

    gateways: list[Gateway]
    codes: Counter[str] = field(default_factory=Counter)
    offered: float = 0.0  # calls per second so far
    _tasks: set[asyncio.Task[None]] = field(default_factory=set)

    async def run(self) -> None:
        # By the clock, not by sleeps: a loaded machine that wakes late sends the calls it owes at once.
        started, sent = time.monotonic(), 0
        while True:
            due = int((time.monotonic() - started) * OFFERED_PER_S) + 1
            for n in range(sent, due):
                task = asyncio.create_task(self._one(self.gateways[n % len(self.gateways)], n))
                self._tasks.add(task)
                task.add_done_callback(self._tasks.discard)
            sent = due
            self.offered = sent / max(1e-9, time.monotonic() - started)
            await asyncio.sleep(1 / OFFERED_PER_S)

    async def _one(self, gateway: Gateway, n: int) -> None:
        request = pb.SearchArtistsRequest(query=f"load query {n}", size=3)
        try:
            await gateway.stub.SearchArtists(request, timeout=RPC_DEADLINE_S)
            self.codes["OK"] += 1
        except aio.AioRpcError as exc:
            self.codes[exc.code().name] += 1

    async def drain(self) -> None:
        await asyncio.gather(*self._tasks, return_exceptions=True)


@dataclass
class Sample:
    at: float  # monotonic
    calls: int  # ReccoBeats calls the simulator received
    rate_limited: int  # of which answered 429
    cooldown_s: float  # left of the shared cooldown in Redis (0: none, or Redis down)


@dataclass
class Watch:
    """Polls the simulator's ReccoBeats counters and the shared cooldown in Redis, side by side."""

    sim: SimProcess
    redis_url: str
    samples: list[Sample] = field(default_factory=list)

    async def stats(self) -> dict[str, int]:
        async with httpx.AsyncClient(timeout=10) as http:
            upstream = (await http.get(f"{self.sim.url}/__sim/stats")).json()["upstreams"][UPSTREAM]
        return {"calls": int(upstream["calls"]), "rate_limited": int(upstream["rate_limited"])}

    async def run(self) -> None:
        redis = connect(self.redis_url)
        try:
            while True:
                try:
                    cooldown_ms = max(0, int(await redis.pttl(keys(UPSTREAM)[0])))
                except RedisError:
                    cooldown_ms = 0
                stats = await self.stats()
                self.samples.append(Sample(time.monotonic(), stats["calls"], stats["rate_limited"], cooldown_ms / 1000))
                await asyncio.sleep(0.05)
        finally:
            await redis.aclose()

    def rate_limited(self) -> int:
        return self.samples[-1].rate_limited

    def after_first_cooldown(self, baseline: int) -> int:
        """429s after the gateways' first cooldown (as the bench counts them); `baseline` were not theirs."""
        series = [{UPSTREAM: max(0, s.rate_limited - baseline)} for s in self.samples]
        return after_first_cooldown(series)[UPSTREAM]

    def calls_inside_the_first_cooldown(self, guard_s: float) -> tuple[int, float]:
        """Calls the simulator received while the first shared cooldown held, and how long that was watched.

        The first `guard_s` are left out: calls admitted just before any gateway knew of the 429 may
        still be on their way then.
        """
        first = next(i for i, s in enumerate(self.samples) if s.cooldown_s > 0)
        ends = self.samples[first].at + self.samples[first].cooldown_s
        inside = [s for s in self.samples[first:] if s.at >= self.samples[first].at + guard_s and s.cooldown_s > 0.05]
        inside = [s for s in inside if s.at <= ends]
        if len(inside) < 2:
            return 0, 0.0
        return inside[-1].calls - inside[0].calls, inside[-1].at - inside[0].at


@contextlib.asynccontextmanager
async def running(coroutine: object) -> AsyncIterator[None]:
    task = asyncio.create_task(coroutine)  # type: ignore[arg-type]
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def trip_the_simulators_block(sim: SimProcess) -> int:
    """Call ReccoBeats directly, 20 at once, until it answers 429; returns how many 429s that cost."""
    async with httpx.AsyncClient(base_url=sim.base_urls[UPSTREAM], timeout=10) as http:
        for _ in range(10):
            replies = await asyncio.gather(
                *(http.get("/artist/search", params={"searchText": "direct", "size": 1}) for _ in range(20))
            )
            refused = sum(reply.status_code == 429 for reply in replies)
            if refused:
                return refused
    raise AssertionError("the simulator never answered 429")


async def test_two_gateways_share_one_budget_and_fall_back_to_their_share(tmp_path: Path) -> None:
    redis = RedisServer(tmp_path / "redis")
    redis.start()
    processes = []
    try:
        sim = await start_sim(str(PROFILE), TIME_SCALE, None, tmp_path / "sim.log")
        processes.append(sim.process)
        limits = upstream_limits_env(load_profile(PROFILE), TIME_SCALE)["reccobeat_gateway"]
        local_rate = float(limits["RECCOBEAT_LIMIT_RATE_PER_S"]) / 2
        local_burst = max(1.0, float(limits["RECCOBEAT_LIMIT_BURST"]) / 2)
        gateways = []
        for i in range(2):
            port, metrics_port = free_port(), free_port()
            env = {
                **limits,
                "REDIS_URL": redis.url,
                "RECCOBEAT_BASE_URL": sim.base_urls[UPSTREAM],
                "SCHEDULER_REPLICAS": "2",
                "METRICS_PORT": str(metrics_port),
                "DRAIN_DELAY_S": "0",
            }
            log = tmp_path / f"gateway{i}.log"
            processes.append(spawn_service("reccobeat_gateway", port, env, log))
            await wait_serving("reccobeat_gateway", f"127.0.0.1:{port}", processes[-1], log, 60)
            gateways.append(Gateway(aio.insecure_channel(f"127.0.0.1:{port}"), metrics_port))

        watch = Watch(sim, redis.url)
        load = Load(gateways)
        async with running(watch.run()):
            # 1. Shared budget: the gateways meet the block the test tripped, and honour it together.
            own_429s = await trip_the_simulators_block(sim)
            async with running(load.run()):
                await asyncio.sleep(8)
                cooldowns = sum(
                    [await g.metric("segue_scheduler_cooldowns_total", upstream=UPSTREAM) for g in gateways]
                )
                shared_429s = watch.rate_limited()

                # 2. Redis stops. Slots it already promised go out first; then each gateway has its share.
                redis.stop()
                await eventually(
                    lambda: all_equal(gateways, "segue_scheduler_redis_fallback", 1.0), "both gateways fall back"
                )
                await asyncio.sleep(RPC_DEADLINE_S + 1)
                before = [await g.upstream_calls() for g in gateways]
                started = time.monotonic()
                await asyncio.sleep(5)
                after = [await g.upstream_calls() for g in gateways]
                span = time.monotonic() - started
                fallback_429s = watch.rate_limited()

                # 3. Redis is back: both return to the shared budget.
                redis.start()
                await eventually(
                    lambda: all_equal(gateways, "segue_scheduler_redis_fallback", 0.0), "both gateways return"
                )
                await asyncio.sleep(3)
            await load.drain()
        final = await watch.stats()
        for g in gateways:
            await g.channel.close()
    finally:
        for proc in reversed(processes):
            await asyncio.get_running_loop().run_in_executor(None, stop_process, proc)
        redis.stop()

    # The test's own 429s, then the gateways': at least one met the block and set the shared cooldown.
    assert cooldowns >= 1
    assert shared_429s > own_429s
    # Neither gateway sent while that cooldown held (the calls would have been refused and the block doubled).
    sent_inside, watched_s = watch.calls_inside_the_first_cooldown(guard_s=0.5)
    assert watched_s > 0.5
    assert sent_inside == 0
    # And no 429 after it: not with the shared budget, not on the local shares, not back on the shared one.
    assert watch.after_first_cooldown(baseline=own_429s) == 0
    assert final["rate_limited"] == shared_429s == fallback_429s
    # Without Redis, each stayed within its local share of the budget.
    for b, a in zip(before, after, strict=True):
        assert a - b <= local_burst + local_rate * span + 1
        assert a - b > 0
    # 1.5× the simulator's limit was offered: what could not be served in time was refused early, not failed.
    assert load.offered >= 0.95 * OFFERED_PER_S
    assert load.codes["OK"] > 0 and load.codes["RESOURCE_EXHAUSTED"] > 0
    assert set(load.codes) <= {"OK", "RESOURCE_EXHAUSTED", "DEADLINE_EXCEEDED"}, load.codes


async def all_equal(gateways: list[Gateway], name: str, value: float) -> bool:
    return all([await g.metric(name) == value for g in gateways])

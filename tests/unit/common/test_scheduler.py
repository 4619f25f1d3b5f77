"""The shared upstream scheduler's decisions, against a real private redis-server and a real 3-node cluster.

Most tests run three times: on a single Redis, on a Redis Cluster, and with Redis unreachable (every
decision then comes from the local fallback at its share of the limit; with SCHEDULER_REPLICAS=1 the
share is the whole limit, so the same numbers hold). Rates are chosen so that nothing refills while a
test runs (0.01/s) unless the test is about refilling; no test asserts how long anything took.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass, field

import pytest
from prometheus_client import CollectorRegistry

from segue_cli.mesh import free_port
from services.common import call_context
from services.common.errors import UpstreamRateLimited
from services.common.gcra import Limit
from services.common.metrics import SchedulerMetrics
from services.common.redis_client import RedisClient, connect
from services.common.scheduler import BudgetView, SchedulerSettings, SharedScheduler, keys
from tests.support.redis_servers import RedisServer

SLOW = 0.01  # units per second: nothing refills during a test


@dataclass
class Replica:
    """One process's scheduler: its own Redis client, metrics and record of the sleeps it took."""

    scheduler: SharedScheduler
    registry: CollectorRegistry
    redis: RedisClient
    sleeps: list[float] = field(default_factory=list)
    asleep: asyncio.Event = field(default_factory=asyncio.Event)  # set at its first sleep

    def metric(self, name: str, **labels: str) -> float:
        return self.registry.get_sample_value(name, labels) or 0.0

    async def take_all(self, upstream: str = "up", *, tokens: int = 0) -> int:
        """Calls admitted at once until the first refusal."""
        admitted = 0
        while admitted < 1000:
            try:
                await self.scheduler.acquire(upstream, 0.0, tokens=tokens)
            except UpstreamRateLimited:
                return admitted
            admitted += 1
        raise AssertionError("never refused")


Make = Callable[..., Replica]


@pytest.fixture(params=["single", "cluster", "local"])
def backend(request: pytest.FixtureRequest) -> str:
    """REDIS_URL of an empty private Redis or cluster; "local": a port nothing listens on."""
    if request.param == "local":
        return f"redis://127.0.0.1:{free_port()}/0"
    nodes = request.getfixturevalue("redis_server" if request.param == "single" else "redis_cluster")
    nodes.flush()
    return str(nodes.url)


@pytest.fixture
async def make() -> AsyncIterator[Make]:
    made: list[Replica] = []

    def factory(url: str, *limits: Limit, upstream: str = "up", replicas: int = 1, reserve: float = 0.5) -> Replica:
        registry = CollectorRegistry()
        redis = connect(url)
        sleeps: list[float] = []
        asleep = asyncio.Event()

        async def sleep(seconds: float) -> None:
            sleeps.append(seconds)
            asleep.set()
            await asyncio.sleep(seconds)

        scheduler = SharedScheduler(
            redis,
            {upstream: limits},
            metrics=SchedulerMetrics.create(registry),
            settings=SchedulerSettings(replicas=replicas, background_reserve=reserve),
            sleep=sleep,
            # These tests are about the decisions: a loaded machine must not make a slow Redis look absent.
            redis_timeout_s=30.0,
        )
        replica = Replica(scheduler, registry, redis, sleeps, asleep)
        made.append(replica)
        return replica

    yield factory
    for replica in made:
        await replica.redis.aclose()


@contextlib.contextmanager
def lane(value: call_context.Lane) -> Iterator[None]:
    token = call_context.set_lane(value)
    try:
        yield
    finally:
        call_context._lane.reset(token)


async def test_admissions_stay_within_burst_plus_rate_times_the_span(redis_url: str, make: Make) -> None:
    limit = Limit("requests", rate=20.0, burst=5.0)
    replicas = [make(redis_url, limit, replicas=2) for _ in range(2)]
    for replica in replicas:
        await replica.scheduler.estimate_wait("up")  # connected (and, on a cluster, its slots learnt)
    admitted = 0
    started = time.monotonic()
    stop_at = started + 1.5
    last_slot = started

    async def worker(replica: Replica) -> None:
        nonlocal admitted, last_slot
        while True:
            # Each call may wait for a slot only until about the end of the span.
            try:
                await replica.scheduler.acquire("up", max(0.0, stop_at - time.monotonic()))
            except UpstreamRateLimited:
                return
            admitted += 1
            last_slot = max(last_slot, time.monotonic())  # a call returns at or after its slot

    await asyncio.gather(*(worker(r) for r in replicas for _ in range(8)))
    # Every admitted slot lies between the start and the last return, however slow the machine was.
    bound = limit.burst + limit.rate * (last_slot - started) + 1
    assert admitted <= bound
    assert admitted >= limit.burst + limit.rate * 1.5 / 2  # the budget is used, not just refused
    refused = sum(
        r.metric("segue_scheduler_admissions_total", upstream="up", lane="interactive", outcome="refused")
        for r in replicas
    )
    assert refused == 16  # each worker stopped at its first refusal


async def test_a_wait_is_known_before_waiting_and_refused_at_once_past_the_deadline(backend: str, make: Make) -> None:
    replica = make(backend, Limit("requests", rate=0.1, burst=2.0))
    assert await replica.take_all() == 2
    expected = await replica.scheduler.estimate_wait("up")
    assert 9.0 < expected <= 10.0  # one unit at 0.1/s

    with pytest.raises(UpstreamRateLimited) as refused:
        await replica.scheduler.acquire("up", 3.0)
    assert refused.value.retry_after_s is not None and 9.0 < refused.value.retry_after_s <= 10.0
    assert replica.sleeps == []  # refused without sleeping first
    # A refusal reserves nothing: the next call's wait did not grow.
    assert await replica.scheduler.estimate_wait("up") <= expected


async def test_an_interactive_call_reserves_its_slot_and_waits_exactly_for_it(backend: str, make: Make) -> None:
    replica = make(backend, Limit("requests", rate=2.0, burst=1.0))
    waits = await asyncio.gather(*(replica.scheduler.acquire("up", 5.0) for _ in range(4)))
    # First come, first served: one goes at once, the others queue 0.5 s apart without asking again.
    assert sorted(waits)[0] == 0.0
    assert len(replica.sleeps) == 3
    assert sorted(replica.sleeps) == pytest.approx([0.5, 1.0, 1.5], abs=0.2)


async def test_background_never_takes_the_reserved_share_of_the_burst(backend: str, make: Make) -> None:
    replica = make(backend, Limit("requests", rate=SLOW, burst=10.0), reserve=0.5)
    with lane(call_context.Lane.BACKGROUND):
        assert await replica.take_all() == 5
        with pytest.raises(UpstreamRateLimited):
            await replica.scheduler.acquire("up", 1.0)
    # Users still find the reserved half.
    assert await replica.take_all() == 5
    assert replica.metric("segue_scheduler_admissions_total", upstream="up", lane="background", outcome="refused") >= 1


async def test_users_go_first_and_background_still_gets_through(backend: str, make: Make) -> None:
    replica = make(backend, Limit("requests", rate=2.0, burst=2.0), reserve=0.5)
    assert await replica.take_all() == 2
    finished: list[str] = []

    async def call(which: call_context.Lane) -> None:
        with lane(which):
            await replica.scheduler.acquire("up", 10.0)
        finished.append(which)

    # Both ask with an empty bucket: the user's call gets the next slot; background gets one once the
    # bucket holds more than its reserve again.
    await asyncio.gather(call(call_context.Lane.BACKGROUND), call(call_context.Lane.INTERACTIVE))
    assert finished == ["interactive", "background"]


async def test_a_cooldown_only_extends_and_holds_every_call(backend: str, make: Make) -> None:
    replica = make(backend, Limit("requests", rate=100.0, burst=5.0))
    await replica.scheduler.pause("up", 5.0)
    await replica.scheduler.pause("up", 1.0)  # shorter: must not shorten the pause
    assert await replica.scheduler.estimate_wait("up") > 4.0
    await replica.scheduler.pause("up", 8.0)
    with pytest.raises(UpstreamRateLimited) as refused:
        await replica.scheduler.acquire("up", 2.0)
    assert refused.value.retry_after_s is not None and refused.value.retry_after_s > 7.0
    assert replica.sleeps == []
    assert replica.metric("segue_scheduler_cooldowns_total", upstream="up") == 3
    assert replica.metric("segue_scheduler_cooldown_seconds", upstream="up") > 7.0


async def test_after_a_cooldown_calls_resume_at_the_rate_not_in_a_burst(backend: str, make: Make) -> None:
    replica = make(backend, Limit("requests", rate=2.0, burst=5.0))
    await replica.scheduler.pause("up", 0.3)
    waits = sorted(await asyncio.gather(*(replica.scheduler.acquire("up", 5.0) for _ in range(3))))
    assert waits[0] >= 0.25  # nobody went during the pause
    assert waits[2] - waits[0] == pytest.approx(1.0, abs=0.25)  # then one per 1/rate, although the burst is 5


async def test_a_pause_set_by_one_replica_holds_the_others(redis_url: str, make: Make) -> None:
    limit = Limit("requests", rate=100.0, burst=5.0)
    first, second = make(redis_url, limit), make(redis_url, limit)
    await first.scheduler.pause("up", 6.0)
    assert await second.scheduler.estimate_wait("up") > 5.0
    with pytest.raises(UpstreamRateLimited) as refused:
        await second.scheduler.acquire("up", 1.0)
    assert refused.value.retry_after_s is not None and refused.value.retry_after_s > 5.0
    # Any process reads the same budget without knowing the limits: admission control, prompt bundling.
    view = BudgetView(second.redis)
    assert await view.estimate_wait("up") > 5.0


async def test_a_call_waiting_for_its_slot_when_a_pause_begins_queues_again_behind_it(
    redis_url: str, make: Make
) -> None:
    limit = Limit("requests", rate=0.5, burst=1.0)
    waiting, pausing = make(redis_url, limit), make(redis_url, limit)
    await pausing.scheduler.estimate_wait("up")  # connected before the race starts
    assert await waiting.take_all() == 1
    call = asyncio.create_task(waiting.scheduler.acquire("up", 20.0))  # reserves the slot 2 s ahead
    await asyncio.wait_for(waiting.asleep.wait(), 10)
    await pausing.scheduler.pause("up", 4.0)  # another replica saw a 429 meanwhile
    waited = await call
    assert waited >= 4.0  # it slept for its slot, found the pause, and waited it out
    assert len(waiting.sleeps) == 2


async def test_requests_and_tokens_are_decided_together(backend: str, make: Make) -> None:
    rpm = Limit("rpm", rate=SLOW, burst=3.0)
    tpm = Limit("tpm", rate=SLOW, burst=1000.0, per="token")
    replica = make(backend, rpm, tpm, upstream="gemini")
    await replica.scheduler.acquire("gemini", 0.0, tokens=900)
    with pytest.raises(UpstreamRateLimited):
        await replica.scheduler.acquire("gemini", 0.0, tokens=900)  # out of tokens
    # That refusal took no request slot: two small calls still fit the request burst of 3, then it is spent.
    assert await replica.take_all("gemini", tokens=40) == 2
    assert await replica.scheduler.estimate_wait("gemini", tokens=40) > 0


async def test_keys_of_one_upstream_share_a_hash_slot() -> None:
    cooldown, state = keys("reccobeats")
    assert cooldown.split("{")[1].split("}")[0] == state.split("{")[1].split("}")[0] == "reccobeats"


async def test_redis_down_falls_back_to_the_local_share_and_comes_back(
    tmp_path: object, make: Make, caplog: pytest.LogCaptureFixture
) -> None:
    from pathlib import Path

    server = RedisServer(Path(str(tmp_path)))
    server.start()
    try:
        replica = make(server.url, Limit("requests", rate=SLOW, burst=8.0), replicas=2)
        await replica.scheduler.estimate_wait("up")
        assert replica.metric("segue_scheduler_redis_fallback") == 0
        server.stop()
        with caplog.at_level(logging.WARNING, logger="services.common.scheduler"):
            # Its own share of the burst (8 / 2 replicas), not the whole of it, and not nothing.
            assert await replica.take_all() == 4
        assert replica.metric("segue_scheduler_redis_fallback") == 1
        local = replica.metric(
            "segue_scheduler_admissions_total", upstream="up", lane="interactive", outcome="local_fallback"
        )
        assert local == 4
        assert sum("Redis unreachable" in r.getMessage() for r in caplog.records) == 1  # one line, not one per call

        server.start()  # the same port, empty
        await wait_for(
            lambda: replica.scheduler.estimate_wait("up"),
            lambda _: replica.metric("segue_scheduler_redis_fallback") == 0,
        )
        # The shared budget again (the local share would say 200 s, 1/0.005), resuming at the rate after
        # the calls this replica sent alone: the next slot is one interval (1/0.01 s) away, not a burst.
        assert 90.0 < await replica.scheduler.estimate_wait("up") <= 100.0
        assert await replica.redis.exists(keys("up")[1]) == 1
    finally:
        server.stop()


async def test_the_local_share_starts_after_the_slots_redis_already_promised(tmp_path: object, make: Make) -> None:
    from pathlib import Path

    server = RedisServer(Path(str(tmp_path)))
    server.start()
    try:
        replica = make(server.url, Limit("requests", rate=0.5, burst=1.0), replicas=2)
        await replica.scheduler.acquire("up", 0.0)
        call = asyncio.create_task(replica.scheduler.acquire("up", 10.0))  # promised a slot 2 s ahead
        await asyncio.wait_for(replica.asleep.wait(), 10)
        server.stop()
        # The promised call still goes; the local share (0.25/s) starts after it, with an empty bucket.
        assert await replica.scheduler.estimate_wait("up") > 3.0
        assert replica.metric("segue_scheduler_redis_fallback") == 1
        assert await call > 1.0
    finally:
        server.stop()


async def test_a_redis_that_does_not_answer_in_time_counts_as_down() -> None:
    async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.read()  # accepts, never answers

    server = await asyncio.start_server(silent, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    redis = connect(f"redis://127.0.0.1:{port}/0")
    registry = CollectorRegistry()
    scheduler = SharedScheduler(
        redis,
        {"up": [Limit("requests", rate=SLOW, burst=2.0)]},
        metrics=SchedulerMetrics.create(registry),
        settings=SchedulerSettings(replicas=1),
        redis_timeout_s=0.2,
    )
    try:
        assert await scheduler.acquire("up", 0.0) == 0.0  # decided locally, not stuck behind Redis
        assert registry.get_sample_value("segue_scheduler_redis_fallback") == 1
    finally:
        await redis.aclose()
        server.close()


async def test_the_budget_view_reads_no_wait_when_redis_is_down() -> None:
    redis = connect(f"redis://127.0.0.1:{free_port()}/0")
    try:
        assert await BudgetView(redis).estimate_wait("up") == 0.0
    finally:
        await redis.aclose()


async def wait_for(
    poll: Callable[[], Awaitable[object]], done: Callable[[object], bool], timeout_s: float = 30.0
) -> None:
    deadline = time.monotonic() + timeout_s
    while True:
        if done(await poll()):
            return
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached")
        await asyncio.sleep(0.1)


async def test_the_budget_view_tells_how_long_until_several_calls_could_all_have_gone(
    redis_url: str, make: Make
) -> None:
    replica = make(redis_url, Limit("requests", rate=SLOW, burst=4.0))
    await replica.scheduler.acquire("up", 0.0)  # stores the limit where any process's view reads it
    view = BudgetView(replica.redis)
    assert await view.estimate_wait("up", calls=3) == 0.0  # three more fit what is left of the burst
    # A fourth and fifth each wait one more interval (100 s at 0.01/s).
    assert await view.estimate_wait("up", calls=4) == pytest.approx(100.0, abs=1.0)
    assert await view.estimate_wait("up", calls=5) == pytest.approx(200.0, abs=1.0)

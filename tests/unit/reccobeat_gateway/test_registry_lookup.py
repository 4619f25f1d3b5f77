"""BatchLookup with the absent-ID registry: what gets marked, what gets skipped, and for how long."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass

import httpx
import pytest
import redis.asyncio as aioredis
from prometheus_client import CollectorRegistry
from segue.v1 import reccobeat_gateway_pb2

from services.common.cache import Cache, MemoryStore
from services.common.errors import SegueError
from services.common.metrics import UpstreamMetrics
from services.common.upstream_http import RetryPolicy, UpstreamClient
from services.reccobeat_gateway.absent import BloomAbsentIds, RegistrySettings
from services.reccobeat_gateway.client import UPSTREAM, ReccoBeatsClient
from services.reccobeat_gateway.lookup import BatchLookup
from services.reccobeat_gateway.metrics import GatewayMetrics
from sim.testing import RunningSim, running_sim
from tests.unit.reccobeat_gateway.fake_reccobeats import BASE_URL, FakeReccoBeats
from tests.unit.redis_server import redis  # noqa: F401 - fixtures

PERIOD_S = 3600.0


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@dataclass
class Lookup:
    features: BatchLookup[reccobeat_gateway_pb2.TrackFeatures]
    absent: BloomAbsentIds
    client: ReccoBeatsClient
    registry: CollectorRegistry

    def registry_ids(self, result: str) -> float:
        labels = {"kind": "features", "result": result}
        return self.registry.get_sample_value("segue_absent_registry_ids_total", labels) or 0.0


def lookup(
    base_url: str,
    *,
    redis_client: aioredis.Redis | None = None,
    clock: Callable[[], float] | None = None,
    recheck: float = 0.0,
    transport: httpx.AsyncBaseTransport | None = None,
) -> Lookup:
    registry = CollectorRegistry()
    metrics = GatewayMetrics.create(registry)
    http = UpstreamClient(
        UPSTREAM,
        base_url,
        timeout_s=5.0,
        metrics=UpstreamMetrics.create(registry),
        retry=RetryPolicy(max_attempts=1),
        transport=transport,
    )
    client = ReccoBeatsClient(http, metrics, max_concurrency=4)
    settings = RegistrySettings(period_s=PERIOD_S, generations=2, capacity=10_000, recheck_fraction=recheck)
    absent = BloomAbsentIds(settings, metrics, redis=redis_client, clock=clock or Clock())
    features = BatchLookup(
        "features",
        reccobeat_gateway_pb2.TrackFeatures,
        client.audio_features,
        cache=Cache(MemoryStore(), "rb-features"),
        ttl_s=3600,
        absent=absent,
        metrics=metrics,
    )
    return Lookup(features, absent, client, registry)


@pytest.fixture
async def sim() -> AsyncIterator[RunningSim]:
    async with running_sim(profile="fast") as s:
        yield s


async def test_an_absent_id_is_asked_once_then_skipped_until_its_generation_expires(
    sim: RunningSim,
    redis: aioredis.Redis,  # noqa: F811
) -> None:
    def calls() -> int:
        return int(sim.stats()["upstreams"]["reccobeats"]["endpoints"]["GET /audio-features"]["calls"])

    gone = next(t.spotify_id for t in sim.catalog.tracks if not t.in_reccobeats)
    clock = Clock()
    first = lookup(sim.reccobeats_url, redis_client=redis, clock=clock)
    assert (await first.features.get([gone])).missing == [gone] and calls() == 1

    # Another replica (its own process state, the same Redis) skips it too, for (G−1)..G periods.
    other = lookup(sim.reccobeats_url, redis_client=redis, clock=clock)
    for now in (clock.now + 10, clock.now + PERIOD_S):
        clock.now = now
        result = await other.features.get([gone])
        assert result.missing == [gone] and result.cache.hits == 1 and calls() == 1
    assert other.registry_ids("hit") == 2

    clock.now = (int(clock.now // PERIOD_S) + 1) * PERIOD_S  # the generation it was marked in is no longer read
    assert (await other.features.get([gone])).missing == [gone] and calls() == 2
    for each in (first, other):
        await each.client.aclose()


@pytest.mark.parametrize(
    "failure",
    [
        httpx.Response(429, headers={"Retry-After": "0"}),
        httpx.Response(503),
        httpx.Response(500),
        httpx.ReadTimeout("the upstream did not answer"),
        httpx.ConnectError("refused"),
    ],
    ids=["429", "503", "500", "timeout", "connect-error"],
)
async def test_a_failure_never_marks_an_id_absent(failure: httpx.Response | Exception) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if isinstance(failure, Exception):
            raise failure
        return failure

    lk = lookup(BASE_URL, transport=httpx.MockTransport(handler))
    ids = ["sp00000000000000000001", "sp00000000000000000002"]
    with pytest.raises(SegueError):  # nothing answered: the upstream's state is the call's error
        await lk.features.get(ids)
    assert (await lk.absent.check("features", ids)).absent == set()
    assert lk.registry_ids("marked") == 0
    await lk.client.aclose()


async def test_a_rechecked_id_that_came_back_is_a_resurrection_and_is_cached() -> None:
    upstream = FakeReccoBeats()
    back = upstream.tracks[3].spotify_id
    lk = lookup(BASE_URL, recheck=1.0, transport=upstream.transport())
    await lk.absent.mark_absent("features", [back])  # e.g. a false positive, or a track added since

    result = await lk.features.get([back])
    assert list(result.found) == [back] and len(upstream.requests) == 1
    assert lk.registry_ids("recheck") == 1 and lk.registry_ids("resurrected") == 1
    again = await lk.features.get([back])
    assert list(again.found) == [back] and again.cache.hits == 1 and len(upstream.requests) == 1
    await lk.client.aclose()


async def test_without_rechecks_a_registered_id_costs_no_call() -> None:
    upstream = FakeReccoBeats()
    marked = upstream.tracks[3].spotify_id
    lk = lookup(BASE_URL, recheck=0.0, transport=upstream.transport())
    await lk.absent.mark_absent("features", [marked])
    result = await lk.features.get([marked])
    assert result.missing == [marked] and not upstream.requests
    await lk.client.aclose()

"""The ReccoBeat gateway on the shared scheduler (a real private Redis): cache hits take no token, and a
wait past the caller's deadline is RESOURCE_EXHAUSTED with retry-after-ms, refused before any call."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import replace
from functools import partial

import grpc
import httpx
import pytest
from prometheus_client import CollectorRegistry
from segue.v1 import reccobeat_gateway_pb2 as pb

from services.common import stubs
from services.common.gcra import Limit
from services.common.metrics import SchedulerMetrics
from services.common.redis_client import connect
from services.common.scheduler import SharedScheduler
from services.reccobeat_gateway.client import UPSTREAM
from services.reccobeat_gateway.server import build
from tests.unit.inprocess import serving
from tests.unit.reccobeat_gateway.conftest import Gateway, gateway_config
from tests.unit.reccobeat_gateway.fake_reccobeats import FakeReccoBeats, artist_row


@pytest.fixture
async def shared_gateway(redis_url: str, upstream: FakeReccoBeats) -> AsyncIterator[Gateway]:
    cfg = gateway_config()
    cfg = replace(cfg, server=replace(cfg.server, redis_url=redis_url))
    async with serving(cfg, partial(build, transport=upstream.transport()), stubs.reccobeat_gateway) as served:
        yield Gateway(served.stub, served.registry, served.running, upstream)


@asynccontextmanager
async def other_replica(redis_url: str) -> AsyncIterator[SharedScheduler]:
    """The scheduler of another gateway replica on the same Redis."""
    redis = connect(redis_url)
    try:
        yield SharedScheduler(
            redis, {UPSTREAM: [Limit("requests", 2.7, 6)]}, metrics=SchedulerMetrics.create(CollectorRegistry())
        )
    finally:
        await redis.aclose()


async def test_a_cache_hit_never_takes_a_token(shared_gateway: Gateway) -> None:
    upstream = shared_gateway.upstream
    ids = [t.spotify_id for t in upstream.tracks[:45]]  # two upstream batches
    seeds = [t.spotify_id for t in upstream.tracks[:2]]
    artist = str(artist_row(0)["id"])
    calls = [
        lambda: shared_gateway.stub.GetAudioFeatures(pb.GetAudioFeaturesRequest(ids=ids), timeout=10),
        lambda: shared_gateway.stub.GetArtistTracks(pb.GetArtistTracksRequest(artist_id=artist, size=5), timeout=10),
        lambda: shared_gateway.stub.SearchArtists(pb.SearchArtistsRequest(query="jazz", size=5), timeout=10),
        lambda: shared_gateway.stub.GetRecommendations(pb.GetRecommendationsRequest(seeds=seeds, size=5), timeout=10),
    ]
    for call in calls:
        await call()
    first = shared_gateway.tokens_taken(UPSTREAM)
    assert first == len(upstream.requests) == 5  # one token per upstream request, cache misses only
    for call in calls:
        reply = await call()
        assert reply.cache.misses == 0
    assert shared_gateway.tokens_taken(UPSTREAM) == first
    assert len(upstream.requests) == 5


async def test_a_wait_past_the_deadline_is_refused_at_once_with_retry_after_ms(
    shared_gateway: Gateway, redis_url: str
) -> None:
    # Another replica saw a 429 asking for 30 s: this one must not call ReccoBeats at all, and must not
    # sleep until the caller's deadline either — it knows the wait and says so.
    async with other_replica(redis_url) as replica:
        await replica.pause(UPSTREAM, 30.0)
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await shared_gateway.stub.SearchArtists(pb.SearchArtistsRequest(query="jazz", size=5), timeout=5)
    assert err.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
    trailers = dict(err.value.trailing_metadata() or ())
    # The pause, then one interval: calls resume at the sustained rate (2.7/s), not in a burst.
    assert 25_000 < int(trailers["retry-after-ms"]) <= 30_000 + 1000 / 2.7 + 1
    assert not shared_gateway.upstream.requests
    refused = shared_gateway.metric(
        "segue_scheduler_admissions_total", upstream=UPSTREAM, lane="interactive", outcome="refused"
    )
    assert refused == 1


async def test_a_429_pauses_the_other_replicas_through_redis(shared_gateway: Gateway, redis_url: str) -> None:
    shared_gateway.upstream.scripted.append(httpx.Response(429, headers={"retry-after": "20"}))
    with pytest.raises(grpc.aio.AioRpcError):
        await shared_gateway.stub.SearchArtists(pb.SearchArtistsRequest(query="jazz", size=5), timeout=5)
    assert shared_gateway.metric("segue_scheduler_cooldowns_total", upstream=UPSTREAM) == 1
    async with other_replica(redis_url) as replica:
        assert await replica.estimate_wait(UPSTREAM) > 15.0

"""Work shared across concurrent RPCs: micro-batched lookups and single-flight, against the simulator.

The gateway runs in this process and calls the simulator over real HTTP through a Gate that holds the
upstream calls until every RPC of a test has queued its IDs; upstream call counts come from the
simulator's own stats.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass, replace
from functools import partial

import grpc
import pytest
from segue.v1 import common_pb2
from segue.v1 import reccobeat_gateway_pb2 as pb

from services.common import stubs
from services.reccobeat_gateway.server import build
from sim.catalog import Catalog
from sim.testing import RunningSim, running_sim
from tests.unit.inprocess import Served, serving
from tests.unit.reccobeat_gateway.conftest import Stub, gateway_config
from tests.unit.reccobeat_gateway.fake_reccobeats import FakeReccoBeats
from tests.unit.reccobeat_gateway.gate import Gate
from tests.unit.waiting import until

FEATURES = "reccobeats-features"


@dataclass
class Shared:
    sim: RunningSim
    gate: Gate
    gateway: Served[Stub]

    @property
    def stub(self) -> Stub:
        return self.gateway.stub

    @property
    def catalog(self) -> Catalog:
        return self.sim.catalog

    def calls(self, endpoint: str) -> int:
        return int(self.sim.stats()["upstreams"]["reccobeats"]["endpoints"][endpoint]["calls"])

    def keys(self, batcher: str, result: str) -> float:
        return self.gateway.metric("segue_batch_keys_total", batcher=batcher, result=result)


def sharing_config(base_url: str) -> object:
    cfg = gateway_config(base_url=base_url, max_concurrency=2)
    # 1,000 RPCs in flight at once are the point of one test.
    return replace(cfg, server=replace(cfg.server, max_concurrent_rpcs=5000))


@pytest.fixture
async def shared() -> AsyncIterator[Shared]:
    gate = Gate()
    async with (
        running_sim(profile="fast") as sim,
        serving(sharing_config(sim.reccobeats_url), partial(build, transport=gate), stubs.reccobeat_gateway) as gateway,  # type: ignore[arg-type]
    ):
        yield Shared(sim, gate, gateway)


async def test_500_distinct_ids_from_50_concurrent_rpcs_cost_at_most_15_calls(shared: Shared) -> None:
    ids = [t.spotify_id for t in shared.catalog.tracks[:500]]
    asks = [ids[i : i + 10] for i in range(0, 500, 10)]
    calls = [shared.stub.GetAudioFeatures(pb.GetAudioFeaturesRequest(ids=ask), timeout=120) for ask in asks]
    await until(lambda: shared.keys(FEATURES, "queued") == 500, "every ID queued")
    shared.gate.open()
    replies = await asyncio.gather(*calls)

    assert shared.calls("GET /audio-features") <= -(-500 // 40) + 2
    for ask, reply in zip(asks, replies, strict=True):
        assert not reply.warnings
        assert sorted([f.id for f in reply.features] + list(reply.missing)) == sorted(ask)  # exactly its own
        for item in reply.features:
            track = shared.catalog.track_by_spotify_id(item.id)
            assert track is not None and item.reccobeats_id == track.reccobeats_id
    callers = shared.gateway.metric("segue_batch_callers_sum", batcher=FEATURES)
    assert callers >= 50  # every RPC was answered by some batch; split RPCs count in two


async def test_1000_concurrent_asks_for_one_uncached_id_cost_one_call(shared: Shared) -> None:
    track = next(t for t in shared.catalog.tracks if t.has_audio_features)
    request = pb.GetAudioFeaturesRequest(ids=[track.spotify_id])
    calls = [shared.stub.GetAudioFeatures(request, timeout=120) for _ in range(1000)]
    await until(lambda: shared.keys(FEATURES, "queued") + shared.keys(FEATURES, "joined") == 1000, "every ask queued")
    shared.gate.open()
    replies = await asyncio.gather(*calls)

    assert shared.calls("GET /audio-features") == 1
    assert all([f.reccobeats_id for f in r.features] == [track.reccobeats_id] for r in replies)
    assert shared.keys(FEATURES, "joined") == 999


async def test_a_cancelled_caller_leaves_the_others_answered(shared: Shared) -> None:
    x, y, z = [t.spotify_id for t in shared.catalog.tracks if t.has_audio_features][:3]
    leaving = shared.stub.GetAudioFeatures(pb.GetAudioFeaturesRequest(ids=[x, y]), timeout=120)
    staying = shared.stub.GetAudioFeatures(pb.GetAudioFeaturesRequest(ids=[y, z]), timeout=120)
    await until(lambda: shared.keys(FEATURES, "queued") + shared.keys(FEATURES, "joined") == 4, "both RPCs queued")
    leaving.cancel()
    with pytest.raises(asyncio.CancelledError):
        await leaving
    shared.gate.open()
    reply = await staying

    assert [f.spotify_id for f in reply.features] == [y, z] and not reply.warnings
    assert shared.calls("GET /audio-features") == 1


async def test_identical_recommendation_queries_in_flight_cost_one_call(shared: Shared) -> None:
    seeds = [t.spotify_id for t in shared.catalog.tracks if t.has_audio_features][:3]
    request = pb.GetRecommendationsRequest(seeds=seeds, size=10)
    calls = [shared.stub.GetRecommendations(request, timeout=120) for _ in range(20)]
    flights = "segue_singleflight_calls_total"
    await until(
        lambda: shared.gateway.metric(flights, flight="reccobeats-recommendation", role="joined") == 19,
        "every query joined the first",
    )
    shared.gate.open()
    replies = await asyncio.gather(*calls)

    assert shared.calls("GET /track/recommendation") == 1
    assert len({tuple(t.reccobeats_id for t in r.tracks) for r in replies}) == 1 and len(replies[0].tracks) == 10


async def test_a_failed_batch_reaches_exactly_the_callers_whose_ids_were_in_it() -> None:
    upstream = FakeReccoBeats()
    analysed = [t.spotify_id for t in upstream.tracks if t.has_features]
    upstream.fail_ids = {analysed[0]}
    first_batch = analysed[:40]  # holds the failing ID
    second_batch = analysed[40:43]
    gate = Gate(upstream.transport())
    cfg = gateway_config(max_concurrency=2, max_attempts=1)
    async with serving(cfg, partial(build, transport=gate), stubs.reccobeat_gateway) as gateway:

        def queued() -> float:
            return gateway.metric("segue_batch_keys_total", batcher=FEATURES, result="queued")

        # One RPC with the whole failing batch and one ID of the next; then one RPC in the next batch only.
        mixed = gateway.stub.GetAudioFeatures(
            pb.GetAudioFeaturesRequest(ids=[*first_batch, second_batch[0]]), timeout=60
        )
        await until(lambda: queued() == 41, "the first RPC queued")
        clean = gateway.stub.GetAudioFeatures(pb.GetAudioFeaturesRequest(ids=second_batch[1:]), timeout=60)
        await until(lambda: queued() == 43, "the second RPC queued")
        gate.open()
        mixed_reply, clean_reply = await asyncio.gather(mixed, clean)

        assert [f.spotify_id for f in clean_reply.features] == second_batch[1:] and not clean_reply.warnings
        assert [f.spotify_id for f in mixed_reply.features] == second_batch[:1]
        assert not mixed_reply.missing  # the failed IDs are neither found nor missing: we do not know
        [warning] = mixed_reply.warnings
        assert warning.code == common_pb2.WARNING_CODE_UPSTREAM_UNAVAILABLE and "40 features ID(s)" in warning.message

        # Nothing was marked absent by the failure: once ReccoBeats answers, the same IDs are found.
        upstream.fail_ids = set()
        again = await gateway.stub.GetAudioFeatures(pb.GetAudioFeaturesRequest(ids=first_batch), timeout=60)
        assert len(again.features) == 40 and not again.missing


async def test_a_caller_whose_every_id_failed_gets_the_upstream_error() -> None:
    upstream = FakeReccoBeats()
    upstream.fail_ids = {upstream.tracks[0].spotify_id}
    cfg = gateway_config(max_attempts=1)
    async with serving(cfg, partial(build, transport=upstream.transport()), stubs.reccobeat_gateway) as gateway:
        with pytest.raises(grpc.aio.AioRpcError) as err:
            await gateway.stub.GetAudioFeatures(
                pb.GetAudioFeaturesRequest(ids=[upstream.tracks[0].spotify_id]), timeout=60
            )
        assert err.value.code() == grpc.StatusCode.UNAVAILABLE

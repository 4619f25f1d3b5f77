"""End to end: a real in-process gateway over real HTTP against the in-process upstream simulator."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass

import grpc
import pytest
from segue.v1 import common_pb2, reccobeat_gateway_pb2_grpc
from segue.v1 import reccobeat_gateway_pb2 as pb

from services.common import stubs
from services.reccobeat_gateway.server import build
from sim.catalog import Catalog
from sim.testing import RunningSim, running_sim
from tests.unit.inprocess import serving
from tests.unit.reccobeat_gateway.conftest import gateway_config


@dataclass
class Mesh:
    sim: RunningSim
    stub: reccobeat_gateway_pb2_grpc.ReccoBeatGatewayAsyncStub

    @property
    def catalog(self) -> Catalog:
        return self.sim.catalog

    def calls(self, endpoint: str) -> int:
        return int(self.sim.stats()["upstreams"]["reccobeats"]["endpoints"][endpoint]["calls"])


@pytest.fixture
async def mesh() -> AsyncIterator[Mesh]:
    async with (
        running_sim(profile="fast") as sim,
        serving(gateway_config(base_url=sim.reccobeats_url), build, stubs.reccobeat_gateway) as gateway,
    ):
        yield Mesh(sim, gateway.stub)


async def test_audio_features_match_the_catalog_and_absent_ids_are_missing(mesh: Mesh) -> None:
    tracks = mesh.catalog.tracks
    analysed = [t for t in tracks if t.has_audio_features][:60]
    absent = [t.spotify_id for t in tracks if not t.in_reccobeats][:5]
    unanalysed = [t.spotify_id for t in tracks if t.in_reccobeats and not t.has_audio_features][:3]
    ids = [t.spotify_id for t in analysed[:30]] + [t.reccobeats_id or "" for t in analysed[30:]] + absent + unanalysed

    reply = await mesh.stub.GetAudioFeatures(pb.GetAudioFeaturesRequest(ids=ids), timeout=20)

    assert not reply.warnings
    assert sorted(reply.missing) == sorted(absent + unanalysed)
    assert [f.id for f in reply.features] == ids[:60]
    for item, track in zip(reply.features, analysed, strict=True):
        expected = mesh.catalog.audio_features(track)
        assert expected is not None
        assert (item.spotify_id, item.reccobeats_id) == (track.spotify_id, track.reccobeats_id)
        for name, value in expected.items():
            assert getattr(item.features, name) == pytest.approx(value), name
    assert mesh.calls("GET /audio-features") == 2  # 68 IDs in batches of 40

    again = await mesh.stub.GetAudioFeatures(pb.GetAudioFeaturesRequest(ids=ids), timeout=20)
    assert mesh.calls("GET /audio-features") == 2 and again.cache.hits == len(ids)
    assert sorted(again.missing) == sorted(absent + unanalysed)


async def test_track_rows_map_back_to_the_catalog(mesh: Mesh) -> None:
    seeds = [t.spotify_id for t in mesh.catalog.tracks if t.has_audio_features][:2]
    reply = await mesh.stub.GetRecommendations(pb.GetRecommendationsRequest(seeds=seeds, size=10), timeout=20)
    assert len(reply.tracks) == 10
    for got in reply.tracks:
        track = mesh.catalog.reccobeats_track(got.reccobeats_id)
        assert track is not None
        assert (got.spotify_id, got.reccobeats_id, got.title) == (track.spotify_id, track.reccobeats_id, track.title)
        assert got.spotify_uri == f"spotify:track:{track.spotify_id}" and got.duration_ms == track.duration_ms
        main_artist = mesh.catalog.artists[track.artist_indices[0]]
        assert (got.artists[0].name, got.artists[0].spotify_id) == (main_artist.name, main_artist.spotify_id)


async def test_recommendations_exclude_the_seeds_and_survive_bad_negative_combinations(mesh: Mesh) -> None:
    analysed = [t for t in mesh.catalog.tracks if t.has_audio_features]
    seeds = [analysed[0].spotify_id, analysed[1].reccobeats_id or ""]
    negatives = [seeds[0], analysed[2].spotify_id, analysed[3].spotify_id]  # overlaps and outnumbers: a 400 upstream
    reply = await mesh.stub.GetRecommendations(
        pb.GetRecommendationsRequest(
            seeds=seeds,
            negative_seeds=negatives,
            size=20,
            targets=[common_pb2.FeatureTarget(feature=common_pb2.AUDIO_FEATURE_ENERGY, target=0.7)],
        ),
        timeout=20,
    )
    assert len(reply.tracks) == 20
    returned = {i for t in reply.tracks for i in (t.spotify_id, t.reccobeats_id)}
    # The seeds and the negatives sent are filtered out (a negative the guardrails dropped may come back).
    assert returned.isdisjoint([*seeds, *reply.negative_seeds_used])
    assert all(mesh.catalog.reccobeats_track(t.reccobeats_id) is not None for t in reply.tracks)
    assert list(reply.negative_seeds_used) == [analysed[2].spotify_id]
    assert [w.code for w in reply.warnings] == [common_pb2.WARNING_CODE_FALLBACK_USED] * 2
    assert mesh.sim.stats()["upstreams"]["reccobeats"]["status"] == {"200": 1}  # the guardrails avoided the 400


async def test_an_outage_degrades_to_cached_answers_then_fails_as_unavailable(mesh: Mesh) -> None:
    cached, other = [t.spotify_id for t in mesh.catalog.tracks if t.has_audio_features][:2]
    await mesh.stub.GetAudioFeatures(pb.GetAudioFeaturesRequest(ids=[cached]), timeout=20)
    mesh.sim.set_faults(upstream="reccobeats", outage=True)

    partial = await mesh.stub.GetAudioFeatures(pb.GetAudioFeaturesRequest(ids=[cached, other]), timeout=20)
    assert [f.spotify_id for f in partial.features] == [cached] and not partial.missing
    assert [w.code for w in partial.warnings] == [common_pb2.WARNING_CODE_UPSTREAM_UNAVAILABLE]

    with pytest.raises(grpc.aio.AioRpcError) as err:
        await mesh.stub.GetAudioFeatures(pb.GetAudioFeaturesRequest(ids=[other]), timeout=20)
    assert err.value.code() == grpc.StatusCode.UNAVAILABLE

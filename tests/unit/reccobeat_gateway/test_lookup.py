"""GetTracks and GetAudioFeatures through a real gRPC server, ReccoBeats behind httpx.MockTransport."""

from __future__ import annotations

import grpc
import httpx
import pytest
from segue.v1 import common_pb2
from segue.v1 import reccobeat_gateway_pb2 as pb

from tests.unit.reccobeat_gateway.conftest import Gateway


async def test_95_ids_go_upstream_in_3_batches_of_at_most_40(gateway: Gateway) -> None:
    ids = [t.spotify_id for t in gateway.upstream.tracks[:95]]
    reply = await gateway.stub.GetTracks(pb.GetTracksRequest(ids=ids), timeout=10)

    sent = gateway.upstream.ids_sent("/track")
    assert sorted(len(batch) for batch in sent) == [15, 40, 40]
    assert sorted(i for batch in sent for i in batch) == sorted(ids)
    assert [t.spotify_id for t in reply.tracks] == ids  # request order, whatever order batches finished in
    assert not reply.missing and not reply.warnings
    assert (reply.cache.hits, reply.cache.misses) == (0, 95)
    first = reply.tracks[0]
    assert first.spotify_uri == f"spotify:track:{ids[0]}" and first.reccobeats_id == gateway.upstream.tracks[0].rb_id
    assert gateway.metric("segue_reccobeats_batch_size_count", endpoint="GET /track") == 3
    assert gateway.metric("segue_reccobeats_batch_size_sum", endpoint="GET /track") == 95
    assert gateway.metric("segue_reccobeats_ids_total", kind="track", result="found") == 95


async def test_mixed_ids_are_matched_back_and_unknown_ids_come_back_missing(gateway: Gateway) -> None:
    t1, t2 = gateway.upstream.tracks[1], gateway.upstream.tracks[2]
    unknown = "unknownunknownunknown0"
    reply = await gateway.stub.GetAudioFeatures(
        pb.GetAudioFeaturesRequest(ids=[t1.spotify_id, unknown, t2.rb_id.upper(), t1.spotify_id]), timeout=10
    )
    assert gateway.upstream.ids_sent("/audio-features") == [[t1.spotify_id, unknown, t2.rb_id]]  # deduped
    assert [(f.id, f.reccobeats_id, f.spotify_id) for f in reply.features] == [
        (t1.spotify_id, t1.rb_id, t1.spotify_id),
        (t2.rb_id.upper(), t2.rb_id, t2.spotify_id),  # the ID as requested, matched case-insensitively
    ]
    assert reply.features[0].features.energy == pytest.approx(t1.features()["energy"])
    assert list(reply.missing) == [unknown]


async def test_tracks_without_analysed_features_are_missing_from_features_only(gateway: Gateway) -> None:
    unanalysed = gateway.upstream.tracks[9]
    features = await gateway.stub.GetAudioFeatures(pb.GetAudioFeaturesRequest(ids=[unanalysed.spotify_id]), timeout=10)
    tracks = await gateway.stub.GetTracks(pb.GetTracksRequest(ids=[unanalysed.spotify_id]), timeout=10)
    assert list(features.missing) == [unanalysed.spotify_id] and not features.features
    assert [t.spotify_id for t in tracks.tracks] == [unanalysed.spotify_id] and not tracks.missing


async def test_a_repeat_is_answered_from_the_cache_with_no_upstream_call(gateway: Gateway) -> None:
    known = [t.spotify_id for t in gateway.upstream.tracks[:50]]
    ids = [*known, "unknownunknownunknown0"]
    first = await gateway.stub.GetTracks(pb.GetTracksRequest(ids=ids), timeout=10)
    calls = len(gateway.upstream.requests)
    second = await gateway.stub.GetTracks(pb.GetTracksRequest(ids=ids), timeout=10)

    assert len(gateway.upstream.requests) == calls == 2
    assert list(second.tracks) == list(first.tracks)
    assert list(second.missing) == ["unknownunknownunknown0"]  # the absent marker answers too
    assert (second.cache.hits, second.cache.misses) == (51, 0)
    assert gateway.metric("segue_reccobeats_ids_total", kind="track", result="cached") == 51
    assert gateway.metric("segue_reccobeats_ids_total", kind="track", result="missing") == 1


async def test_a_track_fetched_by_spotify_id_is_cached_under_its_reccobeats_id_too(gateway: Gateway) -> None:
    t = gateway.upstream.tracks[5]
    await gateway.stub.GetTracks(pb.GetTracksRequest(ids=[t.spotify_id]), timeout=10)
    reply = await gateway.stub.GetTracks(pb.GetTracksRequest(ids=[t.rb_id]), timeout=10)
    assert len(gateway.upstream.calls("/track")) == 1
    assert reply.cache.hits == 1 and reply.tracks[0].spotify_id == t.spotify_id


async def test_a_429_with_retry_after_is_waited_out_then_succeeds(gateway: Gateway) -> None:
    t = gateway.upstream.tracks[0]
    gateway.upstream.scripted.append(httpx.Response(429, headers={"retry-after": "0.05"}))
    reply = await gateway.stub.GetTracks(pb.GetTracksRequest(ids=[t.spotify_id]), timeout=10)
    assert [x.spotify_id for x in reply.tracks] == [t.spotify_id] and not reply.warnings
    assert len(gateway.upstream.calls("/track")) == 2
    assert gateway.metric("segue_upstream_retries_total", upstream="reccobeats", reason="rate_limited") == 1


async def test_a_failing_batch_costs_only_its_ids_and_says_so(gateway: Gateway) -> None:
    ids = [t.spotify_id for t in gateway.upstream.tracks[:95]]
    gateway.upstream.fail_ids = {ids[50]}  # the second batch (ids[40:80]) always answers 500
    reply = await gateway.stub.GetTracks(pb.GetTracksRequest(ids=ids), timeout=10)

    assert [t.spotify_id for t in reply.tracks] == ids[:40] + ids[80:]
    assert not reply.missing  # a failed batch is unknown, not absent
    assert [(w.code, w.component) for w in reply.warnings] == [
        (common_pb2.WARNING_CODE_UPSTREAM_UNAVAILABLE, "reccobeats")
    ]
    assert "40 track ID(s)" in reply.warnings[0].message

    gateway.upstream.fail_ids = set()
    calls = len(gateway.upstream.calls("/track"))
    again = await gateway.stub.GetTracks(pb.GetTracksRequest(ids=ids), timeout=10)
    assert gateway.upstream.ids_sent("/track")[calls:] == [ids[40:80]]  # only the failed batch is asked again
    assert len(again.tracks) == 95 and (again.cache.hits, again.cache.misses) == (55, 40)


async def test_total_failure_with_nothing_to_return_is_unavailable(gateway: Gateway) -> None:
    gateway.upstream.fail_ids = {t.spotify_id for t in gateway.upstream.tracks}
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await gateway.stub.GetTracks(pb.GetTracksRequest(ids=[gateway.upstream.tracks[0].spotify_id]), timeout=10)
    assert err.value.code() == grpc.StatusCode.UNAVAILABLE
    assert "reccobeats" in (err.value.details() or "")
    assert len(gateway.upstream.calls("/track")) == 3  # RECCOBEAT_MAX_ATTEMPTS


async def test_total_failure_with_cached_answers_is_a_partial_result(gateway: Gateway) -> None:
    a, b = gateway.upstream.tracks[0].spotify_id, gateway.upstream.tracks[1].spotify_id
    await gateway.stub.GetTracks(pb.GetTracksRequest(ids=[a]), timeout=10)
    gateway.upstream.fail_ids = {b}
    reply = await gateway.stub.GetTracks(pb.GetTracksRequest(ids=[a, b]), timeout=10)
    assert [t.spotify_id for t in reply.tracks] == [a] and not reply.missing
    assert reply.warnings[0].code == common_pb2.WARNING_CODE_UPSTREAM_UNAVAILABLE


async def test_a_long_rate_limit_is_resource_exhausted_with_pushback(gateway: Gateway) -> None:
    gateway.upstream.scripted.append(httpx.Response(429, headers={"retry-after": "30"}))
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await gateway.stub.GetAudioFeatures(pb.GetAudioFeaturesRequest(ids=["abc"]), timeout=10)
    assert err.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
    assert ("grpc-retry-pushback-ms", "30000") in tuple(err.value.trailing_metadata() or ())
    assert len(gateway.upstream.requests) == 1  # no point retrying inside the caller's deadline


async def test_no_ids_means_no_call(gateway: Gateway) -> None:
    reply = await gateway.stub.GetTracks(pb.GetTracksRequest(), timeout=10)
    assert not reply.tracks and not reply.missing and not gateway.upstream.requests

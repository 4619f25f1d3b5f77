"""GetAudioFeatures (the shared ID lookup) through a real gRPC server, ReccoBeats behind httpx.MockTransport."""

from __future__ import annotations

import grpc
import httpx
import pytest
from segue.v1 import common_pb2
from segue.v1 import reccobeat_gateway_pb2 as pb

from tests.unit.reccobeat_gateway.conftest import Gateway
from tests.unit.reccobeat_gateway.fake_reccobeats import FakeTrack


def analysed(gateway: Gateway) -> list[FakeTrack]:
    """The fake's tracks that have audio features (every tenth has none)."""
    return [t for t in gateway.upstream.tracks if t.has_features]


async def features(gateway: Gateway, ids: list[str]) -> pb.GetAudioFeaturesResponse:
    return await gateway.stub.GetAudioFeatures(pb.GetAudioFeaturesRequest(ids=ids), timeout=10)


async def test_95_ids_go_upstream_in_3_batches_of_at_most_40(gateway: Gateway) -> None:
    tracks = analysed(gateway)[:95]
    ids = [t.spotify_id for t in tracks]
    reply = await features(gateway, ids)

    sent = gateway.upstream.ids_sent("/audio-features")
    assert sorted(len(batch) for batch in sent) == [15, 40, 40]
    assert sorted(i for batch in sent for i in batch) == sorted(ids)
    assert [f.id for f in reply.features] == ids  # request order, whatever order batches finished in
    assert not reply.missing and not reply.warnings
    assert (reply.cache.hits, reply.cache.misses) == (0, 95)
    first = reply.features[0]
    assert (first.spotify_id, first.reccobeats_id) == (ids[0], tracks[0].rb_id)
    assert gateway.metric("segue_reccobeats_batch_size_count", endpoint="GET /audio-features") == 3
    assert gateway.metric("segue_reccobeats_batch_size_sum", endpoint="GET /audio-features") == 95
    assert gateway.metric("segue_reccobeats_ids_total", kind="features", result="found") == 95


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


async def test_a_track_without_analysed_features_is_missing_and_registered_absent(gateway: Gateway) -> None:
    unanalysed = gateway.upstream.tracks[9]
    assert not unanalysed.has_features
    first = await features(gateway, [unanalysed.spotify_id])
    assert list(first.missing) == [unanalysed.spotify_id] and not first.features
    again = await features(gateway, [unanalysed.spotify_id])
    assert list(again.missing) == [unanalysed.spotify_id] and (again.cache.hits, again.cache.misses) == (1, 0)
    assert len(gateway.upstream.calls("/audio-features")) == 1  # the absent-ID registry answered the repeat


async def test_a_repeat_is_answered_from_the_cache_with_no_upstream_call(gateway: Gateway) -> None:
    known = [t.spotify_id for t in analysed(gateway)[:50]]
    ids = [*known, "unknownunknownunknown0"]
    first = await features(gateway, ids)
    calls = len(gateway.upstream.requests)
    second = await features(gateway, ids)

    assert len(gateway.upstream.requests) == calls == 2
    assert list(second.features) == list(first.features)
    assert list(second.missing) == ["unknownunknownunknown0"]  # the absent marker answers too
    assert (second.cache.hits, second.cache.misses) == (51, 0)
    assert gateway.metric("segue_reccobeats_ids_total", kind="features", result="cached") == 51
    assert gateway.metric("segue_reccobeats_ids_total", kind="features", result="missing") == 1


async def test_a_row_fetched_by_spotify_id_is_cached_under_its_reccobeats_id_too(gateway: Gateway) -> None:
    t = gateway.upstream.tracks[5]
    await features(gateway, [t.spotify_id])
    reply = await features(gateway, [t.rb_id])
    assert len(gateway.upstream.calls("/audio-features")) == 1
    assert reply.cache.hits == 1 and reply.features[0].spotify_id == t.spotify_id
    assert reply.features[0].id == t.rb_id  # the ID as requested, though the row was cached by the other


async def test_a_429_with_retry_after_is_waited_out_then_succeeds(gateway: Gateway) -> None:
    t = gateway.upstream.tracks[0]
    gateway.upstream.scripted.append(httpx.Response(429, headers={"retry-after": "0.05"}))
    reply = await features(gateway, [t.spotify_id])
    assert [x.spotify_id for x in reply.features] == [t.spotify_id] and not reply.warnings
    assert len(gateway.upstream.calls("/audio-features")) == 2
    assert gateway.metric("segue_upstream_retries_total", upstream="reccobeats", reason="rate_limited") == 1


async def test_a_failing_batch_costs_only_its_ids_and_says_so(gateway: Gateway) -> None:
    ids = [t.spotify_id for t in analysed(gateway)[:95]]
    gateway.upstream.fail_ids = {ids[50]}  # the second batch (ids[40:80]) always answers 500
    reply = await features(gateway, ids)

    assert [f.spotify_id for f in reply.features] == ids[:40] + ids[80:]
    assert not reply.missing  # a failed batch is unknown, not absent
    assert [(w.code, w.component) for w in reply.warnings] == [
        (common_pb2.WARNING_CODE_UPSTREAM_UNAVAILABLE, "reccobeats")
    ]
    assert "40 features ID(s)" in reply.warnings[0].message

    gateway.upstream.fail_ids = set()
    calls = len(gateway.upstream.calls("/audio-features"))
    again = await features(gateway, ids)
    assert gateway.upstream.ids_sent("/audio-features")[calls:] == [ids[40:80]]  # only the failed batch again
    assert len(again.features) == 95 and (again.cache.hits, again.cache.misses) == (55, 40)


async def test_total_failure_with_nothing_to_return_is_unavailable(gateway: Gateway) -> None:
    gateway.upstream.fail_ids = {t.spotify_id for t in gateway.upstream.tracks}
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await features(gateway, [gateway.upstream.tracks[0].spotify_id])
    assert err.value.code() == grpc.StatusCode.UNAVAILABLE
    assert "reccobeats" in (err.value.details() or "")
    assert len(gateway.upstream.calls("/audio-features")) == 3  # RECCOBEAT_MAX_ATTEMPTS


async def test_total_failure_with_cached_answers_is_a_partial_result(gateway: Gateway) -> None:
    a, b = gateway.upstream.tracks[0].spotify_id, gateway.upstream.tracks[1].spotify_id
    await features(gateway, [a])
    gateway.upstream.fail_ids = {b}
    reply = await features(gateway, [a, b])
    assert [f.spotify_id for f in reply.features] == [a] and not reply.missing
    assert reply.warnings[0].code == common_pb2.WARNING_CODE_UPSTREAM_UNAVAILABLE


async def test_a_long_rate_limit_is_resource_exhausted_with_pushback(gateway: Gateway) -> None:
    gateway.upstream.scripted.append(httpx.Response(429, headers={"retry-after": "30"}))
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await gateway.stub.GetAudioFeatures(pb.GetAudioFeaturesRequest(ids=["abc"]), timeout=10)
    assert err.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
    assert ("grpc-retry-pushback-ms", "30000") in tuple(err.value.trailing_metadata() or ())
    assert len(gateway.upstream.requests) == 1  # no point retrying inside the caller's deadline


async def test_no_ids_means_no_call(gateway: Gateway) -> None:
    reply = await features(gateway, [])
    assert not reply.features and not reply.missing and not gateway.upstream.requests

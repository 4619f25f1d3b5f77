"""Seed guardrails and GetRecommendations."""

from __future__ import annotations

import grpc
import httpx
import pytest
from segue.v1 import common_pb2
from segue.v1 import reccobeat_gateway_pb2 as pb

from services.common.errors import InvalidArgument
from services.reccobeat_gateway.guardrails import balance_seeds
from services.reccobeat_gateway.recommendations import exclude
from tests.unit.reccobeat_gateway.conftest import Gateway

A, B, C, D, E = (f"seed{c * 18}" for c in "abcde")


def codes(warnings: object) -> list[int]:
    return [w.code for w in warnings]  # type: ignore[attr-defined]


def test_negatives_that_are_also_seeds_are_dropped() -> None:
    balanced = balance_seeds([A, B, C], [B, D])
    assert (balanced.seeds, balanced.negative_seeds) == ((A, B, C), (D,))
    assert codes(balanced.warnings) == [common_pb2.WARNING_CODE_FALLBACK_USED]
    assert B in balanced.warnings[0].message


def test_negatives_are_trimmed_to_fewer_than_the_seeds() -> None:
    balanced = balance_seeds([A, B], [C, D, E])
    assert balanced.negative_seeds == (C,)
    assert "kept 1 of 3" in balanced.warnings[0].message
    assert balance_seeds([A], [B]).negative_seeds == ()


def test_overlap_and_ratio_both_apply_and_a_clean_request_is_untouched() -> None:
    both = balance_seeds([A, B], [A, C, D])
    assert both.negative_seeds == (C,) and len(both.warnings) == 2
    clean = balance_seeds([A, B, C], [D, E])
    assert clean.negative_seeds == (D, E) and not clean.warnings


def test_seed_counts_are_validated() -> None:
    with pytest.raises(InvalidArgument, match=r"seeds must hold 1\.\.5 track IDs, got none"):
        balance_seeds([], [])
    with pytest.raises(InvalidArgument, match="got 6"):
        balance_seeds([A] * 6, [])


def test_exclude_matches_either_id_and_keeps_each_track_once() -> None:
    t1 = common_pb2.Track(spotify_id="s1", reccobeats_id="r1")
    t2 = common_pb2.Track(spotify_id="s2", reccobeats_id="r2")
    assert exclude([t1, t2, t1], {"r1"}) == [t2]
    assert exclude([t1, t2, t2], {"x"}) == [t1, t2]


async def test_seeds_are_filtered_out_and_size_is_honoured(gateway: Gateway) -> None:
    seeds = [gateway.upstream.tracks[10].spotify_id, gateway.upstream.tracks[20].rb_id]
    reply = await gateway.stub.GetRecommendations(
        pb.GetRecommendationsRequest(
            seeds=seeds,
            size=10,
            targets=[
                common_pb2.FeatureTarget(feature=common_pb2.AUDIO_FEATURE_ENERGY, target=0.8),
                common_pb2.FeatureTarget(feature=common_pb2.AUDIO_FEATURE_TEMPO, target=120),
            ],
        ),
        timeout=10,
    )
    returned = {i for t in reply.tracks for i in (t.spotify_id, t.reccobeats_id)}
    assert len(reply.tracks) == 10 and returned.isdisjoint(seeds)
    assert list(reply.seeds_used) == seeds and not reply.negative_seeds_used and not reply.warnings
    (call,) = gateway.upstream.calls("/track/recommendation")
    params = call.url.params
    assert params["size"] == "12"  # room for the seeds that come back
    assert (params["energy"], params["tempo"]) == ("0.8", "120.0") and "featureWeight" not in params
    assert sorted(params["seeds"].split(",")) == sorted(seeds)


async def test_guardrails_change_what_is_sent_and_report_it(gateway: Gateway) -> None:
    seeds = [t.spotify_id for t in gateway.upstream.tracks[:2]]
    negatives = [seeds[0], gateway.upstream.tracks[3].spotify_id, gateway.upstream.tracks[4].spotify_id]
    reply = await gateway.stub.GetRecommendations(
        pb.GetRecommendationsRequest(seeds=seeds, negative_seeds=negatives, size=5), timeout=10
    )
    assert list(reply.negative_seeds_used) == [negatives[1]]
    assert codes(reply.warnings) == [common_pb2.WARNING_CODE_FALLBACK_USED] * 2
    (call,) = gateway.upstream.calls("/track/recommendation")
    assert call.url.params["negativeSeeds"] == negatives[1]
    returned = {t.spotify_id for t in reply.tracks}
    assert returned.isdisjoint([*seeds, negatives[1]])


async def test_a_400_is_retried_once_without_negatives_and_the_outcome_cached(gateway: Gateway) -> None:
    gateway.upstream.reject_negatives = True
    seeds = [t.spotify_id for t in gateway.upstream.tracks[:3]]
    request = pb.GetRecommendationsRequest(seeds=seeds, negative_seeds=[gateway.upstream.tracks[5].spotify_id], size=5)
    reply = await gateway.stub.GetRecommendations(request, timeout=10)

    first, second = gateway.upstream.calls("/track/recommendation")
    assert "negativeSeeds" in first.url.params and "negativeSeeds" not in second.url.params
    assert len(reply.tracks) == 5 and not reply.negative_seeds_used
    assert codes(reply.warnings) == [common_pb2.WARNING_CODE_FALLBACK_USED]
    assert "retried without negative seeds" in reply.warnings[0].message

    again = await gateway.stub.GetRecommendations(request, timeout=10)
    assert len(gateway.upstream.calls("/track/recommendation")) == 2  # the cache remembers, no second 400
    assert list(again.tracks) == list(reply.tracks) and list(again.warnings) == list(reply.warnings)
    assert (again.cache.hits, again.cache.misses) == (1, 0)


async def test_a_400_without_negatives_fails_as_a_precondition(gateway: Gateway) -> None:
    gateway.upstream.scripted.append(httpx.Response(400, text="unknown seed"))
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await gateway.stub.GetRecommendations(pb.GetRecommendationsRequest(seeds=[A], size=5), timeout=10)
    assert err.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert "400" in (err.value.details() or "") and len(gateway.upstream.requests) == 1


async def test_total_upstream_failure_is_unavailable(gateway: Gateway) -> None:
    gateway.upstream.scripted.extend(httpx.Response(503) for _ in range(3))
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await gateway.stub.GetRecommendations(pb.GetRecommendationsRequest(seeds=[A], size=5), timeout=10)
    assert err.value.code() == grpc.StatusCode.UNAVAILABLE

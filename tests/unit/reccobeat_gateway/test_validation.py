"""Bad requests are INVALID_ARGUMENT with a message the caller can act on, and cost no upstream call."""

from __future__ import annotations

from typing import Any

import grpc
import pytest
from segue.v1 import common_pb2
from segue.v1 import reccobeat_gateway_pb2 as pb

from services.common.features import feature_named
from tests.unit.reccobeat_gateway.conftest import Gateway

SEED = "4uLU6hMCjMI75M1A2tKUQC"


def target(name: str, value: float) -> common_pb2.FeatureTarget:
    """A target for the feature `name` names; a name that names none is sent as an enum number no feature has."""
    feature = feature_named(name)
    return common_pb2.FeatureTarget(feature=99 if feature is None else feature, target=value)


def recs(**kw: Any) -> tuple[str, Any]:
    kw.setdefault("seeds", [SEED])
    kw.setdefault("size", 10)
    return "GetRecommendations", pb.GetRecommendationsRequest(**kw)


CASES = [
    (recs(seeds=[]), "seeds must hold 1..5 track IDs, got none"),
    (recs(seeds=[f"{SEED[:-1]}{i}" for i in range(6)]), "seeds must hold 1..5 track IDs, got 6"),
    (recs(negative_seeds=[f"neg{i:019d}" for i in range(6)]), "negative_seeds may hold at most 5 track IDs, got 6"),
    (recs(size=-1), "size must be 1..100 (0 means 20), got -1"),
    (recs(size=101), "size must be 1..100 (0 means 20), got 101"),
    (recs(targets=[target("energy", 1.5)]), "targets[0].target for energy must be 0..1, got 1.5"),
    (recs(targets=[target("tempo", 120), target("loudness", 5)]), "targets[1].target for loudness must be -60..2"),
    (recs(targets=[target("happiness", 0.5)]), "targets[0].feature must be an AudioFeature, got 99"),
    (recs(targets=[target("energy", 0.5), target("energy", 0.6)]), "targets[1] repeats the feature energy"),
    (recs(seeds=["a,b"]), "seeds[0] must be a Spotify track ID or a ReccoBeats UUID, got 'a,b'"),
    (("GetAudioFeatures", pb.GetAudioFeaturesRequest(ids=[SEED, " "])), "ids[1] is empty"),
    (("GetAudioFeatures", pb.GetAudioFeaturesRequest(ids=["spotify:track:x"])), "ids[0] must be a Spotify track ID"),
    (("GetAudioFeatures", pb.GetAudioFeaturesRequest(ids=[f"id{i}" for i in range(251)])), "at most 250 IDs per call"),
    (
        ("GetAudioFeatures", pb.GetAudioFeaturesRequest(ids=[SEED] * 251)),
        "ids may hold at most 250 IDs per call, got 251",
    ),
    (("GetAudioFeatures", pb.GetAudioFeaturesRequest(ids=[SEED + "\n"])), "ids[0] must be a Spotify track ID"),
    (("GetAudioFeatures", pb.GetAudioFeaturesRequest(ids=[" " + SEED])), "ids[0] must be a Spotify track ID"),
    (("SearchArtists", pb.SearchArtistsRequest(query="  ")), "query must not be empty"),
    (("SearchArtists", pb.SearchArtistsRequest(query="x" * 1001)), "query must be at most 1000 characters"),
    (("SearchArtists", pb.SearchArtistsRequest(query="a", size=51)), "size must be 1..50 (0 means 25), got 51"),
    (("GetArtistTracks", pb.GetArtistTracksRequest(artist_id=SEED)), "artist_id must be a ReccoBeats UUID"),
    (
        ("GetArtistTracks", pb.GetArtistTracksRequest(artist_id="2670c328-c40f-45f4-80df-f48b29296deb", size=-1)),
        "size must be 1..50",
    ),
]


@pytest.mark.parametrize(("call", "message"), CASES, ids=[m[:40] for _, m in CASES])
async def test_invalid_requests_are_rejected_with_an_actionable_message(
    gateway: Gateway, call: tuple[str, Any], message: str
) -> None:
    method, request = call
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await getattr(gateway.stub, method)(request, timeout=10)
    assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert message in (err.value.details() or "")
    assert not gateway.upstream.requests

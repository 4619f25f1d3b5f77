"""Audio features for a list of tracks, through the ReccoBeat gateway (one call; it batches and caches)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from grpc import aio
from segue.v1 import common_pb2, reccobeat_gateway_pb2, reccobeat_gateway_pb2_grpc


@dataclass
class FeatureLookup:
    tracks: list[common_pb2.Track]  # copies of the input, with features and ReccoBeats IDs where known
    # False when the gateway did not answer: the features are unknown, which is not the same as absent.
    answered: bool
    cache: common_pb2.CacheUsage = field(default_factory=common_pb2.CacheUsage)
    warnings: list[common_pb2.Warning] = field(default_factory=list)

    @property
    def with_features(self) -> list[common_pb2.Track]:
        return [t for t in self.tracks if t.HasField("audio_features")]


async def attach_features(
    gateway: reccobeat_gateway_pb2_grpc.ReccoBeatGatewayAsyncStub, tracks: Sequence[common_pb2.Track]
) -> FeatureLookup:
    copies = [_copy(t) for t in tracks]
    ids = list(dict.fromkeys(t.spotify_id for t in copies if t.spotify_id))
    if not ids:
        return FeatureLookup(copies, answered=True)
    try:
        response = await gateway.GetAudioFeatures(reccobeat_gateway_pb2.GetAudioFeaturesRequest(ids=ids))
    except aio.AioRpcError as exc:
        problem = f"audio features unavailable ({exc.code().name}: {exc.details()}); tracks are unscored"
        unavailable = common_pb2.Warning(
            code=common_pb2.WARNING_CODE_UPSTREAM_UNAVAILABLE, component="reccobeat_gateway", message=problem
        )
        return FeatureLookup(copies, answered=False, warnings=[unavailable])
    by_id = {f.id: f for f in response.features}
    for track in copies:
        found = by_id.get(track.spotify_id)
        if found is not None and found.HasField("features"):
            track.audio_features.CopyFrom(found.features)
            track.reccobeats_id = track.reccobeats_id or found.reccobeats_id
    lookup = FeatureLookup(copies, answered=True, cache=response.cache, warnings=list(response.warnings))
    lacking = len(copies) - len(lookup.with_features)
    if lacking:
        lookup.warnings.append(
            common_pb2.Warning(
                code=common_pb2.WARNING_CODE_MISSING_DATA,
                component="reccobeats",
                message=f"{lacking} of {len(copies)} tracks have no audio features",
            )
        )
    return lookup


def _copy(track: common_pb2.Track) -> common_pb2.Track:
    out = common_pb2.Track()
    out.CopyFrom(track)
    return out

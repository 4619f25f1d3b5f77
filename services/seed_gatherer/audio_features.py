"""Audio features for a list of tracks, through the ReccoBeat gateway (one call; it batches and caches)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from segue.v1 import common_pb2, reccobeat_gateway_pb2, reccobeat_gateway_pb2_grpc

from services.common.degradation import RECCOBEAT_GATEWAY, RECCOBEATS, PeerFailed, ask_peer, degraded, missing_features


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
        request = reccobeat_gateway_pb2.GetAudioFeaturesRequest(ids=ids)
        response = await ask_peer(RECCOBEAT_GATEWAY, gateway.GetAudioFeatures(request))
    except PeerFailed as exc:
        unavailable = degraded(exc, RECCOBEAT_GATEWAY, "audio features unavailable, tracks are unscored")
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
        lookup.warnings.append(missing_features(RECCOBEATS, lacking, len(copies)))
    return lookup


def _copy(track: common_pb2.Track) -> common_pb2.Track:
    out = common_pb2.Track()
    out.CopyFrom(track)
    return out

"""gRPC face of the gateway: requests in, logic called, responses out. Nothing else lives here."""

from __future__ import annotations

from grpc import aio
from segue.v1 import common_pb2, reccobeat_gateway_pb2_grpc
from segue.v1 import reccobeat_gateway_pb2 as pb

from services.common.cache import cache_warnings
from services.reccobeat_gateway.artists import Artists
from services.reccobeat_gateway.lookup import BatchLookup
from services.reccobeat_gateway.recommendations import Recommender


class ReccoBeatGatewayServicer(reccobeat_gateway_pb2_grpc.ReccoBeatGatewayServicer):
    def __init__(
        self,
        features: BatchLookup[pb.TrackFeatures],
        artist_ids: BatchLookup[common_pb2.Artist],
        recommender: Recommender,
        artists: Artists,
    ) -> None:
        self._features = features
        self._artist_ids = artist_ids
        self._recommender = recommender
        self._artists = artists

    async def GetAudioFeatures(
        self, request: pb.GetAudioFeaturesRequest, context: aio.ServicerContext
    ) -> pb.GetAudioFeaturesResponse:
        result = await self._features.get(request.ids)
        features = []
        for requested, row in result.found.items():
            item = pb.TrackFeatures()
            item.CopyFrom(row)
            item.id = requested
            features.append(item)
        return pb.GetAudioFeaturesResponse(
            features=features,
            missing=result.missing,
            cache=result.cache,
            warnings=[*result.warnings, *cache_warnings()],
        )

    async def GetRecommendations(
        self, request: pb.GetRecommendationsRequest, context: aio.ServicerContext
    ) -> pb.GetRecommendationsResponse:
        result = await self._recommender.recommend(request.seeds, request.negative_seeds, request.size, request.targets)
        return pb.GetRecommendationsResponse(
            tracks=result.tracks,
            seeds_used=result.seeds_used,
            negative_seeds_used=result.negative_seeds_used,
            cache=result.cache,
            warnings=[*result.warnings, *cache_warnings()],
        )

    async def SearchArtists(
        self, request: pb.SearchArtistsRequest, context: aio.ServicerContext
    ) -> pb.SearchArtistsResponse:
        artists, cache = await self._artists.search(request.query, request.size)
        return pb.SearchArtistsResponse(artists=artists, cache=cache, warnings=cache_warnings())

    async def GetArtists(self, request: pb.GetArtistsRequest, context: aio.ServicerContext) -> pb.GetArtistsResponse:
        result = await self._artist_ids.get(request.ids)
        return pb.GetArtistsResponse(
            artists=result.found.values(), missing=result.missing, cache=result.cache, warnings=result.warnings
        )

    async def GetArtistTracks(
        self, request: pb.GetArtistTracksRequest, context: aio.ServicerContext
    ) -> pb.GetArtistTracksResponse:
        tracks, cache = await self._artists.tracks(request.artist_id, request.size)
        return pb.GetArtistTracksResponse(tracks=tracks, cache=cache, warnings=cache_warnings())

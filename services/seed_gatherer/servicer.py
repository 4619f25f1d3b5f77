"""gRPC surface of the seed gatherer: validate, call the logic, build the response."""

from __future__ import annotations

from grpc import aio
from segue.v1 import seed_gatherer_pb2, seed_gatherer_pb2_grpc

from services.common.cache import cache_warnings
from services.common.call_context import SPOTIFY_TOKEN_HEADER, metadata_value, spotify_token
from services.seed_gatherer import requests
from services.seed_gatherer.discovery import ArtistDiscovery
from services.seed_gatherer.gathering import SeedGatherer


class SeedGathererServicer(seed_gatherer_pb2_grpc.SeedGathererServicer):
    def __init__(self, gatherer: SeedGatherer, discovery: ArtistDiscovery) -> None:
        self._gatherer = gatherer
        self._discovery = discovery

    async def GatherSeeds(
        self, request: seed_gatherer_pb2.GatherSeedsRequest, context: aio.ServicerContext
    ) -> seed_gatherer_pb2.GatherSeedsResponse:
        token = spotify_token(context)
        ask = requests.gather_input(request)
        result = await self._gatherer.gather(
            ask.user_id, token, ask.prompt, ask.mood, ask.max_seeds, impersonal=request.impersonal
        )
        return seed_gatherer_pb2.GatherSeedsResponse(
            seeds=result.seeds,
            candidates=result.candidates,
            timings=result.timings,
            cache=result.cache,
            warnings=[*result.warnings, *cache_warnings()],
            negative_seeds=result.negative_seeds,
            excluded=result.excluded,
            user_top_share=result.user_top_share,
            top_artists=result.top_artists,
            ambiguous_mentions=result.ambiguous_mentions,
        )

    async def DiscoverArtists(
        self, request: seed_gatherer_pb2.DiscoverArtistsRequest, context: aio.ServicerContext
    ) -> seed_gatherer_pb2.DiscoverArtistsResponse:
        ask = requests.discover_input(request)
        # Optional here: without a token, discovery asks ReccoBeats only (the background warming of popular moods).
        token = metadata_value(context, SPOTIFY_TOKEN_HEADER).strip()
        return await self._discovery.discover(token, ask.prompt, ask.mood, shared=ask.shared)

    async def WarmUserContext(
        self, request: seed_gatherer_pb2.WarmUserContextRequest, context: aio.ServicerContext
    ) -> seed_gatherer_pb2.WarmUserContextResponse:
        token = spotify_token(context)
        warmed = await self._gatherer.warm(requests.warm_user_id(request), token)
        return seed_gatherer_pb2.WarmUserContextResponse(
            top_tracks=warmed.top_tracks, top_artists=warmed.top_artists, from_cache=warmed.from_cache
        )

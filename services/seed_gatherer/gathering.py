"""GatherSeeds and WarmUserContext: the user's context → audio features → seeds, or the fallback search.

Every call first verifies whose token it carries (services.common.identity): the user's context is
reached only through that identity, whatever user_id the caller names. Then it degrades instead of
failing: Spotify down or a new user → seeds from a search for the mood's genres; the ReccoBeat
gateway down → the user's top tracks unscored, in Spotify's order. Only a rejected token fails the
call (the caller must refresh it).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from segue.v1 import common_pb2, reccobeat_gateway_pb2_grpc, seed_gatherer_pb2

from services.common.errors import SegueError, Unauthenticated
from services.common.identity import Identities, Identity
from services.seed_gatherer.audio_features import FeatureLookup, attach_features
from services.seed_gatherer.degradation import upstream_warning
from services.seed_gatherer.fallback import search_mood_tracks
from services.seed_gatherer.phases import PhaseClock, PhaseMetrics
from services.seed_gatherer.seed_selection import ScoredTrack, pick_candidates, pick_seeds, rank, unranked
from services.seed_gatherer.spotify_client import SpotifyClient
from services.seed_gatherer.user_context import UserContext, UserContextLoader

log = logging.getLogger(__name__)

_USER_TOP = common_pb2.TRACK_SOURCE_USER_TOP
# Tracks found for the mood rather than taken from the user: what the monolith called anchor candidates.
_MOOD_SEARCH = common_pb2.TRACK_SOURCE_ANCHOR


@dataclass
class GatherResult:
    seeds: list[seed_gatherer_pb2.Seed] = field(default_factory=list)
    candidates: list[common_pb2.Track] = field(default_factory=list)
    timings: list[common_pb2.PhaseTiming] = field(default_factory=list)
    cache: common_pb2.CacheUsage = field(default_factory=common_pb2.CacheUsage)
    warnings: list[common_pb2.Warning] = field(default_factory=list)

    def absorb(self, cache: common_pb2.CacheUsage, warnings: list[common_pb2.Warning]) -> None:
        self.cache.hits += cache.hits
        self.cache.misses += cache.misses
        self.warnings.extend(warnings)


@dataclass(frozen=True)
class WarmResult:
    top_tracks: int
    top_artists: int
    from_cache: bool


def _scored(lookup: FeatureLookup, mood: common_pb2.MoodProfile, context: UserContext | None) -> list[ScoredTrack]:
    if not lookup.answered:
        return unranked(lookup.tracks)
    return rank(lookup.with_features, mood, context.genres_by_artist() if context else None)


def _seeds(chosen: list[ScoredTrack], source: common_pb2.TrackSource.ValueType) -> list[seed_gatherer_pb2.Seed]:
    return [seed_gatherer_pb2.Seed(track=s.track, score=s.score, source=source) for s in chosen]


class SeedGatherer:
    def __init__(
        self,
        identities: Identities,
        contexts: UserContextLoader,
        spotify: SpotifyClient,
        gateway: reccobeat_gateway_pb2_grpc.ReccoBeatGatewayAsyncStub,
        metrics: PhaseMetrics,
    ) -> None:
        self._identities = identities
        self._contexts = contexts
        self._spotify = spotify
        self._gateway = gateway
        self._metrics = metrics

    async def gather(self, user_id: str, token: str, mood: common_pb2.MoodProfile, max_seeds: int) -> GatherResult:
        """`user_id` is what the caller expects the token's user to be (or empty); the token decides."""
        async with self._identities.acting_as(token, user_id) as identity:
            return await self._gather(identity, token, mood, max_seeds)

    async def _gather(
        self, identity: Identity, token: str, mood: common_pb2.MoodProfile, max_seeds: int
    ) -> GatherResult:
        clock = PhaseClock(self._metrics)
        result = GatherResult(timings=clock.timings)
        context: UserContext | None = None
        with clock.phase("user_context"):
            try:
                context = await self._contexts.load(identity.key, token)
                result.absorb(context.cache_usage, context.warnings)
            except Unauthenticated:
                raise
            except SegueError as exc:
                result.warnings.append(upstream_warning("spotify", exc, "top tracks skipped"))
        top_tracks = context.top_tracks if context else []
        with clock.phase("features"):
            lookup = await attach_features(self._gateway, top_tracks)
            result.absorb(lookup.cache, lookup.warnings)
        with clock.phase("select"):
            chosen, rest = pick_seeds(_scored(lookup, mood, context), max_seeds)
            result.seeds = _seeds(chosen, _USER_TOP)
            result.candidates = pick_candidates(rest)
        if not chosen:
            with clock.phase("fallback"):
                await self._fallback(result, token, mood, max_seeds, _why_unusable(context))
        return result

    async def _fallback(
        self, result: GatherResult, token: str, mood: common_pb2.MoodProfile, max_seeds: int, why: str
    ) -> None:
        search = await search_mood_tracks(self._spotify, token, mood)
        result.warnings.extend(search.warnings)
        if not search.described:
            result.warnings.append(_no_seeds(f"no usable top tracks ({why}) and the mood names no genres or artists"))
            return
        lookup = await attach_features(self._gateway, search.tracks)
        result.absorb(lookup.cache, lookup.warnings)
        chosen, _ = pick_seeds(_scored(lookup, mood, None), max_seeds)
        if not chosen:
            result.warnings.append(
                _no_seeds(f"no usable top tracks ({why}) and nothing usable from {search.described}")
            )
            return
        result.seeds = _seeds(chosen, _MOOD_SEARCH)
        result.warnings.append(
            common_pb2.Warning(
                code=common_pb2.WARNING_CODE_FALLBACK_USED,
                component="seed_gatherer",
                message=f"no usable top tracks ({why}): seeds come from a Spotify search for {search.described}",
            )
        )

    async def warm(self, user_id: str, token: str) -> WarmResult:
        """Load (and cache) the user's context, and warm the gateway's feature cache for the top tracks."""
        async with self._identities.acting_as(token, user_id) as identity:
            context = await self._contexts.load(identity.key, token)
        lookup = await attach_features(self._gateway, context.top_tracks)
        if not lookup.answered:
            log.warning("warming audio features failed", extra={"warnings": [w.message for w in lookup.warnings]})
        return WarmResult(len(context.top_tracks), len(context.top_artists), context.from_cache)


def _why_unusable(context: UserContext | None) -> str:
    if context is None:
        return "Spotify did not answer"
    return "none has audio features" if context.top_tracks else "the user has none yet"


def _no_seeds(message: str) -> common_pb2.Warning:
    return common_pb2.Warning(code=common_pb2.WARNING_CODE_PARTIAL_RESULT, component="seed_gatherer", message=message)

"""GatherSeeds and WarmUserContext: seeds and candidates from three places at once, then balanced.

    user context → its audio features ─┐
    the tracks the prompt names ───────┼─▶ balance ─▶ seeds, candidates, negative seeds
    anchors: the mood's genres ────────┤
    what the prompt rules out ─────────┘

The named tracks and anchors come back without audio features: the orchestrator fetches theirs with the
recommendations' in one batch, so nothing waits for them here.

Every call first verifies whose token it carries (services.common.identity): the user's context is
reached only through that identity, whatever user_id the caller names. Then it degrades instead of
failing: Spotify down or a new user → seeds from the named tracks and anchors; the ReccoBeat gateway
down → the user's top tracks unscored, in Spotify's order. Only a rejected token fails the call (the
caller must refresh it).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable
from dataclasses import dataclass, field
from typing import TypeVar

from segue.v1 import common_pb2, reccobeat_gateway_pb2_grpc, seed_gatherer_pb2

from services.common.degradation import SEED_GATHERER, SPOTIFY, Accounting, absorb, degraded, fallback_used
from services.common.errors import SegueError, Unauthenticated
from services.common.fanout import task_group
from services.common.genres import Excluder, genre_index, with_genres
from services.common.identity import Identities, Identity
from services.seed_gatherer import anchors, exclusions, mentions
from services.seed_gatherer.audio_features import FeatureLookup, attach_features
from services.seed_gatherer.balance import negative_seeds, plan_seeds, user_top_share
from services.seed_gatherer.catalog_search import CatalogSearch
from services.seed_gatherer.phases import PhaseClock, PhaseMetrics
from services.seed_gatherer.seed_selection import ScoredTrack, pick_candidates, rank, unranked
from services.seed_gatherer.user_context import UserContext, UserContextLoader

log = logging.getLogger(__name__)
T = TypeVar("T")

_USER_TOP = common_pb2.TRACK_SOURCE_USER_TOP
_NAMED = common_pb2.TRACK_SOURCE_USER_MENTIONED
_ANCHOR = common_pb2.TRACK_SOURCE_MOOD_SEARCH


@dataclass
class GatherResult(Accounting):
    seeds: list[seed_gatherer_pb2.Seed] = field(default_factory=list)
    candidates: list[seed_gatherer_pb2.Seed] = field(default_factory=list)
    negative_seeds: list[str] = field(default_factory=list)
    excluded: common_pb2.Exclusions = field(default_factory=common_pb2.Exclusions)
    user_top_share: float = 0.0
    top_artists: list[common_pb2.Artist] = field(default_factory=list)
    ambiguous_mentions: list[seed_gatherer_pb2.AmbiguousMention] = field(default_factory=list)
    timings: list[common_pb2.PhaseTiming] = field(default_factory=list)


@dataclass(frozen=True)
class WarmResult:
    top_tracks: int
    top_artists: int
    from_cache: bool


@dataclass
class UserTop:
    context: UserContext | None
    lookup: FeatureLookup
    warnings: list[common_pb2.Warning]
    left_out: bool = False  # asked for no personalisation


def _scored(lookup: FeatureLookup, mood: common_pb2.MoodProfile, context: UserContext | None) -> list[ScoredTrack]:
    if not lookup.answered:
        return unranked(lookup.tracks)
    return rank(lookup.with_features, mood, context.genres_by_artist() if context else None)


class SeedGatherer:
    def __init__(
        self,
        identities: Identities,
        contexts: UserContextLoader,
        search: CatalogSearch,
        gateway: reccobeat_gateway_pb2_grpc.ReccoBeatGatewayAsyncStub,
        metrics: PhaseMetrics,
    ) -> None:
        self._identities = identities
        self._contexts = contexts
        self._search = search
        self._gateway = gateway
        self._metrics = metrics

    async def gather(
        self,
        user_id: str,
        token: str,
        prompt: str,
        mood: common_pb2.MoodProfile,
        max_seeds: int,
        *,
        impersonal: bool = False,
    ) -> GatherResult:
        """`user_id` is what the caller expects the token's user to be (or empty); the token decides.
        `impersonal`: the user's own top tracks are left out (the caller's overload admission asked)."""
        async with self._identities.acting_as(token, user_id) as identity:
            return await self._gather(identity, token, prompt, mood, max_seeds, impersonal)

    async def _gather(
        self,
        identity: Identity,
        token: str,
        prompt: str,
        mood: common_pb2.MoodProfile,
        max_seeds: int,
        impersonal: bool = False,
    ) -> GatherResult:
        clock = PhaseClock(self._metrics)
        result = GatherResult(timings=clock.timings)
        # A failure (a rejected token above all) cancels the other sources and is raised as itself.
        async with task_group() as group:
            top_task = group.create_task(_left_out() if impersonal else self._user_top(clock, identity, token))
            finding = mentions.resolve(self._search, token, mood.mentioned_tracks)
            named_task = group.create_task(_timed(clock, "mentions", finding))
            searching = anchors.search_mood_tracks(self._search, token, mood, prompt)
            anchor_task = group.create_task(_timed(clock, "anchors", searching))
            ruling = exclusions.resolve(self._search, token, mood)
            ruled_task = group.create_task(_timed(clock, "exclusions", ruling))
        top, named, anchored, ruled = top_task.result(), named_task.result(), anchor_task.result(), ruled_task.result()
        result.absorb(top.lookup.cache, top.warnings + top.lookup.warnings)
        result.looked_up(named.searches, named.cache_hits, named.warnings)
        result.looked_up(anchored.searches, anchored.cache_hits, anchored.warnings)
        result.looked_up(ruled.searches, ruled.cache_hits, ruled.warnings)
        result.excluded = ruled.excluded
        context = top.context
        result.top_artists = list(context.top_artists) if context else []

        with clock.phase("select"):
            known = genre_index(result.top_artists)
            top_ranked = _scored(top.lookup, mood, context)
            for item in top_ranked:
                with_genres(item.track, known)
            excluder = Excluder(ruled.excluded, mood.avoid)
            allowed = [s for s in top_ranked if excluder.admits(s.track)]
            ambiguous = mentions.settle(named, mood.artists, [a.name for a in result.top_artists])
            result.ambiguous_mentions = [
                seed_gatherer_pb2.AmbiguousMention(named=v.named, versions=v.tracks) for v in ambiguous
            ]
            mentioned = [ScoredTrack(t, 0.0) for t in named.found]
            # Anchors are taken in Spotify's order (most popular first): their features come later, with the
            # recommendations', in one batch, so the recommendations need not wait for them.
            anchor_ranked = [ScoredTrack(t, 0.0) for t in anchored.tracks if excluder.admits(t)]
            result.user_top_share = user_top_share(mood, prompt, result.top_artists, bool(allowed))
            chosen = plan_seeds(max_seeds, mentioned, anchor_ranked, allowed, result.user_top_share)
            result.seeds = [seed_gatherer_pb2.Seed(track=s.track, score=s.score, source=src) for s, src in chosen]
            result.candidates = _candidates(mentioned, anchor_ranked, allowed)
            kept = {id(s) for s in allowed}
            ruled_out = [*ruled.tracks, *(s.track for s in top_ranked if id(s) not in kept)]
            result.negative_seeds = negative_seeds(ruled_out, [s.track.spotify_id for s in result.seeds])
        self._explain(result, top, named, anchored, bool(allowed))
        return result

    async def _user_top(self, clock: PhaseClock, identity: Identity, token: str) -> UserTop:
        context: UserContext | None = None
        warnings: list[common_pb2.Warning] = []
        with clock.phase("user_context"):
            try:
                context = await self._contexts.load(identity.key, token)
                warnings += context.warnings
            except Unauthenticated:
                raise
            except SegueError as exc:
                warnings.append(degraded(exc, SPOTIFY, "top tracks skipped"))
            lookup = await attach_features(self._gateway, context.top_tracks if context else [])
        if context is not None:
            absorb(lookup, context.cache_usage, ())
        return UserTop(context, lookup, warnings)

    def _explain(
        self,
        result: GatherResult,
        top: UserTop,
        named: mentions.Mentions,
        anchored: anchors.MoodSearch,
        usable_top: bool,
    ) -> None:
        """Say why the user's own tracks played no part, or why there are no seeds at all."""
        if named.missing:
            result.warnings.append(
                common_pb2.Warning(
                    code=common_pb2.WARNING_CODE_MISSING_DATA,
                    component=SPOTIFY,
                    message="not found in the catalog: "
                    + "; ".join(f"{m.title} by {m.artist}" if m.artist else m.title for m in named.missing),
                )
            )
        if usable_top:
            return
        if top.left_out and result.seeds:
            return  # the caller asked for no personalisation and says so in its own answer
        why = _why_unusable(top.context)
        if not result.seeds:
            what = (
                f"nothing usable from {anchored.described}"
                if anchored.described
                else "the mood names no genres or artists"
            )
            result.warnings.append(_no_seeds(f"no usable top tracks ({why}) and {what}"))
            return
        result.warnings.append(
            fallback_used(
                SEED_GATHERER,
                f"no usable top tracks ({why}): seeds come from the named tracks and a Spotify search for "
                f"{anchored.described or 'nothing'}",
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


async def _left_out() -> UserTop:
    """No user context at all: the caller asked for a pass without personalisation."""
    return UserTop(None, FeatureLookup([], answered=True), [], left_out=True)


async def _timed(clock: PhaseClock, name: str, pending: Awaitable[T]) -> T:
    with clock.phase(name):
        return await pending


def _candidates(
    mentioned: list[ScoredTrack], anchor_ranked: list[ScoredTrack], top: list[ScoredTrack]
) -> list[seed_gatherer_pb2.Seed]:
    """Everything worth ranking: the named tracks and anchors (their fit is judged later, with their features),
    and the top tracks that fit."""
    fitting = pick_candidates(top)
    return [
        *(seed_gatherer_pb2.Seed(track=s.track, score=s.score, source=_NAMED) for s in mentioned),
        *(seed_gatherer_pb2.Seed(track=s.track, score=s.score, source=_ANCHOR) for s in anchor_ranked),
        *(seed_gatherer_pb2.Seed(track=s.track, score=s.score, source=_USER_TOP) for s in fitting),
    ]


def _why_unusable(context: UserContext | None) -> str:
    if context is None:
        return "Spotify did not answer"
    return "none has audio features or fits what the prompt allows" if context.top_tracks else "the user has none yet"


def _no_seeds(message: str) -> common_pb2.Warning:
    return common_pb2.Warning(code=common_pb2.WARNING_CODE_PARTIAL_RESULT, component=SEED_GATHERER, message=message)

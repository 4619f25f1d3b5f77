"""The Recommend workflow as a dependency graph, each step started as soon as its inputs exist.

    user context (Spotify) ──────┐
    mood (LLM) ──┬─▶ seeds: named tracks, anchors, top tracks ─▶ recommendations ─▶ their features ─┬─▶ rank
     its start ──┴─▶ artist discovery: artists ─▶ their tracks ─▶ features ──────────────────────────┘

The user's context is warmed while the LLM reads the prompt, so seed selection finds it cached. The
LLM's answer streams, genres, artists and exclusions first: artist discovery, which needs nothing else,
begins from that start while the model still writes the feature targets the seeds need; the seeds and
discovery then run side by side. A later pass in the same session re-ranks the
session's pool when the prompt asks the catalog for the same things (sessions.py). Upstream trouble
degrades the answer (with a warning) instead of failing it wherever a useful playlist can still be
made; an invalid token or request fails the call, and so does a pass that finds no track at all:
NOT_FOUND when nothing fits what the prompt allows, UNAVAILABLE when upstream trouble is why. A peer
that cannot be reached fails fast (see services.common.channels) and is worked around too: no
llm_gateway → the mood read by keyword heuristics here; no seed_gatherer → seeds from the artists the
mood names (seed_fallback).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import TypeVar

import grpc
from segue.v1 import (
    common_pb2,
    llm_gateway_pb2,
    orchestrator_pb2,
    reccobeat_gateway_pb2,
    seed_gatherer_pb2,
)

from services.common import call_context, margins, mood_heuristics
from services.common.cache import cache_warnings
from services.common.degradation import (
    LLM_GATEWAY,
    ORCHESTRATOR,
    RECCOBEAT_GATEWAY,
    RECCOBEATS,
    SEED_GATHERER,
    Accounting,
    degraded,
    fallback_used,
    missing_features,
)
from services.common.errors import DeadlineExceeded, NotFound, SegueError, Unavailable
from services.common.fanout import alongside, task_group, tolerant
from services.common.genres import genre_index, with_genres
from services.orchestrator import ledger, mention_versions, ranking, seed_fallback
from services.orchestrator.overload import Plan, mood_timeout
from services.orchestrator.peers import PeerFailed, Peers, call, token_metadata
from services.orchestrator.ranking import Candidate
from services.orchestrator.requests import RecommendParams
from services.orchestrator.sessions import Session

log = logging.getLogger(__name__)

Emit = Callable[[orchestrator_pb2.Progress], None]
R = TypeVar("R")

MAX_SEEDS = 5
RESERVE_S = margins.RANK_AND_ANSWER_S  # kept back from the deadline to rank and answer with what has arrived
# Ask ReccoBeats for more than the playlist needs: ranking drops poor fits, repeats and artist clusters.
POOL_FACTOR = 1.25  # 25 for a playlist of 20: with the anchors', their features fit one 40-ID batch
MIN_POOL = 25


@dataclass
class Tally(Accounting):
    """What the request cost and where it degraded, gathered from every step."""

    timings: list[common_pb2.PhaseTiming] = field(default_factory=list)
    llm: common_pb2.LlmUsage = field(default_factory=common_pb2.LlmUsage)

    def unique_warnings(self) -> list[common_pb2.Warning]:
        """Each warning once: several peers report the same trouble (e.g. the shared cache) alike."""
        seen: set[tuple[int, str, str]] = set()
        out = []
        for w in (*self.warnings, *cache_warnings()):
            if (w.code, w.component, w.message) not in seen:
                seen.add((w.code, w.component, w.message))
                out.append(w)
        return out

    def add_llm(self, usage: common_pb2.LlmUsage) -> None:
        self.llm.calls += usage.calls
        self.llm.prompt_tokens += usage.prompt_tokens
        self.llm.output_tokens += usage.output_tokens
        self.llm.cache_hits += usage.cache_hits


class Clock:
    def __init__(self, emit: Emit, tally: Tally) -> None:
        self._t0 = time.perf_counter()
        self._last = self._t0
        self._emit = emit
        self._tally = tally

    def phase(
        self,
        name: str,
        phase: orchestrator_pb2.Phase.ValueType,
        message: str,
        count: int = 0,
        mood: common_pb2.MoodProfile | None = None,
    ) -> None:
        now = time.perf_counter()
        self._tally.timings.append(common_pb2.PhaseTiming(phase=name, seconds=now - self._last))
        self._last = now
        self._emit(
            orchestrator_pb2.Progress(
                phase=phase, message=message, elapsed_seconds=now - self._t0, count=count, mood=mood
            )
        )

    def total(self) -> None:
        self._tally.timings.append(common_pb2.PhaseTiming(phase="total", seconds=time.perf_counter() - self._t0))


async def optional_step(component: str, pending: Awaitable[R], tally: Tally, what: str) -> R | None:
    """A step the playlist can do without: on upstream trouble or the deadline, warn and go on without it.

    A refused token or a bad request still fails the call: no partial answer can fix those.
    """
    try:
        return await call(component, pending)
    except DeadlineExceeded as exc:  # no time left to even start the step (raised before the call goes out)
        tally.warnings.append(degraded(exc, component, f"{what} skipped"))
        return None
    except PeerFailed as exc:
        if exc.code not in (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED):
            raise
        tally.warnings.append(degraded(exc, component, f"{what} skipped"))
        return None


def step_timeout() -> float | None:
    """Time for a step that may be cut short: the deadline less what ranking and answering need.

    None (no deadline) leaves the channel's default peer timeout in force.
    """
    remaining = call_context.time_remaining()
    return None if remaining is None else max(0.0, remaining - RESERVE_S)


def llm_timeout(budget_s: float | None) -> float | None:
    """An LLM call's time: the LLM step's own budget when admission set one, never past the deadline."""
    return None if budget_s is None else mood_timeout(budget_s, call_context.time_remaining(), RESERVE_S)


OnStart = Callable[[common_pb2.MoodProfile], None]


async def read_mood_stream(
    updates: AsyncIterator[llm_gateway_pb2.AnalyzeMoodStreamResponse], on_start: OnStart | None
) -> llm_gateway_pb2.AnalyzeMoodResponse:
    """The streamed mood's answer; its start, when one comes first, handed to `on_start` meanwhile. Read to
    the stream's end, so the call ends with the gateway's status, not cancelled by us."""
    answer = None
    async for update in updates:
        if update.HasField("done"):
            answer = update.done
        elif on_start is not None:
            on_start(update.start)
    if answer is None:
        raise Unavailable("the LLM gateway ended the mood's stream without an answer")
    return answer


async def analyze_mood(
    peers: Peers,
    params: RecommendParams,
    session: Session,
    tally: Tally,
    budget_s: float | None = None,
    on_start: OnStart | None = None,
) -> common_pb2.MoodProfile:
    """The mood within the LLM step's own budget (`budget_s`, never past the deadline): when the LLM
    gateway cannot answer within it, the keyword reading answers in time. `on_start` gets the start of the
    mood (no targets yet) while the LLM still writes the rest, when the LLM is asked."""
    reused = session.mood_for(params.prompt)
    if reused is not None:
        return reused
    request = llm_gateway_pb2.AnalyzeMoodRequest(prompt=params.prompt, refines=session.mood)
    stream = peers.llm.AnalyzeMoodStream(
        llm_gateway_pb2.AnalyzeMoodStreamRequest(request=request), timeout=llm_timeout(budget_s)
    )
    try:
        answer = await call(LLM_GATEWAY, read_mood_stream(stream, on_start))
    except PeerFailed as exc:
        if exc.code not in (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED):
            raise
        # The same keyword reading the llm_gateway falls back on when Gemini fails.
        tally.warnings.append(fallback_used(ORCHESTRATOR, f"the mood was read by keyword heuristics: {exc.message}"))
        return mood_heuristics.mood_profile(params.prompt)
    finally:
        stream.cancel()  # a no-op once it has ended; else (the pass failed meanwhile) it stops the LLM's work
    tally.add_llm(answer.usage)
    tally.warnings.extend(answer.warnings)
    return answer.mood


class MoodAhead:
    """The mood of a prompt that begins a session, asked for while Spotify says whose token it is.

    Such a mood depends on the prompt alone, never on whose request it is (and the LLM gateway shares it
    between users), so the LLM step need not wait for a new token's GET /v1/me. It starts only when that
    call goes out (`start`): a known token is checked in Redis at once, and a repeat reuses its session's
    mood. Its LLM usage and warnings join the pass that takes it; a refused token cancels it.
    """

    def __init__(self, group: asyncio.TaskGroup, peers: Peers, params: RecommendParams, budget_s: float | None):
        self._group, self._peers, self._params, self._budget_s = group, peers, params, budget_s
        self._tally = Tally()
        self._asking: asyncio.Task[common_pb2.MoodProfile | SegueError] | None = None
        self._start: common_pb2.MoodProfile | None = None  # the start of the mood, kept until a pass takes it
        self._on_start: OnStart | None = None

    def _started(self, start: common_pb2.MoodProfile) -> None:
        self._start = start
        if self._on_start is not None:
            self._on_start(start)

    def start(self) -> None:
        if self._asking is None:
            mood = analyze_mood(
                self._peers, self._params, Session(session_id=""), self._tally, self._budget_s, self._started
            )
            # Its error comes back as its result, raised where the pass takes it: never cancelling the check.
            self._asking = self._group.create_task(tolerant(mood, fatal=()), name="mood-ahead")

    def cancel(self) -> None:
        if self._asking is not None:
            self._asking.cancel()

    async def take(self, tally: Tally, on_start: OnStart | None = None) -> common_pb2.MoodProfile | None:
        """The mood, if it was asked for ahead (None: it was not); its start goes to `on_start` meanwhile
        (at once if it came already)."""
        if self._asking is None:
            return None
        self._on_start = on_start
        if self._start is not None and on_start is not None:
            on_start(self._start)
        mood = await self._asking
        tally.add_llm(self._tally.llm)
        tally.warnings.extend(self._tally.warnings)
        if isinstance(mood, SegueError):
            raise mood
        return mood


@asynccontextmanager
async def mood_ahead(peers: Peers, params: RecommendParams, budget_s: float | None) -> AsyncIterator[MoodAhead | None]:
    """What may ask for the mood ahead during the block (see MoodAhead), cancelled if still running when the
    block ends; None for a prompt naming a session, whose mood builds on the session's (a tweak refines it)."""
    if params.session_id:
        yield None
        return
    async with task_group() as group:
        ahead = MoodAhead(group, peers, params, budget_s)
        try:
            yield ahead
        finally:
            ahead.cancel()


async def warm_user_context(peers: Peers, user_id: str, token: str) -> None:
    request = seed_gatherer_pb2.WarmUserContextRequest(user_id=user_id)
    warmed: seed_gatherer_pb2.WarmUserContextResponse = await call(
        SEED_GATHERER, peers.seeds.WarmUserContext(request, metadata=token_metadata(token))
    )
    ledger.note(
        "seed_gatherer.WarmUserContext",
        {"top_tracks": warmed.top_tracks, "top_artists": warmed.top_artists, "from_cache": warmed.from_cache},
    )


async def gather_seeds(
    peers: Peers, params: RecommendParams, mood: common_pb2.MoodProfile, tally: Tally, impersonal: bool = False
) -> seed_gatherer_pb2.GatherSeedsResponse:
    request = seed_gatherer_pb2.GatherSeedsRequest(
        user_id=params.user_id, mood_prompt=params.prompt, mood=mood, max_seeds=MAX_SEEDS, impersonal=impersonal
    )
    try:
        answer: seed_gatherer_pb2.GatherSeedsResponse = await call(
            SEED_GATHERER, peers.seeds.GatherSeeds(request, metadata=token_metadata(params.token))
        )
    except PeerFailed as exc:
        if exc.code != grpc.StatusCode.UNAVAILABLE:
            raise
        answer = await seed_fallback.seeds_from_mood_artists(peers.reccobeats, mood, MAX_SEEDS, exc.message)
    else:
        ledger.note("seed_gatherer.GatherSeeds", {"timings_ms": ledger.milliseconds(answer.timings)})
    tally.absorb(answer.cache, answer.warnings)
    return answer


async def discover_artists(
    peers: Peers, params: RecommendParams, mood: common_pb2.MoodProfile, tally: Tally, plan: Plan
) -> seed_gatherer_pb2.DiscoverArtistsResponse | None:
    """Not `plan.verified`: without the token, so the seed gatherer asks ReccoBeats only (nothing of Spotify's).
    A lean plan takes any discovery of the same search, made for another mood (shared)."""
    request = seed_gatherer_pb2.DiscoverArtistsRequest(
        mood_prompt=params.prompt, mood=mood, shared=not plan.recommendations
    )
    metadata = token_metadata(params.token) if plan.verified else ()
    answer = await optional_step(
        SEED_GATHERER,
        peers.seeds.DiscoverArtists(request, metadata=metadata, timeout=step_timeout()),
        tally,
        "artist discovery",
    )
    if answer is not None:
        tally.absorb(answer.cache, answer.warnings)
        # A discovery served from the cache took no time of its own: its timings are cleared.
        ledger.note("seed_gatherer.DiscoverArtists", {"timings_ms": ledger.milliseconds(answer.timings)})
    return answer


async def recommend_around(
    peers: Peers, seeds: seed_gatherer_pb2.GatherSeedsResponse, mood: common_pb2.MoodProfile, size: int, tally: Tally
) -> list[common_pb2.Track]:
    seed_ids = [s.track.spotify_id or s.track.reccobeats_id for s in seeds.seeds][:MAX_SEEDS]
    if not seed_ids:
        return []
    request = reccobeat_gateway_pb2.GetRecommendationsRequest(
        seeds=seed_ids,
        negative_seeds=seeds.negative_seeds,
        size=min(100, max(MIN_POOL, round(size * POOL_FACTOR))),
        targets=mood.targets,
    )
    answer = await optional_step(
        RECCOBEAT_GATEWAY,
        peers.reccobeats.GetRecommendations(request, timeout=step_timeout()),
        tally,
        "recommendations around the seeds",
    )
    if answer is None:
        return []
    tally.absorb(answer.cache, answer.warnings)
    # The gateway's guardrails may drop seeds (unknown to ReccoBeats) and negatives (too many, or overlapping).
    ledger.note(
        "reccobeat_gateway.GetRecommendations",
        {
            "seeds": len(seed_ids),
            "seeds_used": len(answer.seeds_used),
            "negative_seeds": len(request.negative_seeds),
            "negative_seeds_used": len(answer.negative_seeds_used),
        },
    )
    return list(answer.tracks)


async def attach_features(peers: Peers, tracks: list[common_pb2.Track], tally: Tally) -> None:
    """Fill in audio features for tracks that came without them (recommendations, anchors, named tracks)."""
    lacking = {t.reccobeats_id or t.spotify_id: t for t in tracks if not t.HasField("audio_features")}
    lacking.pop("", None)
    if not lacking:
        return
    request = reccobeat_gateway_pb2.GetAudioFeaturesRequest(ids=list(lacking))
    answer = await optional_step(
        RECCOBEAT_GATEWAY,
        peers.reccobeats.GetAudioFeatures(request, timeout=step_timeout()),
        tally,
        "audio features of the candidates",
    )
    if answer is None:
        return
    tally.absorb(answer.cache, answer.warnings)
    for item in answer.features:
        track = lacking.get(item.id)
        if track is not None:
            track.audio_features.CopyFrom(item.features)


async def choose_versions(
    peers: Peers, prompt: str, seeds: seed_gatherer_pb2.GatherSeedsResponse, tally: Tally, budget_s: float | None
) -> None:
    """The LLM's choice among the versions of each title the prompt names alone (mention_versions): one
    RunTasks call for all of them, the versions shown with their features, within the LLM step's budget."""
    ambiguous = list(seeds.ambiguous_mentions)
    if not ambiguous:
        return
    await attach_features(peers, mention_versions.versions_of(ambiguous), tally)
    request = mention_versions.tasks_request(prompt, ambiguous)
    answer = await optional_step(
        LLM_GATEWAY,
        peers.llm.RunTasks(request, timeout=llm_timeout(budget_s) if budget_s is not None else step_timeout()),
        tally,
        "choosing which version of a song named by its title alone is meant (the best known stands in)",
    )
    if answer is None:
        return
    tally.add_llm(answer.usage)
    tally.warnings.extend(answer.warnings)
    changed = mention_versions.apply_choices(seeds.candidates, ambiguous, answer.results)
    ledger.note("llm_gateway.RunTasks", {"choices": len(request.tasks), "changed": changed})


@dataclass
class Gathered:
    """Everything a full pass found, ready to rank (and to keep in the session)."""

    pool: list[Candidate]
    excluded: common_pb2.Exclusions
    share: float
    known_artists: list[common_pb2.Artist]


def pool_of(
    seeds: seed_gatherer_pb2.GatherSeedsResponse,
    discovered: seed_gatherer_pb2.DiscoverArtistsResponse | None,
    recommended: list[common_pb2.Track],
) -> Gathered:
    """The candidates, named tracks first (the first of duplicates wins), artists' genres filled in."""
    known = [*seeds.top_artists, *(discovered.artists if discovered else [])]
    index = genre_index(known)
    pool = [Candidate(s.track, s.source) for s in seeds.candidates]
    pool += [Candidate(s.track, s.source) for s in (discovered.tracks if discovered else [])]
    pool += [Candidate(t, common_pb2.TRACK_SOURCE_RECOMMENDATION) for t in recommended]
    pool.sort(key=lambda c: c.source != common_pb2.TRACK_SOURCE_USER_MENTIONED)
    for candidate in pool:
        with_genres(candidate.track, index)
    return Gathered(pool, seeds.excluded, seeds.user_top_share, known)


class EarlyDiscovery:
    """Artist discovery begun from the start of the mood (genres, artists, exclusions: all it asks), while the
    LLM still writes the feature targets, so the longest chain of the pass starts ~0.3 s sooner. Discovery
    scores its tracks by the targets only for its own order: ranking scores every candidate again."""

    def __init__(self, group: asyncio.TaskGroup, peers: Peers, params: RecommendParams, tally: Tally, plan: Plan):
        self._group, self._peers, self._params, self._tally, self._plan = group, peers, params, tally, plan
        self.task: asyncio.Task[seed_gatherer_pb2.DiscoverArtistsResponse | None] | None = None
        self._begun_at = 0.0

    def begin(self, start: common_pb2.MoodProfile) -> None:
        if self.task is None:
            self._begun_at = time.perf_counter()
            discovering = discover_artists(self._peers, self._params, start, self._tally, self._plan)
            self.task = self._group.create_task(discovering, name="early-discovery")

    def note(self) -> None:
        """Once the whole mood is in: how far ahead of it discovery began (the ledger's line of the request)."""
        if self.task is not None:
            ahead_ms = round((time.perf_counter() - self._begun_at) * 1000, 1)
            ledger.note("orchestrator.early_discovery", {"ahead_of_mood_ms": ahead_ms})

    def cancel(self) -> None:
        if self.task is not None:
            self.task.cancel()


async def full_pass(
    peers: Peers,
    params: RecommendParams,
    mood: common_pb2.MoodProfile,
    tally: Tally,
    clock: Clock,
    plan: Plan,
    early: EarlyDiscovery | None = None,
) -> Gathered:
    """Seeds → recommendations → their features, beside artist discovery (begun `early` from the start of the
    mood when it came before the rest); both under one TaskGroup.

    GatherSeeds does not wait for the warming: when the mood came at once (from a cache), the user's context
    is still loading, and the seed gatherer lets GatherSeeds share that load while it searches. Not
    `plan.verified` (nobody confirmed whose token this is): no GatherSeeds, which would verify it again; the
    seeds are the mood's artists' tracks, and discovery goes without the token. Not `plan.recommendations`
    (lean): the seeds' own candidates and discovery make the pool, without recommendations around them.
    """
    impersonal, verified = not plan.personalised, plan.verified

    async def seeds_then_recommendations() -> tuple[seed_gatherer_pb2.GatherSeedsResponse, list[common_pb2.Track]]:
        if verified:
            seeds = await gather_seeds(peers, params, mood, tally, impersonal)
        else:
            seeds = await seed_fallback.mood_artist_seeds(peers.reccobeats, mood, MAX_SEEDS)
            tally.absorb(seeds.cache, seeds.warnings)
        clock.phase(
            "seeds", orchestrator_pb2.PHASE_SEEDS_GATHERED, f"{len(seeds.seeds)} seeds chosen", len(seeds.seeds)
        )
        async with task_group() as group:  # the stand-in versions of named titles meanwhile seed the recommendations
            group.create_task(choose_versions(peers, params.prompt, seeds, tally, plan.mood_budget_s))
            recommended = await recommend_around(peers, seeds, mood, params.size, tally) if plan.recommendations else []
        # One batch for the recommendations and the named tracks and anchors, which came without features.
        await attach_features(peers, [*recommended, *(c.track for c in seeds.candidates)], tally)
        return seeds, recommended

    async with task_group() as group:
        seeding = group.create_task(seeds_then_recommendations())
        if early is not None and early.task is not None:
            discovering = early.task
        else:
            discovering = group.create_task(discover_artists(peers, params, mood, tally, plan))
        discovered = await discovering
    seeds, recommended = seeding.result()
    return pool_of(seeds, discovered, recommended)


async def warm_beside(peers: Peers, user_id: str, token: str) -> None:
    """The warming as side work of a pass: its failure is only logged, since GatherSeeds, which shares its
    load, says what matters of it (a rejected token fails the call there)."""
    try:
        await warm_user_context(peers, user_id, token)
    except Exception as exc:
        log.info("warming the user context failed: %s", exc)


def no_playlist(tally: Tally, verified: bool = True, pool_size: int = 0) -> SegueError:
    """Why a pass found nothing: upstream trouble (UNAVAILABLE) or nothing that fits (NOT_FOUND).

    An unverified pass that found no candidate at all is upstream trouble too: Spotify's (who the token is,
    and its catalog search) and, when the mood came from keywords, the LLM's, which would have named artists.
    """
    if not verified and not pool_size:
        return Unavailable(
            "no playlist could be made: Spotify could not confirm whose token this is, and the prompt alone "
            "gave no track to start from without it (no artist of the mood was found on ReccoBeats); retry later"
        )
    troubled = [
        w
        for w in tally.warnings
        if w.code in (common_pb2.WARNING_CODE_UPSTREAM_UNAVAILABLE, common_pb2.WARNING_CODE_UPSTREAM_RATE_LIMITED)
    ]
    if troubled:
        reasons = "; ".join(f"{w.component}: {w.message}" for w in troubled[:3])
        return Unavailable(f"no playlist could be made because upstream services failed ({reasons}); retry later")
    said = "; ".join(w.message for w in tally.warnings[:3])
    return NotFound(
        "no track fits this mood as the prompt asks"
        + (f" ({said})" if said else "")
        + ": name fewer exclusions or a broader genre, or describe the mood instead"
    )


async def recommend(
    peers: Peers,
    params: RecommendParams,
    session: Session,
    emit: Emit,
    plan: Plan | None = None,
    ahead: MoodAhead | None = None,
) -> orchestrator_pb2.RecommendResponse:
    """`plan`: what overload admission allows (default: everything, the mood within the deadline).
    `ahead`: the mood, already asked for (a session's first prompt); else it is asked for here."""
    plan = plan or Plan()
    tally = Tally()
    clock = Clock(emit, tally)
    same_prompt = session.same_prompt(params.prompt)
    if not plan.personalised:
        tally.warn(common_pb2.WARNING_CODE_FALLBACK_USED, ORCHESTRATOR, plan.why_impersonal)
    # The warming lives only as long as the gathering it serves: a failed mood step, a reused pool or the
    # end of the pass cancels it if it still runs, and waits until it has ended. No warming for a pass
    # that goes without the user's taste.
    warming = (
        alongside(warm_beside(peers, params.user_id, params.token), "warm-user-context")
        if plan.personalised
        else contextlib.nullcontext()
    )
    async with warming, task_group() as group:
        early = EarlyDiscovery(group, peers, params, tally, plan)
        repeat = session.mood_for(params.prompt) is not None  # a repeat keeps its session's mood
        taken = await ahead.take(tally, early.begin) if ahead is not None and not repeat else None
        mood = (
            taken
            if taken is not None
            else await analyze_mood(peers, params, session, tally, plan.mood_budget_s, early.begin)
        )
        clock.phase("mood", orchestrator_pb2.PHASE_MOOD_ANALYZED, mood.interpretation or "mood understood", mood=mood)
        early.note()
        reused = session.pool_for(mood)
        if reused is None:
            gathered = await full_pass(peers, params, mood, tally, clock, plan, early)
        else:
            early.cancel()  # the session's pool serves this mood: nothing to discover
    if reused is not None:
        record = session.record
        gathered = Gathered(reused, record.excluded, record.user_top_share, list(record.known_artists))
        clock.phase("seeds", orchestrator_pb2.PHASE_SEEDS_GATHERED, "seeds of this session reused")
        tally.cache.hits += 1
    clock.phase(
        "candidates",
        orchestrator_pb2.PHASE_CANDIDATES_FOUND,
        f"{len(gathered.pool)} candidate tracks" + (" (from this session)" if reused is not None else ""),
        len(gathered.pool),
    )

    asked = ranking.Asked.of(mood, params.prompt, gathered.excluded, gathered.known_artists, gathered.share)
    served = session.served if same_prompt else []
    playlist = ranking.build_playlist(gathered.pool, asked, params.size, exclude=served)
    clock.phase("rank", orchestrator_pb2.PHASE_RANKED, f"{len(playlist)} tracks ranked and ordered", len(playlist))
    clock.total()
    if not playlist:
        raise no_playlist(tally, plan.verified, len(gathered.pool))

    if len(playlist) < params.size:
        tally.warn(
            common_pb2.WARNING_CODE_PARTIAL_RESULT,
            ORCHESTRATOR,
            f"found {len(playlist)} tracks that fit what the prompt allows, of the {params.size} asked for"
            + (" (tracks already served in this session are skipped)" if served else ""),
        )
    missing = sum(not r.track.HasField("audio_features") for r in playlist)
    if missing:
        tally.warnings.append(missing_features(RECCOBEATS, missing))

    session.remember(params.prompt, mood, gathered.pool, gathered.excluded, gathered.share, gathered.known_artists)
    session.serve([r.track.spotify_id for r in playlist])
    return orchestrator_pb2.RecommendResponse(
        tracks=[
            orchestrator_pb2.PlaylistEntry(track=r.track, score=r.score, source=r.source, reason=r.reason)
            for r in playlist
        ],
        mood=mood,
        timings=tally.timings,
        cache=tally.cache,
        llm=tally.llm,
        warnings=tally.unique_warnings(),
        session_id=session.session_id,
        request_id=call_context.request_id(),
    )

"""Overload admission: decided from the shared upstream budget before any expensive step starts.

When more requests arrive than the upstream budget can serve, an answer is either a playlist of the
requested size — degraded only in what it can do without, personalisation first — or an early
RESOURCE_EXHAUSTED with `retry-after-ms`. A 4-track playlist after 25 s is what this removes.

The decision reads the scheduler's own view (`BudgetView`, the GCRA state in Redis), never timeouts:
how long until each upstream could serve the calls a pass makes, counting the calls of passes this
process admitted whose calls have not gone out yet. A full pass asks Spotify for the user's top
tracks and artists beside the mood step, then ReccoBeats after it; a pass without personalisation
skips the user's own tracks (no Spotify call for them, fewer ReccoBeats lookups); a lean pass also skips
the fresh recommendations around the seeds and their features, and builds the playlist from what the
mood's genres share with every other request (artist discovery, anchors: mostly cached once a few
requests asked for the same genres), so under sustained overload each request costs about one call.

- full: it fits within the queue target (and the caller's deadline) with everything → go.
- impersonal: only without the user's top tracks → go without them, with a warning saying so.
- lean: only from the mood's shared work → go so, with a warning saying so.
- shed: not even that fits the caller's deadline → RESOURCE_EXHAUSTED at once, retry after the time it is
  short by.

The queue target (OVERLOAD_TARGET_S) keeps the upstream queues short: a pass that would wait past it is
degraded rather than queued, so the cheap passes behind it are not held up by a queue as long as the
deadline (a caller allowing 60 s would otherwise get every answer after ~58 s under sustained overload).

With no wait on any upstream the pass always goes in full: the time estimates matter only under contention.
"""

from __future__ import annotations

import contextlib
import enum
from collections.abc import AsyncIterator, Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import NoReturn

from prometheus_client import CollectorRegistry, Counter
from segue.v1 import common_pb2, orchestrator_pb2

from services.common import call_context
from services.common.errors import ResourceExhausted
from services.common.scheduler import BudgetView
from services.common.upstream_http import LatencyWindow

SPOTIFY = "spotify"
RECCOBEATS = "reccobeats"
GEMINI = "gemini"

# Upstream calls one pass of a new user with a new prompt makes once the identity is known, as measured
# under load on the realistic profile (`make bench-quick`: 5–7 Spotify and ~7 ReccoBeats calls per
# answered request, some catalog searches shared through the cache): the user's top tracks and artists,
# the searches for anchors, named tracks, exclusions and discovery; recommendations, features and
# discovery's lookups. Without personalisation: no top tracks or artists, and no features for them.
FULL_CALLS: Mapping[str, int] = {SPOTIFY: 6, RECCOBEATS: 7}
IMPERSONAL_CALLS: Mapping[str, int] = {SPOTIFY: 4, RECCOBEATS: 6}
# A lean pass's searches and discovery are shared by every request for the same genres: about one call each.
LEAN_CALLS: Mapping[str, int] = {SPOTIFY: 1, RECCOBEATS: 1}
# The identity check of a new token (GET /me), made before either: counted whether or not it is cached.
IDENTITY_CALLS: Mapping[str, int] = {SPOTIFY: 1}

# Before any pass was observed: a mood step and the rest of a pass, in seconds, with nothing to wait for.
DEFAULT_MOOD_S = 2.5
DEFAULT_WORK_S = 2.0
MIN_RETRY_S = 0.25
DEFAULT_MOOD_BUDGET_S = 6.0  # LLM_MOOD_BUDGET_S: the LLM step's own budget
DEFAULT_TARGET_S = 12.0  # OVERLOAD_TARGET_S: how long a full or impersonal pass may expect to take


@dataclass(frozen=True)
class OverloadMetrics:
    admissions: Counter
    shed: Counter

    @classmethod
    def create(cls, registry: CollectorRegistry) -> OverloadMetrics:
        metrics = cls(
            admissions=Counter(
                "segue_recommend_admissions_total",
                "Fresh Recommend passes by admission verdict: full, impersonal (without the user's top tracks) "
                "or shed (refused at once with RESOURCE_EXHAUSTED and retry-after-ms).",
                ("verdict",),
                registry=registry,
            ),
            shed=Counter(
                "segue_recommend_shed_total",
                "Recommend calls refused at admission because the upstream budget could not serve them before "
                "their deadline, by the upstream whose wait decided it.",
                ("reason",),
                registry=registry,
            ),
        )
        for verdict in Verdict:
            metrics.admissions.labels(verdict.value)
        return metrics


class Verdict(enum.StrEnum):
    FULL = "full"
    IMPERSONAL = "impersonal"
    LEAN = "lean"
    SHED = "shed"


PLAN_CALLS: Mapping[Verdict, Mapping[str, int]] = {
    Verdict.FULL: FULL_CALLS,
    Verdict.IMPERSONAL: IMPERSONAL_CALLS,
    Verdict.LEAN: LEAN_CALLS,
}


@dataclass(frozen=True)
class Admit:
    verdict: Verdict
    expected_s: float  # how long the pass is expected to take as admitted (the better plan's, when shed)
    retry_after_s: float = 0.0  # shed: when it could fit
    bottleneck: str = ""  # the upstream whose wait decided it ("" when nothing waits)


@dataclass(frozen=True)
class Plan:
    """What a pass may do, as admission decided."""

    personalised: bool = True
    mood_budget_s: float | None = None  # the LLM step's own budget; None: whatever the deadline leaves
    why_impersonal: str = ""  # the warning's text when not personalised (or lean)
    # False (lean): no fresh recommendations around the seeds; the playlist comes from the mood's shared work.
    recommendations: bool = True
    # False: nobody confirmed whose token this is (services.orchestrator.admission.Unverified), so nothing is
    # asked with it: seeds from the mood's artists, artist discovery without the token (ReccoBeats only).
    verified: bool = True


def plan_for(admit: Admit, mood_budget_s: float) -> Plan:
    if admit.verdict is Verdict.FULL:
        return Plan(mood_budget_s=mood_budget_s)
    saturated = f"the {admit.bottleneck or 'upstream'} budget is saturated"
    if admit.verdict is Verdict.LEAN:
        return Plan(
            personalised=False,
            mood_budget_s=mood_budget_s,
            recommendations=False,
            why_impersonal=(
                f"{saturated}: this playlist comes from tracks already found for the mood's genres and artists, "
                f"without fresh recommendations or your own top tracks (not personalised), so that it could be "
                f"made in time (~{admit.expected_s:.1f}s)"
            ),
        )
    return Plan(
        personalised=False,
        mood_budget_s=mood_budget_s,
        why_impersonal=(
            f"{saturated}: this playlist leaves out your own top tracks (not personalised) so that it could be "
            f"made in time (~{admit.expected_s:.1f}s)"
        ),
    )


def pass_seconds(mood_s: float, work_s: float, waits: Mapping[str, float]) -> float:
    """A pass's expected duration. Its Spotify calls (the identity check first) and the mood step come
    before its ReccoBeats calls, which go at their place in ReccoBeats' queue (the wait counts the calls
    of passes ahead of it) or once the seeds are there, whichever is later; then the rest of the pass."""
    return max(waits.get(SPOTIFY, 0.0) + mood_s, waits.get(RECCOBEATS, 0.0)) + work_s


def bottleneck(waits: Mapping[str, float]) -> str:
    upstream, wait = max(waits.items(), key=lambda kv: kv[1], default=("", 0.0))
    return upstream if wait > 0 else ""


@dataclass(frozen=True)
class Waits:
    """Each plan's wait per upstream, as the shared budget sees it now (pending passes counted)."""

    full: Mapping[str, float]
    impersonal: Mapping[str, float]
    lean: Mapping[str, float]


def decide(remaining_s: float | None, mood_s: float, work_s: float, waits: Waits, target_s: float) -> Admit:
    """The first plan that fits: full or impersonal within the queue target (and the deadline), lean within
    the deadline; else shed. With no wait anywhere, always full."""
    full_s = pass_seconds(mood_s, work_s, waits.full)
    limit = target_s if remaining_s is None else min(target_s, remaining_s)
    if not any(w > 0 for w in waits.full.values()) or full_s <= limit:
        return Admit(Verdict.FULL, full_s, bottleneck=bottleneck(waits.full))
    why = bottleneck(waits.full)
    impersonal_s = pass_seconds(mood_s, work_s, waits.impersonal)
    if impersonal_s <= limit:
        return Admit(Verdict.IMPERSONAL, impersonal_s, bottleneck=why)
    lean_s = pass_seconds(mood_s, work_s, waits.lean)
    if remaining_s is None or lean_s <= remaining_s:
        return Admit(Verdict.LEAN, lean_s, bottleneck=why)
    return Admit(
        Verdict.SHED,
        lean_s,
        retry_after_s=max(MIN_RETRY_S, lean_s - remaining_s),
        bottleneck=bottleneck(waits.lean) or why,
    )


def mood_timeout(budget_s: float, remaining_s: float | None, reserve_s: float) -> float:
    """The LLM step's own budget, never more than the caller's deadline leaves (less `reserve_s` to go on)."""
    if remaining_s is None:
        return budget_s
    return max(0.0, min(budget_s, remaining_s - reserve_s))


@dataclass(frozen=True)
class Admitted:
    plan: Plan
    release: Callable[[], None] = lambda: None  # the pass's calls have gone out: stop counting them as pending

    def watch(self, emit: Callable[[orchestrator_pb2.Progress], None]) -> Callable[[orchestrator_pb2.Progress], None]:
        """`emit`, releasing the pass's pending calls when its seeds are gathered (its Spotify calls and most
        of its ReccoBeats calls are then in the scheduler's own state)."""

        def forward(progress: orchestrator_pb2.Progress) -> None:
            if progress.phase == orchestrator_pb2.PHASE_SEEDS_GATHERED:
                self.release()
            emit(progress)

        return forward


def phase_seconds(timings: Iterable[common_pb2.PhaseTiming]) -> tuple[float, float] | None:
    """A finished pass's mood step and the rest of it, from its answer's timings."""
    by_phase = {t.phase: t.seconds for t in timings}
    if "mood" not in by_phase or "total" not in by_phase:
        return None
    return by_phase["mood"], max(0.0, by_phase["total"] - by_phase["mood"])


class Overload:
    """Admission from the shared budget, with the calls of admitted passes that have not gone out yet.

    Without Redis (one process, no shared budget) every pass goes in full.
    """

    def __init__(
        self,
        view: BudgetView | None,
        mood_budget_s: float,
        metrics: OverloadMetrics | None = None,
        target_s: float = DEFAULT_TARGET_S,
    ) -> None:
        self._view = view
        self._mood_budget_s = mood_budget_s
        self._target_s = target_s
        self._metrics = metrics
        self._pending: dict[str, int] = {SPOTIFY: 0, RECCOBEATS: 0}
        self._mood = LatencyWindow(100)
        self._work = LatencyWindow(100)

    @property
    def mood_budget_s(self) -> float:
        return self._mood_budget_s

    async def _waits(self, calls: Mapping[str, int], extra: Mapping[str, int]) -> dict[str, float]:
        assert self._view is not None
        waits: dict[str, float] = {}
        for upstream, own in calls.items():
            total = own + extra.get(upstream, 0) + self._pending[upstream]
            waits[upstream] = await self._view.estimate_wait(upstream, calls=total) if total > 0 else 0.0
        return waits

    def estimates(self) -> tuple[float, float]:
        """The mood step (typical, never past its budget) and the rest of a pass with nothing to wait for
        (the fastest recent: slower ones waited for the budget, which the waits already count)."""
        mood = min(self._mood_budget_s, self._mood.quantile(0.5, 5) or DEFAULT_MOOD_S)
        return mood, self._work.quantile(0.1, 5) or DEFAULT_WORK_S

    async def admit(self, extra: Mapping[str, int] | None = None) -> Admit:
        """The verdict for a pass that also makes the `extra` calls (e.g. the identity check's GET /me)."""
        if self._view is None:
            return Admit(Verdict.FULL, 0.0)
        extra = extra or {}
        mood_s, work_s = self.estimates()
        full = await self._waits(FULL_CALLS, extra)
        if any(w > 0 for w in full.values()):
            waits = Waits(full, await self._waits(IMPERSONAL_CALLS, extra), await self._waits(LEAN_CALLS, extra))
        else:
            waits = Waits(full, full, full)
        return decide(call_context.time_remaining(), mood_s, work_s, waits, self._target_s)

    def _shed(self, admit: Admit) -> NoReturn:
        if self._metrics is not None:
            self._metrics.admissions.labels(admit.verdict.value).inc()
            self._metrics.shed.labels(admit.bottleneck or "unknown").inc()
        remaining = call_context.time_remaining() or 0.0
        raise ResourceExhausted(
            f"the {admit.bottleneck} budget cannot serve this request before its deadline (about "
            f"{admit.expected_s:.1f}s needed, {remaining:.1f}s left): retry in {admit.retry_after_s:.1f}s",
            admit.retry_after_s,
        )

    @contextlib.asynccontextmanager
    async def admitted(self, follow_up: bool) -> AsyncIterator[Admitted]:
        """The plan for a request, decided before its identity check (whose GET /me waits in Spotify's queue
        like any call, so it counts): RESOURCE_EXHAUSTED with a retry hint at once when not even a pass
        without personalisation fits the deadline. A session's follow-up mostly reuses its pool: it goes.
        """
        if follow_up:
            yield Admitted(Plan(mood_budget_s=self._mood_budget_s))
            return
        admit = await self.admit(IDENTITY_CALLS)
        if admit.verdict is Verdict.SHED:
            self._shed(admit)
        if self._metrics is not None:
            self._metrics.admissions.labels(admit.verdict.value).inc()
        with self.holding(admit.verdict) as release:
            yield Admitted(plan_for(admit, self._mood_budget_s), release)

    def observe_answer(self, timings: Iterable[common_pb2.PhaseTiming]) -> None:
        seconds = phase_seconds(timings)
        if seconds is not None:
            self.observe(*seconds)

    @contextlib.contextmanager
    def holding(self, verdict: Verdict) -> Iterator[Callable[[], None]]:
        """The pass's calls count as pending for later admissions until they went out (the release it
        yields: once its seeds are gathered, the scheduler holds them) or the pass ended."""
        plan = PLAN_CALLS[verdict]
        calls = {u: n + IDENTITY_CALLS.get(u, 0) for u, n in plan.items()}
        for upstream, n in calls.items():
            self._pending[upstream] += n
        held = True

        def release() -> None:
            nonlocal held
            if held:
                held = False
                for upstream, n in calls.items():
                    self._pending[upstream] -= n

        try:
            yield release
        finally:
            release()

    def observe(self, mood_s: float, work_s: float) -> None:
        """A finished pass's mood step and the rest of it (seeds to ranking)."""
        self._mood.observe(mood_s)
        self._work.observe(work_s)

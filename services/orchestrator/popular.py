"""Popular moods kept warm: their mood analysis and artist discovery are done before anyone asks.

Every POPULAR_MOODS_INTERVAL_S, in the background lane, the orchestrator runs the non-personal half of a
request for each configured mood (POPULAR_MOODS) and for the prompts asked most often lately in this
process (POPULAR_MOODS_RECENT of them): LlmGateway.AnalyzeMood fills the LLM's answer cache, and
SeedGatherer.DiscoverArtists (without a user token) fills the per-mood discovery cache and, through the
gateway, the caches of the artists' tracks and audio features. A new user asking for one of those moods
then pays no LLM call and no discovery call: only their own context and the recommendations around
their seeds. Recent prompts are counted in memory only (never stored), normalised, for a bounded window.
The job's first pass starts at once; `stop()` cancels it cleanly at shutdown.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import Counter, deque
from collections.abc import Sequence
from dataclasses import dataclass

from prometheus_client import CollectorRegistry
from prometheus_client import Counter as PromCounter
from segue.v1 import llm_gateway_pb2, seed_gatherer_pb2

from services.common import call_context
from services.common.background import BackgroundTasks
from services.common.degradation import LLM_GATEWAY, SEED_GATHERER
from services.common.errors import SegueError
from services.orchestrator.peers import Peers, call

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class PopularSettings:
    moods: tuple[str, ...] = ()
    interval_s: float = 900.0
    recent: int = 5  # how many of the most frequent recent prompts join the configured moods
    window_s: float = 3600.0  # what "recent" means
    timeout_s: float = 60.0  # per mood, for its analysis and its discovery


def normalise(prompt: str) -> str:
    return " ".join(prompt.split()).casefold()


class RecentPrompts:
    """How often each prompt was asked in the last `window_s` seconds (bounded: the last `max_entries` asks)."""

    def __init__(self, window_s: float, max_entries: int = 2000) -> None:
        self._window_s = window_s
        self._asks: deque[tuple[float, str]] = deque(maxlen=max_entries)

    def add(self, prompt: str, now: float | None = None) -> None:
        self._asks.append((time.monotonic() if now is None else now, normalise(prompt)))

    def most_common(self, n: int, now: float | None = None) -> list[str]:
        cutoff = (time.monotonic() if now is None else now) - self._window_s
        while self._asks and self._asks[0][0] < cutoff:
            self._asks.popleft()
        counts = Counter(p for _, p in self._asks)
        return [p for p, c in counts.most_common(n) if c > 1] if n > 0 else []


def moods_to_warm(configured: Sequence[str], recent: Sequence[str]) -> list[str]:
    """Configured moods first, then recent ones, each once (prompts that differ only in case or spacing are one)."""
    seen: set[str] = set()
    out: list[str] = []
    for prompt in (*configured, *recent):
        key = normalise(prompt)
        if key and key not in seen:
            seen.add(key)
            out.append(prompt)
    return out


class PopularMoods:
    def __init__(self, peers: Peers, settings: PopularSettings, recent: RecentPrompts, registry: CollectorRegistry):
        self._peers = peers
        self._settings = settings
        self._recent = recent
        self._tasks = BackgroundTasks("popular-moods")
        self.passes = PromCounter(
            "segue_popular_mood_passes",
            "Passes of the popular-moods job, by outcome (done: every mood warmed; partial: some failed).",
            ("outcome",),
            registry=registry,
        )
        self.warmed = PromCounter(
            "segue_popular_moods_warmed",
            "Moods the popular-moods job warmed, by outcome.",
            ("outcome",),
            registry=registry,
        )
        for outcome in ("done", "partial", "failed"):  # shown at 0 from the start: "no pass yet" is visible
            self.passes.labels(outcome)
            self.warmed.labels(outcome)

    def start(self) -> None:
        if not self._tasks and (self._settings.moods or self._settings.recent):
            self._tasks.spawn(self._run(), "loop")

    async def stop(self) -> None:
        """Cancel the job wherever it is and wait until it has ended."""
        await self._tasks.close()

    async def _run(self) -> None:
        call_context.set_lane(call_context.Lane.BACKGROUND)  # never competes with users for upstream budgets
        while True:
            await self.warm_once()
            await asyncio.sleep(self._settings.interval_s)

    async def warm_once(self) -> int:
        """One pass over the moods to warm; how many were warmed."""
        prompts = moods_to_warm(self._settings.moods, self._recent.most_common(self._settings.recent))
        warmed = 0
        for prompt in prompts:
            try:
                await self._warm(prompt)
            except SegueError as exc:
                self.warmed.labels("failed").inc()
                log.warning("warming a popular mood failed: %s", exc.message)
            else:
                warmed += 1
                self.warmed.labels("done").inc()
        self.passes.labels("done" if warmed == len(prompts) else "partial").inc()
        log.info("popular moods warmed", extra={"warmed": warmed, "moods": len(prompts)})
        return warmed

    async def _warm(self, prompt: str) -> None:
        call_context.set_deadline_in(self._settings.timeout_s)
        answer: llm_gateway_pb2.AnalyzeMoodResponse = await call(
            LLM_GATEWAY, self._peers.llm.AnalyzeMood(llm_gateway_pb2.AnalyzeMoodRequest(prompt=prompt))
        )
        request = seed_gatherer_pb2.DiscoverArtistsRequest(mood_prompt=prompt, mood=answer.mood)
        await call(SEED_GATHERER, self._peers.seeds.DiscoverArtists(request))

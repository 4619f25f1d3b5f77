"""AnalyzeMood: a mood prompt read into a MoodProfile — from the cache, by one LLM call, or by heuristics.

Identical prompts in flight together share one answer (single-flight keyed by the cache key). When the
budget view says Gemini's per-minute budget is the bottleneck, prompts arriving within a short window
are answered by ONE bundled call (mood_bundle.py), each answer validated and cached on its own under
the key a single call would use; with budget to spare each prompt keeps its own call (lower latency).
A caller that wants the start of the mood early (AnalyzeMoodStream) gets it while the answer streams:
the schema puts what artist discovery needs first, and `watch_start` reads the partial JSON as it grows.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from pydantic import ValidationError
from pydantic_core import from_json
from segue.v1 import common_pb2

from services.common import call_context, mood_heuristics
from services.common.batching import MicroBatcher
from services.common.cache import Cache, digest
from services.common.cleaning import clean_names, clean_tracks, feature_target, one_line, unique_targets
from services.common.errors import InvalidArgument
from services.common.metrics import WorkSharingMetrics
from services.common.singleflight import SingleFlight, cached_once
from services.llm_gateway import mood_bundle, refine
from services.llm_gateway.budget import GeminiBudget
from services.llm_gateway.fallback import fallback_warning
from services.llm_gateway.gemini import LLM_FAILURES, UPSTREAM, InvalidAnswer, StructuredLlm
from services.llm_gateway.schemas import MoodAnswer, MoodStart
from services.llm_gateway.usage import Usage

log = logging.getLogger(__name__)

TASK = "analyze_mood"
BUNDLE_TASK = "analyze_mood_bundle"
MAX_PROMPT_CHARS = 2000
# The LLM's failures, and its step's budget running out: the keyword reading answers for all of them.
MOOD_FAILURES: tuple[type[Exception], ...] = (*LLM_FAILURES, TimeoutError)
FALLBACK_MARGIN_S = 0.1  # kept back from the caller's deadline to answer with the keyword reading
# Part of the cache key: change it whenever the instruction or the schema changes meaning.
# mood-3: FeatureTarget.feature became an AudioFeature (field 6): a cached mood-2 answer has no features.
# mood-4: a shorter answer (every output token is ~5 ms of the cold path): no ideal inside each range (the
# middle is), no keywords (read off the prompt by the heuristics), at most 8 artists (discovery uses fewer).
# mood-5: shorter still (~126 output tokens where mood-4 took 214): targets as {"energy": [min, max, weight]},
# no interpretation (written here from the answer), what discovery needs first.
PROMPT_VERSION = "mood-5"

SYSTEM_INSTRUCTION = """\
You are a music curator. A listener describes, in their own words, the playlist they want right now.
Read their mood prompt and describe it in terms a music catalog understands.

genres: 2 to 5 genres that fit, best first. artists: every artist the prompt names, then others
that fit the mood, up to 8 artists in all. avoid: whatever the prompt rules out
("nothing sad" -> "sad", "no rap" -> "rap"); leave it empty when nothing is ruled out.
mentioned_tracks: only songs the prompt names explicitly (title and artist).
feature_targets: only the 3 to 6 audio features that matter most for this mood, each as
[min, max, weight]: an acceptable range whose middle is ideal, and how much it matters from 0 to 1.
Scales: acousticness, danceability, energy, instrumentalness, liveness, speechiness and valence
(musical positiveness) go from 0 to 1; tempo is in BPM (40 to 220); loudness is in dB (-60 to 0)."""


@dataclass
class MoodResult:
    profile: common_pb2.MoodProfile
    usage: Usage
    warnings: list[common_pb2.Warning] = field(default_factory=list)


@dataclass(frozen=True)
class BundleSettings:
    window_s: float = 0.05  # how long the first prompt of a bundle waits for others
    max_prompts: int = 8  # a bigger bundle's answer grows long enough to cost more latency than it saves


Ask = tuple[str, str]  # (cache key, prompt): one prompt for a bundle


def llm_time(remaining_s: float | None) -> float | None:
    """How long the LLM may take: the caller's deadline less the time to answer by keywords instead."""
    return None if remaining_s is None else max(0.0, remaining_s - FALLBACK_MARGIN_S)


def validate_prompt(prompt: str) -> str:
    """The prompt stripped; INVALID_ARGUMENT when empty or too long."""
    text = prompt.strip()
    if not text:
        raise InvalidArgument("prompt must not be empty")
    if len(text) > MAX_PROMPT_CHARS:
        raise InvalidArgument(f"prompt must be at most {MAX_PROMPT_CHARS} characters, got {len(text)}")
    return text


def normalise_prompt(prompt: str) -> str:
    """Prompts that differ only in case or spacing mean the same mood and share a cache entry."""
    return " ".join(prompt.split()).casefold()


def interpretation(profile: common_pb2.MoodProfile) -> str:
    """One line on the mood, written from the answer: the model is not asked for one (~30 output tokens)."""
    text = f"A {profile.primary_emotion or 'balanced'} mood"
    if profile.genres:
        text += " of " + _and(profile.genres[:3])
    if profile.artists:
        text += ", like " + _and(profile.artists[:2])
    if profile.avoid:
        text += ", avoiding " + _and(profile.avoid[:3])
    return text + "."


def _and(names: Sequence[str]) -> str:
    return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} and {names[-1]}"


def start_profile(start: MoodStart, prompt: str) -> common_pb2.MoodProfile:
    """The start of the LLM's answer, cleaned and reconciled with the prompt: no targets yet."""
    profile = common_pb2.MoodProfile(
        genres=clean_names(start.genres, 8),
        artists=clean_names(start.artists, 8),
        mentioned_tracks=clean_tracks(((t.title, t.artist) for t in start.mentioned_tracks), 10),
        keywords=mood_heuristics.keywords(prompt),
        avoid=clean_names(start.avoid, 8),
        source=common_pb2.MOOD_SOURCE_LLM,
    )
    mood_heuristics.reconcile(profile, prompt)
    return profile


def to_profile(answer: MoodAnswer, prompt: str) -> common_pb2.MoodProfile:
    """The LLM's answer, clamped and cleaned; heuristic targets stand in if it gave no usable ones."""
    profile = start_profile(answer, prompt)
    targets = unique_targets(
        feature_target(name, values[0], values[1], None, values[2] if len(values) > 2 else 0.5)
        for name, values in answer.targets()
    )
    profile.targets.extend(targets or mood_heuristics.mood_profile(prompt).targets)
    profile.primary_emotion = one_line(answer.primary_emotion, 50)
    profile.interpretation = one_line(interpretation(profile), 500)
    return profile


def mood_start(text: str) -> MoodStart | None:
    """The start of a streamed MoodAnswer once it is whole: the model has written every property of it and
    begun one after them all (properties come in schema order, but a model that strays is not trusted)."""
    try:
        so_far = from_json(text, allow_partial=True)
    except ValueError:
        return None
    if not isinstance(so_far, dict):
        return None
    keys = list(so_far)  # in the order written
    if not all(name in keys for name in MoodStart.model_fields) or keys[-1] in MoodStart.model_fields:
        return None
    try:
        return MoodStart.model_validate({name: so_far.get(name) for name in MoodStart.model_fields})
    except ValidationError:
        return None


def watch_start(prompt: str, on_start: Callable[[common_pb2.MoodProfile], None]) -> Callable[[str], None]:
    """What reads a streamed answer's text as it grows and calls `on_start` once, when its start is whole."""
    told = False

    def on_text(text: str) -> None:
        nonlocal told
        if not told and (start := mood_start(text)) is not None:
            told = True
            on_start(start_profile(start, prompt))

    return on_text


class MoodAnalyzer:
    def __init__(
        self,
        llm: StructuredLlm,
        cache: Cache,
        ttl_s: float,
        *,
        budget: GeminiBudget | None = None,  # None: never bundle
        bundling: BundleSettings | None = None,
        sharing: WorkSharingMetrics | None = None,
    ) -> None:
        self._llm = llm
        self._cache = cache
        self._ttl_s = ttl_s
        self._budget = budget
        self._flights: SingleFlight[str, common_pb2.MoodProfile] = SingleFlight("llm-mood", sharing)
        settings = bundling or BundleSettings()
        self._bundles: MicroBatcher[Ask, tuple[common_pb2.MoodProfile, Usage]] = MicroBatcher(
            "llm-mood",
            self._ask_bundle,
            max_size=settings.max_prompts,
            window_s=settings.window_s,
            max_in_flight=4,
            metrics=sharing,
        )

    async def aclose(self) -> None:
        await self._bundles.aclose()

    def cache_key(self, prompt: str) -> str:
        return self._cache.key("mood", digest(PROMPT_VERSION, self._llm.model, normalise_prompt(prompt)))

    async def analyze(
        self,
        prompt: str,
        refines: common_pb2.MoodProfile | None = None,
        on_start: Callable[[common_pb2.MoodProfile], None] | None = None,
    ) -> MoodResult:
        """`prompt` already validated. Never fails for LLM trouble: heuristics answer instead, with a warning.

        With `refines` (the session's mood so far), a prompt that reads as a tweak of it costs no LLM call.
        `on_start`: called with the start of the mood (genres, artists, exclusions, named songs; no targets)
        as soon as the model has written it, when this call asks the LLM itself and on its own (not a cache
        hit, a tweak, a joined flight or a bundle: those answer whole).
        """
        usage = Usage()
        if refines is not None:
            tweaked = refine.tweak(refines, prompt)
            if tweaked is not None:
                return MoodResult(tweaked, usage)
        key = self.cache_key(prompt)

        async def ask_llm() -> common_pb2.MoodProfile:
            if self._budget is not None and await self._budget.gemini_saturated():
                answer = (await self._bundles.load([(key, prompt)]))[(key, prompt)]
                if isinstance(answer, BaseException):
                    raise answer
                if answer is None:
                    raise InvalidAnswer(UPSTREAM, "the bundled answer to this prompt was outside the MoodAnswer schema")
                profile, spent = answer
                usage.add(spent)
                return profile
            on_text = watch_start(prompt, on_start) if on_start is not None else None
            return to_profile(await self._ask(prompt, usage, on_text), prompt)

        try:
            # The caller's deadline is this step's budget (the orchestrator sets LLM_MOOD_BUDGET_S): the
            # keyword reading answers before it, whatever the LLM is still doing (a slow tail, a wait).
            async with asyncio.timeout(llm_time(call_context.time_remaining())):
                profile, hit = await cached_once(
                    self._cache, self._flights, key, common_pb2.MoodProfile, self._ttl_s, ask_llm
                )
        except MOOD_FAILURES as exc:
            warning = fallback_warning(exc, "the mood was read by keyword heuristics")
            log.warning("%s", warning.message)
            # Not cached: the next request should get the LLM's reading once it is back.
            return MoodResult(mood_heuristics.mood_profile(prompt), usage, [warning])
        if hit:
            usage.cache_hits += 1
            profile.source = common_pb2.MOOD_SOURCE_CACHE
        return MoodResult(profile, usage)

    async def _ask(self, prompt: str, usage: Usage, on_text: Callable[[str], None] | None = None) -> MoodAnswer:
        return await self._llm.generate(
            task=TASK,
            system=SYSTEM_INSTRUCTION,
            prompt=f"Mood prompt: {prompt}",
            schema=MoodAnswer,
            usage=usage,
            on_text=on_text,
        )

    async def _ask_bundle(self, asks: Sequence[Ask]) -> dict[Ask, tuple[common_pb2.MoodProfile, Usage]]:
        """One call for every prompt of a bundle; a prompt whose part is malformed is left out (it falls back)."""
        spent = Usage()
        prompts = [prompt for _, prompt in asks]
        if len(asks) == 1:  # nobody joined within the window: a plain call
            return {asks[0]: (to_profile(await self._ask(prompts[0], spent), prompts[0]), spent)}
        answer = await self._llm.generate(
            task=BUNDLE_TASK,
            system=SYSTEM_INSTRUCTION + mood_bundle.BUNDLE_NOTE,
            prompt=mood_bundle.bundle_prompt(prompts),
            schema=mood_bundle.lenient_schema(len(asks)),
            wire_schema=mood_bundle.wire_schema(len(asks)),
            usage=spent,
        )
        parts = mood_bundle.parts_of(answer, len(asks))
        return {
            ask: (to_profile(part, ask[1]), share)
            for ask, part, share in zip(asks, parts, spent.shares(len(asks)), strict=True)
            if part is not None
        }

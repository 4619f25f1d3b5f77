"""AnalyzeMood: a mood prompt read into a MoodProfile — from the cache, by one LLM call, or by heuristics."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from segue.v1 import common_pb2

from services.common.cache import Cache, digest
from services.common.errors import InvalidArgument
from services.llm_gateway import heuristics
from services.llm_gateway.cleaning import clean_names, clean_tracks, feature_target, one_line, unique_targets
from services.llm_gateway.fallback import fallback_warning
from services.llm_gateway.gemini import LLM_FAILURES, StructuredLlm
from services.llm_gateway.schemas import MoodAnswer
from services.llm_gateway.usage import Usage

log = logging.getLogger(__name__)

TASK = "analyze_mood"
MAX_PROMPT_CHARS = 2000
# Part of the cache key: change it whenever the instruction or the schema changes meaning.
PROMPT_VERSION = "mood-1"

SYSTEM_INSTRUCTION = """\
You are a music curator. A listener describes, in their own words, the playlist they want right now.
Read their mood prompt and describe it in terms a music catalog understands.

feature_targets: the 3 to 6 audio features that matter most for this mood, each with an acceptable
range (min to max), the ideal target inside it, and a weight from 0 to 1 for how much it matters.
Scales: acousticness, danceability, energy, instrumentalness, liveness, speechiness and valence
(musical positiveness) go from 0 to 1; tempo is in BPM (40 to 220); loudness is in dB (-60 to 0).
genres: 2 to 5 genres that fit, best first. artists: every artist the prompt names, then others
that fit the mood, up to 12 artists in all. mentioned_tracks: only songs the prompt names explicitly
(title and artist). keywords: up to 6 keywords for searching. avoid: whatever the prompt rules out
("nothing sad" -> "sad", "no rap" -> "rap"); leave it empty when nothing is ruled out."""


@dataclass
class MoodResult:
    profile: common_pb2.MoodProfile
    usage: Usage
    warnings: list[common_pb2.Warning] = field(default_factory=list)


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


def to_profile(answer: MoodAnswer, prompt: str) -> common_pb2.MoodProfile:
    """The LLM's answer, clamped and cleaned; heuristic targets stand in if it gave no usable ones."""
    targets = unique_targets(
        feature_target(t.feature, t.min, t.max, t.target, t.weight) for t in answer.feature_targets
    )
    if not targets:
        targets = list(heuristics.mood_profile(prompt).targets)
    return common_pb2.MoodProfile(
        interpretation=one_line(answer.interpretation, 500),
        primary_emotion=one_line(answer.primary_emotion, 50),
        targets=targets,
        genres=clean_names(answer.genres, 8),
        artists=clean_names(answer.artists, 15),
        mentioned_tracks=clean_tracks(((t.title, t.artist) for t in answer.mentioned_tracks), 10),
        keywords=clean_names(answer.keywords, 8),
        avoid=clean_names(answer.avoid, 8),
        source=common_pb2.MOOD_SOURCE_LLM,
    )


class MoodAnalyzer:
    def __init__(self, llm: StructuredLlm, cache: Cache, ttl_s: float) -> None:
        self._llm = llm
        self._cache = cache
        self._ttl_s = ttl_s

    def cache_key(self, prompt: str) -> str:
        return self._cache.key("mood", digest(PROMPT_VERSION, self._llm.model, normalise_prompt(prompt)))

    async def analyze(self, prompt: str) -> MoodResult:
        """`prompt` already validated. Never fails for LLM trouble: heuristics answer instead, with a warning."""
        usage = Usage()

        async def ask_llm() -> common_pb2.MoodProfile:
            answer = await self._llm.generate(
                task=TASK, system=SYSTEM_INSTRUCTION, prompt=f"Mood prompt: {prompt}", schema=MoodAnswer, usage=usage
            )
            return to_profile(answer, prompt)

        try:
            profile, hit = await self._cache.get_or_produce(
                self.cache_key(prompt), common_pb2.MoodProfile, self._ttl_s, ask_llm
            )
        except LLM_FAILURES as exc:
            warning = fallback_warning(exc, "the mood was read by keyword heuristics")
            log.warning("%s", warning.message)
            # Not cached: the next request should get the LLM's reading once it is back.
            return MoodResult(heuristics.mood_profile(prompt), usage, [warning])
        if hit:
            usage.cache_hits += 1
            profile.source = common_pb2.MOOD_SOURCE_CACHE
        return MoodResult(profile, usage)

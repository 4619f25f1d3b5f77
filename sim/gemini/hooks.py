"""Semantic hooks: what a value should be, judged from property names and what the answer is about.

The filler (fill.py) walks the schema; at each leaf it asks these functions for a value. A `Focus` says
where in the answer we are (the property path) and what the current part is about (a feature, a listed
candidate, an artist, a track, a genre). Property names are split into words ("min_energy",
"minEnergy" → min, energy), so the hooks match words, not whole names. Each word set below is a hook's
trigger; README.md lists them for prompt and schema authors.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

from .candidates import KEEP_FIT, Candidate, CandidateList, Fit
from .features import FEATURES, SCALES, feature_in
from .lexicon import EMOTIONS
from .mood import Mood
from .prompt import Prompt
from .prose import (
    artist_reason,
    candidate_reason,
    choice_summary,
    colour,
    mood_sentence,
    title_phrase,
    track_reason,
)
from .recommend import recommend_artists
from .schema import Node
from .text import key, name_words, singular, tokenize
from .vocabulary import Vocabulary, genres_in, index_of

# ---- trigger words -------------------------------------------------------------------------------------
ID_WORDS = frozenset("id ids uuid identifier key".split())
INDEX_WORDS = frozenset("index indices indexes idx number position".split())
NAME_WORDS = frozenset("name title track song label".split())
ARTIST_WORDS = frozenset("artist band musician performer singer creator by".split())
GENRE_WORDS = frozenset("genre subgenre style".split())
TRACK_WORDS = frozenset("track song tune".split())
REASON_WORDS = frozenset(
    "interpretation reasoning reason summary explanation rationale note description comment analysis "
    "justification why thought detail overview commentary feedback assessment".split()
)
EMOTION_WORDS = frozenset("emotion feeling sentiment affect".split())
MOOD_WORDS = frozenset("mood vibe tone atmosphere character".split())
KEYWORD_WORDS = frozenset("keyword tag term query search descriptor hashtag".split())
AVOID_WORDS = frozenset(
    "avoid exclude excluded excluding exclusion negative banned ban blacklist blocklist dislike disliked unwanted "
    "forbidden".split()
)
REGION_WORDS = frozenset("region country market location".split())
LANGUAGE_WORDS = frozenset("language languages lang".split())
DECADE_WORDS = frozenset("decade era period".split())
COLOUR_WORDS = frozenset("color colour hex palette".split())
SCORE_WORDS = frozenset("score fit relevance rating match suitability quality".split())
CONFIDENCE_WORDS = frozenset("confidence certainty probability likelihood".split())
RANK_WORDS = frozenset("rank priority order ordering".split())
COUNT_WORDS = frozenset("count num size limit total amount n k quantity".split())
FEATURE_NAME_WORDS = frozenset("feature attribute audio".split())
INTENT_WORDS = frozenset("intent intention goal purpose".split())
ROLE_WORDS: dict[str, str] = {
    **dict.fromkeys("min minimum low lower floor from start least".split(), "low"),
    **dict.fromkeys("max maximum high upper ceiling to end most".split(), "high"),
    **dict.fromkeys("target value ideal center centre mid preferred avg mean average desired".split(), "target"),
    **dict.fromkeys("weight weights importance".split(), "weight"),
}
TRUE_WORDS = frozenset(
    "meets meet valid relevant success successful ok satisfied approved acceptable passes pass fits fit coherent "
    "cohesive include includes keep recommended suitable appropriate".split()
)
# level words of enums ("low"/"medium"/"high", "slow"/"fast", "strict"/"loose") → position 0–1
LEVELS: dict[str, float] = {
    **dict.fromkeys(["verylow", "minimal", "lowest", "none", "verycalm", "veryslow"], 0.05),
    **dict.fromkeys(["low", "slow", "calm", "loose", "lenient", "flexible", "relaxed", "soft", "quiet"], 0.2),
    **dict.fromkeys(["lowmedium", "mediumlow", "moderatelow", "mellow"], 0.35),
    **dict.fromkeys(["medium", "moderate", "mid", "balanced", "normal", "average", "midtempo"], 0.5),
    **dict.fromkeys(["mediumhigh", "highmedium", "moderatehigh", "upbeat"], 0.65),
    **dict.fromkeys(["high", "fast", "strict", "energetic", "loud", "intense"], 0.8),
    **dict.fromkeys(["veryhigh", "maximum", "max", "extreme", "highest", "veryfast", "veryintense"], 0.95),
}
_ZERO_BASED = ("0-based", "zero-based", "0-indexed", "zero-indexed", "starting at 0", "starting from 0")
# features to show when a mood constrains none: the ones listeners talk about most
DEFAULT_FEATURE_ORDER = ("energy", "valence", "danceability", "acousticness", "tempo", "instrumentalness")


def words_of(name: str) -> frozenset[str]:
    """A property name's words, each also in singular form."""
    raw = name_words(name)
    return frozenset(raw) | {singular(w) for w in raw}


@dataclass(frozen=True, slots=True)
class Chosen:
    """A listed candidate being written into the answer."""

    source: CandidateList
    candidate: Candidate
    fit: Fit
    rank: int  # 1-based, best first
    zero_based: bool

    @property
    def number(self) -> int:
        """The integer that names it: the listed number for numbered or numeric ids, else its position."""
        if self.source.form == "numbered":
            return self.candidate.number
        if self.source.numeric_ids:
            return int(self.candidate.id)
        return self.candidate.position - (1 if self.zero_based else 0)


@dataclass(frozen=True)
class Focus:
    path: tuple[str, ...] = ()
    feature: str | None = None
    role: str | None = None  # for feature numbers: low, high, target or weight
    chosen: Chosen | None = None
    artist: str | None = None
    track: tuple[str, str] | None = None
    genre: str | None = None
    keyword: str | None = None
    rank: int = 1  # 1-based position of the array item being filled
    item: bool = False  # filling an array's item directly (its name is the array's)

    @property
    def name(self) -> str:
        return self.path[-1] if self.path else ""

    @property
    def words(self) -> frozenset[str]:
        return words_of(self.name)

    @property
    def parent_words(self) -> frozenset[str]:
        return words_of(self.path[-2]) if len(self.path) > 1 else frozenset()

    @property
    def all_words(self) -> frozenset[str]:
        return frozenset().union(*(words_of(p) for p in self.path)) if self.path else frozenset()

    def child(self, name: str) -> Focus:
        words = words_of(name)
        feature = feature_in(name_words(name)) or self.feature
        role = next((ROLE_WORDS[w] for w in name_words(name) if w in ROLE_WORDS), None)
        if role is None and feature is not None and feature_in(name_words(name)) is not None:
            role = next((ROLE_WORDS[w] for w in name_words(self.name) if w in ROLE_WORDS), None)
        if role is None and self.role is not None and not words & REASON_WORDS:
            role = self.role
        return replace(self, path=(*self.path, name), feature=feature, role=role, item=False)

    def about(self, **subject: Any) -> Focus:
        return replace(self, item=True, **subject)


@dataclass
class Context:
    prompt: Prompt
    mood: Mood
    vocab: Vocabulary
    seed: int
    _artists: list[str] | None = None

    def artists(self, count: int) -> list[str]:
        if self._artists is None or len(self._artists) < count:
            self._artists = recommend_artists(self.mood, self.vocab, self.seed, max(count, 20))
        return self._artists[:count]

    def zero_based(self, *descriptions: str) -> bool:
        texts = [d.lower() for d in descriptions] + [self.prompt.text.lower()]
        return any(marker in t for t in texts for marker in _ZERO_BASED)

    def token(self, salt: str, length: int = 12) -> str:
        digest = hashlib.blake2b(f"{self.seed}:{salt}".encode(), digest_size=16).hexdigest()
        return digest[:length]


# ---- strings --------------------------------------------------------------------------------------------
def level_word(value: float) -> str:
    return "low" if value < 0.38 else "high" if value >= 0.65 else "medium"


def feature_level(mood: Mood, feature: str) -> float:
    return SCALES[feature].level(mood.ranges[feature].target)


def string_value(focus: Focus, ctx: Context) -> str | None:
    """A string for the current position, or None when no hook applies."""
    mood = ctx.mood
    words = focus.words
    for subject_value in (_chosen_string, _track_string, _artist_string):
        value = subject_value(focus, ctx)
        if value is not None:
            return value
    if focus.genre is not None:
        return focus.genre
    if focus.keyword is not None:
        return focus.keyword
    if focus.feature is not None and (words & FEATURE_NAME_WORDS or (focus.item and not words & REASON_WORDS)):
        return focus.feature
    if words & REASON_WORDS:
        lists = ctx.prompt.lists
        if lists and focus.all_words & _CHOICE_CONTEXT:  # the notes of a choice: about the list it answers
            return choice_summary(mood, max(lists, key=lambda c: len(focus.all_words & c.header_words)))
        return mood_sentence(mood)
    if words & EMOTION_WORDS:
        return mood.emotion
    if "level" in words or "intensity" in words:
        feature = focus.feature or "energy"
        return level_word(feature_level(mood, feature))
    if focus.feature == "tempo" and not words & REASON_WORDS:
        return {"low": "slow", "medium": "medium", "high": "fast"}[level_word(feature_level(mood, "tempo"))]
    if words & INTENT_WORDS:
        return mood.intent
    if words & GENRE_WORDS:
        return mood.genres[0]
    if words & ARTIST_WORDS:
        artists = ctx.artists(1)
        return artists[0] if artists else None
    if words & DECADE_WORDS:
        return f"{mood.decade}s" if mood.decade is not None else None
    if words & COLOUR_WORDS or focus.all_words & COLOUR_WORDS:
        return colour(mood, focus.rank - 1 + _COLOUR_SHIFT.get(focus.name.lower(), 0))
    if words & REGION_WORDS:
        return mood.regions[0] if mood.regions else None
    if words & LANGUAGE_WORDS:
        return mood.languages[0] if mood.languages else None
    if words & KEYWORD_WORDS:
        return " ".join(mood.keywords[:3]) or mood.genres[0]
    if words & MOOD_WORDS:
        return ", ".join(mood.adjectives())
    if words & TRACK_WORDS and mood.mentioned_tracks:
        return mood.mentioned_tracks[0][0]
    if words & {"title", "name", "playlist"}:
        return title_phrase(mood)
    if words & ID_WORDS:
        return ctx.token("/".join(focus.path))
    return None


_COLOUR_SHIFT = {"primary": 0, "secondary": 1, "tertiary": 2, "accent": 3, "background": 4}
_CHOICE_CONTEXT = frozenset(
    "selection select selected choice chosen pick candidate filter filtered keep ranking ranked score scores "
    "scoring finalize final anchor seed validation".split()
)


def _chosen_string(focus: Focus, ctx: Context) -> str | None:
    chosen = focus.chosen
    if chosen is None:
        return None
    words = focus.words
    candidate = chosen.candidate
    if words & REASON_WORDS:
        return candidate_reason(candidate, chosen.fit)
    if words & ID_WORDS or words & INDEX_WORDS:
        return candidate.id
    if words & ARTIST_WORDS and not words & TRACK_WORDS:
        return candidate.artist or candidate.name
    if words & NAME_WORDS:
        return candidate.name
    if words & GENRE_WORDS:
        matches, _ = genres_in(tokenize(candidate.text), index_of(ctx.vocab))
        return matches[0].payload if matches else ctx.mood.genres[0]
    if focus.item:
        # a list of strings: names when the property names the things listed ("artists"), else ids
        listed = words & (TRACK_WORDS | ARTIST_WORDS | {"name", "title"})
        return candidate.name if listed and not words & ID_WORDS else candidate.id
    return None


def _track_string(focus: Focus, ctx: Context) -> str | None:
    if focus.track is None:
        return None
    title, artist = focus.track
    words = focus.words
    if words & REASON_WORDS:
        return track_reason(title, artist, ctx.mood)
    if words & ARTIST_WORDS:
        return artist
    if words & (NAME_WORDS | TRACK_WORDS):
        return title
    if focus.item:
        return f"{title} by {artist}"
    return None


def _artist_string(focus: Focus, ctx: Context) -> str | None:
    if focus.artist is None:
        return None
    words = focus.words
    genres = index_of(ctx.vocab).artist_genres.get(focus.artist.lower(), ())
    if words & REASON_WORDS:
        return artist_reason(focus.artist, genres, ctx.mood)
    if words & GENRE_WORDS:
        return genres[0] if genres else ctx.mood.genres[0]
    if words & (ARTIST_WORDS | NAME_WORDS) or focus.item:
        return focus.artist
    return None


def generic_phrase(focus: Focus, ctx: Context) -> str:
    """Filler that still reads like an answer about this mood."""
    mood = ctx.mood
    pool = [*mood.keywords, *mood.genres[:3]]
    subject = pool[(focus.rank - 1) % len(pool)] if pool else mood.genres[0]
    return f"{' '.join(mood.adjectives()[:2])} {subject}"


# ---- numbers --------------------------------------------------------------------------------------------
def scale_unit(unit: float, node: Node, integer: bool) -> float:
    """A 0–1 quantity expressed on the property's own scale (0–1, 0–10, 0–100, 1–5...)."""
    high = node.maximum if node.maximum is not None else node.exclusive_maximum
    low = node.minimum if node.minimum is not None else node.exclusive_minimum
    if high is not None and high > 1:
        base = low if low is not None else 0.0
        return base + unit * (high - base)
    if integer:
        return 1 + 9 * unit if high is None else unit * high
    return round(unit, 2)


def number_value(focus: Focus, ctx: Context, node: Node, integer: bool) -> float | None:
    mood = ctx.mood
    words = focus.words
    if focus.chosen is not None:
        value = _chosen_number(focus, node, integer)
        if value is not None:
            return value
    if focus.feature is not None and not words & (COUNT_WORDS | SCORE_WORDS | CONFIDENCE_WORDS):
        return _feature_number(focus, ctx, node)
    if words & RANK_WORDS or words & INDEX_WORDS:
        return focus.rank
    if words & CONFIDENCE_WORDS:
        return scale_unit(0.82, node, integer)
    if words & SCORE_WORDS:
        return scale_unit(0.8, node, integer)
    if words & COUNT_WORDS or (integer and words & {"anchor", "seed", "track", "artist", "song"}):
        count = ctx.prompt.count_for(focus.all_words)
        return count.target if count else 5
    if "strictness" in words or "strict" in words:
        return scale_unit(0.8 if mood.named_genres else 0.5, node, integer)
    if "diversity" in words or "variety" in words:
        return scale_unit(0.35 if mood.named_genres else 0.6, node, integer)
    if "popularity" in words:
        return scale_unit(0.3 if mood.obscure else 0.55, node, integer)
    if "threshold" in words:
        return scale_unit(0.6, node, integer)
    if "weight" in words or "importance" in words:
        return scale_unit(0.5, node, integer)
    if "year" in words:
        decade = mood.decade if mood.decade is not None else 2010
        return decade + (9 if words & {"end", "to", "max", "last"} else 0)
    if words & DECADE_WORDS:
        return mood.decade if mood.decade is not None else 2010
    if "duration" in words or "length" in words:
        return 210000 if "ms" in words else 60 if "minute" in words else 210
    return None


def _chosen_number(focus: Focus, node: Node, integer: bool) -> float | None:
    chosen = focus.chosen
    assert chosen is not None
    words = focus.words
    if words & CONFIDENCE_WORDS:
        return scale_unit(0.85 if chosen.fit.evidence else 0.5, node, integer)
    if words & SCORE_WORDS:
        return scale_unit(chosen.fit.score, node, integer)
    if words & RANK_WORDS:
        return chosen.rank
    if words & (INDEX_WORDS | ID_WORDS) or focus.item:
        return chosen.number
    return None


def _feature_number(focus: Focus, ctx: Context, node: Node) -> float:
    feature = focus.feature
    assert feature is not None
    wanted = ctx.mood.ranges[feature]
    role = focus.role or "target"
    if role == "weight":
        return wanted.weight
    value = {"low": wanted.low, "high": wanted.high}.get(role, wanted.target)
    scale = SCALES[feature]
    bounded = node.maximum if node.maximum is not None else node.exclusive_maximum
    if scale.high != 1.0 and bounded is not None and bounded <= 1:  # tempo or loudness asked for as 0–1
        return round(scale.to_unit(value), 2)
    return value


# ---- booleans -------------------------------------------------------------------------------------------
def boolean_value(focus: Focus, ctx: Context) -> bool:
    mood = ctx.mood
    words = focus.words
    if focus.chosen is not None and words & TRUE_WORDS:
        return focus.chosen.fit.score >= KEEP_FIT
    if words & {"temporal", "dated", "vintage", "retro"} or words & DECADE_WORDS:
        return mood.decade is not None
    if words & {"obscure", "underground", "niche", "lesser", "unknown", "deep", "discovery"}:
        return mood.obscure
    if "instrumental" in words:
        return mood.ranges["instrumentalness"].target >= 0.5
    if words & {"explicit", "profanity", "vulgar"}:
        return False
    if "mentioned" in words or "specific" in words:
        return bool(mood.mentioned_tracks or mood.mentioned_artists)
    if words & TRUE_WORDS:
        return True
    return False


# ---- enums ----------------------------------------------------------------------------------------------
def enum_value(values: Sequence[Any], focus: Focus, ctx: Context, node: Node) -> Any:
    """The enum value that fits best: the current subject if listed, else by level, else by the mood's words."""
    strings = [v for v in values if isinstance(v, str)]
    subject = _subject_in(strings, focus, ctx)
    if subject is not None:
        return subject
    if len(strings) < len(values):  # numeric enums: nearest to what the number hooks would say
        numbers = [v for v in values if isinstance(v, int | float) and not isinstance(v, bool)]
        wanted = number_value(focus, ctx, node, all(isinstance(v, int) for v in numbers))
        if numbers and wanted is not None:
            return min(numbers, key=lambda v: abs(v - wanted))
        return values[0]
    levels = {v: LEVELS[key(v)] for v in strings if key(v) in LEVELS}
    if len(levels) >= 2:
        target = _level_of(focus, ctx)
        return min(levels, key=lambda v: abs(levels[v] - target))
    bag = ctx.mood.descriptors()
    if focus.words & (INTENT_WORDS | {"type", "kind", "category", "strategy"}):
        for word in ctx.mood.intent.split("_"):
            bag[word] = 3.0
    emotion_words = set(EMOTIONS.get(ctx.mood.emotion, ()))
    best, best_score = values[0], 0.0
    for value in strings:
        value_words = name_words(value)
        score = sum(bag.get(w, 0.0) for w in value_words) / max(1, len(value_words)) ** 0.5
        if value.lower() in emotion_words:
            score += 2.0
        if score > best_score:
            best, best_score = value, score
    return best


def _subject_in(values: Sequence[str], focus: Focus, ctx: Context) -> str | None:
    lowered = {v.lower(): v for v in values}
    candidates: list[str] = []
    if focus.chosen is not None:
        candidates += [focus.chosen.candidate.id, focus.chosen.candidate.name]
    if focus.feature is not None and (focus.words & FEATURE_NAME_WORDS or focus.item):
        candidates.append(focus.feature)
    for subject in (focus.genre, focus.artist, focus.keyword):
        if subject:
            candidates.append(subject)
    if focus.track is not None:
        candidates.append(focus.track[0])
    if focus.words & GENRE_WORDS:
        candidates += list(ctx.mood.genres)
    if focus.words & EMOTION_WORDS:
        candidates += ctx.mood.emotion_labels()
    if focus.words & INTENT_WORDS or focus.words & {"type", "kind", "category"}:
        candidates.append(ctx.mood.intent)
    if focus.feature is None and set(lowered) & set(FEATURES):
        candidates += list(ctx.mood.constrained) + list(DEFAULT_FEATURE_ORDER)
    for candidate in candidates:
        if candidate.lower() in lowered:
            return lowered[candidate.lower()]
    return None


def _level_of(focus: Focus, ctx: Context) -> float:
    words = focus.words
    if focus.feature is not None:
        return feature_level(ctx.mood, focus.feature)
    if words & {"strictness", "strict", "adherence"}:
        return 0.8 if ctx.mood.named_genres else 0.35
    if words & {"diversity", "variety", "novelty", "discovery"}:
        return 0.3 if ctx.mood.named_genres else 0.6
    if words & {"popularity", "mainstream"}:
        return 0.3 if ctx.mood.obscure else 0.6
    return feature_level(ctx.mood, "energy")

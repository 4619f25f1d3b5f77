"""The schema-directed generator: walks a schema and builds a value that validates against it.

Structure lives here (objects, maps, arrays and which things an array lists); single values come from
hooks.py. Every value passes through the schema's constraints last (bounds, lengths, counts), so hooks
can be approximate and the answer still validates.
"""

from __future__ import annotations

import math
import uuid
from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import Any

from .candidates import GOOD_FIT, KEEP_FIT, LIST_NOUNS, CandidateList, Fit, fit, ranked
from .constraints import default_number, fit_number, fit_string, unique
from .features import FEATURES, SCALES
from .hooks import (
    ARTIST_WORDS,
    AVOID_WORDS,
    DECADE_WORDS,
    DEFAULT_FEATURE_ORDER,
    EMOTION_WORDS,
    GENRE_WORDS,
    ID_WORDS,
    INDEX_WORDS,
    KEYWORD_WORDS,
    LANGUAGE_WORDS,
    NAME_WORDS,
    REASON_WORDS,
    REGION_WORDS,
    TRACK_WORDS,
    Chosen,
    Context,
    Focus,
    boolean_value,
    enum_value,
    generic_phrase,
    number_value,
    string_value,
    words_of,
)
from .prose import list_phrase, remark_kind
from .recommend import tracks_for
from .schema import Node, Schema

MAX_DEPTH = 8  # deeper than this, only required properties and minimum item counts (recursive schemas)
DEFAULT_ITEMS = 3

CHOICE_WORDS = frozenset(
    "chosen choose choice selected select selection pick picked keep kept relevant ranked ranking order "
    "ordered ordering priority prioritized score scored scoring rating top best shortlist final winner "
    "approved include included accepted seed anchor valid validated matching match recommended".split()
)
REJECT_WORDS = frozenset(
    "filtered rejected reject excluded exclude removed remove dropped drop discard discarded outlier".split()
)
SCORE_MODE_WORDS = frozenset("score scored scoring rating ranking ranked order ordered ordering priority".split())
FILTER_MODE_WORDS = frozenset("keep kept relevant valid validated approved accepted matching match included".split())
# what a property or a list's header may say it holds; a property naming one answers only lists naming it
KIND_WORDS = frozenset("genre artist band track song tune album playlist keyword".split())
_KIND_ALIASES = {"song": "track", "tune": "track", "band": "artist"}
MAP_FEATURE_WORDS = frozenset("feature audio target weight range constraint preference profile".split())
_FORMATS: dict[str, Callable[[Context], str]] = {
    "date-time": lambda ctx: "2026-01-01T12:00:00Z",
    "date": lambda ctx: "2026-01-01",
    "time": lambda ctx: "12:00:00",
    "email": lambda ctx: "listener@example.com",
    "uri": lambda ctx: f"https://example.com/{ctx.token('uri')}",
    "url": lambda ctx: f"https://example.com/{ctx.token('uri')}",
    "uuid": lambda ctx: str(uuid.UUID(hex=ctx.token("uuid", 32))),
    "duration": lambda ctx: "PT3M30S",
    "hostname": lambda ctx: "example.com",
    "ipv4": lambda ctx: "127.0.0.1",
}


class Filler:
    def __init__(self, schema: Schema, ctx: Context) -> None:
        self.schema = schema
        self.ctx = ctx
        self._fits: dict[int, list[Fit]] = {}
        self._active: list[str] = []  # the references being filled, outermost first

    def fill(self, node: Node, focus: Focus, depth: int = 0) -> Any:
        if node.ref is None:
            return self._fill(self.schema.resolve(node), focus, depth)
        if node.ref in self._active:  # a recursive schema: keep the repeated part minimal
            depth = max(depth, MAX_DEPTH)
        self._active.append(node.ref)
        try:
            return self._fill(self.schema.resolve(node), focus, depth)
        finally:
            self._active.pop()

    def _fill(self, node: Node, focus: Focus, depth: int) -> Any:
        if node.any_of:
            alternatives = [self.schema.resolve(a) for a in node.any_of]
            usable = [a for a in alternatives if a.types != frozenset({"null"})]
            if not usable:
                return None
            chosen = usable[0]
            if len(usable) < len(alternatives) and chosen.types:  # Optional[X]: X, but null when nothing fits
                chosen = replace(chosen, types=chosen.types | {"null"})
            return self.fill(chosen, focus, depth)
        if node.enum is not None:
            return enum_value(node.enum, focus, self.ctx, node)
        kind = _kind(node)
        if kind == "object":
            return self._object(node, focus, depth)
        if kind == "array":
            return self._array(node, focus, depth)
        if kind in ("number", "integer"):
            return self._number(node, focus, kind == "integer")
        if kind == "boolean":
            return boolean_value(focus, self.ctx)
        if kind == "null":
            return None
        return self._string(node, focus)

    # ---- objects and maps ----
    def _object(self, node: Node, focus: Focus, depth: int) -> dict[str, Any]:
        if not node.properties and (node.extra is not None or node.key_names):
            return self._map(node, focus, depth)
        out: dict[str, Any] = {}
        for name, child in node.properties:
            if depth >= MAX_DEPTH and name not in node.required:
                continue
            out[name] = self.fill(child, focus.child(name), depth + 1)
        return out

    def _map(self, node: Node, focus: Focus, depth: int) -> dict[str, Any]:
        """A dict-like object: keys chosen by what its name says it maps (features, genres, artists)."""
        value_node = self.schema.resolve(node.extra) if node.extra is not None else Node()
        words = focus.words
        mood = self.ctx.mood
        pool: list[str]
        if node.key_names:
            feature_keys = [k for k in node.key_names if k in SCALES]
            pool = self._features(feature_keys) if feature_keys else list(node.key_names)
            pool += [k for k in node.key_names if k not in pool]
        elif focus.track is not None:  # free-form objects about one thing: the keys a model would use
            pool = ["track_name", "artist_name"]
        elif focus.chosen is not None:
            pool = ["index" if words & INDEX_WORDS or focus.parent_words & INDEX_WORDS else "id", "name", "reason"]
        elif focus.artist is not None:
            pool = ["name", "reason"]
        elif words & MAP_FEATURE_WORDS or _numeric_or_range(value_node):
            pool = self._features(FEATURES)
        elif words & GENRE_WORDS:
            pool = list(mood.genres[:3])
        elif words & ARTIST_WORDS:
            pool = self.ctx.artists(3)
        else:
            pool = list(mood.keywords[:3])
        count = _clamp(len(pool), node.min_properties, node.max_properties)
        while len(pool) < count:
            pool.append(f"item_{len(pool) + 1}")
        return {k: self.fill(value_node, focus.child(k), depth + 1) for k in pool[:count]}

    def _features(self, allowed: Sequence[str], minimum: int = 3) -> list[str]:
        """The features the mood constrains (strongest first), padded with the usual ones to `minimum`."""
        pool = [f for f in self.ctx.mood.constrained if f in allowed]
        for feature in (*DEFAULT_FEATURE_ORDER, *FEATURES):
            if len(pool) >= minimum:
                break
            if feature in allowed and feature not in pool:
                pool.append(feature)
        return pool

    # ---- arrays ----
    def _array(self, node: Node, focus: Focus, depth: int) -> list[Any]:
        item = self.schema.resolve(node.items) if node.items is not None else Node()
        if node.prefix:
            positions = self._pair(node, focus, len(node.prefix)) or [
                focus.about(rank=i + 1) for i in range(len(node.prefix))
            ]
            values = [self.fill(p, s, depth + 1) for p, s in zip(node.prefix, positions, strict=False)]
            extra = [self.fill(item, focus.about(rank=i + 1), depth + 1) for i in range(len(values), node.min_items)]
            return values + extra
        subjects = None if depth >= MAX_DEPTH else self._subjects(node, item, focus)
        if subjects is None:
            count = DEFAULT_ITEMS if depth < MAX_DEPTH else 0
            requested = self.ctx.prompt.count_for(focus.all_words) if depth < MAX_DEPTH else None
            count = _clamp(requested.target if requested else count, node.min_items, node.max_items)
            subjects = [focus.about(rank=i + 1) for i in range(count)]
        else:
            count = _clamp(len(subjects), node.min_items, node.max_items)
            subjects = subjects[:count]
            while len(subjects) < count:
                subjects.append(focus.about(rank=len(subjects) + 1))
        values = [self.fill(item, s, depth + 1) for s in subjects]
        return unique(values, item) if node.unique else values

    def _subjects(self, node: Node, item: Node, focus: Focus) -> list[Focus] | None:
        """What each item of an array is about, or None for generic filler."""
        for hook in (
            self._mentioned,
            self._choice,
            self._feature_items,
            self._range,
            self._tracks,
            self._artists,
            self._genres,
            self._avoided,
            self._keywords,
            self._places,
            self._emotions,
            self._phrases,
        ):
            subjects = hook(node, item, focus)
            if subjects is not None:
                return subjects
        return None

    def _count(self, focus: Focus, default: int, source: CandidateList | None = None) -> int:
        requested = self.ctx.prompt.count_for(focus.all_words, source)
        return requested.target if requested else default

    def _mentioned(self, node: Node, item: Node, focus: Focus) -> list[Focus] | None:
        """user_mentioned_artists, mentioned_tracks: only what the user named (maybe nothing)."""
        if not focus.words & {"mentioned", "named", "requested", "referenced"}:
            return None
        mood = self.ctx.mood
        if focus.words & TRACK_WORDS or _has_track_shape(item):
            return [focus.about(track=t, rank=i + 1) for i, t in enumerate(mood.mentioned_tracks)]
        if focus.words & ARTIST_WORDS:
            return [focus.about(artist=a, rank=i + 1) for i, a in enumerate(mood.mentioned_artists)]
        if focus.words & GENRE_WORDS:
            return [focus.about(genre=g, rank=i + 1) for i, g in enumerate(mood.named_genres)]
        return None

    def _choice(self, node: Node, item: Node, focus: Focus) -> list[Focus] | None:
        """Arrays that answer "which of the listed candidates": ids, indices or objects about each one."""
        words = focus.words | focus.parent_words
        lists = self._lists_for(words)
        if not lists:
            return None
        headed = any(words & c.header_words & (LIST_NOUNS - {"list"}) for c in lists)
        if not (
            words & (CHOICE_WORDS | REJECT_WORDS | ID_WORDS | INDEX_WORDS)
            or _has_id_property(item)
            or (headed and _kind(item) == "string")
        ):
            return None
        source = self._list_for(focus, lists)
        fits = self._fits_of(source)
        order = ranked(source.candidates, fits)
        if words & REJECT_WORDS and not words & FILTER_MODE_WORDS:
            order = [i for i in reversed(order) if fits[i].score < KEEP_FIT]
            count = len(order)
        elif words & SCORE_MODE_WORDS:
            count = len(order)
        elif words & FILTER_MODE_WORDS:
            count = sum(1 for i in order if fits[i].score >= KEEP_FIT)
        elif any(f.evidence for f in fits):  # the good fits, at least one
            count = max(1, sum(1 for i in order if fits[i].score >= GOOD_FIT))
        else:  # nothing to judge by: about half the list
            count = min(len(order), max(1, min(10, math.ceil(len(order) / 2))))
        requested = None if words & SCORE_MODE_WORDS else self.ctx.prompt.count_for(focus.all_words, source)
        if requested is not None:
            count = min(requested.target, len(order)) if requested.kind != "up_to" else min(requested.high, count or 1)
        count = min(_clamp(count, node.min_items, node.max_items), len(order))
        zero_based = self.ctx.zero_based(node.description, item.description)
        return [
            focus.about(chosen=Chosen(source, source.candidates[i], fits[i], rank, zero_based), rank=rank)
            for rank, i in enumerate(order[:count], start=1)
        ]

    def _lists_for(self, words: frozenset[str]) -> list[CandidateList]:
        """The lists a property may answer from: if its name says what it holds ("seed_genres"), only lists
        whose header names the same kind of thing ("Candidate genres:")."""
        kinds = {_KIND_ALIASES.get(w, w) for w in words & KIND_WORDS}
        if not kinds:
            return list(self.ctx.prompt.lists)
        return [c for c in self.ctx.prompt.lists if kinds & {_KIND_ALIASES.get(w, w) for w in c.header_words}]

    @staticmethod
    def _list_for(focus: Focus, lists: Sequence[CandidateList]) -> CandidateList:
        """The list a property answers: the one whose header shares most words with its path."""
        words = focus.all_words - {"the", "of", "list"}
        return max(lists, key=lambda c: (len(words & c.header_words), -lists.index(c)))

    def _fits_of(self, source: CandidateList) -> list[Fit]:
        if id(source) not in self._fits:
            self._fits[id(source)] = [fit(c, self.ctx.mood, self.ctx.vocab) for c in source.candidates]
        return self._fits[id(source)]

    def best_candidate(self, focus: Focus, node: Node) -> Focus | None:
        """A single property naming one candidate ("best_id", "chosen_index"), when the prompt lists some."""
        words = focus.words | focus.parent_words
        lists = self._lists_for(words)
        if focus.chosen is not None or not lists:
            return None
        if not (words & CHOICE_WORDS and words & (ID_WORDS | INDEX_WORDS)):
            return None
        source = self._list_for(focus, lists)
        fits = self._fits_of(source)
        best = ranked(source.candidates, fits)[0]
        chosen = Chosen(source, source.candidates[best], fits[best], 1, self.ctx.zero_based(node.description))
        return focus.about(chosen=chosen)

    def _feature_items(self, node: Node, item: Node, focus: Focus) -> list[Focus] | None:
        """[{feature: "energy", min: .., max: ..}, ...]: one item per feature the mood constrains."""
        if _kind(item) != "object":
            return None
        allowed: list[str] | None = None
        for name, child in item.properties:
            resolved = self.schema.resolve(child)
            features = [v for v in resolved.enum or () if v in SCALES]
            if len(features) >= 2:
                allowed = features
                break
            if words_of(name) & {"feature", "attribute"} and _kind(resolved) == "string":
                allowed = list(FEATURES)
        if allowed is None:
            return None
        constrained = [f for f in self.ctx.mood.constrained if f in allowed]
        pool = self._features(allowed, minimum=max(node.min_items, 1 if constrained else 3))
        count = self._count(focus, max(len(constrained), min(3, len(pool))))
        return [focus.about(feature=f, rank=i + 1) for i, f in enumerate(pool[:count])]

    def _range(self, node: Node, item: Node, focus: Focus) -> list[Focus] | None:
        """energy: [0.2, 0.5] or year_range: [1980, 1989]."""
        if _kind(item) not in ("number", "integer"):
            return None
        if focus.feature is None and not ("year" in focus.words and "range" in focus.words):
            return None
        count = 3 if node.min_items >= 3 else 1 if node.max_items == 1 else 2
        return self._pair(node, focus, count)

    def _pair(self, node: Node, focus: Focus, count: int) -> list[Focus] | None:
        if focus.feature is None and "year" not in focus.words:
            return None
        roles = {1: ["target"], 2: ["low", "high"], 3: ["low", "target", "high"]}.get(count)
        if roles is None:
            return None
        return [focus.about(role=r, rank=i + 1) for i, r in enumerate(roles)]

    def _tracks(self, node: Node, item: Node, focus: Focus) -> list[Focus] | None:
        if not (focus.words & TRACK_WORDS or _has_track_shape(item)):
            return None
        count = self._count(focus, 5)
        pairs = tracks_for(self.ctx.mood, self.ctx.vocab, self.ctx.artists(max(count, 5)), max(count, node.min_items))
        return [focus.about(track=t, rank=i + 1) for i, t in enumerate(pairs[:count] or pairs)]

    def _artists(self, node: Node, item: Node, focus: Focus) -> list[Focus] | None:
        if not focus.words & ARTIST_WORDS:
            return None
        if focus.words & AVOID_WORDS:
            return [focus.about(artist=a, rank=i + 1) for i, a in enumerate(self.ctx.mood.avoid_artists)]
        count = self._count(focus, 5)
        return [focus.about(artist=a, rank=i + 1) for i, a in enumerate(self.ctx.artists(max(count, node.min_items)))]

    def _genres(self, node: Node, item: Node, focus: Focus) -> list[Focus] | None:
        if not focus.words & GENRE_WORDS:
            return None
        mood = self.ctx.mood
        if focus.words & AVOID_WORDS:
            pool = list(mood.avoid_genres)
        else:
            pool = list(mood.genres[: max(self._count(focus, min(max(mood.strong_genres, 2), 4)), node.min_items)])
        if item.enum is not None:  # a fixed genre list: the ones the mood ranks highest, then the rest
            rank = {g.lower(): i for i, g in enumerate(mood.genres)}
            listed = [v for v in item.enum if isinstance(v, str)]
            pool = sorted(listed, key=lambda v: rank.get(v.lower(), len(rank)))[: len(pool) or 1]
        return [focus.about(genre=g, rank=i + 1) for i, g in enumerate(pool)]

    def _avoided(self, node: Node, item: Node, focus: Focus) -> list[Focus] | None:
        if not focus.words & AVOID_WORDS or focus.words & (REGION_WORDS | LANGUAGE_WORDS):
            return None
        return [focus.about(keyword=w, rank=i + 1) for i, w in enumerate(self.ctx.mood.avoid)]

    def _keywords(self, node: Node, item: Node, focus: Focus) -> list[Focus] | None:
        if not focus.words & KEYWORD_WORDS:
            return None
        mood = self.ctx.mood
        pool = list(dict.fromkeys([*mood.keywords, *mood.genres[:2]]))
        count = self._count(focus, _clamp(len(mood.keywords), 3, 6))
        return [focus.about(keyword=k, rank=i + 1) for i, k in enumerate(pool[:count])]

    def _places(self, node: Node, item: Node, focus: Focus) -> list[Focus] | None:
        mood = self.ctx.mood
        if focus.words & REGION_WORDS:
            pool = [] if focus.words & AVOID_WORDS else list(mood.regions)
        elif focus.words & LANGUAGE_WORDS:
            pool = list(mood.languages)
        else:
            return None
        return [focus.about(keyword=p, rank=i + 1) for i, p in enumerate(pool)]

    def _emotions(self, node: Node, item: Node, focus: Focus) -> list[Focus] | None:
        if not focus.words & EMOTION_WORDS:
            return None
        return [focus.about(keyword=self.ctx.mood.emotion)]

    def _phrases(self, node: Node, item: Node, focus: Focus) -> list[Focus] | None:
        """Lists of remarks (strengths, issues, suggestions) or of features: phrases about the mood."""
        if _kind(item) != "string" or item.enum is not None:
            return None
        if focus.words & {"feature", "features"}:
            return [focus.about(feature=f, rank=i + 1) for i, f in enumerate(self._features(FEATURES))]
        phrase_kind = remark_kind(focus.words)
        if phrase_kind is None and not focus.words & REASON_WORDS:
            return None
        return [focus.about(keyword=list_phrase(phrase_kind, self.ctx.mood, i)) for i in range(2)]

    # ---- leaves ----
    def _string(self, node: Node, focus: Focus) -> str | None:
        if node.format in _FORMATS:
            return _FORMATS[node.format](self.ctx)
        focus = self.best_candidate(focus, node) or focus
        value = string_value(focus, self.ctx)
        if value is None:
            if focus.words & _MAY_BE_EMPTY:
                if node.nullable:
                    return None
                value = "any"
            else:
                value = generic_phrase(focus, self.ctx)
        filler = " ".join([*self.ctx.mood.keywords, *self.ctx.mood.genres[:3], *self.ctx.mood.adjectives()])
        return fit_string(value, node, filler, self.ctx.token(focus.name))

    def _number(self, node: Node, focus: Focus, integer: bool) -> float | int:
        focus = self.best_candidate(focus, node) or focus
        value = number_value(focus, self.ctx, node, integer)
        if value is None:
            value = default_number(node, integer)
        return fit_number(value, node, integer)


# where the string hooks may find nothing (no decade, region or language named): null, else "any"
_MAY_BE_EMPTY = DECADE_WORDS | REGION_WORDS | LANGUAGE_WORDS


def _kind(node: Node) -> str:
    types = node.types - {"null"}
    if not node.types:
        if node.properties or node.extra is not None:
            return "object"
        if node.items is not None or node.prefix:
            return "array"
        return "string"
    if not types:
        return "null"
    for kind in ("object", "array", "integer", "number", "string", "boolean"):
        if kind in types:
            return kind
    return "string"


def _clamp(count: int, low: int, high: int | None) -> int:
    count = max(count, low)
    return count if high is None else min(count, high)


def _numeric_or_range(node: Node) -> bool:
    kind = _kind(node)
    if kind in ("number", "integer"):
        return True
    if kind == "array":
        return bool(node.prefix) or (node.items is not None and _kind(node.items) in ("number", "integer"))
    return kind == "object" and any(words_of(n) & {"min", "max", "low", "high", "target"} for n, _ in node.properties)


def _has_id_property(item: Node) -> bool:
    if _kind(item) != "object":
        return False
    return any(words_of(name) & (ID_WORDS | INDEX_WORDS) for name, _ in item.properties)


def _has_track_shape(item: Node) -> bool:
    """An object with a title-like and an artist-like property: {track_name, artist_name}."""
    if _kind(item) != "object":
        return False
    names = [words_of(name) for name, _ in item.properties]
    has_title = any(w & (NAME_WORDS | TRACK_WORDS) - {"name"} or w == {"name"} for w in names)
    has_artist = any(w & ARTIST_WORDS for w in names)
    return has_title and has_artist and any(w & (TRACK_WORDS | {"title"}) for w in names)

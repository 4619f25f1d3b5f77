"""The fake model: a request body in, an answer out — pure and deterministic.

A JSON answer fills the response schema from an explicit table of the property names this repository's
schemas use (services/llm_gateway/schemas.py; the bench's legacy model, bench/legacy/prompts.py); any other
property gets a value from its type, enum and bounds alone.

Bundles: when the schema is an object whose properties are objects (RunTasks' task_1, task_2...; a bundled
mood call's one property per prompt), each such property answers from its own section of the prompt — from
a line starting with its name ("task_1 (choose): ...", "mood_2: ...") to the next such line — read exactly
as a single call would read it. Text before the first section ("Mood prompt: ...") is the shared context.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from .choices import Candidate, candidates, choose, find_lists
from .envelope import CHARS_PER_TOKEN, GeminiAnswer, estimate_tokens
from .knowledge import Knowledge
from .lexicon import SCALES
from .mood import Mood, read_mood, recommend_artists
from .request import Node, read_request

# the user's own words within a prompt: "Mood prompt: ...", "Mood: ...", "Input: ..."
_LABEL = re.compile(r"^[ \t*#>-]*(?:mood(?:\s+prompt)?|prompt|input|request|query)\s*:\s*(\S.*)$", re.I | re.M)
MAX_ARTISTS = 12  # what the mood instruction asks for ("up to 12 artists in all")
MAX_KEYWORDS = 6  # (the legacy instruction: "3 to 6 keywords")
DEFAULT_FEATURES = ("energy", "valence", "danceability")  # the feature targets of a mood that constrains none

# choices among listed candidates, by property name → how they are chosen (choices.choose)
CHOICES = {
    "chosen_ids": "select", "selected_indices": "select", "selected_track_indices": "select",
    "selected_artist_indices": "select", "relevant_tracks": "filter", "keep_artists": "filter",
    "track_priorities": "score", "track_scores": "score", "track_energies": "select",
    "filtered_out": "reject", "filtered_artists": "reject",
}  # fmt: skip
SENTENCES = frozenset(
    "interpretation mood_interpretation reasoning reason summary strategy_notes selection_notes".split()
)
TRACK_LISTS = frozenset({"mentioned_tracks", "user_mentioned_tracks", "tracks"})


_read_mood = functools.lru_cache(maxsize=256)(read_mood)  # a pure function; bundles and the bench repeat prompts


@dataclass
class Scope:
    """One part of the answer: the prompt text it answers, the mood read from it, the candidates listed."""

    text: str
    mood: Mood
    listed: list[Candidate]


@dataclass(frozen=True)
class Subject:
    """What an object inside an array is about."""

    feature: str | None = None
    chosen: Candidate | None = None
    track: tuple[str, str] | None = None


def mood_text(text: str) -> str:
    """The user's own words: the labelled lines of `text`, else all of it."""
    labelled = [m.group(1).strip().strip("\"'“”") for m in _LABEL.finditer(text)]
    return "\n".join(labelled) if labelled else text.strip()


def generate(body: Mapping[str, Any], model: str, kb: Knowledge) -> GeminiAnswer:
    """Answer a generateContent request body (camelCase REST JSON). Raises GeminiRequestError."""
    request = read_request(body)
    filler = _Filler(kb)
    lists, rest = find_lists(request.user)
    scope = filler.scope(request.user, mood_text(rest) or mood_text(request.system), lists)
    if request.schema is not None:
        text = json.dumps(filler.root(request.schema, request.user, scope), ensure_ascii=False)
    else:  # no schema: one sentence, a JSON string when JSON was asked for
        text = json.dumps(scope.mood.sentence()) if request.wants_json else scope.mood.sentence()
    limit = request.max_output_tokens
    if limit is not None and estimate_tokens(text) > limit:
        return GeminiAnswer(text[: limit * CHARS_PER_TOKEN], request.prompt_tokens, limit, "MAX_TOKENS")
    return GeminiAnswer(text, request.prompt_tokens, estimate_tokens(text), "STOP")


class _Filler:
    def __init__(self, kb: Knowledge) -> None:
        self.kb = kb

    def scope(self, text: str, words: str, lists: Sequence[Sequence[tuple[str, str, bool]]]) -> Scope:
        mood = _read_mood(words, self.kb)
        return Scope(text, mood, candidates(list(lists[0]), mood, self.kb) if lists else [])

    def root(self, schema: Node, user: str, scope: Scope) -> Any:
        """The whole answer; an object's object-valued properties answer from their own sections."""
        bundled = [name for name, child in schema.properties if child.type == "object"]
        starts = sorted(
            (m.start(), m.end(), name)
            for name in bundled
            if (m := re.search(rf"^[ \t*#-]*{re.escape(name)}(?:\s*\([^)\n]*\))?\s*:", user, re.M))
        )
        if not starts or len(starts) < len(bundled):  # a bundle only when every part has its section
            return self.value(schema, "", scope, Subject())
        shared = mood_text(find_lists(user[: starts[0][0]])[1])
        sections: dict[str, Scope] = {}
        for i, (_, body_start, name) in enumerate(starts):
            section = user[body_start : starts[i + 1][0] if i + 1 < len(starts) else len(user)]
            lists, rest = find_lists(section)
            # a choice's instruction is not the mood: it is read from the shared context when there is one
            words = mood_text(rest) if _LABEL.search(rest) or not lists or not shared else shared
            sections[name] = self.scope(section, words, lists)
        names = [n for n, _ in schema.properties]
        return {n: self.value(c, n, sections.get(n, scope), Subject(), "", names) for n, c in schema.properties}

    def value(
        self, node: Node, name: str, scope: Scope, subject: Subject, parent: str = "", siblings: Sequence[str] = ()
    ) -> Any:
        """The value of property `name` of object `parent`, whose properties are `siblings`."""
        if node.type == "object":
            names = [n for n, _ in node.properties]
            return {
                n: self.value(child, n, scope, subject, name, names)
                for n, child in node.properties
                if n in node.required or self._has_something_for(n, scope.mood)
            }
        if node.type == "array":
            assert node.items is not None
            items = self._items(node, name, scope, siblings)[: node.max_items]
            items += [Subject()] * (node.min_items - len(items))
            return [self.value(node.items, name, scope, v) if isinstance(v, Subject) else v for v in items]
        return self._leaf(node, name, scope, subject, parent)

    @staticmethod
    def _has_something_for(name: str, mood: Mood) -> bool:
        """Whether an optional property is written: a feature only when it matters for the mood (the model
        is asked for the few that matter most); anything else always."""
        return name not in SCALES or name in (mood.constrained or DEFAULT_FEATURES)

    def _items(self, node: Node, name: str, scope: Scope, siblings: Sequence[str]) -> list[Any]:
        """What an array holds: final values, or a Subject per object item."""
        mood, item = scope.mood, node.items
        assert item is not None
        if name in CHOICES:
            picked = choose(scope.listed, CHOICES[name], scope.text)
            if item.type == "object":
                return [Subject(chosen=c) for c in picked]
            return [c.number if item.type == "integer" else c.id for c in picked]
        if name == "feature_targets":
            return [Subject(feature=f) for f in mood.constrained or DEFAULT_FEATURES]
        if name in ("genres", "genre_keywords"):
            return list(mood.top_genres(node.min_items))
        if name in ("artists", "artist_recommendations", "user_mentioned_artists"):
            # a mood reading (it asks for genres too) adds artists that fit; a list of mentions does not
            fitting = name == "artist_recommendations" or (name == "artists" and "genres" in siblings)
            return recommend_artists(mood, self.kb, MAX_ARTISTS) if fitting else list(mood.artists)
        if name in TRACK_LISTS:
            return [Subject(track=t) for t in mood.tracks]
        if name == "search_keywords":  # the legacy model's mood instruction asks for 3 to 6
            count = min(max(len(mood.keywords), 3), MAX_KEYWORDS)
            return list(dict.fromkeys([*mood.keywords, *mood.genres[:2]]))[:count]
        if name == "avoid":
            return list(mood.avoid)
        if name in SCALES and item.type in ("number", "integer"):  # {"energy": [min, max]} or [min, max, weight]
            wanted = mood.ranges[name]
            values = [wanted.low, wanted.high] + ([wanted.weight] if node.min_items >= 3 else [])
            return [_bounded(v, item) for v in values]
        return []

    def _leaf(self, node: Node, name: str, scope: Scope, subject: Subject, parent: str) -> Any:
        mood, chosen, track, feature = scope.mood, subject.chosen, subject.track, subject.feature
        if node.enum is not None:
            meant = feature if name == "feature" else mood.intent if name == "intent_type" else None
            return meant if meant in node.enum else node.enum[0]
        if node.type == "boolean":
            return name == "meets_expectations" or (name == "is_temporal" and mood.decade is not None)
        if node.type == "string":
            if name in SENTENCES:
                return chosen.reason() if chosen is not None else mood.sentence()
            if name in ("title", "track_name", "name") and (track or chosen):
                return track[0] if track is not None else chosen.name if chosen is not None else ""
            if name in ("artist", "artist_name") and track is not None:
                return track[1]
            if name == "primary_emotion":
                return mood.emotion
            if name == "primary_genre":
                return mood.genres[0]
            if name == "energy_level":
                energy = mood.ranges["energy"].target
                return "low" if energy < 0.38 else "high" if energy >= 0.65 else "medium"
            return mood.adjectives()[0]
        if feature is not None and name in ("min", "max", "target", "weight"):
            wanted = mood.ranges[feature]
            value: float = {"min": wanted.low, "max": wanted.high, "target": wanted.target}.get(name, wanted.weight)
        elif name in SCALES:  # {"energy": 0.3}, its weight in "feature_weights"
            value = mood.ranges[name].weight if parent == "feature_weights" else mood.ranges[name].target
        elif chosen is not None and name in ("track_index", "index"):
            value = chosen.number
        elif chosen is not None and name in ("score", "confidence"):
            value = chosen.fit.score if name == "score" else 0.85 if chosen.fit.evidence else 0.5
        elif name == "energy_level":
            value = mood.ranges["energy"].target
        else:
            low, high = node.minimum, node.maximum
            if low is not None and high is not None:
                value = (low + high) / 2
            else:
                value = low if low is not None else high or (1 if node.type == "integer" else 0.5)
        return _bounded(value, node)


def _bounded(value: float, node: Node) -> float | int:
    if node.minimum is not None:
        value = max(value, node.minimum)
    if node.maximum is not None:
        value = min(value, node.maximum)
    return int(value) if node.type == "integer" else value

"""Candidate lists in a prompt, how well each candidate fits the mood, and which ones a choice answers with.

Two list forms, one candidate a line (blank lines between them are fine):

    - <id>: <description>    the id has a digit or is 12+ characters (Spotify IDs, UUIDs); RunTasks writes these
    <n>. <description>       the line before the list must name what it lists ("Candidate tracks:"), so
                             numbered instructions are not taken for candidates; the legacy model writes these
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

from .knowledge import Knowledge
from .lexicon import SCALES, tokenize, words
from .mood import Mood, explicit_numbers

_DASH = re.compile(r"^\s*[-*•]\s+([^\s:]+)\s*:\s+(\S.*?)\s*$")
_NUMBERED = re.compile(r"^\s*(\d{1,4})[.)]\s+(\S.*?)\s*$")
# what a numbered list's header must name for the list to count as candidates
LIST_NOUNS = frozenset("track tracks song songs artist artists candidate candidates option options item items".split())
_NAME_END = re.compile(r"\s+by\s+|\s+[-–—|]\s+|\s*[(\[;]", re.IGNORECASE)
_COUNT = re.compile(r"\b(?:choose|select|pick)\s+(exactly\s+|at\s+most\s+|up\s+to\s+|at\s+least\s+)?(\d+)", re.I)

GOOD_FIT = 0.6  # a candidate this good is chosen when the prompt names no count
KEEP_FIT = 0.45  # filters keep candidates at least this good (0.5 means "nothing to judge by")


@dataclass(frozen=True)
class Fit:
    score: float  # 0–1; 0.5 when the description says nothing the mood can judge
    reasons: tuple[str, ...]  # short phrases: "jazz", "energy 0.42 in range"
    evidence: bool  # whether anything in the description was judged


@dataclass(frozen=True)
class Candidate:
    id: str  # as listed (the number, for numbered lines)
    number: int  # the listed number, or the 1-based position in a dash list
    text: str  # the description
    fit: Fit

    @property
    def name(self) -> str:
        """The description's leading name: "Title" of "Title by Artist (jazz)"."""
        return _NAME_END.split(self.text, maxsplit=1)[0].strip() or self.text

    def reason(self) -> str:
        if not self.fit.evidence:
            return f"{self.name}: no details to judge it by, kept in listed order."
        verdict = "fits the mood" if self.fit.score >= KEEP_FIT else "is off-mood"
        return f"{self.name} {verdict}: {'; '.join(self.fit.reasons)}."


def find_lists(text: str) -> tuple[list[list[tuple[str, str, bool]]], str]:
    """The candidate lists in `text` as (id, description, numbered) rows, and `text` without their lines."""
    lines = text.splitlines(keepends=True)
    lists: list[list[tuple[str, str, bool]]] = []
    taken: set[int] = set()
    header = ""
    i = 0
    while i < len(lines):
        first = _row(lines[i])
        if first is None or (first[2] and not set(words(header)) & LIST_NOUNS):
            header = lines[i].strip() or header
            i += 1
            continue
        rows = []
        while i < len(lines):
            row = _row(lines[i])
            if row is not None and row[2] == first[2]:
                rows.append(row)
                taken.add(i)
            elif lines[i].strip():
                break
            i += 1
        lists.append(rows)
    return lists, "".join(line for k, line in enumerate(lines) if k not in taken)


def _row(line: str) -> tuple[str, str, bool] | None:
    dash = _DASH.match(line)
    if dash and (any(c.isdigit() for c in dash.group(1)) or len(dash.group(1)) >= 12):
        return dash.group(1), dash.group(2), False
    numbered = _NUMBERED.match(line)
    return (numbered.group(1), numbered.group(2), True) if numbered else None


def candidates(rows: list[tuple[str, str, bool]], mood: Mood, kb: Knowledge) -> list[Candidate]:
    return [
        Candidate(ident, int(ident) if numbered else position, text, fit(text, mood, kb))
        for position, (ident, text, numbered) in enumerate(rows, start=1)
    ]


def fit(text: str, mood: Mood, kb: Knowledge) -> Fit:
    """How well a description fits the mood: the genres, artists and titles it names, the feature numbers it
    quotes ("energy 0.42", "120 bpm") against the mood's ranges, and words the mood avoids."""
    tokens = tokenize(text)
    parts: list[tuple[float, float, str]] = []  # (score, weight, reason)
    matches, hinted = kb.genres_in(tokens)
    named = list(dict.fromkeys(m.name for m in matches))
    parts += [(mood.genre_fit.get(genre, 0.0), 1.0, genre) for genre in named]
    if not named and hinted:
        best = max(hinted, key=lambda g: mood.genre_fit.get(g, 0.0))
        parts.append((0.8 * mood.genre_fit.get(best, 0.0), 0.5, best))
    lowered = text.lower()
    for title, artist in mood.tracks:
        if title.lower() in lowered and artist.lower() in lowered:
            parts.append((1.0, 3.0, f"the user asked for {title}"))
    for match in kb.artist_names.find(tokens):
        if match.name in mood.artists:
            parts.append((1.0, 2.0, f"by {match.name}, whom the user named"))
        elif not named and (genres := kb.artist_genres[match.name.lower()]):
            parts.append((max(mood.genre_fit.get(g, 0.0) for g in genres), 0.7, genres[0]))
    targets, floors, ceilings = explicit_numbers(text)
    for feature, value in {**floors, **ceilings, **targets}.items():
        wanted = mood.ranges[feature]
        distance = max(wanted.low - value, value - wanted.high, 0.0)
        closeness = max(0.0, 1.0 - distance / (2 * SCALES[feature].half_width))
        verdict = "in range" if distance == 0 else "too low" if value < wanted.low else "too high"
        parts.append((closeness, max(wanted.weight, 0.2), f"{feature} {value:g} {verdict}"))
    description_words = {t.norm for t in tokens}
    avoided = [a for a in mood.avoid if set(a.lower().split()) <= description_words]
    if not parts and not avoided:
        return Fit(0.5, (), False)
    total = sum(w for _, w, _ in parts)
    score = sum(s * w for s, w, _ in parts) / total if total else 0.5
    reasons = [r for _, _, r in sorted(parts, key=lambda p: -p[1] * abs(p[0] - 0.5))]
    if avoided:
        score *= 0.3
        reasons.insert(0, f"{avoided[0]}, which the user wants to avoid")
    return Fit(round(score, 3), tuple(reasons[:2]), True)


def choose(listed: list[Candidate], mode: str, text: str) -> list[Candidate]:
    """The candidates a choice answers with, best first. `mode`: "select" (the count the text asks for —
    "choose at most 3", "select exactly 5" —, else the good fits, else half of a blind list), "filter" (the
    fits worth keeping), "score" (all of them, ranked) or "reject" (the poor fits, worst first)."""
    ranked = sorted(listed, key=lambda c: -c.fit.score)
    if mode == "score":
        return ranked
    if mode == "reject":
        return [c for c in reversed(ranked) if c.fit.score < KEEP_FIT]
    if mode == "filter":
        return [c for c in ranked if c.fit.score >= KEEP_FIT]
    if any(c.fit.evidence for c in ranked):
        count = max(1, sum(1 for c in ranked if c.fit.score >= GOOD_FIT))
    else:
        count = min(len(ranked), max(1, min(10, math.ceil(len(ranked) / 2))))
    asked = _COUNT.search(text)
    if asked is not None:
        number, qualifier = int(asked.group(2)), " ".join((asked.group(1) or "").lower().split())
        count = min(number, count or 1) if qualifier in ("at most", "up to") else number
    return ranked[:count]

"""Lists of candidates in a prompt, and how well each one fits the mood.

A list is a run of lines of one form (blank lines between them are fine):

    - <id>: <description>        the id has a digit or is 12+ characters (Spotify IDs, UUIDs)
    [<id>] <description>
    <n>. <description>           1-based index; the line before the list must name what it lists
                                 ("Candidate tracks:"), so numbered instructions are not taken for a list
    id=<id> | <description>

The line before a list is its header; its words tie the list to the schema property that answers it.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from .features import SCALES
from .mood import Mood, explicit_numbers
from .text import singular, tokenize, words
from .vocabulary import Vocabulary, genres_in, index_of

_FORMS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("pipe", re.compile(r"^\s*id\s*[=:]\s*([^\s|]+)\s*\|\s*(\S.*?)\s*$", re.IGNORECASE)),
    ("bracket", re.compile(r"^\s*\[([^\]\s]+)\]\s*[:\-–—]?\s*(\S.*?)\s*$")),
    ("dash", re.compile(r"^\s*[-*•]\s+([^\s:]+)\s*:\s+(\S.*?)\s*$")),
    ("numbered", re.compile(r"^\s*(\d{1,4})[.)]\s+(\S.*?)\s*$")),
)
# what a numbered list's header must name for the list to count as candidates
LIST_NOUNS = frozenset(
    "track song artist candidate option item seed choice album genre playlist result entry recommendation "
    "tune record band musician anchor pool list".split()
)
_NAME_END = re.compile(r"\s+by\s+|\s+[-–—|]\s+|\s*[(\[;]|\s+\|\s*|,\s+(?=\w+\s*[:=])", re.IGNORECASE)
_BY = re.compile(r"\s+by\s+(.+?)(?:\s*[(\[;|,]|\s+[-–—]\s+|$)", re.IGNORECASE)


GOOD_FIT = 0.6  # a candidate this good is chosen when the prompt names no count
KEEP_FIT = 0.45  # filters keep candidates at least this good (0.5 means "nothing to judge by")


@dataclass(frozen=True)
class Candidate:
    id: str  # as listed (the number, for numbered lines)
    number: int  # the number shown on a numbered line, else the 1-based position
    position: int  # 1-based position in its list
    text: str  # the description
    name: str  # the description's leading name ("Title" of "Title by Artist (jazz)")
    artist: str | None


@dataclass(frozen=True)
class CandidateList:
    form: str
    header: str
    header_words: frozenset[str]  # singular words of the header
    start: int  # character offset of the first line
    candidates: tuple[Candidate, ...]
    numeric_ids: bool  # every id is a number, so an integer answer can name it directly


@dataclass(frozen=True, slots=True)
class Fit:
    score: float  # 0–1; 0.5 when the description says nothing the mood can judge
    reasons: tuple[str, ...]  # short phrases: "jazz", "energy 0.42 in range"
    evidence: bool  # whether anything in the description was judged


def _line_form(line: str) -> tuple[str, str, str] | None:
    for form, pattern in _FORMS:
        match = pattern.match(line)
        if match:
            ident, text = match.group(1), match.group(2)
            if form == "dash" and not (any(c.isdigit() for c in ident) or len(ident) >= 12):
                return None
            return form, ident, text
    return None


def _name_and_artist(text: str) -> tuple[str, str | None]:
    name = _NAME_END.split(text, maxsplit=1)[0].strip().strip("\"'“”")
    by = _BY.search(text)
    return (name or text), (by.group(1).strip().strip("\"'“”") if by else None)


def find_lists(text: str) -> tuple[list[CandidateList], str]:
    """The candidate lists in `text`, and `text` without their lines (what is left is the request)."""
    lines = text.splitlines(keepends=True)
    offsets = [0]
    for line in lines:
        offsets.append(offsets[-1] + len(line))
    lists: list[CandidateList] = []
    taken: set[int] = set()
    i = 0
    while i < len(lines):
        first = _line_form(lines[i])
        if first is None:
            i += 1
            continue
        form = first[0]
        rows: list[tuple[int, str, str]] = []
        j = i
        while j < len(lines):
            parsed = _line_form(lines[j])
            if parsed is not None and parsed[0] == form:
                rows.append((j, parsed[1], parsed[2]))
                j += 1
            elif not lines[j].strip():
                j += 1
            else:
                break
        header = next((lines[k].strip() for k in range(i - 1, -1, -1) if lines[k].strip()), "")
        header_words = frozenset(singular(w) for w in words(header))
        if form != "numbered" or header_words & LIST_NOUNS:
            candidates = []
            for position, (_, ident, description) in enumerate(rows, start=1):
                name, artist = _name_and_artist(description)
                number = int(ident) if form == "numbered" else position
                candidates.append(Candidate(ident, number, position, description, name, artist))
            numeric = all(c.id.isdigit() for c in candidates)
            lists.append(CandidateList(form, header, header_words, offsets[i], tuple(candidates), numeric))
            taken.update(r[0] for r in rows)
        i = j
    rest = "".join(line for k, line in enumerate(lines) if k not in taken)
    return lists, rest


def fit(candidate: Candidate, mood: Mood, vocab: Vocabulary) -> Fit:
    """How well a candidate's description fits the mood: the genres, artists and titles it names, the
    feature numbers it quotes ("energy 0.42", "120 bpm") against the mood's ranges, and words to avoid."""
    index = index_of(vocab)
    tokens = tokenize(candidate.text)
    parts: list[tuple[float, float, str]] = []  # (score, weight, reason)
    matches, hinted = genres_in(tokens, index)
    named = list(dict.fromkeys(m.payload for m in matches))
    for genre in named:
        parts.append((mood.genre_fit.get(genre, 0.0), 1.0, genre))
    if not named and hinted:
        best = max(hinted, key=lambda g: mood.genre_fit.get(g, 0.0))
        parts.append((0.8 * mood.genre_fit.get(best, 0.0), 0.5, best))
    lowered = candidate.text.lower()
    for title, artist in mood.mentioned_tracks:
        if title.lower() in lowered and artist.lower() in lowered:
            parts.append((1.0, 3.0, f"the user asked for {title}"))
    for match in index.artist_names.find(tokens):
        if match.payload in mood.mentioned_artists:
            parts.append((1.0, 2.0, f"by {match.payload}, whom the user named"))
        elif not named:
            genres = index.artist_genres[match.payload.lower()]
            if genres:
                parts.append((max(mood.genre_fit.get(g, 0.0) for g in genres), 0.7, genres[0]))
    targets, floors, ceilings = explicit_numbers(candidate.text)
    for feature, value in {**floors, **ceilings, **targets}.items():
        wanted = mood.ranges[feature]
        scale = SCALES[feature]
        distance = max(wanted.low - value, value - wanted.high, 0.0)
        closeness = max(0.0, 1.0 - distance / (2 * scale.half_width))
        shown = f"{value:g}"
        verdict = "in range" if distance == 0 else "too low" if value < wanted.low else "too high"
        parts.append((closeness, max(wanted.weight, 0.2), f"{feature} {shown} {verdict}"))
    description_words = {t.norm for t in tokens}
    avoided = [a for a in mood.avoid if set(a.split()) <= description_words]
    if not parts and not avoided:
        return Fit(0.5, (), False)
    total = sum(w for _, w, _ in parts)
    score = sum(s * w for s, w, _ in parts) / total if total else 0.5
    reasons = [r for _, _, r in sorted(parts, key=lambda p: -p[1] * abs(p[0] - 0.5))]
    if avoided:
        score *= 0.3
        reasons.insert(0, f"{avoided[0]}, which the user wants to avoid")
    return Fit(round(score, 3), tuple(reasons[:2]), True)


def ranked(candidates: Sequence[Candidate], fits: Sequence[Fit]) -> list[int]:
    """Positions (0-based) best first; equal fits keep the listed order."""
    return sorted(range(len(candidates)), key=lambda i: -fits[i].score)

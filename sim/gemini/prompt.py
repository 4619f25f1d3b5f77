"""Reading a prompt: the user's own words (the mood), candidate lists, and counts the prompt asks for."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from .candidates import LIST_NOUNS, CandidateList, find_lists
from .text import NUMBER_WORDS, singular, words

# "Mood: rainy jazz", "User request: ...", "Prompt - ..." (the value may also be on the next line)
_LABEL = re.compile(
    r"^[ \t*#>-]*(?:the\s+)?(?:user(?:'s)?\s+|original\s+)?"
    r"(?:mood(?:\s+prompt|\s+description)?|prompt|request|query|description|vibe|theme|occasion|input|message"
    r"|playlist(?:\s+request|\s+prompt|\s+description)?)\s*[:=]\s*(.*)$",
    re.IGNORECASE | re.MULTILINE,
)
# a quoted passage that is not a JSON key ("energy": ...)
_QUOTED = re.compile(r"\"([^\"\n]{3,400})\"(?!\s*:)|“([^”\n]{3,400})”")
_NUMBER = r"(\d{1,3}|" + "|".join(NUMBER_WORDS) + r")"
_COUNT = re.compile(
    r"\b(?:choose|pick|select|return|recommend|suggest|give|list|keep|include|provide|find|name|top|rank|"
    r"generate|identify|output|want|need|exactly|between|up\s+to|at\s+most|at\s+least|no\s+more\s+than)\s+"
    r"(?:me\s+|the\s+|only\s+|just\s+)?"
    r"(up\s+to\s+|at\s+most\s+|at\s+least\s+|no\s+more\s+than\s+|exactly\s+|about\s+|around\s+|between\s+)?"
    + _NUMBER
    + r"(?:\s*(?:-|–|to|and)\s*"
    + _NUMBER
    + r")?((?:\s+[A-Za-z][\w-]*){0,3})",
    re.IGNORECASE,
)
_UP_TO = ("up to", "at most", "no more than")


@dataclass(frozen=True, slots=True)
class CountRequest:
    low: int
    high: int
    kind: str  # "exact", "up_to" or "at_least"
    nouns: frozenset[str]  # singular words right after the number ("5 seed tracks" → seed, track)
    position: int  # character offset in the prompt

    @property
    def target(self) -> int:
        if self.kind == "up_to":
            return self.high
        if self.kind == "at_least":
            return self.low
        return (self.low + self.high + 1) // 2


@dataclass(frozen=True)
class Prompt:
    system: str
    user: str  # every user turn's text
    text: str  # system and user text, where lists and counts are looked for
    focus: str  # the user's own words: what the mood is read from
    context: str  # the user text without candidate lists
    lists: tuple[CandidateList, ...]
    counts: tuple[CountRequest, ...]

    def count_for(self, path_words: Iterable[str], near: CandidateList | None = None) -> CountRequest | None:
        """The count the prompt asks for, for a property: one whose noun the property's path names
        ("8-15 artists" for artist_recommendations), else, for a list, one naming what its header names,
        else the nearest count that names no other kind of thing ("pick 5", "choose 3 of them")."""
        wanted = {singular(w) for w in path_words}
        for count in self.counts:
            if count.nouns & wanted & (LIST_NOUNS | _COUNTABLE):
                return count
        if near is None:
            return None
        for count in self.counts:
            if count.nouns & near.header_words & (LIST_NOUNS | _COUNTABLE):
                return count
        generic = [c for c in self.counts if not c.nouns & (LIST_NOUNS | _COUNTABLE)]
        if not generic:
            return None
        return min(generic, key=lambda c: abs(c.position - near.start))


_COUNTABLE = frozenset("keyword genre id index idx tag term word query region language".split())


def _number(text: str) -> int:
    return int(text) if text.isdigit() else NUMBER_WORDS[text.lower()]


def find_counts(text: str) -> tuple[CountRequest, ...]:
    counts: list[CountRequest] = []
    for match in _COUNT.finditer(text):
        qualifier = " ".join(text[match.start() : match.start(2)].lower().split())
        low = _number(match.group(2))
        high = _number(match.group(3)) if match.group(3) else low
        if high < low or high == 0:
            continue
        kind = "up_to" if any(w in qualifier for w in _UP_TO) else "at_least" if "at least" in qualifier else "exact"
        nouns = frozenset(singular(w) for w in words(match.group(4) or ""))
        counts.append(CountRequest(low, high, kind, nouns, match.start()))
    return tuple(counts)


def focus_of(user_text: str) -> str:
    """The user's own words within a prompt: labelled lines ("Mood: ..."), else the quoted passages of a
    longer prompt, else all of it (a short message is the request itself)."""
    labelled: list[str] = []
    lines = user_text.splitlines()
    for match in _LABEL.finditer(user_text):
        value = match.group(1).strip()
        if not value:  # the label's value is on the next non-empty line
            line_no = user_text[: match.start()].count("\n")
            value = next((ln.strip() for ln in lines[line_no + 1 :] if ln.strip()), "")
        if value:
            labelled.append(value.strip("\"'“”"))
    if labelled:
        return "\n".join(labelled)
    short = len(user_text) <= 300 and user_text.strip().count("\n") <= 1
    quoted = [a or b for a, b in _QUOTED.findall(user_text)]
    if quoted and not short:  # a long prompt quoting the user's request
        return "\n".join(quoted)
    return user_text


def read_prompt(system: str, user: str) -> Prompt:
    text = f"{system}\n{user}" if system else user
    lists, _ = find_lists(text)
    _, context = find_lists(user)
    focus = focus_of(context) if context.strip() else focus_of(system)
    return Prompt(system, user, text, focus, context, tuple(lists), find_counts(text))

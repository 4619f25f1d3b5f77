"""Word-level helpers shared by the prompt reader, the lexicon and the schema filler."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

_WORD = re.compile(r"[^\W_]+|&", re.UNICODE)
_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])")


@dataclass(frozen=True, slots=True)
class Token:
    norm: str  # lower case
    raw: str  # as written
    start: int  # offsets in the text it came from
    end: int


def tokenize(text: str) -> list[Token]:
    """Alphanumeric runs of `text`; "&" counts as the word "and" so "R&B" reads as "r and b"."""
    tokens: list[Token] = []
    for match in _WORD.finditer(text):
        raw = match.group()
        tokens.append(Token("and" if raw == "&" else raw.lower(), raw, match.start(), match.end()))
    return tokens


def words(text: str) -> list[str]:
    return [t.norm for t in tokenize(text)]


def key(text: str) -> str:
    """Spacing- and punctuation-insensitive key: "Lo-Fi", "lofi" and "lo fi" all give "lofi"."""
    return "".join(words(text))


@lru_cache(maxsize=4096)
def name_words(name: str) -> tuple[str, ...]:
    """The words of a property name: "minEnergy" and "min_energy" both give ("min", "energy")."""
    return tuple(w.lower() for w in _WORD.findall(_CAMEL.sub(" ", name.replace("_", " "))) if w != "&")


def singular(word: str) -> str:
    """Crude English singular, enough to match "artists" with "artist" and "indices" with "index"."""
    if word in ("indices", "indexes"):
        return "index"
    if word.endswith("ies") and len(word) > 4:
        return word[:-3] + "y"
    if word.endswith(("ses", "xes")):
        return word[:-2]
    if word.endswith("s") and not word.endswith("ss") and len(word) > 3:
        return word[:-1]
    return word


def truncate(text: str, max_length: int) -> str:
    """`text` cut to `max_length` characters, at a word boundary when one is near."""
    if len(text) <= max_length:
        return text
    cut = text[:max_length]
    space = cut.rfind(" ")
    if space >= max_length * 0.6:
        cut = cut[:space]
    return cut.rstrip(" ,;:-")


def join_words(items: list[str]) -> str:
    """ "a", "a and b", "a, b and c"."""
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]


NUMBER_WORDS: dict[str, int] = {
    "one": 1,
    "two": 2,
    "three": 3,
    "four": 4,
    "five": 5,
    "six": 6,
    "seven": 7,
    "eight": 8,
    "nine": 9,
    "ten": 10,
    "eleven": 11,
    "twelve": 12,
    "fifteen": 15,
    "twenty": 20,
    "thirty": 30,
}

# Words that carry no meaning about music on their own: grammar, and the vocabulary of instructions
# ("return a JSON object with the fields...") that any structured prompt is full of.
STOPWORDS: frozenset[str] = frozenset(
    """
    a an the and or but if then than so as of to in on at by for from with into onto about over under up
    down out off is are was were be been being am do does did doing have has had having will would can
    could should shall may might must i me my mine we us our you your he she it its they them their this
    that these those there here what which who whom whose when where why how all any both each few more
    most other some such only own same too very just also not no nor yet still ever even really quite
    much many lot lots bit little something anything everything nothing someone please want wants wanted
    need needs like likes love get got give gives make makes made let lets feel feels feeling kind sort
    type stuff thing things way ways use using used one ones s t d ll m re ve
    json return returns respond response answer output format field fields key keys value values schema
    object objects array list lists string strings number numbers integer boolean null true false
    include including provide analyze analyse analysis describe identify extract choose select pick
    based given following below above per user users prompt request query task tasks note notes
    music song songs track tracks playlist playlists artist artists genre genres mood moods vibe vibes
    listen listening play playing hear some around maybe recommend recommendation recommendations suggest
    create build generate find curate curated playlist
    """.split()
)

"""A string matching a schema's `pattern`, for when the hook's own value does not.

Walks the parse tree of Python's own regex parser (`re._parser`, the engine behind `re`): literals, classes,
ranges, repeats (at their minimum, or once), groups, alternatives (the first), anchors. Lookarounds and
backreferences are skipped, so the result is checked before use.
"""

from __future__ import annotations

import importlib
import re
from typing import Any

# private, but it is the parser `re` itself uses; importing it via importlib keeps the deprecated public
# alias (sre_parse) and its warning out of the way
_parser: Any = importlib.import_module("re._parser")
_c: Any = importlib.import_module("re._constants")

_CATEGORY_CHAR = {
    "CATEGORY_DIGIT": "0",
    "CATEGORY_NOT_DIGIT": "a",
    "CATEGORY_WORD": "a",
    "CATEGORY_NOT_WORD": "-",
    "CATEGORY_SPACE": " ",
    "CATEGORY_NOT_SPACE": "a",
}
_PREFERRED = "abcdefghijklmnopqrstuvwxyz0123456789 -_ABCDEFGHIJKLMNOPQRSTUVWXYZ"


class _Variant:
    """Picks among a class's characters: variant 0 takes the first everywhere; others count in mixed radix
    over the classes in order, so successive variants give distinct strings."""

    def __init__(self, number: int) -> None:
        self.left = number

    def pick(self, choices: list[str]) -> str:
        choice = choices[self.left % len(choices)]
        self.left //= len(choices)
        return choice


def _class_char(items: list[tuple[Any, Any]], variant: _Variant) -> str:
    negate = any(op is _c.NEGATE for op, _ in items)
    allowed: set[str] = set()
    for op, arg in items:
        if op is _c.LITERAL:
            allowed.add(chr(arg))
        elif op is _c.RANGE:
            allowed.update(chr(c) for c in range(arg[0], min(arg[1], arg[0] + 200) + 1))
        elif op is _c.CATEGORY:
            allowed.add(_CATEGORY_CHAR.get(str(arg), "a"))
    if negate:
        return variant.pick([ch for ch in _PREFERRED if ch not in allowed] or ["~"])
    return variant.pick([ch for ch in _PREFERRED if ch in allowed] or sorted(allowed) or ["a"])


def _emit(tokens: Any, groups: dict[int, str], variant: _Variant) -> str:
    out: list[str] = []
    for op, arg in tokens:
        if op is _c.LITERAL:
            out.append(chr(arg))
        elif op is _c.NOT_LITERAL:
            out.append("a" if chr(arg) != "a" else "b")
        elif op is _c.ANY:
            out.append("a")
        elif op is _c.IN:
            out.append(_class_char(arg, variant))
        elif op in (_c.MAX_REPEAT, _c.MIN_REPEAT, getattr(_c, "POSSESSIVE_REPEAT", None)):
            low, _high, sub = arg
            out.append(_emit(sub, groups, variant) * max(low, 0))
        elif op is _c.SUBPATTERN:
            group, _add, _del, sub = arg
            text = _emit(sub, groups, variant)
            if group is not None:
                groups[group] = text
            out.append(text)
        elif op is _c.BRANCH:
            out.append(_emit(arg[1][0], groups, variant))
        elif op is _c.GROUPREF:
            out.append(groups.get(arg, ""))
        # AT (anchors), ASSERT, ASSERT_NOT, GROUPREF_EXISTS: nothing to write
    return "".join(out)


def example_for(pattern: str, variant: int = 0) -> str | None:
    """A short string `re.search(pattern, s)` accepts, or None if this walk cannot make one. Different
    variants give different strings where the pattern leaves a choice."""
    try:
        text = _emit(_parser.parse(pattern), {}, _Variant(variant))
    except (re.error, RecursionError, ValueError, TypeError):
        return None
    return text if re.search(pattern, text) else None

"""Making a value fit its schema's constraints: bounds, multipleOf, lengths, patterns, unique items.

The hooks propose values by meaning; these functions have the last word, so every answer validates.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterator
from typing import Any

from .patterns import example_for
from .schema import Node
from .text import truncate


def unique(values: list[Any], item: Node) -> list[Any]:
    """uniqueItems: a repeated value is replaced by a nearby one the item schema also allows (another enum
    value, a neighbouring number, a numbered string), or dropped when there is none."""
    seen: set[str] = set()
    out: list[Any] = []

    def key_of(value: Any) -> str:
        return json.dumps(value, sort_keys=True)

    for value in values:
        if key_of(value) in seen:
            value = next((v for v in _alternatives(value, item) if key_of(v) not in seen), None)
            if value is None:
                continue
        seen.add(key_of(value))
        out.append(value)
    return out


def _alternatives(value: Any, item: Node) -> Iterator[Any]:
    if item.enum is not None:
        yield from item.enum
    elif isinstance(value, bool):
        yield not value
    elif isinstance(value, int | float):
        integer = isinstance(value, int)
        step = item.multiple_of or (1 if integer else 0.01)
        for k in range(1, 50):
            for candidate in (value + k * step, value - k * step):
                yield fit_number(candidate, item, integer)
    elif isinstance(value, str):
        suffixes = [f" {w}" for w in _UNIQUE_WORDS] + [f" {n}" for n in range(2, 50)]
        for suffix in suffixes:
            base = value if item.max_length is None else value[: max(0, item.max_length - len(suffix))]
            if item.pattern is None or re.search(item.pattern, base + suffix):
                yield base + suffix
        if item.pattern is not None:
            for variant in range(1, 200):
                example = example_for(item.pattern, variant)
                if example is not None:
                    yield example


_UNIQUE_WORDS = ("too", "again", "alt", "more", "extra", "plus", "redux", "encore", "reprise", "remix")


def default_number(node: Node, integer: bool) -> float:
    low = node.minimum if node.minimum is not None else node.exclusive_minimum
    high = node.maximum if node.maximum is not None else node.exclusive_maximum
    if low is not None and high is not None:
        return (low + high) / 2
    if low is not None:
        return low + 1
    if high is not None:
        return high / 2 if high > 0 else high - 1
    return 1 if integer else 0.5


def fit_number(value: float, node: Node, integer: bool) -> float | int:
    """`value` moved inside the property's bounds, onto its multipleOf grid, and rounded."""
    low = node.minimum if node.minimum is not None else -math.inf
    high = node.maximum if node.maximum is not None else math.inf
    open_low = node.exclusive_minimum if node.exclusive_minimum is not None else -math.inf
    open_high = node.exclusive_maximum if node.exclusive_maximum is not None else math.inf
    if integer:
        low = max(low, math.floor(open_low) + 1) if open_low > -math.inf else low
        high = min(high, math.ceil(open_high) - 1) if open_high < math.inf else high
    else:  # a step inside an open bound, small enough for narrow intervals
        span = min(high, open_high) - max(low, open_low)
        step = min(0.01, span / 4) if math.isfinite(span) else 0.01
        low = max(low, open_low + step)
        high = min(high, open_high - step)
    value = min(max(value, low), high)
    if node.multiple_of:
        m = node.multiple_of
        snapped = round(value / m) * m
        if snapped < low:
            snapped += m
        if snapped > high:
            snapped -= m
        value = round(snapped, 10)
    if integer:
        whole = round(value)
        if whole < low:
            whole = math.ceil(low)
        if whole > high:
            whole = math.floor(high)
        return int(whole)
    rounded = round(value, 4)
    return rounded if low <= rounded <= high else value


def fit_string(value: str, node: Node, filler_words: str, token: str) -> str:
    """`value` made to fit the property's length limits and pattern: cut at a word, padded with
    `filler_words`, or replaced by a variant (or `token`, or a synthesised example) that matches."""
    if node.max_length is not None and len(value) > node.max_length:
        value = truncate(value, node.max_length) or value[: node.max_length]
    if len(value) < node.min_length:
        while len(value) < node.min_length:
            value = f"{value} {filler_words or 'music'}".strip()
        if node.max_length is not None:
            value = value[: node.max_length]
    if node.pattern is not None and not re.search(node.pattern, value):
        tries = [
            value.lower(),
            re.sub(r"\W+", "-", value.lower()).strip("-"),
            re.sub(r"[^a-z]", "", value.lower()),
            token,
            example_for(node.pattern),
        ]
        value = next((t for t in tries if t is not None and re.search(node.pattern, t)), value)
    return value

"""Query-parameter parsing shared by the fake upstreams; a bad value raises ParamError(message)."""

from __future__ import annotations

import math

from multidict import MultiMapping


class ParamError(ValueError):
    """A malformed request; the pipeline answers 400 in the upstream's own error format."""


def int_param(query: MultiMapping[str], name: str, default: int | None, low: int, high: int) -> int:
    raw = query.get(name)
    if raw is None or raw == "":
        if default is None:
            raise ParamError(f"Required parameter '{name}' is missing")
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ParamError(f"Invalid {name}: {raw!r} is not an integer") from None
    if not low <= value <= high:
        raise ParamError(f"Invalid {name}: must be between {low} and {high}")
    return value


def float_param(query: MultiMapping[str], name: str, low: float, high: float) -> float | None:
    raw = query.get(name)
    if raw is None or raw == "":
        return None
    try:
        value = float(raw)
    except ValueError:
        raise ParamError(f"Invalid {name}: {raw!r} is not a number") from None
    if not math.isfinite(value) or not low <= value <= high:
        raise ParamError(f"Invalid {name}: must be between {low:g} and {high:g}")
    return value


def id_list(query: MultiMapping[str], name: str) -> list[str]:
    """IDs given as repeated `name=a&name=b`, comma-separated, or both; order kept, duplicates dropped."""
    out: list[str] = []
    for value in query.getall(name, []):
        for part in value.split(","):
            item = part.strip()
            if item and item not in out:
                out.append(item)
    return out

"""Shared pieces for the fake-Gemini tests: a small vocabulary, request builders, and an independent
checker for both schema dialects (written apart from sim/gemini/schema.py so it cannot share its bugs)."""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping
from typing import Any

from sim.gemini import Vocabulary, generate

# acousticness danceability energy instrumentalness liveness loudness speechiness tempo valence
_CENTROIDS = {
    "pop": "0.15 0.70 0.68 0.01 0.15 -5.5 0.06 118 0.58",
    "hip hop": "0.12 0.78 0.65 0.01 0.18 -6.0 0.25 96 0.50",
    "rock": "0.08 0.50 0.80 0.04 0.20 -5.5 0.05 126 0.50",
    "jazz": "0.75 0.55 0.35 0.45 0.18 -12.0 0.05 112 0.50",
    "smooth jazz": "0.60 0.62 0.40 0.60 0.12 -11.0 0.04 96 0.58",
    "country": "0.30 0.60 0.65 0.01 0.18 -6.5 0.04 116 0.62",
    "edm": "0.05 0.65 0.88 0.30 0.20 -4.0 0.06 128 0.45",
    "house": "0.05 0.78 0.78 0.55 0.12 -7.0 0.06 124 0.55",
    "techno": "0.03 0.70 0.82 0.80 0.12 -8.0 0.06 132 0.30",
    "metal": "0.01 0.40 0.95 0.15 0.20 -4.0 0.08 135 0.25",
    "classical": "0.95 0.25 0.12 0.90 0.12 -22.0 0.04 100 0.22",
    "folk": "0.78 0.52 0.35 0.05 0.15 -11.0 0.04 108 0.48",
    "lo-fi hip hop": "0.62 0.68 0.32 0.78 0.11 -12.0 0.07 82 0.45",
    "ambient": "0.85 0.25 0.15 0.88 0.10 -20.0 0.04 90 0.15",
    "dance pop": "0.10 0.75 0.75 0.01 0.14 -5.0 0.06 122 0.62",
    "disco": "0.10 0.80 0.78 0.05 0.15 -6.5 0.05 120 0.82",
    "synthwave": "0.06 0.60 0.72 0.65 0.12 -8.0 0.04 110 0.45",
    "singer-songwriter": "0.75 0.50 0.32 0.03 0.14 -10.5 0.05 104 0.38",
    "r&b": "0.22 0.68 0.55 0.01 0.13 -6.8 0.09 98 0.50",
    "piano": "0.97 0.35 0.10 0.92 0.10 -22.0 0.04 90 0.25",
    "k-pop": "0.10 0.72 0.80 0.00 0.16 -4.0 0.08 124 0.62",
}
_FEATURES = "acousticness danceability energy instrumentalness liveness loudness speechiness tempo valence".split()
GENRES = {name: dict(zip(_FEATURES, map(float, values.split()), strict=True)) for name, values in _CENTROIDS.items()}
_ARTIST_WORDS = ("Velvet", "Northern", "Copper")
_KINDS = ("Trio", "Club", "Society")
# three artists per genre ("Velvet Jazz Trio"), a few with names a prompt might mention
ARTISTS: list[tuple[str, list[str]]] = [
    (f"{word} {genre.title()} {kind}", [genre])
    for genre in GENRES
    for word, kind in zip(_ARTIST_WORDS, _KINDS, strict=False)
]
ARTISTS += [
    ("Miles Quartet", ["jazz", "smooth jazz"]),
    ("Rain", ["ambient"]),
    ("Hank Hollow", ["country"]),
    ("Quiet Candle", ["folk"]),
]
TRACKS = [
    (f"{name.split()[0]} {title} {i}", name) for i, (name, _) in enumerate(ARTISTS) for title in ("Lights", "Lines")
]
TRACKS += [("Blue Rain", "Miles Quartet"), ("Neon Rush", "Copper Edm Society")]
VOCAB = Vocabulary(GENRES, ARTISTS, TRACKS)
FEATURE_NAMES = tuple(_FEATURES)


def body(
    prompt: str,
    schema: Mapping[str, Any] | None = None,
    *,
    dialect: str = "json",
    system: str | None = None,
    **config: Any,
) -> dict[str, Any]:
    """A generateContent body as the SDK sends it."""
    generation: dict[str, Any] = dict(config)
    if schema is not None:
        generation["responseMimeType"] = "application/json"
        generation["responseJsonSchema" if dialect == "json" else "responseSchema"] = schema
    out: dict[str, Any] = {"contents": [{"role": "user", "parts": [{"text": prompt}]}]}
    if system is not None:
        out["systemInstruction"] = {"role": "user", "parts": [{"text": system}]}
    if generation:
        out["generationConfig"] = generation
    return out


def answer(prompt: str, schema: Mapping[str, Any], dialect: str = "json", **kwargs: Any) -> Any:
    """generate() for a schema'd request, parsed, after checking it validates against the schema."""
    result = generate(body(prompt, schema, dialect=dialect, **kwargs), "gemini-2.5-flash", VOCAB)
    value = json.loads(result.text)
    problems = check(value, schema)
    assert not problems, f"answer {result.text} breaks its schema: {problems}"
    return value


# ---- an independent checker for responseSchema (OpenAPI subset) and responseJsonSchema (JSON Schema) ----
def _key(schema: Mapping[str, Any], camel: str) -> Any:
    snake = re.sub(r"(?<!^)(?=[A-Z])", "_", camel).lower()
    return schema.get(camel, schema.get(snake))


def _resolve(ref: str, root: Mapping[str, Any]) -> Mapping[str, Any]:
    node: Any = root
    for part in ref.lstrip("#").strip("/").split("/"):
        node = node[part]
    assert isinstance(node, Mapping)
    return node


def _type_ok(value: Any, name: str) -> bool:
    name = name.lower()
    if name == "null":
        return value is None
    if name == "boolean":
        return isinstance(value, bool)
    if name == "integer":
        return isinstance(value, int) and not isinstance(value, bool)
    if name == "number":
        return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)
    if name == "string":
        return isinstance(value, str)
    if name == "array":
        return isinstance(value, list)
    if name == "object":
        return isinstance(value, dict)
    raise AssertionError(f"unknown type {name}")


def check(value: Any, schema: Any, root: Any = None, path: str = "$") -> list[str]:
    """Problems with `value` under `schema` (empty when it validates)."""
    root = schema if root is None else root
    if schema is True or schema == {}:
        return []
    if schema is False:
        return [f"{path}: nothing is allowed here"]
    errors: list[str] = []
    ref = schema.get("$ref", schema.get("ref"))
    if ref is not None:
        errors += check(value, _resolve(ref, root), root, path)
    if value is None and schema.get("nullable"):
        return errors
    declared = schema.get("type")
    if declared is not None:
        names = declared if isinstance(declared, list) else [declared]
        if not any(_type_ok(value, n) for n in names):
            return [*errors, f"{path}: {value!r} is not of type {declared}"]
    if "const" in schema and value != schema["const"]:
        errors.append(f"{path}: {value!r} is not {schema['const']!r}")
    if "enum" in schema and value not in schema["enum"]:
        errors.append(f"{path}: {value!r} not in enum {schema['enum']}")
    for alternatives_key in ("anyOf", "oneOf"):
        alternatives = _key(schema, alternatives_key)
        if alternatives and not any(not check(value, alt, root, path) for alt in alternatives):
            errors.append(f"{path}: matches none of {alternatives_key}")
    for part in _key(schema, "allOf") or ():
        errors += check(value, part, root, path)
    if isinstance(value, dict):
        props = schema.get("properties") or {}
        for name in schema.get("required") or ():
            if name not in value:
                errors.append(f"{path}: missing required {name!r}")
        extra = _key(schema, "additionalProperties")
        names = _key(schema, "propertyNames")
        for name, item in value.items():
            if name in props:
                errors += check(item, props[name], root, f"{path}.{name}")
            elif extra is False:
                errors.append(f"{path}: unexpected property {name!r}")
            elif isinstance(extra, dict):
                errors += check(item, extra, root, f"{path}.{name}")
            if isinstance(names, dict) and "enum" in names and name not in names["enum"]:
                errors.append(f"{path}: key {name!r} not allowed")
        low, high = _key(schema, "minProperties"), _key(schema, "maxProperties")
        if (low is not None and len(value) < int(low)) or (high is not None and len(value) > int(high)):
            errors.append(f"{path}: {len(value)} properties outside [{low}, {high}]")
    if isinstance(value, list):
        prefix = _key(schema, "prefixItems") or []
        for i, item in enumerate(value):
            item_schema = prefix[i] if i < len(prefix) else schema.get("items")
            if item_schema is not None:
                errors += check(item, item_schema, root, f"{path}[{i}]")
        low, high = _key(schema, "minItems"), _key(schema, "maxItems")
        if (low is not None and len(value) < int(low)) or (high is not None and len(value) > int(high)):
            errors.append(f"{path}: {len(value)} items outside [{low}, {high}]")
        if _key(schema, "uniqueItems") and len({json.dumps(v, sort_keys=True) for v in value}) < len(value):
            errors.append(f"{path}: items are not unique")
    if isinstance(value, int | float) and not isinstance(value, bool):
        # proto JSON may write numbers as strings ("minimum": "60")
        if schema.get("minimum") is not None and value < float(schema["minimum"]):
            errors.append(f"{path}: {value} < minimum {schema['minimum']}")
        if schema.get("maximum") is not None and value > float(schema["maximum"]):
            errors.append(f"{path}: {value} > maximum {schema['maximum']}")
        if _key(schema, "exclusiveMinimum") is not None and value <= _key(schema, "exclusiveMinimum"):
            errors.append(f"{path}: {value} <= exclusiveMinimum")
        if _key(schema, "exclusiveMaximum") is not None and value >= _key(schema, "exclusiveMaximum"):
            errors.append(f"{path}: {value} >= exclusiveMaximum")
        step = _key(schema, "multipleOf")
        if step and abs(value / step - round(value / step)) > 1e-9:
            errors.append(f"{path}: {value} is not a multiple of {step}")
    if isinstance(value, str):
        low, high = _key(schema, "minLength"), _key(schema, "maxLength")
        if (low is not None and len(value) < int(low)) or (high is not None and len(value) > int(high)):
            errors.append(f"{path}: length {len(value)} outside [{low}, {high}]")
        if schema.get("pattern") and not re.search(schema["pattern"], value):
            errors.append(f"{path}: {value!r} does not match {schema['pattern']}")
    return errors


def test_checker_rejects_what_it_should() -> None:
    """The checker is what the other tests rely on; make sure it is not vacuous."""
    schema = {
        "type": "OBJECT",
        "properties": {
            "ids": {"type": "ARRAY", "items": {"type": "STRING", "enum": ["a", "b"]}, "max_items": 1},
            "n": {"type": "integer", "minimum": 1, "exclusiveMaximum": 5},
            "child": {"$ref": "#/$defs/Child"},
            "maybe": {"anyOf": [{"type": "string", "maxLength": 3}, {"type": "null"}]},
        },
        "required": ["ids", "n"],
        "$defs": {"Child": {"type": "object", "properties": {"x": {"type": "number"}}, "required": ["x"]}},
    }
    assert check({"ids": ["a"], "n": 4, "child": {"x": 1.5}, "maybe": None}, schema) == []
    assert check({"ids": ["a", "b"], "n": 4}, schema)  # too many items
    assert check({"ids": ["c"], "n": 4}, schema)  # not in enum
    assert check({"ids": ["a"], "n": 5}, schema)  # exclusive maximum
    assert check({"ids": ["a"], "n": 2.5}, schema)  # not an integer
    assert check({"ids": ["a"]}, schema)  # missing required
    assert check({"ids": ["a"], "n": 2, "child": {}}, schema)  # $ref target's required
    assert check({"ids": ["a"], "n": 2, "maybe": "long"}, schema)  # no anyOf branch matches

"""Answers validate against the schema they were given, in both dialects; malformed requests are refused."""

from __future__ import annotations

import json
import random
import uuid
from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any, Literal

import pytest
from pydantic import BaseModel, Field

from sim.gemini import GeminiRequestError, generate
from tests.sim.test_gemini_support import VOCAB, answer, body, check

PROMPTS = [
    "rainy slow jazz for a quiet evening, nothing sad",
    "workout party bangers, 128 bpm, no country",
    "x",
    "Choose 2 of these tracks:\n- 4uLU6hMCjMI75M1A2tKUQC: Neon Rush (edm, energy 0.92)\n- 1a2b3c4d5e: Blue Rain (jazz)",
]


class Mode(StrEnum):
    CALM = "calm"
    WILD = "wild"


class Node(BaseModel):
    label: str
    children: list[Node] = []


class Range(BaseModel):
    min: float = Field(ge=0, le=1)
    max: float = Field(ge=0, le=1)


class KitchenSink(BaseModel):
    """Most of what pydantic's model_json_schema() can emit."""

    title: Annotated[str, Field(min_length=5, max_length=40)]
    mode: Mode
    kind: Literal["artist_focus", "genre_exploration", "mood_variety"]
    fixed: Literal["always"]
    energy: Range
    maybe_range: Range | None = None
    optional_note: str | None = None
    tags: Annotated[list[str], Field(min_length=2, max_length=3)]
    unique_tags: set[str]
    pair: tuple[float, float]
    weights: dict[str, float]
    per_genre: dict[Literal["jazz", "rock"], int]
    count: Annotated[int, Field(gt=0, lt=3)]
    ratio: Annotated[float, Field(gt=0, lt=0.01)]
    step: Annotated[int, Field(multiple_of=5, ge=7, le=23)]
    code: Annotated[str, Field(pattern=r"^[a-z]+$")]
    when: datetime
    ident: uuid.UUID
    flag: bool
    number_or_text: int | str
    tree: Node


@pytest.mark.parametrize("prompt", PROMPTS)
def test_json_schema_answer_validates_with_pydantic_and_the_checker(prompt: str) -> None:
    schema = KitchenSink.model_json_schema()
    value = answer(prompt, schema)
    parsed = KitchenSink.model_validate(value)
    assert parsed.fixed == "always"
    assert 0 < parsed.ratio < 0.01 and 7 <= parsed.step <= 23 and parsed.step % 5 == 0
    assert len(parsed.tags) in (2, 3)


# the OpenAPI subset as google-genai 3.6.1 sends it for a pydantic model: upper-case types, nullable, and some
# keys in snake_case (max_items, property_ordering) that the real API's proto-JSON parser also accepts
OPENAPI = {
    "type": "OBJECT",
    "title": "Plan",
    "properties": {
        "reasoning": {"type": "STRING"},
        "seeds": {"type": "ARRAY", "items": {"type": "STRING"}, "min_items": 2, "max_items": 4},
        "energy": {"type": "NUMBER", "minimum": 0, "maximum": 1},
        "tempo": {"type": "integer", "minimum": "60", "maximum": "180"},
        "level": {"type": "STRING", "format": "enum", "enum": ["low", "medium", "high"]},
        "decade": {"type": "STRING", "nullable": True},
        "ok": {"type": "BOOLEAN"},
        "tracks": {
            "type": "ARRAY",
            "items": {
                "type": "OBJECT",
                "properties": {
                    "track_name": {"type": "STRING"},
                    "artist_name": {"type": "STRING", "nullable": True},
                },
                "required": ["track_name"],
                "propertyOrdering": ["track_name", "artist_name"],
            },
        },
        "choice": {"anyOf": [{"type": "INTEGER"}, {"type": "STRING"}]},
    },
    "required": ["reasoning", "seeds", "energy", "level", "tracks"],
    "property_ordering": ["seeds", "energy", "tempo", "level", "decade", "ok", "tracks", "choice", "reasoning"],
}


@pytest.mark.parametrize("prompt", PROMPTS)
def test_openapi_schema_answer_validates_and_follows_property_ordering(prompt: str) -> None:
    value = answer(prompt, OPENAPI, dialect="openapi")
    assert list(value) == OPENAPI["property_ordering"]
    assert 2 <= len(value["seeds"]) <= 4


def test_schema_references_in_the_openapi_dialect_resolve() -> None:
    schema = {
        "type": "OBJECT",
        "properties": {"pet": {"ref": "#/defs/Pet"}, "others": {"type": "ARRAY", "items": {"$ref": "#/defs/Pet"}}},
        "defs": {"Pet": {"type": "OBJECT", "properties": {"name": {"type": "STRING"}}, "required": ["name"]}},
        "required": ["pet"],
    }
    value = answer("anything", schema, dialect="openapi")
    assert isinstance(value["pet"]["name"], str)


def test_a_top_level_array_schema_gives_an_array() -> None:
    schema = {"type": "ARRAY", "items": {"type": "STRING"}, "maxItems": 2}
    assert isinstance(answer("calm piano", schema, dialect="openapi"), list)


def test_recursive_schemas_terminate() -> None:
    schema = Node.model_json_schema()
    value = answer("deep nesting", schema)
    Node.model_validate(value)


@pytest.mark.parametrize("dialect", ["json", "openapi"])
def test_same_body_same_text_and_key_order_does_not_matter(dialect: str) -> None:
    schema = KitchenSink.model_json_schema() if dialect == "json" else OPENAPI
    request = body("rainy slow jazz", schema, dialect=dialect, temperature=0.7, system="You are a curator.")
    # the same request with its fields in another order (the schema's own property order is meaningful)
    reordered = dict(reversed(list(request.items())))
    reordered["generationConfig"] = dict(reversed(list(request["generationConfig"].items())))
    texts = {generate(r, "gemini-2.5-flash", VOCAB).text for r in (request, request, reordered)}
    assert len(texts) == 1


def test_different_prompts_give_different_answers() -> None:
    schema = {"type": "object", "properties": {"reasoning": {"type": "string"}}, "required": ["reasoning"]}
    first = answer("rainy slow jazz", schema)
    second = answer("workout party anthems", schema)
    assert first != second


def test_enum_mime_type_answers_one_enum_value_as_plain_text() -> None:
    request = {
        "contents": "an energetic workout",
        "generationConfig": {
            "responseMimeType": "text/x.enum",
            "responseSchema": {"type": "STRING", "format": "enum", "enum": ["low", "medium", "high"]},
        },
    }
    assert generate(request, "m", VOCAB).text == "high"


def test_json_without_a_schema_follows_the_example_in_the_prompt() -> None:
    prompt = 'rainy jazz. Respond as JSON like {"genres": ["..."], "energy": 0.5, "reasoning": "..."}'
    text = generate(body(prompt, responseMimeType="application/json"), "m", VOCAB).text
    value = json.loads(text)
    assert set(value) == {"genres", "energy", "reasoning"}
    assert all(g in VOCAB.genres for g in value["genres"])


def test_plain_text_without_a_mime_type() -> None:
    text = generate(body("rainy slow jazz"), "m", VOCAB).text
    assert "jazz" in text and not text.startswith("{")


BAD_REQUESTS: list[tuple[dict[str, Any], str]] = [
    ({"generationConfig": {}}, "contents is not specified"),
    ({"contents": []}, "contents is not specified"),
    ({"contents": [{"role": "user", "parts": []}]}, "parts must not be empty"),
    ({"contents": [{"role": "system", "parts": [{"text": "hi"}]}]}, "valid role"),
    (body("hi", {"type": "STRING"}, dialect="openapi") | {"generationConfig": {"responseSchema": {"type": "STRING"}}},
     "response_mime_type"),
    (body("hi", {"type": "OBJECT", "properties": {"a": {"type": "TEXT"}}}, dialect="openapi"), "TEXT"),
    (body("hi", {"type": "object", "properties": {"a": {"type": "strin"}}}), "strin"),
    (body("hi", {"type": "OBJECT", "properties": {"a": {"type": "STRING"}}, "required": ["b"]}, dialect="openapi"),
     "required[0]"),
    (body("hi", {"type": "OBJECT", "properties": {"a": {"type": "ARRAY"}}}, dialect="openapi"), "items"),
    (body("hi", {"type": "OBJECT", "properties": {}}, dialect="openapi"), "non-empty"),
    (body("hi", {"type": "array", "items": {"type": "string"}, "minItems": 3, "maxItems": 1}), "minItems"),
    (body("hi", {"type": "object", "properties": {"a": {"$ref": "#/$defs/Missing"}}}), "Missing"),
    (body("hi", {"type": "string"}) | {"generationConfig": {"responseMimeType": "application/json",
                                                             "responseSchema": {"type": "STRING"},
                                                             "responseJsonSchema": {"type": "string"}}},
     "only one of"),
    (body("hi", responseMimeType="image/png"), "allowed mimetypes"),
    (body("hi", temperature=3), "temperature"),
    (body("hi", maxOutputTokens=0), "max_output_tokens"),
]  # fmt: skip


@pytest.mark.parametrize(("request_body", "message"), BAD_REQUESTS)
def test_malformed_requests_are_refused_with_a_message_naming_the_problem(
    request_body: dict[str, Any], message: str
) -> None:
    with pytest.raises(GeminiRequestError, match=message.replace("[", r"\[").replace("]", r"\]")):
        generate(request_body, "gemini-2.5-flash", VOCAB)


def test_snake_case_request_fields_are_accepted() -> None:
    request: dict[str, Any] = {
        "contents": [{"role": "user", "parts": [{"text": "calm piano"}]}],
        "system_instruction": {"parts": [{"text": "You are a curator."}]},
        "generation_config": {
            "response_mime_type": "application/json",
            "response_schema": {"type": "OBJECT", "properties": {"g": {"type": "STRING"}}, "required": ["g"]},
        },
    }
    assert check(json.loads(generate(request, "m", VOCAB).text), request["generation_config"]["response_schema"]) == []


# ---- random schemas: whatever the property names trigger, the constraints still hold ----
_NAMES = (
    "energy min_energy maxTempo target_valence danceability loudness tempo feature weight score confidence "
    "genres primary_genre genre_keywords artists artist_recommendations user_mentioned_artists mentioned_tracks "
    "tracks track_name artist_name title chosen_ids selected_indices keep_artists filtered_out track_scores "
    "track_index reasoning summary interpretation primary_emotion energy_level intent_type search_keywords "
    "avoid excluded_genres decade year_range color primary language regions count priority is_temporal "
    "meets_expectations id name label notes strengths issues"
).split()
_LIST_PROMPT = (
    "Mood: rainy slow jazz, nothing sad, choose 2\nCandidate tracks:\n"
    "- 4uLU6hMCjMI75M1A2tKUQC: Neon Rush (edm, energy 0.92)\n- 1a2b3c4d5e: Blue Rain by Miles Quartet (jazz)\n"
    "- 7f8e9d0c1b: Quiet Storm (smooth jazz, tempo 90)\n"
)


def _random_schema(rng: random.Random, dialect: str, depth: int = 0) -> dict[str, Any]:
    kinds = ["string", "number", "integer", "boolean"]
    if depth < 3:
        kinds += ["object", "array"] + (["map", "pair"] if dialect == "json" else [])
    kind = "object" if depth == 0 else rng.choice(kinds)
    schema: dict[str, Any]
    if kind == "map":  # dict[str, X]: additionalProperties (JSON Schema only)
        schema = {"type": "object", "additionalProperties": _random_schema(rng, dialect, 3)}
        if rng.random() < 0.5:
            schema["maxProperties"] = rng.choice([1, 2, 5])
        return schema
    if kind == "pair":  # tuple[float, float]
        item = {"type": "number", "minimum": 0, "maximum": 250}
        return {"type": "array", "prefixItems": [item, item], "minItems": 2, "maxItems": 2}
    schema = {"type": kind.upper() if dialect == "openapi" else kind}
    if kind == "object":
        names = rng.sample(_NAMES, rng.randint(1, 5))
        schema["properties"] = {n: _random_schema(rng, dialect, depth + 1) for n in names}
        schema["required"] = [n for n in names if rng.random() < 0.7]
    elif kind == "array":
        schema["items"] = _random_schema(rng, dialect, depth + 1)
        low = rng.choice([0, 0, 1, 2, 4])
        schema["minItems"] = low
        if rng.random() < 0.6:
            schema["maxItems"] = low + rng.choice([0, 1, 3])
        item = schema["items"]
        unbounded = not {"enum", "minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "multipleOf"} & set(item)
        if dialect == "json" and item.get("type") in ("string", "number", "integer") and unbounded:
            schema["uniqueItems"] = rng.random() < 0.4  # only where enough distinct values exist
    elif kind in ("number", "integer"):
        bottom: float = rng.choice([-10, 0, 0, 1, 40, 0.5])
        top = bottom + (rng.choice([0.01, 0.5, 1, 10, 200]) if kind == "number" else rng.choice([1, 2, 10, 300]))
        bounds = rng.choice(["none", "inclusive", "exclusive", "low"])
        if bounds == "inclusive":
            schema |= {"minimum": bottom, "maximum": top}
        elif bounds == "exclusive" and dialect == "json":
            schema |= {"exclusiveMinimum": bottom, "exclusiveMaximum": top + (1 if kind == "integer" else 0)}
        elif bounds == "low":
            schema["minimum"] = bottom
        if kind == "integer" and dialect == "json" and rng.random() < 0.2:
            schema = {"type": "integer", "multipleOf": 2, "minimum": 0, "maximum": 100}
    elif kind == "string":
        roll = rng.random()
        if roll < 0.25:
            schema["enum"] = rng.sample(["low", "medium", "high", "calm", "joy", "jazz", "edm", "x_y"], 3)
        elif roll < 0.45:
            schema |= {"minLength": rng.choice([0, 3, 30]), "maxLength": rng.choice([40, 120])}
        elif roll < 0.5:
            schema["pattern"] = rng.choice([r"^[a-z ]+$", r"^#[0-9a-f]{6}$", r"\d"])
    if depth and rng.random() < 0.2:
        if dialect == "json":
            return {"anyOf": [schema, {"type": "null"}]}
        schema["nullable"] = True
    return schema


@pytest.mark.parametrize("dialect", ["json", "openapi"])
@pytest.mark.parametrize("seed", range(60))
def test_random_schemas_are_always_satisfied(dialect: str, seed: int) -> None:
    rng = random.Random(seed)
    schema = _random_schema(rng, dialect)
    prompt = rng.choice([_LIST_PROMPT, PROMPTS[0], PROMPTS[1], "songs like Miles Quartet from the 80s"])
    answer(prompt, schema, dialect=dialect)  # asserts the answer validates

"""A bundle of separate requests in one call: each root property is answered from its own section only."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from services.llm_gateway.mood_bundle import bundle_prompt, wire_schema
from tests.sim.test_gemini_support import answer


class Mood(BaseModel):
    genres: list[str]
    energy: float


def bundle_schema(names: list[str]) -> dict[str, Any]:
    props = {name: Mood.model_json_schema() for name in names}
    return {"type": "object", "properties": props, "required": names}


def test_each_section_is_answered_on_its_own() -> None:
    text = "mood_1:\nMood prompt: slow rainy jazz\n\nmood_2:\nMood prompt: loud metal for the gym"
    value = answer(text, bundle_schema(["mood_1", "mood_2"]), dialect="openapi")
    assert any("jazz" in g for g in value["mood_1"]["genres"]) and not any(
        "metal" in g for g in value["mood_1"]["genres"]
    )
    assert any("metal" in g for g in value["mood_2"]["genres"]) and not any(
        "jazz" in g for g in value["mood_2"]["genres"]
    )
    assert value["mood_1"]["energy"] < value["mood_2"]["energy"]


def test_the_llm_gateways_bundle_is_read_per_prompt() -> None:
    prompts = ["slow rainy jazz, nothing sad", "loud metal for the gym", "calm ambient for sleep"]
    schema = wire_schema(3).model_json_schema()
    value = answer(bundle_prompt(prompts), schema, dialect="json")
    genres = [value[f"mood_{i}"]["genres"] for i in (1, 2, 3)]
    assert any("jazz" in g for g in genres[0]) and any("metal" in g for g in genres[1])
    assert any("ambient" in g for g in genres[2])


def test_without_a_section_per_property_the_prompt_is_read_as_one() -> None:
    text = "Mood prompt: slow rainy jazz\nmood_1:\nsomething"  # mood_2 has no section: not a bundle
    value = answer(text, bundle_schema(["mood_1", "mood_2"]), dialect="openapi")
    assert value["mood_1"]["genres"] == value["mood_2"]["genres"]

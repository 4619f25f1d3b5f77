"""A bundle of separate requests in one call: each root property is answered from its own section only, as a
single call with that section's prompt would be answered."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import pytest
from prometheus_client import CollectorRegistry

from services.llm_gateway import mood, mood_bundle
from services.llm_gateway.gemini import GeminiClient
from services.llm_gateway.metrics import LlmMetrics
from services.llm_gateway.schemas import MoodAnswer
from services.llm_gateway.usage import Usage
from sim.catalog import build_catalog
from sim.gemini import generate, knowledge
from sim.profile import load_profile
from sim.testing import RunningSim

KB = knowledge(build_catalog(42, load_profile("fast").catalog))
PART = {
    "type": "object",
    "properties": {"genres": {"type": "array", "items": {"type": "string"}}, "energy": {"type": "number"}},
    "required": ["genres", "energy"],
}


def answer(text: str, names: list[str]) -> dict[str, Any]:
    schema = {"type": "object", "properties": dict.fromkeys(names, PART), "required": names}
    body = {
        "contents": [{"role": "user", "parts": [{"text": text}]}],
        "generationConfig": {"responseMimeType": "application/json", "responseSchema": schema},
    }
    value: dict[str, Any] = json.loads(generate(body, "gemini-2.5-flash", KB).text)
    return value


def test_each_section_is_answered_on_its_own() -> None:
    value = answer(
        "mood_1:\nMood prompt: slow rainy jazz\n\nmood_2:\nMood prompt: loud metal for the gym", ["mood_1", "mood_2"]
    )
    assert value["mood_1"]["genres"][0] == "jazz" and not any("metal" in g for g in value["mood_1"]["genres"])
    assert value["mood_2"]["genres"][0] == "metal" and not any("jazz" in g for g in value["mood_2"]["genres"])
    assert value["mood_1"]["energy"] < 0.5 < value["mood_2"]["energy"]


def test_without_a_section_for_every_part_the_prompt_is_read_as_one() -> None:
    value = answer("Mood prompt: slow rainy jazz\nmood_1:\nsomething", ["mood_1", "mood_2"])  # mood_2 has none
    assert value["mood_1"] == value["mood_2"] and value["mood_1"]["genres"][0] == "jazz"


@pytest.fixture
async def llm(sim: RunningSim) -> AsyncIterator[GeminiClient]:
    metrics = LlmMetrics.create(CollectorRegistry())
    client = GeminiClient(api_key="test-key", base_url=sim.gemini_url, model="gemini-2.5-flash", metrics=metrics)
    try:
        yield client
    finally:
        await client.aclose()


async def test_the_llm_gateways_bundle_agrees_with_single_calls(llm: GeminiClient) -> None:
    prompts = ["slow rainy jazz, nothing sad", "loud metal for the gym", "anything but pop", "calm ambient for sleep"]
    bundled = await llm.generate(
        task="test",
        system=mood.SYSTEM_INSTRUCTION + mood_bundle.BUNDLE_NOTE,
        prompt=mood_bundle.bundle_prompt(prompts),
        schema=mood_bundle.lenient_schema(len(prompts)),
        wire_schema=mood_bundle.wire_schema(len(prompts)),
        usage=Usage(),
    )
    parts = mood_bundle.parts_of(bundled, len(prompts))
    for prompt, part in zip(prompts, parts, strict=True):
        single = await llm.generate(
            task="test",
            system=mood.SYSTEM_INSTRUCTION,
            prompt=f"Mood prompt: {prompt}",
            schema=MoodAnswer,
            usage=Usage(),
        )
        assert part == single
    assert parts[1] is not None and parts[1].genres[0] == "metal"
    assert parts[2] is not None and parts[2].avoid == ["pop"]

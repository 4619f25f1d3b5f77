"""Several mood prompts in one Gemini call: the bundled instruction, prompt and schemas, and the parts read back.

One schema property per prompt (mood_1, mood_2, …), each a MoodAnswer. Gemini is asked for the strict
schema, but the answer is parsed leniently and each part validated on its own, so one malformed part
costs only its own prompt (it falls back to heuristics) and never the others.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pydantic import BaseModel, ValidationError, create_model

from services.common.cleaning import one_line
from services.llm_gateway.schemas import MoodAnswer, tasks_schema

BUNDLE_NOTE = """
Several listeners' mood prompts follow, each under its own name (mood_1, mood_2, ...). Answer every one
under the key of the same name, reading only that listener's prompt: never mix the prompts."""


def part_name(index: int) -> str:
    return f"mood_{index + 1}"


def bundle_prompt(prompts: Sequence[str]) -> str:
    return "\n\n".join(f"{part_name(i)}:\nMood prompt: {one_line(p, 2000)}" for i, p in enumerate(prompts))


def wire_schema(n: int) -> type[BaseModel]:
    """What Gemini is asked to answer in: a MoodAnswer per prompt, all required."""
    return tasks_schema({part_name(i): MoodAnswer for i in range(n)})


def lenient_schema(n: int) -> type[BaseModel]:
    """What the answer is parsed with: every part present, each left to be validated on its own."""
    fields: dict[str, Any] = {part_name(i): (Any, ...) for i in range(n)}
    return create_model("MoodBundleParts", **fields)


def parts_of(answer: BaseModel, n: int) -> list[MoodAnswer | None]:
    """Each prompt's answer, or None where that part does not fit MoodAnswer."""
    parts: list[MoodAnswer | None] = []
    for i in range(n):
        try:
            parts.append(MoodAnswer.model_validate(getattr(answer, part_name(i))))
        except ValidationError:
            parts.append(None)
    return parts

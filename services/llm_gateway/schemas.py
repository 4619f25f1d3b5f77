"""The JSON shapes the LLM must answer in (pydantic models, sent to Gemini as `responseSchema`).

Property names are plain English on purpose: a real model reads them as part of the instructions.
Numbers are not constrained here: an out-of-range value is clamped afterwards (cleaning.py) rather
than costing a whole second call. Feature names are an enum in the schema but a plain string in
Python, so one unknown feature drops that target instead of invalidating the whole answer.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field, create_model

from services.common.features import FEATURE_NAMES


class MentionedTrackAnswer(BaseModel):
    title: str
    artist: str = Field(description="Empty when the text names no artist for this song.")


class FeatureTargetAnswer(BaseModel):
    feature: str = Field(json_schema_extra={"enum": list(FEATURE_NAMES)})
    min: float
    max: float  # the ideal is the middle: asking for it would cost output tokens and say little more
    weight: float = Field(description="How much this feature matters for the mood, 0 to 1.")


class MoodAnswer(BaseModel):
    interpretation: str = Field(description="One or two sentences on what the listener wants.")
    primary_emotion: str = Field(description="One word, e.g. calm, joyful, melancholic, energetic.")
    feature_targets: list[FeatureTargetAnswer] = Field(description="The 3 to 6 audio features that matter most.")
    genres: list[str] = Field(description="2 to 5 genres that fit the mood, most fitting first.")
    # maxItems bounds what the model writes; not checked on parsing, so a longer list is cut, not refused.
    artists: list[str] = Field(
        description="Artists the prompt names, then others that fit; at most 8.", json_schema_extra={"maxItems": 8}
    )
    mentioned_tracks: list[MentionedTrackAnswer] = Field(description="Only songs the prompt names explicitly.")
    avoid: list[str] = Field(description="Moods, genres or artists the prompt rules out, e.g. 'sad'.")


class ChooseAnswer(BaseModel):
    chosen_ids: list[str] = Field(description="Ids of the chosen candidates, best first, copied exactly.")
    reasoning: str = Field(description="One sentence.")


class MentionsAnswer(BaseModel):
    tracks: list[MentionedTrackAnswer] = Field(description="Songs the text names explicitly.")
    artists: list[str] = Field(description="Artists the text names explicitly.")


def tasks_schema(fields: dict[str, type[BaseModel]]) -> type[BaseModel]:
    """One object with a property per task (name → that task's answer model), all required."""
    definitions: dict[str, Any] = {name: (model, ...) for name, model in fields.items()}
    return create_model("TasksAnswer", **definitions)

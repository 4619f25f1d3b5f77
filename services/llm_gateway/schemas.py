"""The JSON shapes the LLM must answer in (pydantic models, sent to Gemini as `responseSchema`).

Property names are plain English on purpose: a real model reads them as part of the instructions.
Numbers are not constrained here: an out-of-range value is clamped afterwards (cleaning.py) rather
than costing a whole second call. Feature names are an enum in the schema but a plain string in
Python, so one unknown feature drops that target instead of invalidating the whole answer.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, Field, create_model


class MentionedTrackAnswer(BaseModel):
    title: str
    artist: str = Field(description="Empty when the text names no artist for this song.")


# [min, max, weight] under the feature's name: ~7 output tokens a target where an object
# {"feature": …, "min": …, "max": …, "weight": …} costs ~16, and each output token is ~5 ms of the cold path.
# Optional: the model writes only the features that matter. Not checked on parsing (a short list is dropped).
Target = Annotated[
    list[float],
    Field(default_factory=list, json_schema_extra={"minItems": 3, "maxItems": 3}, description="[min, max, weight]"),
]


class FeatureTargetsAnswer(BaseModel):
    """One property per feature, named as FEATURE_NAMES names them (a test keeps the two the same)."""

    acousticness: Target
    danceability: Target
    energy: Target
    instrumentalness: Target
    liveness: Target
    speechiness: Target
    valence: Target
    tempo: Target
    loudness: Target


class MoodStart(BaseModel):
    """The start of a MoodAnswer: all artist discovery needs, so the mesh can begin it while the rest streams."""

    genres: list[str] = Field(description="2 to 5 genres that fit the mood, most fitting first.")
    # maxItems bounds what the model writes; not checked on parsing, so a longer list is cut, not refused.
    artists: list[str] = Field(
        description="Artists the prompt names, then others that fit; at most 8.", json_schema_extra={"maxItems": 8}
    )
    avoid: list[str] = Field(description="Moods, genres or artists the prompt rules out, e.g. 'sad'.")
    mentioned_tracks: list[MentionedTrackAnswer] = Field(description="Only songs the prompt names explicitly.")


class MoodAnswer(MoodStart):
    """MoodStart's fields first (the model writes properties in schema order), then the targets."""

    feature_targets: FeatureTargetsAnswer = Field(
        description="Only the 3 to 6 audio features that matter most, each [min, max, weight]."
    )
    primary_emotion: str = Field(description="One word, e.g. calm, joyful, melancholic, energetic.")

    def targets(self) -> list[tuple[str, list[float]]]:
        """(feature, [min, max, weight]) for each feature the answer gives, the weightiest first."""
        given: dict[str, list[float]] = self.feature_targets.model_dump(exclude_unset=True)
        usable = [(name, values) for name, values in given.items() if len(values) >= 2]
        return sorted(usable, key=lambda item: -item[1][2] if len(item[1]) > 2 else 0.0)


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

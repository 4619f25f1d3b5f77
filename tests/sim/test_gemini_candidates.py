"""Choosing among listed candidates: only listed ids, ranked by fit, within the counts asked for."""

from __future__ import annotations

import pytest
from pydantic import BaseModel, Field

from tests.sim.test_gemini_support import VOCAB, answer

JAZZ_IDS = ("1a2b3c4d5e", "7f8e9d0c1b")  # the two candidates that fit a rainy-jazz mood
TRACKS = {
    "4uLU6hMCjMI75M1A2tKUQC": "Neon Rush by Copper Edm Society (edm, energy 0.92, valence 0.7)",
    "1a2b3c4d5e": "Blue Rain by Miles Quartet (jazz, energy 0.3)",
    "2zzYYxxWWvvUUttSSrrQQp": "Hammer Down (metal, energy 0.97, tempo 160)",
    "7f8e9d0c1b": "Quiet Storm (smooth jazz, energy 0.35, tempo 90)",
    "0PPooNNmmLLkkJJiiHHggF": "Party Starter (dance pop, energy 0.85, danceability 0.9)",
}
MOOD = "Mood: rainy late-night jazz, nothing too upbeat"


def listing(form: str) -> str:
    rows = []
    for n, (ident, text) in enumerate(TRACKS.items(), start=1):
        rows.append(
            {
                "dash": f"- {ident}: {text}",
                "bracket": f"[{ident}] {text}",
                "numbered": f"{n}. {text}",
                "pipe": f"id={ident} | {text}",
            }[form]
        )
    return "Candidate tracks:\n" + "\n".join(rows)


class Picks(BaseModel):
    chosen_ids: list[str] = Field(max_length=3)
    reasoning: str


@pytest.mark.parametrize("form", ["dash", "bracket", "pipe"])
def test_chosen_ids_come_from_the_list_and_the_best_fits_lead(form: str) -> None:
    value = Picks.model_validate(answer(f"{MOOD}\n{listing(form)}", Picks.model_json_schema()))
    assert set(value.chosen_ids) <= set(TRACKS)
    assert tuple(value.chosen_ids[:2]) == JAZZ_IDS
    assert len(value.chosen_ids) <= 3


class Indices(BaseModel):
    selected_indices: list[int]


def test_numbered_lists_are_answered_with_their_numbers() -> None:
    value = Indices.model_validate(answer(f"{MOOD}\n{listing('numbered')}\nPick 2.", Indices.model_json_schema()))
    assert value.selected_indices == [2, 4]


def test_integer_answers_about_an_id_list_are_one_based_positions_unless_told_otherwise() -> None:
    prompt = f"{MOOD}\n{listing('dash')}\nChoose 2 of them."
    assert answer(prompt, Indices.model_json_schema())["selected_indices"] == [2, 4]
    zero_based = {
        "type": "OBJECT",
        "properties": {
            "selected_indices": {"type": "ARRAY", "items": {"type": "INTEGER"}, "description": "0-based positions"}
        },
        "required": ["selected_indices"],
    }
    assert answer(prompt, zero_based, dialect="openapi")["selected_indices"] == [1, 3]


@pytest.mark.parametrize(("ask", "count"), [("Choose 1 track.", 1), ("Pick up to 4 tracks.", 2), ("", 2)])
def test_counts_asked_for_in_the_prompt_are_honoured(ask: str, count: int) -> None:
    # "up to 4", or no count at all, still leaves out what does not fit
    schema = {"type": "object", "properties": {"selected_ids": {"type": "array", "items": {"type": "string"}}}}
    prompt = f"{MOOD}\n{listing('bracket')}\n{ask}"
    value = answer(prompt, schema | {"required": ["selected_ids"]})
    assert value["selected_ids"] == list(JAZZ_IDS[:count])


def test_max_items_wins_over_a_larger_count() -> None:
    schema = {
        "type": "object",
        "properties": {"picks": {"type": "array", "items": {"type": "string"}, "maxItems": 1}},
        "required": ["picks"],
    }
    assert answer(f"{MOOD}\n{listing('dash')}\nChoose 4 tracks.", schema)["picks"] == [JAZZ_IDS[0]]


class Score(BaseModel):
    track_index: int
    score: float = Field(ge=0, le=10)
    confidence: float = Field(ge=0, le=1)
    reasoning: str


class Scores(BaseModel):
    track_scores: list[Score]
    filtered_out: list[int]
    selection_notes: str


def test_scores_cover_every_candidate_within_bounds_and_rejects_are_the_poor_fits() -> None:
    value = Scores.model_validate(answer(f"{MOOD}\n{listing('numbered')}", Scores.model_json_schema()))
    assert sorted(s.track_index for s in value.track_scores) == [1, 2, 3, 4, 5]
    scores = {s.track_index: s.score for s in value.track_scores}
    assert min(scores[2], scores[4]) > max(scores[1], scores[3], scores[5])
    assert [s.track_index for s in value.track_scores][:2] == [2, 4]
    assert set(value.filtered_out) == {1, 3, 5}
    assert "Blue Rain" in value.track_scores[0].reasoning


def test_numbered_instructions_are_not_taken_for_candidates() -> None:
    prompt = (
        "Mood: calm piano\nSteps:\n1. Read the mood.\n2. Pick ids.\n3. Explain.\n[a1] Piano Morning (piano, energy 0.1)"
    )
    schema = {"type": "object", "properties": {"chosen_ids": {"type": "array", "items": {"type": "string"}}}}
    assert answer(prompt, schema | {"required": ["chosen_ids"]})["chosen_ids"] == ["a1"]


class ArtistCheck(BaseModel):
    keep_artists: list[int]
    filtered_artists: list[dict[str, str]]


class TrackChoice(BaseModel):
    chosen_ids: list[str] = Field(min_length=1, max_length=2)
    summary: str


class Bundle(BaseModel):
    mood: dict[str, tuple[float, float]]
    track_choice: TrackChoice
    artist_check: ArtistCheck


def test_a_bundled_schema_answers_each_task_from_its_own_list() -> None:
    prompt = (
        f"{MOOD}\n\nTask 1 - choose tracks.\n{listing('dash')}\n\n"
        "Task 2 - validate these artists:\nCandidate artists:\n"
        "1. Velvet Jazz Trio (jazz)\n2. Copper Metal Society (metal)\n3. Velvet Ambient Trio (ambient)\n"
    )
    value = Bundle.model_validate(answer(prompt, Bundle.model_json_schema()))
    assert value.track_choice.chosen_ids == list(JAZZ_IDS)
    assert value.artist_check.keep_artists == [1, 3]
    assert [a["name"] for a in value.artist_check.filtered_artists] == ["Copper Metal Society"]
    low, high = value.mood["energy"]
    assert low < high <= 0.6


def test_blind_candidates_keep_their_listed_order() -> None:
    prompt = "Mood: anything\nCandidate seeds:\n- 2CBtdZVc1: ?\n- 9XYabc12: ?\n- 7QQ1: ?"
    assert answer(prompt, Picks.model_json_schema())["chosen_ids"] == ["2CBtdZVc1", "9XYabc12"]


def test_a_property_naming_another_kind_of_thing_does_not_pick_from_the_list() -> None:
    schema = {
        "type": "object",
        "properties": {
            "seed_genres": {"type": "array", "items": {"type": "string"}},
            "seed_ids": {"type": "array", "items": {"type": "string"}},
        },
        "required": ["seed_genres", "seed_ids"],
    }
    value = answer(f"{MOOD}\n{listing('dash')}", schema)
    assert set(value["seed_genres"]) <= set(VOCAB.genres)
    assert value["seed_ids"] == list(JAZZ_IDS)

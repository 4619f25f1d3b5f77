"""The mood lexicon and the property-name hooks: prompts map to plausible feature ranges, genres and names."""

from __future__ import annotations

from typing import Literal

import pytest
from pydantic import BaseModel, Field

from tests.sim.test_gemini_support import VOCAB, answer


class Range(BaseModel):
    min: float
    max: float
    target: float


class Track(BaseModel):
    track_name: str
    artist_name: str


class Mood(BaseModel):
    """Close to the mood-analysis answer the old monolith asked for."""

    mood_interpretation: str
    primary_emotion: Literal["joy", "sadness", "calm", "anger", "excitement", "focus"]
    energy_level: Literal["low", "medium", "high"]
    intent_type: Literal["artist_focus", "genre_exploration", "mood_variety", "specific_track_similar"]
    energy: Range
    valence: Range
    tempo: Range
    acousticness: float = Field(ge=0, le=1)
    danceability: float = Field(ge=0, le=1)
    instrumentalness: float = Field(ge=0, le=1)
    speechiness: float = Field(ge=0, le=1)
    genre_keywords: list[str] = Field(min_length=1, max_length=5)
    artist_recommendations: list[str] = Field(max_length=10)
    user_mentioned_artists: list[str]
    mentioned_tracks: list[Track]
    search_keywords: list[str]
    avoid: list[str]
    decade: str | None = None


def mood(prompt: str, system: str | None = None) -> Mood:
    return Mood.model_validate(answer(prompt, Mood.model_json_schema(), system=system))


def test_rainy_slow_jazz_and_workout_party_are_far_apart() -> None:
    rainy = mood("rainy slow jazz")
    party = mood("workout party anthems")
    assert rainy.energy.max < party.energy.min
    assert rainy.tempo.target < party.tempo.target
    assert rainy.acousticness > party.acousticness
    assert rainy.danceability < party.danceability
    assert (rainy.energy_level, party.energy_level) == ("low", "high")
    assert rainy.genre_keywords[0] == "jazz"
    assert {"edm", "dance pop"} & set(party.genre_keywords)
    for answer_ in (rainy, party):
        assert set(answer_.genre_keywords) <= set(VOCAB.genres)
        assert answer_.energy.min <= answer_.energy.target <= answer_.energy.max


def test_named_genres_come_from_the_vocabulary_in_any_spelling() -> None:
    assert mood("some lofi hiphop beats").genre_keywords[0] == "lo-fi hip hop"
    assert "techno" in mood("dark techno").genre_keywords


def test_a_negation_raises_the_valence_floor_instead_of_asking_for_sadness() -> None:
    plain = mood("rainy jazz")
    not_sad = mood("rainy jazz, nothing sad")
    sad = mood("sad rainy jazz")
    assert not_sad.valence.min >= 0.4
    assert not_sad.valence.min > plain.valence.min > sad.valence.min
    assert sad.valence.max < 0.5
    assert "sad" in not_sad.avoid and not sad.avoid
    assert not_sad.primary_emotion != "sadness" and sad.primary_emotion == "sadness"


def test_negated_genres_are_avoided_and_left_out() -> None:
    answer_ = mood("upbeat road trip songs, no country")
    assert "country" in answer_.avoid
    assert "country" not in answer_.genre_keywords


def test_study_focus_means_instrumental_with_little_speech() -> None:
    answer_ = mood("deep focus music for studying")
    assert answer_.instrumentalness >= 0.6 and answer_.speechiness <= 0.1
    assert answer_.primary_emotion == "focus"


def test_stated_numbers_win_over_adjectives() -> None:
    answer_ = mood("chill songs but energy around 0.8 and 140 bpm")
    assert answer_.energy.min <= 0.8 <= answer_.energy.max
    assert answer_.energy.target > 0.6
    assert answer_.tempo.min <= 140 <= answer_.tempo.max


def test_decades_fill_the_decade_field_and_are_null_otherwise() -> None:
    assert mood("80s synth night drive").decade == "1980s"
    assert mood("nineties alternative").decade == "1990s"
    assert mood("calm piano").decade is None


@pytest.mark.parametrize(
    ("prompt", "emotion"),
    [("happy upbeat summer songs", "joy"), ("angry aggressive metal", "anger"), ("heartbroken ballads", "sadness")],
)
def test_emotion_enums_follow_the_lexicon(prompt: str, emotion: str) -> None:
    assert mood(prompt).primary_emotion == emotion


def test_artists_named_in_the_prompt_come_first_and_set_the_intent() -> None:
    answer_ = mood("songs like miles quartet for a rainy night")
    assert answer_.user_mentioned_artists == ["Miles Quartet"]
    assert answer_.artist_recommendations[0] == "Miles Quartet"
    assert answer_.intent_type == "artist_focus"
    known = {name for name, _ in VOCAB.artists}
    assert set(answer_.artist_recommendations) <= known
    # the rest are artists of the mood's genres
    genres_of = dict(VOCAB.artists)
    assert all(set(genres_of[a]) & set(answer_.genre_keywords) for a in answer_.artist_recommendations[1:])


def test_artist_names_made_of_common_words_need_capitals_or_context() -> None:
    assert mood("rain sounds for sleeping").user_mentioned_artists == []
    assert mood("something like Rain, for sleeping").user_mentioned_artists == ["Rain"]
    assert mood("a quiet candle-lit dinner").user_mentioned_artists == []
    assert mood("songs like quiet candle").user_mentioned_artists == ["Quiet Candle"]


def test_tracks_named_with_their_artist_or_in_quotes_are_mentioned() -> None:
    by_artist = mood("play Blue Rain by Miles Quartet and similar songs")
    quoted = mood('more like "Neon Rush" please')
    assert [t.model_dump() for t in by_artist.mentioned_tracks] == [
        {"track_name": "Blue Rain", "artist_name": "Miles Quartet"}
    ]
    assert [t.track_name for t in quoted.mentioned_tracks] == ["Neon Rush"]
    assert by_artist.intent_type == "specific_track_similar"
    assert mood("blue rainy day").mentioned_tracks == []


def test_keywords_are_salient_words_of_the_prompt() -> None:
    prompt = "I want some rainy jazz for reading on a sunday"
    keywords = mood(prompt).search_keywords
    assert "rainy" in keywords and "jazz" in keywords
    assert not {"i", "want", "some", "for", "on", "a"} & set(keywords)
    assert all(k in prompt.lower() for k in keywords)


def test_unknown_words_fall_back_to_neutral_ranges() -> None:
    answer_ = mood("qwerty zxcvb")
    assert answer_.energy.min < 0.5 < answer_.energy.max
    assert answer_.energy_level == "medium"
    assert answer_.genre_keywords and set(answer_.genre_keywords) <= set(VOCAB.genres)


def test_the_mood_is_read_from_the_labelled_request_not_the_instructions() -> None:
    system = "You are a calm, precise music analyst. Never be sad. Return JSON with the fields asked for."
    prompt = "Analyse the request below and fill every field.\nMood: gym workout with hard rock\n"
    answer_ = mood(prompt, system=system)
    assert answer_.energy_level == "high" and answer_.avoid == []
    assert "rock" in answer_.genre_keywords


def test_a_long_prompt_is_read_through_its_quoted_request() -> None:
    prompt = (
        "You help a playlist service. Read the listener's request and describe it. Consider the energy, the\n"
        "valence and the tempo; consider genres the catalog has. Keep it short and precise.\n"
        'The listener wrote: "sleepy ambient piano for bedtime"\n'
    )
    answer_ = mood(prompt)
    assert answer_.energy_level == "low"
    assert {"ambient", "piano"} <= set(answer_.genre_keywords)


class Targets(BaseModel):
    class Item(BaseModel):
        feature: Literal[
            "acousticness", "danceability", "energy", "instrumentalness", "liveness",
            "loudness", "speechiness", "tempo", "valence",
        ]  # fmt: skip
        min: float
        max: float
        weight: float = Field(ge=0, le=1)

    targets: list[Item]
    feature_weights: dict[str, float]
    target_features: dict[str, tuple[float, float]]
    min_tempo: int
    max_energy: float


def test_feature_arrays_and_maps_hold_one_entry_per_constrained_feature() -> None:
    value = Targets.model_validate(answer("slow sad acoustic songs", Targets.model_json_schema()))
    features = [t.feature for t in value.targets]
    assert {"valence", "tempo", "acousticness"} <= set(features)
    assert len(features) == len(set(features))
    by_feature = {t.feature: t for t in value.targets}
    assert by_feature["valence"].max <= 0.5 and by_feature["tempo"].max <= 110
    assert set(value.feature_weights) == set(features) == set(value.target_features)
    low, high = value.target_features["tempo"]
    assert low == by_feature["tempo"].min and high == by_feature["tempo"].max
    assert value.min_tempo == round(by_feature["tempo"].min)
    assert value.max_energy == by_feature["energy"].max


def test_tempo_in_a_unit_interval_is_normalised() -> None:
    schema = {
        "type": "object",
        "properties": {"tempo": {"type": "number", "minimum": 0, "maximum": 1}},
        "required": ["tempo"],
    }
    assert 0 < answer("fast workout", schema)["tempo"] < 1


def test_a_negated_artist_is_excluded_not_recommended() -> None:
    schema = {
        "type": "object",
        "properties": {
            "excluded_artists": {"type": "array", "items": {"type": "string"}},
            "artist_recommendations": {"type": "array", "items": {"type": "string"}},
            "user_mentioned_artists": {"type": "array", "items": {"type": "string"}},
        },
        "required": ["excluded_artists", "artist_recommendations", "user_mentioned_artists"],
    }
    value = answer("folk like Quiet Candle but no Hank Hollow", schema)
    assert value["excluded_artists"] == ["Hank Hollow"]
    assert value["user_mentioned_artists"] == ["Quiet Candle"]
    assert value["artist_recommendations"][0] == "Quiet Candle"
    assert "Hank Hollow" not in value["artist_recommendations"]

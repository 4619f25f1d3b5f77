"""The monolith's LLM prompts, shortened, with the answer shapes §2.5 lists for each.

Texts are paraphrases (the fake model reads the `Mood:` line as the user's words and numbered lists under
a header as candidates); the shapes — which decide how many tokens the answer has — follow §2.5.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from bench.legacy.llm import LlmTask

FEATURES = ("acousticness", "danceability", "energy", "instrumentalness", "liveness", "speechiness", "tempo", "valence")
STRATEGIES = ("filter_and_replace", "reseed_from_clean", "adjust_feature_weights", "generate_more")  # §1 3c
CURATOR = "You are an expert music curator for a mood-based Spotify playlist generator. Answer in JSON only."


def _s() -> dict[str, Any]:
    return {"type": "string"}


def _n(low: float | None = None, high: float | None = None, integer: bool = False) -> dict[str, Any]:
    node: dict[str, Any] = {"type": "integer" if integer else "number"}
    if low is not None:
        node["minimum"] = low
    if high is not None:
        node["maximum"] = high
    return node


def _arr(items: dict[str, Any], low: int | None = None, high: int | None = None) -> dict[str, Any]:
    node: dict[str, Any] = {"type": "array", "items": items}
    if low is not None:
        node["minItems"] = low
    if high is not None:
        node["maxItems"] = high
    return node


def _obj(**props: dict[str, Any]) -> dict[str, Any]:
    return {"type": "object", "properties": props, "required": list(props)}


def _numbered(header: str, lines: Sequence[str]) -> str:
    return header + "\n" + "\n".join(f"{i}. {line}" for i, line in enumerate(lines, 1))


def intent(prompt: str) -> LlmTask:
    """§2.5.1 intent analysis."""
    schema = _obj(
        intent_type={
            "type": "string",
            "enum": ["artist_focus", "genre_exploration", "mood_variety", "specific_track_similar"],
        },
        user_mentioned_tracks=_arr(_obj(track_name=_s(), artist_name=_s(), priority=_s()), 0, 5),
        user_mentioned_artists=_arr(_s(), 0, 5),
        primary_genre=_s(),
        genre_strictness=_n(0, 1),
        language_preferences=_arr(_s()),
        exclude_regions=_arr(_s()),
        allow_obscure_artists={"type": "boolean"},
        quality_threshold=_n(0, 1),
        reasoning=_s(),
    )
    user = (
        f"Mood: {prompt}\n\nClassify the intent of this playlist request. List only tracks and artists the "
        "user explicitly names; leave the lists empty when none are named."
    )
    return LlmTask("intent_analysis", CURATOR, user, schema)


def mood(prompt: str) -> LlmTask:
    """§2.5.2 mood analysis (asks for 8–15 artists)."""
    schema = _obj(
        mood_interpretation=_s(),
        primary_emotion=_s(),
        energy_level=_s(),
        target_features=_obj(**{f: _arr(_n(), 2, 2) for f in FEATURES}),
        feature_weights=_obj(**{f: _n(0, 1) for f in FEATURES}),
        search_keywords=_arr(_s(), 3, 6),
        artist_recommendations=_arr(_s(), 8, 15),
        genre_keywords=_arr(_s(), 3, 6),
        preferred_regions=_arr(_s()),
        excluded_regions=_arr(_s()),
        temporal_context=_obj(
            decade=_s(), era=_s(), year_range=_arr(_n(integer=True), 0, 2), is_temporal={"type": "boolean"}
        ),
        color_scheme=_obj(primary=_s(), secondary=_s(), tertiary=_s()),
        reasoning=_s(),
    )
    user = (
        f"Mood: {prompt}\n\nAnalyse this mood. Give target audio feature ranges [min, max], feature weights, "
        "search keywords, recommend 8-15 artists, and give genre keywords."
    )
    return LlmTask("mood_analysis", CURATOR, user, schema)


def extract_mentioned_tracks(prompt: str) -> LlmTask:
    """§2.5.3 anchor chain, call 1."""
    schema = _obj(mentioned_tracks=_arr(_obj(track_name=_s(), artist_name=_s()), 0, 5), reasoning=_s())
    user = (
        f"Mood: {prompt}\n\nExtract the specific songs the user mentions (title and artist). Return an empty "
        "list when the request names no song."
    )
    return LlmTask("anchor_extract_tracks", CURATOR, user, schema)


def filter_tracks(prompt: str, candidates: Sequence[str]) -> LlmTask:
    """§2.5.3 anchor chain, call 2."""
    schema = _obj(
        relevant_tracks=_arr(_n(1, integer=True)),
        filtered_out=_arr(_obj(track_index=_n(1, integer=True), reason=_s())),
        summary=_s(),
    )
    user = (
        f"Mood: {prompt}\n\n"
        + _numbered("Candidate tracks:", candidates)
        + "\n\nKeep the tracks culturally and linguistically relevant to the request."
    )
    return LlmTask("anchor_filter_tracks", CURATOR, user, schema)


def anchor_strategy(prompt: str, candidates: Sequence[str]) -> LlmTask:
    """§2.5.3 anchor chain, call 3 (shows 20 candidates)."""
    schema = _obj(
        anchor_count=_n(3, 8, integer=True),
        selection_criteria=_obj(
            energy_weight=_n(0, 1),
            valence_weight=_n(0, 1),
            danceability_weight=_n(0, 1),
            popularity_weight=_n(0, 1),
            genre_diversity=_n(0, 1),
        ),
        track_priorities=_arr(_n(1, integer=True)),
        strategy_notes=_s(),
    )
    user = (
        f"Mood: {prompt}\n\n"
        + _numbered("Candidate tracks:", candidates[:20])
        + "\n\nDecide how many anchor tracks to pick (3-8) and how to weigh them."
    )
    return LlmTask("anchor_strategy", CURATOR, user, schema)


def score_candidates(prompt: str, candidates: Sequence[str]) -> LlmTask:
    """§2.5.3 anchor chain, call 4."""
    schema = _obj(
        track_scores=_arr(_obj(track_index=_n(1, integer=True), score=_n(0, 1), confidence=_n(0, 1), reasoning=_s())),
        selection_notes=_s(),
    )
    user = f"Mood: {prompt}\n\n" + _numbered("Candidate tracks:", candidates) + "\n\nScore every candidate track."
    return LlmTask("anchor_score", CURATOR, user, schema)


def finalize_anchors(prompt: str, candidates: Sequence[str], count: int) -> LlmTask:
    """§2.5.3 anchor chain, call 5."""
    schema = _obj(selected_track_indices=_arr(_n(1, integer=True)), reasoning=_s())
    user = (
        f"Mood: {prompt}\n\n"
        + _numbered("Scored candidate tracks:", candidates)
        + f"\n\nSelect exactly {count} anchor tracks."
    )
    return LlmTask("anchor_finalize", CURATOR, user, schema)


def validate_artists(prompt: str, artists: Sequence[str]) -> LlmTask:
    """§2.5.4 batch artist validation (one call per 30 artists)."""
    schema = _obj(
        keep_artists=_arr(_n(1, integer=True)),
        filtered_artists=_arr(_obj(index=_n(1, integer=True), name=_s(), reason=_s())),
    )
    user = (
        f"Mood: {prompt}\n\n"
        + _numbered("Candidate artists:", artists)
        + "\n\nKeep the artists that fit the mood; explain the ones filtered out."
    )
    return LlmTask("artist_validation", CURATOR, user, schema)


def filter_artists(prompt: str, artists: Sequence[str]) -> LlmTask:
    """§2.5.4 the extra filtering call when fewer than 5 artists were kept."""
    schema = _obj(selected_artist_indices=_arr(_n(1, integer=True)), reasoning=_s())
    user = (
        f"Mood: {prompt}\n\n"
        + _numbered("Candidate artists:", artists)
        + "\n\nSelect at least 5 artists that best fit the mood."
    )
    return LlmTask("artist_filtering", CURATOR, user, schema)


def select_seeds(prompt: str, track_ids: Sequence[str], count: int) -> LlmTask:
    """§2.5.5 LLMSeedSelector: the prompt shows only truncated IDs, so the choice is blind."""
    schema = _obj(selected_indices=_arr(_n(1, integer=True)), reasoning=_s())
    lines = [f"Track {tid[:8]}... (score {0.9 - 0.02 * i:.2f})" for i, tid in enumerate(track_ids)]
    user = f"Mood: {prompt}\n\n" + _numbered("Seed track candidates:", lines) + f"\n\nSelect {count} seed tracks."
    return LlmTask("seed_selection", CURATOR, user, schema)


def quality_evaluation(prompt: str, tracks: Sequence[str], name: str = "quality_evaluation") -> LlmTask:
    """§2.5.6 quality evaluation over the first 15 tracks (also the final outlier pass)."""
    schema = _obj(
        quality_score=_n(0, 1),
        meets_expectations={"type": "boolean"},
        strengths=_arr(_s(), 1, 4),
        issues=_arr(_s(), 0, 4),
        specific_concerns=_arr(_s(), 0, 4),
        reasoning=_s(),
    )
    user = (
        f"Mood: {prompt}\n\n"
        + _numbered("Playlist tracks:", tracks[:15])
        + "\n\nEvaluate how well this playlist fits the mood. Name tracks that feel out of place."
    )
    return LlmTask(name, CURATOR, user, schema)


def improvement_strategy(prompt: str, quality: float, issues: Sequence[str]) -> LlmTask:
    """§2.5.6 improvement strategy decision."""
    schema = _obj(strategies=_arr({"type": "string", "enum": list(STRATEGIES)}, 1, 2), reasoning=_s())
    user = (
        f"Mood: {prompt}\n\nThe playlist scored {quality:.2f}. Issues: {'; '.join(issues) or 'none'}.\n"
        "Choose one or two improvement strategies."
    )
    return LlmTask("improvement_strategy", CURATOR, user, schema)


def energy_analysis(prompt: str, tracks: Sequence[str]) -> LlmTask:
    """§2.5.7 ordering: energy analysis for a batch of 8 tracks."""
    schema = _obj(
        track_energies=_arr(
            _obj(track_index=_n(1, integer=True), energy_level=_n(0, 1), emotional_intensity=_n(0, 1), reasoning=_s())
        )
    )
    user = f"Mood: {prompt}\n\n" + _numbered("Tracks:", tracks) + "\n\nRate the energy of every track."
    return LlmTask("ordering_energy", CURATOR, user, schema)


def ordering_strategy(prompt: str, count: int) -> LlmTask:
    """§2.5.7 ordering: one strategy call (opening / build / peak / ...)."""
    schema = _obj(
        opening_count=_n(1, count, integer=True),
        build_count=_n(1, count, integer=True),
        peak_count=_n(1, count, integer=True),
        cooldown_count=_n(0, count, integer=True),
        energy_curve=_s(),
        reasoning=_s(),
    )
    user = f"Mood: {prompt}\n\nPlan the energy arc of a {count}-track playlist: opening, build, peak, cooldown."
    return LlmTask("ordering_strategy", CURATOR, user, schema)

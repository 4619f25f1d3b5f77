"""Validation of incoming requests, with messages a caller can act on."""

from __future__ import annotations

from dataclasses import dataclass

from segue.v1 import common_pb2, seed_gatherer_pb2

from services.common.errors import InvalidArgument
from services.common.identity import user_id_problem
from services.seed_gatherer.seed_selection import DEFAULT_SEEDS, MAX_SEEDS


@dataclass(frozen=True)
class GatherInput:
    user_id: str  # the Spotify user id the caller expects the token to belong to, or empty
    prompt: str
    mood: common_pb2.MoodProfile
    max_seeds: int


@dataclass(frozen=True)
class DiscoverInput:
    prompt: str
    mood: common_pb2.MoodProfile
    shared: bool = False


def _raise_if(problems: list[str | None]) -> None:
    found = [p for p in problems if p]
    if found:
        raise InvalidArgument("; ".join(found))


# What one call may cost: a mood as AnalyzeMood makes one holds a handful of each; thousands would only burn CPU.
MAX_MOOD_ITEMS = 50
MAX_PROMPT_CHARS = 2000


def _mood_problems(has_mood: bool, mood: common_pb2.MoodProfile, prompt: str) -> list[str | None]:
    if not has_mood:
        return ["mood is required (the MoodProfile from LlmGateway.AnalyzeMood)"]
    lists = {
        "targets": mood.targets,
        "genres": mood.genres,
        "artists": mood.artists,
        "mentioned_tracks": mood.mentioned_tracks,
        "keywords": mood.keywords,
        "avoid": mood.avoid,
    }
    problems: list[str | None] = [
        f"mood.{name} may hold at most {MAX_MOOD_ITEMS} items, got {len(items)}"
        for name, items in lists.items()
        if len(items) > MAX_MOOD_ITEMS
    ]
    if len(prompt) > MAX_PROMPT_CHARS:
        problems.append(f"mood_prompt must be at most {MAX_PROMPT_CHARS} characters, got {len(prompt)}")
    return problems


def gather_input(request: seed_gatherer_pb2.GatherSeedsRequest) -> GatherInput:
    """Every problem at once, so a caller fixes the request in one round."""
    max_seeds_problem = (
        None
        if 0 <= request.max_seeds <= MAX_SEEDS
        else f"max_seeds must be 0..{MAX_SEEDS} (0 means {DEFAULT_SEEDS}), got {request.max_seeds}"
    )
    _raise_if(
        [
            user_id_problem("user_id", request.user_id),
            max_seeds_problem,
            *_mood_problems(request.HasField("mood"), request.mood, request.mood_prompt),
        ]
    )
    return GatherInput(request.user_id, request.mood_prompt, request.mood, request.max_seeds or DEFAULT_SEEDS)


def discover_input(request: seed_gatherer_pb2.DiscoverArtistsRequest) -> DiscoverInput:
    _raise_if(_mood_problems(request.HasField("mood"), request.mood, request.mood_prompt))
    return DiscoverInput(request.mood_prompt, request.mood, request.shared)


def warm_user_id(request: seed_gatherer_pb2.WarmUserContextRequest) -> str:
    _raise_if([user_id_problem("user_id", request.user_id)])
    return request.user_id

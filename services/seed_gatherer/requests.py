"""Validation of incoming requests, with messages a caller can act on."""

from __future__ import annotations

from dataclasses import dataclass

from segue.v1 import common_pb2, seed_gatherer_pb2

from services.common.errors import InvalidArgument
from services.seed_gatherer.seed_selection import DEFAULT_SEEDS, MAX_SEEDS

MAX_USER_ID_LENGTH = 256


@dataclass(frozen=True)
class GatherInput:
    user_id: str
    mood: common_pb2.MoodProfile
    max_seeds: int


def _user_id_problem(user_id: str) -> str | None:
    if not user_id.strip():
        return "user_id is required"
    if len(user_id) > MAX_USER_ID_LENGTH:
        return f"user_id must be at most {MAX_USER_ID_LENGTH} characters, got {len(user_id)}"
    return None


def _raise_if(problems: list[str | None]) -> None:
    found = [p for p in problems if p]
    if found:
        raise InvalidArgument("; ".join(found))


def gather_input(request: seed_gatherer_pb2.GatherSeedsRequest) -> GatherInput:
    """Every problem at once, so a caller fixes the request in one round."""
    max_seeds_problem = (
        None
        if 0 <= request.max_seeds <= MAX_SEEDS
        else f"max_seeds must be 0..{MAX_SEEDS} (0 means {DEFAULT_SEEDS}), got {request.max_seeds}"
    )
    mood_problem = (
        None if request.HasField("mood") else "mood is required (the MoodProfile from LlmGateway.AnalyzeMood)"
    )
    _raise_if([_user_id_problem(request.user_id), mood_problem, max_seeds_problem])
    return GatherInput(request.user_id, request.mood, request.max_seeds or DEFAULT_SEEDS)


def warm_user_id(request: seed_gatherer_pb2.WarmUserContextRequest) -> str:
    _raise_if([_user_id_problem(request.user_id)])
    return request.user_id

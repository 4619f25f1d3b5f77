"""What a Recommend call asks for, checked once at the door with messages a caller can act on."""

from __future__ import annotations

import re
from dataclasses import dataclass

from segue.v1 import orchestrator_pb2

from services.common.call_context import check_spotify_token
from services.common.errors import InvalidArgument
from services.common.identity import user_id_problem

DEFAULT_SIZE = 20
MAX_SIZE = 100
MAX_PROMPT_CHARS = 2000
_ID = re.compile(r"[A-Za-z0-9._:@-]{1,128}")


@dataclass(frozen=True)
class RecommendParams:
    user_id: str  # as asked: the token's Spotify user id, or empty; once admitted, the verified user id
    prompt: str
    size: int
    session_id: str  # empty: a new session
    token: str


def check_user_id(user_id: str) -> str:
    """Empty (the token's own user) or the Spotify user id the caller expects the token to belong to."""
    problem = user_id_problem("user_id", user_id)
    if problem:
        raise InvalidArgument(problem)
    return user_id


def parse_recommend(request: orchestrator_pb2.RecommendRequest, token: str) -> RecommendParams:
    user_id = check_user_id(request.user_id)
    prompt = " ".join(request.mood_prompt.split())
    if not prompt:
        raise InvalidArgument("mood_prompt must not be empty: describe the mood, e.g. 'rainy sunday, slow jazz'")
    if len(request.mood_prompt) > MAX_PROMPT_CHARS:
        raise InvalidArgument(
            f"mood_prompt must be at most {MAX_PROMPT_CHARS} characters, got {len(request.mood_prompt)}"
        )
    size = request.size or DEFAULT_SIZE
    if not 1 <= size <= MAX_SIZE:
        raise InvalidArgument(f"size must be between 1 and {MAX_SIZE} (or 0 for {DEFAULT_SIZE}), got {size}")
    if request.session_id and not _ID.fullmatch(request.session_id):
        raise InvalidArgument("session_id must be 1..128 characters of letters, digits and . _ : @ -")
    return RecommendParams(user_id, prompt, size, request.session_id, check_spotify_token(token))

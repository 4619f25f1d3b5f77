"""Session artifacts: what a pass learned, kept so the next pass in the same session can reuse it.

A follow-up with the same prompt reuses the mood (no LLM call) and skips tracks already served;
a tweaked prompt gets a fresh mood but still skips what the session has served.
"""

from __future__ import annotations

import base64
import json
import uuid
from dataclasses import dataclass, field

from segue.v1 import common_pb2

from services.common.cache import Cache

MAX_SERVED = 500


@dataclass
class Session:
    session_id: str
    prompt: str = ""
    mood: common_pb2.MoodProfile | None = None
    served: list[str] = field(default_factory=list)  # Spotify IDs already in a playlist of this session

    def mood_for(self, prompt: str) -> common_pb2.MoodProfile | None:
        return self.mood if self.mood is not None and self.prompt == prompt else None


def new_session_id() -> str:
    return uuid.uuid4().hex


class SessionStore:
    def __init__(self, cache: Cache, ttl_s: float) -> None:
        self._cache = cache
        self._ttl_s = ttl_s

    def _key(self, user_key: str, session_id: str) -> str:
        # The verified user is part of the key so one user cannot read another's session by naming its id.
        return self._cache.key("session", user_key, session_id)

    async def load(self, user_key: str, session_id: str) -> Session:
        """`user_key` is the verified identity's key (services.common.identity), never a caller-named id."""
        if not session_id:
            return Session(new_session_id())
        raw = await self._cache.get(self._key(user_key, session_id))
        if raw is None:
            return Session(session_id)
        data = json.loads(raw)
        mood = common_pb2.MoodProfile.FromString(base64.b64decode(data["mood"])) if data.get("mood") else None
        return Session(session_id, data.get("prompt", ""), mood, list(data.get("served", [])))

    async def save(self, user_key: str, session: Session) -> None:
        data = {
            "prompt": session.prompt,
            "mood": base64.b64encode(session.mood.SerializeToString()).decode() if session.mood else "",
            "served": session.served[-MAX_SERVED:],
        }
        await self._cache.set(self._key(user_key, session.session_id), json.dumps(data).encode(), self._ttl_s)

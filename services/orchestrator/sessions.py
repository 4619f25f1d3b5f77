"""Session artifacts: what a pass learned, kept so the next pass in the same session can reuse it.

A follow-up with the same prompt reuses the mood and the candidate pool (no LLM call, no upstream call)
and skips tracks already served. A tweaked prompt ("same but more upbeat") is read against the session's
mood; when what it asks of the catalog is unchanged (genres, artists, named tracks, exclusions), the pool
is re-ranked for the new targets instead of gathered again. A new session whose prompt the same user
asked lately (a repeat) starts from that pass's mood and pool, for REPEAT_TTL_S: the same playlist,
without gathering it again. Records hold a digest of the prompt, never the prompt.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field

from google.protobuf.message import DecodeError
from segue.cache.v1 import cache_pb2
from segue.v1 import common_pb2

from services.common.cache import Cache, digest
from services.orchestrator.ranking import Candidate

log = logging.getLogger(__name__)

MAX_SERVED = 500


def prompt_digest(prompt: str) -> str:
    return digest("prompt", " ".join(prompt.split()).casefold())


def _asks_the_same(a: common_pb2.MoodProfile, b: common_pb2.MoodProfile) -> bool:
    """Whether two moods ask the catalog for the same things (targets aside)."""

    def norm(values: Sequence[str]) -> set[str]:
        return {v.casefold() for v in values}

    return (
        norm(a.genres) == norm(b.genres)
        and norm(a.artists) == norm(b.artists)
        and norm(a.avoid) == norm(b.avoid)
        and {(t.title.casefold(), t.artist.casefold()) for t in a.mentioned_tracks}
        == {(t.title.casefold(), t.artist.casefold()) for t in b.mentioned_tracks}
    )


@dataclass
class Session:
    session_id: str
    record: cache_pb2.SessionRecord = field(default_factory=cache_pb2.SessionRecord)
    new: bool = False  # begun by this request (no session id was given)
    unknown: bool = False  # the session id given named no session (expired, or never made): it begins here

    @property
    def started(self) -> bool:
        return self.new or self.unknown

    @property
    def mood(self) -> common_pb2.MoodProfile | None:
        return self.record.mood if self.record.HasField("mood") else None

    @property
    def served(self) -> list[str]:
        return list(self.record.served)

    def same_prompt(self, prompt: str) -> bool:
        return bool(self.record.prompt_digest) and self.record.prompt_digest == prompt_digest(prompt)

    def mood_for(self, prompt: str) -> common_pb2.MoodProfile | None:
        return self.mood if self.same_prompt(prompt) else None

    def pool_for(self, mood: common_pb2.MoodProfile) -> list[Candidate] | None:
        """The session's candidates, when `mood` asks the catalog for what the session's mood did."""
        previous = self.mood
        if previous is None or not self.record.pool or not _asks_the_same(previous, mood):
            return None
        return [Candidate(c.track, c.source) for c in self.record.pool]

    def remember(
        self,
        prompt: str,
        mood: common_pb2.MoodProfile,
        pool: Sequence[Candidate],
        excluded: common_pb2.Exclusions,
        share: float,
        known_artists: Sequence[common_pb2.Artist],
    ) -> None:
        self.record.prompt_digest = prompt_digest(prompt)
        self.record.mood.CopyFrom(mood)
        del self.record.pool[:]
        self.record.pool.extend(cache_pb2.PlaylistCandidate(track=c.track, source=c.source) for c in pool)
        self.record.excluded.CopyFrom(excluded)
        self.record.user_top_share = share
        del self.record.known_artists[:]
        self.record.known_artists.extend(known_artists)

    def serve(self, spotify_ids: Sequence[str]) -> None:
        served = [*self.record.served, *(i for i in spotify_ids if i)][-MAX_SERVED:]
        del self.record.served[:]
        self.record.served.extend(served)


def new_session_id() -> str:
    return uuid.uuid4().hex


class SessionStore:
    def __init__(self, cache: Cache, ttl_s: float, repeat_ttl_s: float) -> None:
        self._cache = cache
        self._ttl_s = ttl_s
        self._repeat_ttl_s = repeat_ttl_s

    def _key(self, user_key: str, session_id: str) -> str:
        # The verified user is part of the key so one user cannot read another's session by naming its id.
        return self._cache.key("session", user_key, session_id)

    def _repeat_key(self, user_key: str, prompt: str) -> str:
        return self._cache.key("repeat", user_key, prompt_digest(prompt))

    async def load(self, user_key: str, session_id: str, prompt: str) -> Session:
        """`user_key` is the verified identity's key (services.common.identity), never a caller-named id."""
        if not session_id:
            session = Session(new_session_id(), new=True)
            repeat = await self._read(self._repeat_key(user_key, prompt))
            if repeat is not None:
                session.record.CopyFrom(repeat)
            return session
        record = await self._read(self._key(user_key, session_id))
        return Session(session_id, record or cache_pb2.SessionRecord(), unknown=record is None)

    async def _read(self, key: str) -> cache_pb2.SessionRecord | None:
        raw = await self._cache.get(key)
        if raw is None:
            return None
        try:
            return cache_pb2.SessionRecord.FromString(raw)
        except DecodeError:
            log.warning("an unreadable session record was ignored")
            return None

    async def save(self, user_key: str, session: Session) -> None:
        await self._cache.set_message(self._key(user_key, session.session_id), session.record, self._ttl_s)
        if session.new:  # what a later repeat of this prompt may start from: the pass, not what was served
            repeat = cache_pb2.SessionRecord()
            repeat.CopyFrom(session.record)
            del repeat.served[:]
            key = self._cache.key("repeat", user_key, repeat.prompt_digest)
            await self._cache.set_message(key, repeat, self._repeat_ttl_s)

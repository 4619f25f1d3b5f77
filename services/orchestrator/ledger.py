"""The request ledger: one structured log line per Recommend, whatever its outcome.

It says how the request ended (the gRPC status), for whom (the caller, and the user as a keyed hash — or
`identity: unverified` and why, with no user, when Spotify could not say whose token it was),
what degraded (warning codes), what it cost upstream (every HTTP call to Spotify, ReccoBeats and Gemini
made for it, by any service — see services.common.upstream_calls), and where the time went, inside the
peers too (`peers`: what the seed gatherer and the ReccoBeat gateway report of their part, see `note`).
It holds no token, prompt or raw user id.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from segue.v1 import common_pb2, orchestrator_pb2

from services.common import upstream_calls
from services.common.errors import SegueError
from services.common.identity import Identity
from services.orchestrator.callers import current_caller

log = logging.getLogger(__name__)
_current: ContextVar[Entry | None] = ContextVar("ledger_entry", default=None)


def outcome_of(exc: BaseException | None) -> str:
    if exc is None:
        return "OK"
    if isinstance(exc, asyncio.CancelledError):
        return "CANCELLED"
    if isinstance(exc, SegueError):
        return str(exc.code.name)
    return "INTERNAL"


class Entry:
    def __init__(self, method: str) -> None:
        self._t0 = time.perf_counter()
        self.fields: dict[str, Any] = {"method": method, "caller": current_caller().name}

    def admitted(self, identity: Identity) -> None:
        self.fields["identity"] = "verified"
        self.fields["user"] = identity.key

    def unverified(self, reason: str) -> None:
        """Spotify could not say whose token this is (a transient failure): answered without a user."""
        self.fields["identity"] = "unverified"
        self.fields["unverified_reason"] = reason

    def answered(self, response: orchestrator_pb2.RecommendResponse, size: int) -> None:
        self.fields.update(
            size=size,
            tracks=len(response.tracks),
            warnings=[
                {"code": common_pb2.WarningCode.Name(w.code), "component": w.component} for w in response.warnings
            ],
            timings_ms=milliseconds(response.timings),
            cache={"hits": response.cache.hits, "misses": response.cache.misses},
            llm={
                "calls": response.llm.calls,
                "prompt_tokens": response.llm.prompt_tokens,
                "output_tokens": response.llm.output_tokens,
            },
        )

    def write(self, exc: BaseException | None) -> None:
        self.fields["outcome"] = outcome_of(exc)
        self.fields["upstream_calls"] = upstream_calls.current()
        self.fields["elapsed_ms"] = round((time.perf_counter() - self._t0) * 1000, 1)
        log.info("recommend ledger", extra={"ledger": self.fields})


@contextmanager
def recorded(method: str) -> Iterator[Entry]:
    """Writes the entry when the block ends, however it ends; `note` adds to it meanwhile."""
    entry = Entry(method)
    reset = _current.set(entry)
    try:
        yield entry
    except BaseException as exc:
        entry.write(exc)
        raise
    finally:
        _current.reset(reset)
    entry.write(None)


def note(peer_step: str, what: dict[str, Any]) -> None:
    """What a peer reported of its part of the request being recorded (nothing outside one, e.g. in a Prefetch)."""
    entry = _current.get()
    if entry is not None:
        entry.fields.setdefault("peers", {})[peer_step] = what


def milliseconds(timings: Iterable[common_pb2.PhaseTiming]) -> dict[str, float]:
    return {t.phase: round(t.seconds * 1000, 1) for t in timings}

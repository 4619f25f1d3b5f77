"""Per-call context: the request id and the caller's deadline, and the call metadata segue reads.

The server interceptor sets the id and deadline when a call arrives; the client interceptor reads
them for every downstream call, so they cross each hop without handlers passing them by hand
(Python gRPC does not propagate deadlines on its own).
"""

from __future__ import annotations

import contextvars
import enum
import re
import time
import uuid
from dataclasses import dataclass

from grpc import aio

from services.common.errors import Unauthenticated

REQUEST_ID_HEADER = "x-request-id"
SPOTIFY_TOKEN_HEADER = "x-spotify-token"
PRIORITY_HEADER = "x-segue-priority"
AUTHORIZATION_HEADER = "authorization"  # the caller's own credential, where callers authenticate


class Lane(enum.StrEnum):
    """Whose work a call is: a user waiting for an answer, or work nobody waits for (prefetch, refreshes).

    Upstream budgets serve the interactive lane first; the lane crosses every hop with the call.
    """

    INTERACTIVE = "interactive"
    BACKGROUND = "background"


_request_id: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="")
_deadline: contextvars.ContextVar[float | None] = contextvars.ContextVar("deadline", default=None)
_lane: contextvars.ContextVar[Lane] = contextvars.ContextVar("lane", default=Lane.INTERACTIVE)


@dataclass
class CallNotes:
    """What degraded while serving the current call, noted where it happened and reported in its answer.

    One mutable object per call: tasks the handler starts copy the context and so share it.
    """

    cache_unavailable: bool = False


_notes: contextvars.ContextVar[CallNotes | None] = contextvars.ContextVar("call_notes", default=None)


def metadata_value(ctx: aio.ServicerContext, key: str) -> str:
    """The first value the caller sent under `key` (lower case), or "" when it sent none."""
    for item in ctx.invocation_metadata() or ():
        if item.key == key:
            return str(item.value)
    return ""


def check_spotify_token(token: str) -> str:
    """The user's Spotify access token, stripped; UNAUTHENTICATED naming the header when it is blank."""
    if not token.strip():
        raise Unauthenticated(f"missing {SPOTIFY_TOKEN_HEADER} metadata: pass the user's Spotify access token")
    return token.strip()


def spotify_token(ctx: aio.ServicerContext) -> str:
    """The user's Spotify access token from the call's `x-spotify-token` metadata."""
    return check_spotify_token(metadata_value(ctx, SPOTIFY_TOKEN_HEADER))


def new_request_id() -> str:
    return uuid.uuid4().hex[:16]


# A caller's id is adopted only when it is short and plain: it goes into every log line of every hop.
_SAFE_REQUEST_ID = re.compile(r"[A-Za-z0-9._-]{1,64}")


def adopted_request_id(offered: str) -> str:
    """The caller's request id when it is safe to log and pass on, else a new one."""
    return offered if _SAFE_REQUEST_ID.fullmatch(offered) else new_request_id()


def request_id() -> str:
    return _request_id.get()


def set_request_id(value: str) -> contextvars.Token[str]:
    return _request_id.set(value)


def lane() -> Lane:
    return _lane.get()


def set_lane(value: Lane) -> contextvars.Token[Lane]:
    return _lane.set(value)


def reset_lane(token: contextvars.Token[Lane]) -> None:
    _lane.reset(token)


def lane_from_header(value: str) -> Lane:
    """Only an explicit "background" lowers a call's priority; anything else is a user waiting."""
    return Lane.BACKGROUND if value.strip().lower() == Lane.BACKGROUND else Lane.INTERACTIVE


def begin_notes() -> CallNotes:
    """A fresh notes object for the call now starting (the server interceptor calls this)."""
    notes = CallNotes()
    _notes.set(notes)
    return notes


def notes() -> CallNotes | None:
    """The current call's notes; None outside any call."""
    return _notes.get()


def set_deadline_in(seconds: float | None) -> contextvars.Token[float | None]:
    """Record that the current call must finish within `seconds` (None: the caller set no deadline)."""
    return _deadline.set(None if seconds is None else time.monotonic() + seconds)


def time_remaining() -> float | None:
    """Seconds left before the current call's deadline, or None when it has none."""
    deadline = _deadline.get()
    return None if deadline is None else deadline - time.monotonic()


def budget(default_s: float, margin_s: float = 0.0) -> float:
    """The timeout for one downstream step: the service's own default, capped by the caller's deadline.

    "No deadline" means the default, never infinity. The margin leaves time to answer after the step.
    """
    remaining = time_remaining()
    if remaining is None:
        return default_s
    return max(0.0, min(default_s, remaining - margin_s))


def wait_allowance(default_s: float, keep_s: float = 0.0) -> float:
    """How long a caller may wait before a step that takes about `keep_s`: its whole remaining deadline
    (the default when it set none) less that step. Unlike `budget`, no per-step cap: a wait the
    caller's deadline allows is never cut short by a fixed timeout."""
    remaining = time_remaining()
    return max(0.0, (default_s if remaining is None else remaining) - keep_s)

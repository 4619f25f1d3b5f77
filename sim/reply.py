"""What a route handler decides, before the pipeline adds latency and sends it."""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web
from multidict import MultiMapping

from sim.state import SimState


def _json(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"))


@dataclass(frozen=True)
class Event:
    """One server-sent event of a streamed reply, sent `work_s` simulated seconds after the one before it."""

    data: Any  # JSON-serialisable
    work_s: float = 0.0

    def encoded(self) -> bytes:
        return f"data: {_json(self.data)}\r\n\r\n".encode()


@dataclass
class Reply:
    status: int
    body: Any = None  # JSON-serialisable; None sends an empty body
    headers: Mapping[str, str] = field(default_factory=dict)
    work_s: float = 0.0  # simulated seconds of server work on top of the endpoint latency (LLM output)
    tokens_in: int = 0
    tokens_out: int = 0
    # A non-empty tuple makes the reply a text/event-stream of these events (sent after work_s), not `body`.
    events: tuple[Event, ...] = ()

    def response(self) -> web.Response:
        text = None if self.body is None else _json(self.body)
        return web.Response(
            status=self.status,
            text=text,
            content_type="application/json" if text is not None else None,
            headers=dict(self.headers),
        )


class ReplyError(Exception):
    """Raised by a handler to answer with an error reply at once."""

    def __init__(self, reply: Reply) -> None:
        super().__init__(reply.status)
        self.reply = reply


@dataclass
class Call:
    state: SimState
    request: web.Request
    body: bytes

    @property
    def query(self) -> MultiMapping[str]:
        return self.request.query

    def path_param(self, name: str) -> str:
        return self.request.match_info[name]


Handler = Callable[[Call], Reply]


def retry_after(state: SimState, wait_simulated_s: float) -> str:
    """Retry-After in real seconds: an integer when whole, else with up to 3 decimals (e.g. "0.15").

    The real APIs send whole seconds; at a time-scale below 1 the scaled value usually is not, so clients
    must parse it as a float.
    """
    seconds = state.scaled(wait_simulated_s)
    if math.isclose(seconds, round(seconds)) and round(seconds) >= 1:
        return str(round(seconds))
    millis = max(1, math.ceil(seconds * 1000 - 1e-6))  # round up: a client obeying it must not be early
    return f"{millis / 1000:.3f}".rstrip("0").rstrip(".")

"""How many calls to each external API one incoming call cost, across every hop it made.

Each server call starts a counter (carried by a contextvar, so tasks it spawns count into it too);
the gateways count every HTTP request they send upstream, retries included. A server reports its
counter in the trailing metadata `x-segue-upstream-calls` ("spotify=2,reccobeats=3"), and the client
interceptor adds what a peer reports to the caller's own counter. So the orchestrator's counter holds
the true cost of a request, whichever service made the calls, without each RPC carrying it in its
message. Only peers' trailers are read (internal channels); a count is bounded and junk is ignored.
"""

from __future__ import annotations

import contextvars
import re
from collections import Counter
from collections.abc import Iterable, Mapping

TRAILER = "x-segue-upstream-calls"
_ENTRY = re.compile(r"([a-z][a-z0-9_-]{0,31})=(\d{1,9})")
_MAX_ENTRIES = 8

_calls: contextvars.ContextVar[Counter[str] | None] = contextvars.ContextVar("upstream_calls", default=None)


def start() -> Counter[str]:
    """A fresh counter for the call being served in this context."""
    counter: Counter[str] = Counter()
    _calls.set(counter)
    return counter


def count(upstream: str, n: int = 1) -> None:
    counter = _calls.get()
    if counter is not None:
        counter[upstream] += n


def current() -> dict[str, int]:
    counter = _calls.get()
    return dict(sorted(counter.items())) if counter else {}


def encode(counts: Mapping[str, int]) -> str:
    return ",".join(f"{name}={n}" for name, n in sorted(counts.items()) if n > 0)


def decode(text: str) -> dict[str, int]:
    found: dict[str, int] = {}
    for part in text.split(",")[:_MAX_ENTRIES]:
        m = _ENTRY.fullmatch(part.strip())
        if m:
            found[m.group(1)] = found.get(m.group(1), 0) + int(m.group(2))
    return found


def counter() -> Counter[str] | None:
    """This call's counter itself: for a peer's report that arrives outside this call's context."""
    return _calls.get()


def absorb(metadata: Iterable[tuple[str, str | bytes]] | None, into: Counter[str] | None = None) -> None:
    """Add what a peer reported in its trailing metadata to this call's counter (or to `into`)."""
    counter = into if into is not None else _calls.get()
    if counter is None or not metadata:
        return
    for key, value in metadata:
        if key == TRAILER and isinstance(value, str):
            counter.update(decode(value))


def trailer() -> tuple[tuple[str, str], ...]:
    """This call's counts as trailing metadata, or nothing when it made no upstream call."""
    text = encode(current())
    return ((TRAILER, text),) if text else ()

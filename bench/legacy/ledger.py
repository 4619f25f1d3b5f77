"""Every upstream call the legacy model makes, so a test can hold it to the calls it claims."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field


@dataclass(frozen=True)
class CallRecord:
    upstream: str  # "spotify", "reccobeats" or "gemini"
    endpoint: str  # the simulator's route template, e.g. "GET /artists/{id}/top-tracks"
    status: int  # HTTP status; 0 when the client gave up (timeout, connection error)
    tool: str  # the monolith tool (or LLM task) that made it


@dataclass
class Ledger:
    calls: list[CallRecord] = field(default_factory=list)

    def add(self, record: CallRecord) -> None:
        self.calls.append(record)

    def by_endpoint(self) -> dict[str, dict[str, int]]:
        """{upstream: {endpoint: calls}}, the shape of the simulator's stats."""
        out: dict[str, dict[str, int]] = {}
        for (upstream, endpoint), n in sorted(Counter((c.upstream, c.endpoint) for c in self.calls).items()):
            out.setdefault(upstream, {})[endpoint] = n
        return out

    def count(self, upstream: str, endpoint: str | None = None, tool: str | None = None) -> int:
        return sum(
            1
            for c in self.calls
            if c.upstream == upstream
            and (endpoint is None or c.endpoint == endpoint)
            and (tool is None or c.tool == tool)
        )

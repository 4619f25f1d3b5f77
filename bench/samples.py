"""What a scenario measures: one `Sample` per request, gathered in a `ScenarioResult`."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from bench.simctl import Calls


@dataclass
class Sample:
    prompt_index: int  # -1 for load prompts
    user: int
    wall_s: float  # real seconds, client side
    sim_s: float  # wall ÷ time scale (the legacy model measures its own simulated time)
    code: str  # "OK", a gRPC status name, or "FAILED" (legacy)
    phases: dict[str, float] = field(default_factory=dict)  # as the system reports them (mesh: real seconds)
    llm_calls: int = 0
    llm_tokens_in: int = 0
    llm_tokens_out: int = 0
    tracks: int = 0
    calls: Calls = field(default_factory=dict)  # this request's upstream calls (isolated runs only)
    rate_limited: dict[str, int] = field(default_factory=dict)
    rate_limited_after_cooldown: dict[str, int] = field(default_factory=dict)
    rate_limited_endpoints: Calls = field(default_factory=dict)  # 429s per endpoint (isolated runs only)
    warnings: list[str] = field(default_factory=list)  # the response's WarningCode names
    ledger_calls: Calls | None = None  # legacy: the calls the model's own ledger says it made

    @property
    def ok(self) -> bool:
        return self.code == "OK"


@dataclass
class ScenarioResult:
    name: str  # "legacy", "cold", "warm", "load"
    time_scale: float
    samples: list[Sample] = field(default_factory=list)
    # Scenario-wide upstream counters (the sum of isolated runs, or the load window's own).
    calls: Calls = field(default_factory=dict)
    rate_limited: dict[str, int] = field(default_factory=dict)
    rate_limited_after_cooldown: dict[str, int] = field(default_factory=dict)
    rate_limited_endpoints: Calls = field(default_factory=dict)
    llm_calls: int = 0
    llm_tokens_in: int = 0
    llm_tokens_out: int = 0
    duration_wall_s: float = 0.0  # load: first send to last answer
    offered_rps_sim: float | None = None  # load only
    batching: dict[str, Any] = field(default_factory=dict)  # load: the ReccoBeat gateways' batches (bench.overload)
    admissions: dict[str, int] = field(default_factory=dict)  # load: the orchestrator's admissions by verdict
    notes: list[str] = field(default_factory=list)

    def add_isolated(self, sample: Sample) -> None:
        """A request measured alone: its counters add to the scenario's."""
        self.samples.append(sample)
        add_calls(self.calls, sample.calls)
        add_calls(self.rate_limited_endpoints, sample.rate_limited_endpoints)
        for target, source in (
            (self.rate_limited, sample.rate_limited),
            (self.rate_limited_after_cooldown, sample.rate_limited_after_cooldown),
        ):
            for upstream, n in source.items():
                target[upstream] = target.get(upstream, 0) + n
        self.llm_calls += sample.llm_calls
        self.llm_tokens_in += sample.llm_tokens_in
        self.llm_tokens_out += sample.llm_tokens_out


def add_calls(total: Calls, more: Calls) -> None:
    for upstream, endpoints in more.items():
        mine = total.setdefault(upstream, {})
        for endpoint, n in endpoints.items():
            mine[endpoint] = mine.get(endpoint, 0) + n

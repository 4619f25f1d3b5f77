"""The gateway's own metrics: LLM calls by task and outcome, tokens, call latency."""

from __future__ import annotations

from dataclasses import dataclass

from prometheus_client import CollectorRegistry, Counter, Histogram

# An LLM call with a long structured answer can take tens of seconds.
_CALL_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1, 2, 4, 8, 15, 30, 60, 120)


@dataclass(frozen=True)
class LlmMetrics:
    calls: Counter
    tokens: Counter
    seconds: Histogram

    @classmethod
    def create(cls, registry: CollectorRegistry) -> LlmMetrics:
        return cls(
            calls=Counter(
                "segue_llm_calls_total",
                "LLM requests sent, by task and outcome (ok, invalid_answer, rate_limited, server_error, "
                "timeout, error, rejected).",
                ("task", "outcome"),
                registry=registry,
            ),
            tokens=Counter(
                "segue_llm_tokens_total",
                "LLM tokens billed, by direction (prompt or output, thinking included in output).",
                ("direction",),
                registry=registry,
            ),
            seconds=Histogram(
                "segue_llm_call_seconds",
                "Latency of single LLM requests.",
                ("task",),
                buckets=_CALL_BUCKETS,
                registry=registry,
            ),
        )

"""What answering one RPC cost in LLM terms, reported back to the caller as LlmUsage."""

from __future__ import annotations

from dataclasses import dataclass

from segue.v1 import common_pb2


@dataclass
class Usage:
    calls: int = 0  # requests actually sent to the LLM, failed ones included (they count against quota)
    prompt_tokens: int = 0
    output_tokens: int = 0
    cache_hits: int = 0

    def to_proto(self) -> common_pb2.LlmUsage:
        return common_pb2.LlmUsage(
            calls=self.calls,
            prompt_tokens=self.prompt_tokens,
            output_tokens=self.output_tokens,
            cache_hits=self.cache_hits,
        )

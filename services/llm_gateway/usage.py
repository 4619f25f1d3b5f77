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

    def add(self, other: Usage) -> None:
        self.calls += other.calls
        self.prompt_tokens += other.prompt_tokens
        self.output_tokens += other.output_tokens
        self.cache_hits += other.cache_hits

    def shares(self, n: int) -> list[Usage]:
        """This usage split among n answers of one bundled call: the call counts once (for the first),
        tokens are divided, so the answers' usage adds up to what was spent."""

        def part(total: int, i: int) -> int:
            return total // n + (1 if i < total % n else 0)

        return [
            Usage(
                calls=self.calls if i == 0 else 0,
                prompt_tokens=part(self.prompt_tokens, i),
                output_tokens=part(self.output_tokens, i),
            )
            for i in range(n)
        ]

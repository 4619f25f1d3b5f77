"""Stubs for the three services the orchestrator drives; `call` turns their failures into PeerFailed."""

from __future__ import annotations

from dataclasses import dataclass

from grpc import aio
from segue.v1 import llm_gateway_pb2_grpc, reccobeat_gateway_pb2_grpc, seed_gatherer_pb2_grpc

from services.common import stubs
from services.common.call_context import SPOTIFY_TOKEN_HEADER
from services.common.channels import DEFAULT_CONNECT_TIMEOUT_S, make_channel
from services.common.config import SecurityConfig
from services.common.degradation import PeerFailed
from services.common.degradation import ask_peer as call
from services.common.metrics import GrpcMetrics

__all__ = ["PeerFailed", "Peers", "call", "token_metadata"]


def token_metadata(token: str) -> tuple[tuple[str, str], ...]:
    return ((SPOTIFY_TOKEN_HEADER, token),)


@dataclass
class Peers:
    llm: llm_gateway_pb2_grpc.LlmGatewayAsyncStub
    seeds: seed_gatherer_pb2_grpc.SeedGathererAsyncStub
    reccobeats: reccobeat_gateway_pb2_grpc.ReccoBeatGatewayAsyncStub
    channels: tuple[aio.Channel, ...]

    @classmethod
    def connect(
        cls,
        llm_addr: str,
        seeds_addr: str,
        reccobeats_addr: str,
        timeout_s: float,
        metrics: GrpcMetrics,
        security: SecurityConfig | None = None,
        *,
        connect_timeout_s: float = DEFAULT_CONNECT_TIMEOUT_S,
    ) -> Peers:
        llm, seeds, recco = (
            make_channel(
                a,
                metrics=metrics,
                default_timeout_s=timeout_s,
                connect_timeout_s=connect_timeout_s,
                security=security,
            )
            for a in (llm_addr, seeds_addr, reccobeats_addr)
        )
        return cls(
            llm=stubs.llm_gateway(llm),
            seeds=stubs.seed_gatherer(seeds),
            reccobeats=stubs.reccobeat_gateway(recco),
            channels=(llm, seeds, recco),
        )

    async def close(self) -> None:
        for channel in self.channels:
            await channel.close()

"""Stubs for the three services the orchestrator drives, and how their failures surface."""

from __future__ import annotations

from collections.abc import Awaitable
from dataclasses import dataclass
from typing import TypeVar

import grpc
from grpc import aio
from segue.v1 import llm_gateway_pb2_grpc, reccobeat_gateway_pb2_grpc, seed_gatherer_pb2_grpc

from services.common.channels import DEFAULT_CONNECT_TIMEOUT_S, make_channel
from services.common.config import SecurityConfig
from services.common.context import SPOTIFY_TOKEN_HEADER
from services.common.errors import SegueError
from services.common.metrics import GrpcMetrics

T = TypeVar("T")

# Peer answers about the request itself pass through unchanged; a peer that cannot answer in time is
# the caller's DEADLINE_EXCEEDED; anything else is the peer's problem, reported as UNAVAILABLE (or
# degraded around, where the workflow can).
_ABOUT_THE_REQUEST = {
    grpc.StatusCode.UNAUTHENTICATED,
    grpc.StatusCode.PERMISSION_DENIED,
    grpc.StatusCode.INVALID_ARGUMENT,
}


class PeerFailed(SegueError):
    def __init__(self, component: str, code: grpc.StatusCode, details: str) -> None:
        if code in _ABOUT_THE_REQUEST:
            message, surfaced = details, code
        elif code == grpc.StatusCode.DEADLINE_EXCEEDED:
            message, surfaced = f"{component} did not answer before the deadline", code
        else:
            message, surfaced = f"{component}: {details}", grpc.StatusCode.UNAVAILABLE
        super().__init__(message)
        self.component = component
        self.code = surfaced
        self.peer_code = code


async def call(component: str, pending: Awaitable[T]) -> T:
    """Await a peer call, turning its gRPC error into a PeerFailed that names the peer."""
    try:
        return await pending
    except aio.AioRpcError as exc:
        raise PeerFailed(component, exc.code(), exc.details() or exc.code().name) from exc


def token_metadata(token: str) -> tuple[tuple[str, str], ...]:
    return ((SPOTIFY_TOKEN_HEADER, token),)


@dataclass
class Peers:
    llm: llm_gateway_pb2_grpc.LlmGatewayStub
    seeds: seed_gatherer_pb2_grpc.SeedGathererStub
    reccobeats: reccobeat_gateway_pb2_grpc.ReccoBeatGatewayStub
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
            llm=llm_gateway_pb2_grpc.LlmGatewayStub(llm),
            seeds=seed_gatherer_pb2_grpc.SeedGathererStub(seeds),
            reccobeats=reccobeat_gateway_pb2_grpc.ReccoBeatGatewayStub(recco),
            channels=(llm, seeds, recco),
        )

    async def close(self) -> None:
        for channel in self.channels:
            await channel.close()

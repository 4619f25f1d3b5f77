"""Each service's stub on an asyncio channel, typed as the async stub it is.

grpc ships no type information, so mypy cannot pick the generated stubs' aio overload by itself: every
caller (the services, the CLI, tests and scripts) builds its stubs here rather than casting on its own.
"""

from __future__ import annotations

from typing import cast

from grpc import aio
from segue.v1 import llm_gateway_pb2_grpc, orchestrator_pb2_grpc, reccobeat_gateway_pb2_grpc, seed_gatherer_pb2_grpc


def orchestrator(channel: aio.Channel) -> orchestrator_pb2_grpc.OrchestratorAsyncStub:
    return cast("orchestrator_pb2_grpc.OrchestratorAsyncStub", orchestrator_pb2_grpc.OrchestratorStub(channel))


def llm_gateway(channel: aio.Channel) -> llm_gateway_pb2_grpc.LlmGatewayAsyncStub:
    return cast("llm_gateway_pb2_grpc.LlmGatewayAsyncStub", llm_gateway_pb2_grpc.LlmGatewayStub(channel))


def seed_gatherer(channel: aio.Channel) -> seed_gatherer_pb2_grpc.SeedGathererAsyncStub:
    return cast("seed_gatherer_pb2_grpc.SeedGathererAsyncStub", seed_gatherer_pb2_grpc.SeedGathererStub(channel))


def reccobeat_gateway(channel: aio.Channel) -> reccobeat_gateway_pb2_grpc.ReccoBeatGatewayAsyncStub:
    return cast(
        "reccobeat_gateway_pb2_grpc.ReccoBeatGatewayAsyncStub", reccobeat_gateway_pb2_grpc.ReccoBeatGatewayStub(channel)
    )

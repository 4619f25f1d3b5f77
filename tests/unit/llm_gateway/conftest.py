"""Fixtures: a fake Gemini on a loopback port, and the real llm_gateway server (build + start) in front of it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass

import pytest
from grpc import aio
from prometheus_client import CollectorRegistry
from segue.v1 import llm_gateway_pb2_grpc

from services.common.server import RunningService, start
from services.llm_gateway.config import from_env
from services.llm_gateway.server import build
from tests.unit.llm_gateway.fake_gemini import FakeGemini

API_KEY = "test-gemini-key-7Hq2Zx9"


def gateway_env(gemini_url: str, **extra: str) -> dict[str, str]:
    return {
        "GEMINI_API_KEY": API_KEY,
        "GEMINI_BASE_URL": gemini_url,
        "GRPC_HOST": "127.0.0.1",
        "GRPC_PORT": "0",
        "METRICS_PORT": "-1",
        "LLM_TIMEOUT_S": "5",
        **extra,
    }


@dataclass
class Gateway:
    stub: llm_gateway_pb2_grpc.LlmGatewayStub
    registry: CollectorRegistry
    service: RunningService

    def metric(self, name: str, **labels: str) -> float:
        return self.registry.get_sample_value(name, labels) or 0.0


async def start_gateway(env: dict[str, str]) -> tuple[Gateway, aio.Channel]:
    cfg = from_env(env)
    registry = CollectorRegistry()
    service = await start(await build(cfg, registry), cfg.server, registry)
    channel = aio.insecure_channel(f"127.0.0.1:{service.port}")
    return Gateway(llm_gateway_pb2_grpc.LlmGatewayStub(channel), registry, service), channel


@pytest.fixture
async def fake() -> AsyncIterator[FakeGemini]:
    server = FakeGemini()
    await server.start()
    yield server
    await server.stop()


@pytest.fixture
async def gateway(fake: FakeGemini) -> AsyncIterator[Gateway]:
    gw, channel = await start_gateway(gateway_env(fake.url))
    yield gw
    await channel.close()
    await gw.service.shutdown(0, 0)

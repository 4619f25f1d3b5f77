from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, replace

import pytest
from grpc import aio
from prometheus_client import CollectorRegistry
from segue.v1 import reccobeat_gateway_pb2_grpc

from services.common.config import ServerConfig
from services.common.server import RunningService, start
from services.reccobeat_gateway.config import Config
from services.reccobeat_gateway.server import build
from tests.unit.reccobeat_gateway.fake_reccobeats import BASE_URL, FakeReccoBeats


def gateway_config(**overrides: object) -> Config:
    cfg = Config(server=ServerConfig(grpc_host="127.0.0.1", grpc_port=0, metrics_port=-1), base_url=BASE_URL)
    return replace(cfg, **overrides)  # type: ignore[arg-type]


@dataclass
class Gateway:
    stub: reccobeat_gateway_pb2_grpc.ReccoBeatGatewayAsyncStub
    upstream: FakeReccoBeats
    registry: CollectorRegistry

    def metric(self, name: str, **labels: str) -> float:
        return self.registry.get_sample_value(name, labels) or 0.0


@pytest.fixture
def upstream() -> FakeReccoBeats:
    return FakeReccoBeats()


@pytest.fixture
async def gateway(upstream: FakeReccoBeats) -> AsyncIterator[Gateway]:
    cfg = gateway_config()
    registry = CollectorRegistry()
    running: RunningService = await start(
        await build(cfg, registry, transport=upstream.transport()), cfg.server, registry
    )
    channel = aio.insecure_channel(f"127.0.0.1:{running.port}")
    try:
        yield Gateway(reccobeat_gateway_pb2_grpc.ReccoBeatGatewayStub(channel), upstream, registry)
    finally:
        await channel.close()
        await running.shutdown(drain_delay_s=0, grace_s=0)

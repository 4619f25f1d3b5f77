"""Fixtures: the real ReccoBeat gateway in this process, the fake ReccoBeats behind httpx.MockTransport."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, replace
from functools import partial
from typing import TypeAlias

import pytest
from segue.v1 import reccobeat_gateway_pb2_grpc

from services.common import stubs
from services.common.config import ServerConfig
from services.reccobeat_gateway.config import Config
from services.reccobeat_gateway.server import build
from tests.unit.inprocess import Served, serving
from tests.unit.reccobeat_gateway.fake_reccobeats import BASE_URL, FakeReccoBeats

# Only the generated .pyi has the async stub type: named as a string, it is never looked up at run time.
Stub: TypeAlias = "reccobeat_gateway_pb2_grpc.ReccoBeatGatewayAsyncStub"


def gateway_config(**overrides: object) -> Config:
    # Hedging and the registry's random re-checks of absent IDs off unless a test is about them: either
    # would add upstream calls to the counts (a hedge on a loaded machine, a re-check 1 time in 100).
    cfg = Config(
        server=ServerConfig(grpc_host="127.0.0.1", grpc_port=0, metrics_port=-1),
        base_url=BASE_URL,
        hedge=False,
        absent_recheck_fraction=0.0,
    )
    return replace(cfg, **overrides)  # type: ignore[arg-type]


@dataclass
class Gateway(Served[Stub]):
    upstream: FakeReccoBeats


@pytest.fixture
def upstream() -> FakeReccoBeats:
    return FakeReccoBeats()


@pytest.fixture
async def gateway(upstream: FakeReccoBeats) -> AsyncIterator[Gateway]:
    async with serving(
        gateway_config(), partial(build, transport=upstream.transport()), stubs.reccobeat_gateway
    ) as served:
        yield Gateway(served.stub, served.registry, served.running, upstream)

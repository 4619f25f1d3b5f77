"""Fixtures: a fake Gemini on a loopback port, and the real llm_gateway server (build + start) in front of it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import pytest

from services.common import stubs
from services.llm_gateway.config import from_env
from services.llm_gateway.server import build
from tests.unit.inprocess import LOOPBACK, Served, serving
from tests.unit.llm_gateway.fake_gemini import FakeGemini

API_KEY = "test-gemini-key-7Hq2Zx9"

Gateway = Served["llm_gateway_pb2_grpc.LlmGatewayAsyncStub"]


@asynccontextmanager
async def running_gateway(gemini_url: str, **extra_env: str) -> AsyncIterator[Gateway]:
    """The real llm_gateway in this process, in front of the Gemini at `gemini_url`."""
    env = {**LOOPBACK, "GEMINI_API_KEY": API_KEY, "GEMINI_BASE_URL": gemini_url, "LLM_TIMEOUT_S": "5", **extra_env}
    async with serving(from_env(env), build, stubs.llm_gateway) as gateway:
        yield gateway


@pytest.fixture
async def gateway(fake: FakeGemini) -> AsyncIterator[Gateway]:
    async with running_gateway(fake.url) as gw:
        yield gw

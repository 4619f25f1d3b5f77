"""Fixtures more than one service's unit tests use."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from tests.unit.llm_gateway.fake_gemini import FakeGemini


@pytest.fixture
async def fake() -> AsyncIterator[FakeGemini]:
    """A fake Gemini on a loopback port: the llm_gateway's tests, and the orchestrator's LLM-step budget."""
    server = FakeGemini()
    await server.start()
    yield server
    await server.stop()

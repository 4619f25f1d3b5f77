"""Artist discovery begins from the start of the mood — genres, artists, exclusions, streamed first — while the
LLM still writes the feature targets. The four services in this process, the simulator's model writing slowly
enough (10 ms an output token) that the order is plain."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from segue.v1 import common_pb2, orchestrator_pb2

from services.orchestrator import ledger
from sim.profile import load_profile
from tests.unit.orchestrator.inprocess_mesh import in_process_mesh

SLOW_LLM = Path(__file__).parent / "slow_llm.toml"
TOKEN = (("x-spotify-token", "user-6-unit"),)


def ledger_lines(caplog: pytest.LogCaptureFixture) -> list[dict[str, object]]:
    return [r.ledger for r in caplog.records if r.getMessage() == "recommend ledger"]  # type: ignore[attr-defined]


async def test_discovery_begins_while_the_llm_still_writes_the_rest_of_the_mood(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger=ledger.__name__)
    request = orchestrator_pb2.RecommendRequest(user_id="simuser6", mood_prompt="slow jazz for a rainy sunday", size=10)
    async with in_process_mesh(profile=SLOW_LLM) as mesh:
        response = await mesh.stub.Recommend(request, metadata=TOKEN, timeout=30)

    assert len(response.tracks) == 10 and response.llm.calls == 1
    assert response.mood.source == common_pb2.MOOD_SOURCE_LLM and response.mood.targets, "the whole mood ranks"
    assert any(e.source == common_pb2.TRACK_SOURCE_ARTIST_DISCOVERY for e in response.tracks)
    (line,) = ledger_lines(caplog)
    peers = line["peers"]
    assert isinstance(peers, dict)
    ahead_ms = peers["orchestrator.early_discovery"]["ahead_of_mood_ms"]
    # The targets and the emotion, written after the start, are some 60 output tokens: ~0.6 s at this speed.
    per_token_ms = load_profile(SLOW_LLM).gemini.speed.s_per_output_token * 1000
    assert ahead_ms >= 20 * per_token_ms, f"discovery began only {ahead_ms} ms before the whole mood"
    assert "seed_gatherer.DiscoverArtists" in peers


async def test_a_mood_that_comes_whole_begins_discovery_after_it(caplog: pytest.LogCaptureFixture) -> None:
    """A cached mood has no start before it: discovery begins from the whole mood, as before."""
    caplog.set_level(logging.INFO, logger=ledger.__name__)
    prompt = "late night synthwave drive"
    async with in_process_mesh(profile=SLOW_LLM) as mesh:
        for user in (7, 8):  # the second user's mood comes from the LLM gateway's cache
            request = orchestrator_pb2.RecommendRequest(user_id=f"simuser{user}", mood_prompt=prompt, size=5)
            metadata = (("x-spotify-token", f"user-{user}-unit"),)
            response = await mesh.stub.Recommend(request, metadata=metadata, timeout=30)
            assert len(response.tracks) == 5

    first, second = ledger_lines(caplog)
    assert "orchestrator.early_discovery" in first["peers"]  # type: ignore[operator]
    assert response.llm.calls == 0 and response.mood.source == common_pb2.MOOD_SOURCE_CACHE
    assert "orchestrator.early_discovery" not in second["peers"]  # type: ignore[operator]

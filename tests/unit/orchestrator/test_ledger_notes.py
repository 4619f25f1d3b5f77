"""What peers report of their part reaches the ledger line of the request being served, and nothing else."""

from __future__ import annotations

import asyncio
import logging

import pytest
from segue.v1 import common_pb2

from services.orchestrator import ledger


def written(caplog: pytest.LogCaptureFixture) -> list[dict[str, object]]:
    return [r.ledger for r in caplog.records if r.getMessage() == "recommend ledger"]  # type: ignore[attr-defined]


async def test_a_note_made_in_a_task_of_the_request_lands_in_its_line(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger=ledger.__name__)
    timings = [common_pb2.PhaseTiming(phase="select", seconds=0.0123)]

    async def peer_step() -> None:  # as the workflow's steps run: tasks of a TaskGroup, in a copy of the context
        ledger.note("seed_gatherer.GatherSeeds", {"timings_ms": ledger.milliseconds(timings)})

    with ledger.recorded("Recommend"):
        async with asyncio.TaskGroup() as group:
            group.create_task(peer_step())
    with ledger.recorded("Recommend"):
        pass

    first, second = written(caplog)
    assert first["peers"] == {"seed_gatherer.GatherSeeds": {"timings_ms": {"select": 12.3}}}
    assert "peers" not in second, "a note belongs to its own request only"


def test_a_note_outside_any_request_is_dropped(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger=ledger.__name__)
    ledger.note("seed_gatherer.WarmUserContext", {"from_cache": True})  # e.g. a Prefetch's warming
    with ledger.recorded("Recommend"):
        pass
    (line,) = written(caplog)
    assert "peers" not in line

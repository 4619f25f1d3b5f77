"""MicroBatcher: keys from concurrent callers share calls; each caller gets exactly its own answers."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence

import pytest
from prometheus_client import CollectorRegistry

from services.common import call_context
from services.common.batching import MicroBatcher
from services.common.errors import UpstreamError
from services.common.metrics import WorkSharingMetrics
from tests.unit.waiting import until


class Upstream:
    """Answers `value-<key>` for every key but those in `absent`; fails a call holding a key in `failing`."""

    def __init__(self) -> None:
        self.calls: list[list[str]] = []
        self.absent: set[str] = set()
        self.failing: set[str] = set()
        self.gate = asyncio.Event()
        self.gate.set()
        self.deadlines: list[float | None] = []
        self.lanes: list[call_context.Lane] = []

    async def fetch(self, keys: Sequence[str]) -> Mapping[str, str]:
        self.calls.append(list(keys))
        self.deadlines.append(call_context.time_remaining())
        self.lanes.append(call_context.lane())
        await self.gate.wait()
        if self.failing.intersection(keys):
            raise UpstreamError("up", "503", 503)
        return {k: f"value-{k}" for k in keys if k not in self.absent}


def batcher(
    upstream: Upstream, *, window_s: float = 0.01, max_in_flight: int = 8
) -> tuple[MicroBatcher[str, str], CollectorRegistry]:
    registry = CollectorRegistry()
    b = MicroBatcher(
        "test",
        upstream.fetch,
        max_size=40,
        window_s=window_s,
        max_in_flight=max_in_flight,
        metrics=WorkSharingMetrics.create(registry),
    )
    return b, registry


async def test_500_keys_from_50_callers_at_once_go_in_batches_of_40() -> None:
    up = Upstream()
    b, registry = batcher(up)
    asks = [[f"id{c}-{i}" for i in range(10)] for c in range(50)]
    answers = await asyncio.gather(*(b.load(ask) for ask in asks))
    assert len(up.calls) == 13 and sorted(len(c) for c in up.calls)[-1] == 40
    for ask, answer in zip(asks, answers, strict=True):
        assert answer == {k: f"value-{k}" for k in ask}  # exactly its own keys
    assert registry.get_sample_value("segue_batch_size_count", {"batcher": "test"}) == 13
    # 4 callers of 10 keys fill each batch exactly
    assert registry.get_sample_value("segue_batch_callers_sum", {"batcher": "test"}) == 50
    assert b.pending() == 0


async def test_while_every_slot_is_busy_the_open_batch_keeps_filling() -> None:
    up = Upstream()
    up.gate.clear()
    b, _ = batcher(up, window_s=0.0, max_in_flight=1)
    first = asyncio.create_task(b.load(["a"]))
    await until(lambda: len(up.calls) == 1, "the first call")
    later = [asyncio.create_task(b.load([f"k{i}", f"k{i + 1}"])) for i in range(0, 60, 2)]
    await until(lambda: b.pending() == 61, "every key queued")
    up.gate.set()
    await asyncio.gather(first, *later)
    assert [len(c) for c in up.calls] == [1, 40, 20]  # not 30 calls of 2


async def test_the_same_key_from_1000_callers_costs_one_call() -> None:
    up = Upstream()
    up.gate.clear()
    b, registry = batcher(up)
    callers = [asyncio.create_task(b.load(["same"])) for _ in range(1000)]
    await until(lambda: len(up.calls) == 1, "the call")
    await asyncio.sleep(0)
    up.gate.set()
    assert all(r == {"same": "value-same"} for r in await asyncio.gather(*callers))
    assert up.calls == [["same"]]
    assert registry.get_sample_value("segue_batch_keys_total", {"batcher": "test", "result": "joined"}) == 999


async def test_absent_keys_answer_none_and_a_failure_reaches_only_the_callers_in_that_batch() -> None:
    up = Upstream()
    up.absent = {"gone"}
    up.failing = {"bad"}
    b, _ = batcher(up)
    keys_a = ["bad", *[f"a{i}" for i in range(39)]]  # fills batch 1, which fails
    keys_b = ["gone", "b1"]  # batch 2
    a, bb = await asyncio.gather(b.load(keys_a), b.load(keys_b))
    assert all(isinstance(v, UpstreamError) for v in a.values()) and len(a) == 40
    assert bb == {"gone": None, "b1": "value-b1"}


async def test_a_cancelled_caller_does_not_fail_the_others() -> None:
    up = Upstream()
    up.gate.clear()
    b, _ = batcher(up)
    leaving = asyncio.create_task(b.load(["x", "y"]))
    staying = asyncio.create_task(b.load(["y", "z"]))
    await until(lambda: len(up.calls) == 1, "the call")
    leaving.cancel()
    await asyncio.sleep(0)
    up.gate.set()
    assert await staying == {"y": "value-y", "z": "value-z"}
    assert up.calls == [["x", "y", "z"]]
    with pytest.raises(asyncio.CancelledError):
        await leaving


async def test_a_batch_whose_callers_all_left_before_it_was_sent_is_dropped() -> None:
    up = Upstream()
    up.gate.clear()
    b, _ = batcher(up, window_s=0.0, max_in_flight=1)
    first = asyncio.create_task(b.load(["a"]))
    await until(lambda: len(up.calls) == 1, "the first call")
    gone = asyncio.create_task(b.load(["b"]))  # waits for the slot
    await until(lambda: b.pending() == 2, "b queued")
    gone.cancel()
    await asyncio.sleep(0)
    up.gate.set()
    assert await first == {"a": "value-a"}
    await until(lambda: b.pending() == 0, "the dropped batch to clear")
    assert up.calls == [["a"]]  # no call (and no rate-limit token) for a batch nobody waits for
    assert await b.load(["b"]) == {"b": "value-b"}  # and the key is not stuck


async def test_a_batch_runs_under_its_most_patient_callers_deadline_and_the_interactive_lane() -> None:
    up = Upstream()
    b, _ = batcher(up, window_s=0.05)

    async def ask(key: str, deadline_s: float, lane: call_context.Lane) -> object:
        call_context.set_deadline_in(deadline_s)
        call_context.set_lane(lane)
        return await b.load([key])

    await asyncio.gather(ask("a", 5, call_context.Lane.BACKGROUND), ask("b", 50, call_context.Lane.INTERACTIVE))
    assert len(up.calls) == 1
    [remaining] = up.deadlines
    assert remaining is not None and 5 < remaining <= 50
    assert up.lanes == [call_context.Lane.INTERACTIVE]


async def test_close_answers_waiting_callers_with_unavailable() -> None:
    up = Upstream()
    up.gate.clear()
    b, _ = batcher(up)
    waiting = asyncio.create_task(b.load(["a"]))
    await until(lambda: len(up.calls) == 1, "the call")
    await b.aclose()
    answer = await waiting
    assert isinstance(answer["a"], Exception) and "shutting down" in str(answer["a"])

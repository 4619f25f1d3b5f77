"""The circuit breaker's states, on a fake clock."""

from __future__ import annotations

from services.common.breaker import Breaker, BreakerState


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def breaker(clock: Clock, changes: list[tuple[BreakerState, BreakerState]]) -> Breaker:
    return Breaker(3, 5.0, lambda old, new, why: changes.append((old, new)), clock=clock)


def test_opens_after_failures_in_a_row_and_refuses_until_the_window_ends() -> None:
    clock, changes = Clock(), []
    b = breaker(clock, changes)
    for _ in range(2):
        assert b.allow()
        b.failure()
    b.success()  # a success in between resets the count
    for _ in range(3):
        assert b.allow()
        b.failure()
    assert b.state is BreakerState.OPEN and changes == [(BreakerState.CLOSED, BreakerState.OPEN)]
    clock.now = 4.9
    assert not b.allow()


def test_half_open_lets_one_probe_through_and_its_success_closes() -> None:
    clock, changes = Clock(), []
    b = breaker(clock, changes)
    for _ in range(3):
        b.failure()
    clock.now = 5.1
    assert b.allow(), "the probe"
    assert not b.allow(), "only one probe at a time; the others still go without"
    b.success()
    assert b.state is BreakerState.CLOSED and b.allow()
    assert changes[1:] == [
        (BreakerState.OPEN, BreakerState.HALF_OPEN),
        (BreakerState.HALF_OPEN, BreakerState.CLOSED),
    ]


def test_a_failed_probe_opens_for_another_window_and_a_released_one_frees_the_slot() -> None:
    clock, changes = Clock(), []
    b = breaker(clock, changes)
    for _ in range(3):
        b.failure()
    clock.now = 6.0
    assert b.allow()
    b.failure()
    assert b.state is BreakerState.OPEN
    clock.now = 10.9
    assert not b.allow(), "the new window counts from the failed probe"
    clock.now = 11.1
    assert b.allow()
    b.release()  # the probe was cut by its caller's deadline: no verdict, the next call probes
    assert b.allow()


def test_failures_of_calls_started_before_it_opened_change_nothing() -> None:
    clock, changes = Clock(), []
    b = breaker(clock, changes)
    for _ in range(6):
        b.failure()
    assert changes == [(BreakerState.CLOSED, BreakerState.OPEN)], "one state change, not one per failure"

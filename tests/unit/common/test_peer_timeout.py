"""A peer call's timeout: the caller's remaining deadline less a margin, never a fixed cap below it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from services.common import call_context
from services.common.interceptors import peer_timeout


@pytest.fixture(autouse=True)
def own_deadline() -> Iterator[None]:
    """These tests run in the test runner's own context: leave its deadline as it was."""
    token = call_context.set_deadline_in(None)
    yield
    call_context._deadline.reset(token)


def test_the_callers_whole_deadline_is_the_peer_calls_not_the_channels_default() -> None:
    call_context.set_deadline_in(60.0)
    assert peer_timeout(None, default_s=30.0, margin_s=0.15) == pytest.approx(59.85, abs=0.05)


def test_a_timeout_the_call_asks_for_caps_it_within_the_deadline() -> None:
    call_context.set_deadline_in(60.0)
    assert peer_timeout(5.0, default_s=30.0, margin_s=0.15) == 5.0
    call_context.set_deadline_in(2.0)
    assert peer_timeout(5.0, default_s=30.0, margin_s=0.15) == pytest.approx(1.85, abs=0.05)


def test_without_a_deadline_the_default_applies() -> None:
    call_context.set_deadline_in(None)
    assert peer_timeout(None, default_s=30.0, margin_s=0.15) == 30.0


def test_no_time_left_is_zero() -> None:
    call_context.set_deadline_in(0.1)
    assert peer_timeout(None, default_s=30.0, margin_s=0.15) == 0.0

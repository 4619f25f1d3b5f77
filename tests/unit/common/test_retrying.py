"""The mesh's one retry loop, on its own: what it retries, what it never retries, and what it raises."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence

import pytest

from services.common.errors import UpstreamError, UpstreamRateLimited, UpstreamRejected
from services.common.upstream_http import (
    RATE_LIMITED,
    REJECTED,
    Attempts,
    Failed,
    LocalCooldown,
    RetryPolicy,
    retrying,
)

POLICY = RetryPolicy(max_attempts=3, base_delay_s=0.001, max_delay_s=0.001)
CALL = Attempts("upstream", "GET /thing", timeout_s=5.0)


def script(outcomes: Sequence[str | Failed]) -> tuple[Callable[[], Awaitable[str | Failed]], list[int]]:
    """An attempt that answers each outcome in turn; the list counts the attempts made."""
    made = [0]

    async def attempt() -> str | Failed:
        outcome = outcomes[made[0]]
        made[0] += 1
        return outcome

    return attempt, made


async def test_a_transient_failure_is_retried_until_an_answer() -> None:
    attempt, made = script([Failed("timeout"), Failed("503", 503), "answer"])
    retried: list[str] = []
    answer = await retrying(
        attempt, CALL, pacer=LocalCooldown(), policy=POLICY, keep_s=lambda: 0.0, on_retry=retried.append
    )
    assert (answer, made[0], retried) == ("answer", 3, ["timeout", "503"])


async def test_transient_failures_give_up_after_max_attempts_naming_the_last() -> None:
    attempt, made = script([Failed("timeout")] * 2 + [Failed("503", 503, "busy")])
    with pytest.raises(UpstreamError, match=r"GET /thing failed after 3 attempt\(s\) \(503: busy\)") as caught:
        await retrying(attempt, CALL, pacer=LocalCooldown(), policy=POLICY, keep_s=lambda: 0.0)
    assert caught.value.status == 503 and made[0] == 3


async def test_a_rejected_request_is_never_retried() -> None:
    attempt, made = script([Failed(REJECTED, 400, "bad field"), "never"])
    with pytest.raises(UpstreamRejected, match="400: bad field"):
        await retrying(attempt, CALL, pacer=LocalCooldown(), policy=POLICY, keep_s=lambda: 0.0)
    assert made[0] == 1


async def test_asking_again_at_once_does_not_count_as_a_failure() -> None:
    again = Failed("invalid_answer", again=True)
    attempt, made = script([again, Failed("timeout"), again, Failed("timeout"), "answer"])
    answer = await retrying(attempt, CALL, pacer=LocalCooldown(), policy=POLICY, keep_s=lambda: 0.0)
    assert (answer, made[0]) == ("answer", 5)  # two failures of three allowed, whatever the re-asks


async def test_a_rate_limit_pauses_the_upstream_for_every_caller_then_gives_up_as_rate_limited() -> None:
    pacer = LocalCooldown()
    short, long = Failed(RATE_LIMITED, 429, pause_s=0.001), Failed(RATE_LIMITED, 429, pause_s=60.0)
    attempt, made = script([short, short, long])
    with pytest.raises(UpstreamRateLimited):
        await retrying(attempt, CALL, pacer=pacer, policy=POLICY, keep_s=lambda: 0.0)
    assert made[0] == 3 and pacer.cooling("upstream")

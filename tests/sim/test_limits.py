"""The limiters on a simulated clock: what they admit and the Retry-After they compute."""

from __future__ import annotations

from sim.limits import GeminiQuota, RollingWindow, TokenBucket, whole_seconds
from sim.profile import GeminiRateLimit, ReccoBeatsRateLimit, SpotifyRateLimit


def test_whole_seconds_rounds_up_and_never_says_zero() -> None:
    assert whole_seconds(0.01) == 1
    assert whole_seconds(2.0) == 2
    assert whole_seconds(2.1) == 3


def test_rolling_window_admits_max_then_waits_for_the_oldest_to_leave() -> None:
    window = RollingWindow(SpotifyRateLimit(window_s=30, max_requests=3))
    assert [window.check(t) for t in (0.0, 1.0, 2.0)] == [None, None, None]
    assert window.check(10.0) == 20  # the call at t=0 leaves at t=30
    assert window.check(29.5) == 1
    assert window.check(30.0) is None  # rejected calls did not count
    assert window.check(30.5) == 1


def test_token_bucket_burst_then_refill() -> None:
    bucket = TokenBucket(ReccoBeatsRateLimit(rate_per_s=2, burst=3, cooldown_min_s=1, cooldown_max_s=8))
    assert [bucket.check(0.0) for _ in range(3)] == [None, None, None]
    assert bucket.check(0.0) == 1  # empty: blocked for the minimum cooldown
    assert bucket.check(1.0) is None  # block over, two tokens refilled
    assert bucket.check(1.0) is None
    assert bucket.check(1.0) == 1


def test_token_bucket_block_doubles_while_hammered_and_is_bounded() -> None:
    bucket = TokenBucket(ReccoBeatsRateLimit(rate_per_s=1, burst=1, cooldown_min_s=1, cooldown_max_s=8))
    assert bucket.check(0.0) is None
    assert bucket.check(0.0) == 1
    assert bucket.check(0.1) == 1  # the same burst: not extended
    waits = [bucket.check(t) for t in (0.5, 1.0, 2.0, 3.0)]
    assert waits == [2, 4, 8, 8]  # doubled from the time of each call, capped at 8
    assert bucket.check(11.0) is None  # obeying Retry-After gets through


def test_gemini_quota_counts_requests_and_input_tokens_per_model() -> None:
    quota = GeminiQuota(GeminiRateLimit(rpm=2, tpm=1000))
    assert quota.check(0.0, "m", 100) is None
    assert quota.check(1.0, "m", 100) is None
    assert quota.check(2.0, "m", 100) == (58, "GenerateRequestsPerMinutePerProjectPerModel")
    assert quota.check(2.0, "other-model", 100) is None
    assert quota.check(60.5, "m", 100) is None
    tokens = GeminiQuota(GeminiRateLimit(rpm=100, tpm=1000))
    assert tokens.check(0.0, "m", 600) is None
    assert tokens.check(5.0, "m", 300) is None
    assert tokens.check(6.0, "m", 300) == (54, "GenerateContentInputTokensPerModelPerMinute")

"""429 + Retry-After from each upstream, recovery after waiting it out, and the time-scale factor.

A tiny-limit profile and a small time-scale keep the waits short; assertions are on status codes, the
Retry-After values and counters, never on elapsed time. Each window, refill and block lasts at least half a
second of wall time at the scale its test uses, so a loaded machine cannot let it pass between the calls
that are meant to fall inside it.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx
import pytest

from sim.testing import RunningSim, running_sim
from tests.sim.conftest import AUTH, write_profile

TINY = """
extends = "fast"
[spotify.rate_limit]
window_s = 100
max_requests = 2
[reccobeats.rate_limit]
rate_per_s = 0.5
burst = 2
cooldown_min_s = 2
cooldown_max_s = 16
[gemini.rate_limit]
rpm = 2
tpm = 1000000
"""
GEMINI_BODY = {"contents": [{"role": "user", "parts": [{"text": "calm jazz for a rainy evening"}]}]}


@pytest.fixture
def tiny(tmp_path: Path) -> Path:
    return write_profile(tmp_path, TINY, "tiny")


async def spotify_call(http: httpx.AsyncClient, sim: RunningSim) -> httpx.Response:
    return await http.get(sim.spotify_url + "/me/top/artists", params={"limit": 1}, headers=AUTH)


async def reccobeats_call(http: httpx.AsyncClient, sim: RunningSim) -> httpx.Response:
    return await http.get(sim.reccobeats_url + "/track", params={"ids": sim.catalog.tracks[0].spotify_id})


async def gemini_call(http: httpx.AsyncClient, sim: RunningSim) -> httpx.Response:
    url = sim.gemini_url + "/v1beta/models/gemini-2.5-flash:generateContent"
    return await http.post(url, json=GEMINI_BODY, headers={"x-goog-api-key": "test-key"})


async def test_spotify_rolling_window_429_and_recovery(tiny: Path, http: httpx.AsyncClient) -> None:
    async with running_sim(tiny, time_scale=0.01) as sim:  # the window: 1 s of wall time
        assert [(await spotify_call(http, sim)).status_code for _ in range(2)] == [200, 200]
        blocked = await spotify_call(http, sim)
        assert blocked.status_code == 429
        assert blocked.json() == {"error": {"status": 429, "message": "API rate limit exceeded"}}
        wait = float(blocked.headers["Retry-After"])
        assert 0 < wait <= 100 * 0.01  # at most the scaled 100 s window
        await asyncio.sleep(wait)
        assert (await spotify_call(http, sim)).status_code == 200
        stats = sim.stats()["upstreams"]["spotify"]
        assert stats["rate_limited"] == 1 and stats["status"] == {"200": 3, "429": 1}
        assert stats["endpoints"]["GET /me/top/artists"]["rate_limited"] == 1


async def test_reccobeats_bucket_429_escalates_while_hammered_then_recovers(
    tiny: Path, http: httpx.AsyncClient
) -> None:
    # A token every 2 simulated seconds and a first block of 2: 0.5 s of wall time each at scale 0.25.
    async with running_sim(tiny, time_scale=0.25) as sim:
        assert [(await reccobeats_call(http, sim)).status_code for _ in range(2)] == [200, 200]
        first = await reccobeats_call(http, sim)
        assert first.status_code == 429
        assert first.headers["Retry-After"] == "0.5"  # cooldown_min_s 2 × 0.25
        # Retry too early, twice, each time after a quarter of cooldown_min_s (0.125 s): the block doubles.
        await asyncio.sleep(0.15)
        second = await reccobeats_call(http, sim)
        await asyncio.sleep(0.15)
        third = await reccobeats_call(http, sim)
        assert [second.status_code, third.status_code] == [429, 429]
        retry_afters = [float(r.headers["Retry-After"]) for r in (first, second, third)]
        assert retry_afters == [0.5, 1.0, 2.0]
        assert retry_afters[-1] <= 16 * 0.25  # bounded by cooldown_max_s
        await asyncio.sleep(retry_afters[-1])
        assert (await reccobeats_call(http, sim)).status_code == 200
        assert sim.stats()["upstreams"]["reccobeats"]["rate_limited"] == 3


async def test_gemini_rpm_429_is_resource_exhausted_with_retry_info(tiny: Path, http: httpx.AsyncClient) -> None:
    async with running_sim(tiny, time_scale=0.02) as sim:  # the rolling minute: 1.2 s of wall time
        assert [(await gemini_call(http, sim)).status_code for _ in range(2)] == [200, 200]
        blocked = await gemini_call(http, sim)
        assert blocked.status_code == 429
        error = blocked.json()["error"]
        assert (error["code"], error["status"]) == (429, "RESOURCE_EXHAUSTED")
        kinds = {d["@type"].rsplit(".", 1)[-1]: d for d in error["details"]}
        assert kinds["QuotaFailure"]["violations"][0]["quotaId"] == "GenerateRequestsPerMinutePerProjectPerModel"
        delay = float(kinds["RetryInfo"]["retryDelay"].removesuffix("s"))
        assert 0 < delay <= 60 * 0.02
        await asyncio.sleep(delay)
        assert (await gemini_call(http, sim)).status_code == 200
        assert sim.stats()["upstreams"]["gemini"]["rate_limited"] == 1


# A bucket that refills once per 100 simulated seconds (1 s of wall time at scale 0.01), so a loaded
# machine cannot refill it between the calls that empty it.
SLOW_BUCKET = TINY.replace("rate_per_s = 0.5", "rate_per_s = 0.01").replace(
    "cooldown_min_s = 2\ncooldown_max_s = 16", "cooldown_min_s = 100\ncooldown_max_s = 100"
)


async def test_time_scale_multiplies_retry_after_and_windows(tmp_path: Path, http: httpx.AsyncClient) -> None:
    slow = write_profile(tmp_path, SLOW_BUCKET, "slow-bucket")
    waits = {}
    for scale in (0.01, 0.04):
        async with running_sim(slow, time_scale=scale) as sim:
            for _ in range(2):
                await reccobeats_call(http, sim)
            waits[scale] = float((await reccobeats_call(http, sim)).headers["Retry-After"])
    assert waits == {0.01: pytest.approx(1.0), 0.04: pytest.approx(4.0)}


async def test_whole_second_retry_after_at_time_scale_one(tiny: Path, http: httpx.AsyncClient) -> None:
    async with running_sim(tiny, time_scale=1.0) as sim:
        for _ in range(2):
            await reccobeats_call(http, sim)
        assert (await reccobeats_call(http, sim)).headers["Retry-After"] == "2"


async def test_reset_clears_rate_limit_state_unless_told_not_to(tiny: Path, http: httpx.AsyncClient) -> None:
    async with running_sim(tiny, time_scale=1.0) as sim:
        for _ in range(2):
            await spotify_call(http, sim)
        assert (await spotify_call(http, sim)).status_code == 429
        await http.post(sim.base_url + "/__sim/reset", json={"limits": False})
        assert (await spotify_call(http, sim)).status_code == 429
        await http.post(sim.base_url + "/__sim/reset")
        assert (await spotify_call(http, sim)).status_code == 200

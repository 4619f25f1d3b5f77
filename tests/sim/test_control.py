"""/__sim: stats counters and reset, run-time faults (outage, errors, timeouts, extra latency), health."""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx
import pytest

from sim.testing import RunningSim, running_sim
from tests.sim.conftest import AUTH, write_profile


async def top_tracks(http: httpx.AsyncClient, sim: RunningSim) -> httpx.Response:
    return await http.get(sim.spotify_url + "/me/top/tracks", params={"limit": 1}, headers=AUTH)


async def test_stats_count_every_call_per_endpoint_and_reset_zeroes_them(
    sim: RunningSim, http: httpx.AsyncClient
) -> None:
    await top_tracks(http, sim)
    await http.get(sim.spotify_url + "/me/top/tracks")  # 401 counts too
    await http.get(sim.reccobeats_url + "/track", params={"ids": sim.catalog.tracks[0].spotify_id})
    await http.get(sim.reccobeats_url + "/nowhere")
    await http.get(sim.base_url + "/__sim/health")  # control calls are not counted
    stats = (await http.get(sim.base_url + "/__sim/stats")).json()
    assert stats["profile"] == "fast" and stats["time_scale"] == 1.0 and stats["since"] > 0
    spotify = stats["upstreams"]["spotify"]
    assert spotify["calls"] == 2 and spotify["status"] == {"200": 1, "401": 1}
    assert spotify["endpoints"]["GET /me/top/tracks"] == {
        "calls": 2,
        "status": {"200": 1, "401": 1},
        "rate_limited": 0,
        "inflight_peak": 1,
    }
    assert spotify["endpoints"]["GET /search"]["calls"] == 0
    reccobeats = stats["upstreams"]["reccobeats"]
    assert reccobeats["calls"] == 2 and reccobeats["status"] == {"200": 1, "404": 1}  # unknown path: upstream only
    assert sum(e["calls"] for e in reccobeats["endpoints"].values()) == 1
    assert set(stats["upstreams"]["gemini"]) >= {"tokens_in", "tokens_out", "endpoints"}
    assert "POST /models/{model}:generateContent" in stats["upstreams"]["gemini"]["endpoints"]

    reset = await http.post(sim.base_url + "/__sim/reset")
    assert reset.status_code == 200
    after = sim.stats()
    assert after["since"] >= stats["since"]
    assert all(u["calls"] == 0 and u["status"] == {} for u in after["upstreams"].values())
    assert after["upstreams"]["spotify"]["endpoints"]["GET /me/top/tracks"]["calls"] == 0


async def test_inflight_peak_counts_concurrent_calls(sim: RunningSim, http: httpx.AsyncClient) -> None:
    sim.set_faults(upstream="spotify", extra_latency_s=1.0)
    responses = await asyncio.gather(*(top_tracks(http, sim) for _ in range(5)))
    assert [r.status_code for r in responses] == [200] * 5
    spotify = sim.stats()["upstreams"]["spotify"]
    assert spotify["inflight_peak"] == 5 == spotify["endpoints"]["GET /me/top/tracks"]["inflight_peak"]


async def test_outage_answers_503_in_each_upstreams_format_until_cleared(
    sim: RunningSim, http: httpx.AsyncClient
) -> None:
    settings = (await http.post(sim.base_url + "/__sim/faults", json={"outage": True})).json()
    assert all(settings[u]["outage"] for u in ("spotify", "reccobeats", "gemini"))
    spotify = await top_tracks(http, sim)
    assert spotify.status_code == 503 and spotify.json()["error"]["status"] == 503
    recco = await http.get(sim.reccobeats_url + "/track", params={"ids": "x"})
    assert recco.status_code == 503 and recco.json()["status"] == 503
    gemini = await http.post(
        sim.gemini_url + "/v1beta/models/gemini-2.5-flash:generateContent",
        json={"contents": []},
        headers={"x-goog-api-key": "k"},
    )
    assert gemini.status_code == 503 and gemini.json()["error"]["status"] == "UNAVAILABLE"
    cleared = (await http.post(sim.base_url + "/__sim/faults", json={"clear": True})).json()
    assert not any(cleared[u]["outage"] for u in cleared)
    assert (await top_tracks(http, sim)).status_code == 200
    assert sim.stats()["upstreams"]["spotify"]["status"] == {"200": 1, "503": 1}


async def test_faults_target_one_upstream(sim: RunningSim, http: httpx.AsyncClient) -> None:
    r = await http.post(sim.base_url + "/__sim/faults", json={"upstream": "reccobeats", "error_rate": 1.0})
    assert r.json()["reccobeats"]["error_rate"] == 1.0 and r.json()["spotify"]["error_rate"] == 0.0
    failed = await http.get(sim.reccobeats_url + "/track", params={"ids": sim.catalog.tracks[0].spotify_id})
    assert failed.status_code in (500, 502, 503)
    assert (await top_tracks(http, sim)).status_code == 200


async def test_a_429_storm_answers_with_retry_after(sim: RunningSim, http: httpx.AsyncClient) -> None:
    sim.set_faults(upstream="reccobeats", rate_limit_rate=1.0, retry_after_s=2)
    limited = await http.get(sim.reccobeats_url + "/track", params={"ids": sim.catalog.tracks[0].spotify_id})
    assert limited.status_code == 429 and limited.headers["Retry-After"] == "2"
    assert (await top_tracks(http, sim)).status_code == 200, "only the named upstream storms"
    sim.set_faults(clear=True)
    ok = await http.get(sim.reccobeats_url + "/track", params={"ids": sim.catalog.tracks[0].spotify_id})
    assert ok.status_code == 200


@pytest.mark.parametrize(
    "body",
    [
        {"upstream": "myspace"},
        {"error_rate": 1.5},
        {"rate_limit_rate": -0.1},
        {"retry_after_s": "soon"},
        {"outage": "yes"},
        {"bogus": 1},
        {"clear": True, "outage": True},
    ],
)
async def test_malformed_fault_requests_are_400(
    sim: RunningSim, http: httpx.AsyncClient, body: dict[str, object]
) -> None:
    r = await http.post(sim.base_url + "/__sim/faults", json=body)
    assert r.status_code == 400 and "error" in r.json()


async def test_timeouts_hold_the_call_then_answer_504(tmp_path: Path, http: httpx.AsyncClient) -> None:
    profile = write_profile(tmp_path, 'extends = "fast"\n[spotify.faults]\ntimeout_rate = 1.0\ntimeout_s = 30\n')
    async with running_sim(profile, time_scale=0.001) as sim:  # 30 simulated seconds = 30 ms
        r = await top_tracks(http, sim)
        assert r.status_code == 504 and r.json()["error"]["status"] == 504
        # A client that gives up first sees a timeout, as against the real API.
        sim.set_faults(upstream="spotify", extra_latency_s=5_000)
        with pytest.raises(httpx.ReadTimeout):
            await http.get(sim.spotify_url + "/me", headers=AUTH, timeout=0.2)
        assert sim.stats()["upstreams"]["spotify"]["status"] == {"504": 1}


async def test_health_reports_profile_and_catalog(sim: RunningSim, http: httpx.AsyncClient) -> None:
    health = (await http.get(sim.base_url + "/__sim/health")).json()
    assert health["status"] == "ok" and health["profile"] == "fast"
    assert health["catalog"]["tracks"] == len(sim.catalog.tracks)


async def test_the_call_log_shows_which_calls_overlapped_and_reset_clears_it(
    sim: RunningSim, http: httpx.AsyncClient
) -> None:
    sim.set_faults(upstream="spotify", extra_latency_s=0.3)
    sim.set_faults(upstream="reccobeats", extra_latency_s=0.3)
    track = sim.catalog.tracks[0].spotify_id
    await asyncio.gather(top_tracks(http, sim), http.get(sim.reccobeats_url + "/audio-features", params={"ids": track}))
    await top_tracks(http, sim)  # after both: overlaps neither

    calls = (await http.get(sim.base_url + "/__sim/calls")).json()["calls"]
    assert sorted((c["upstream"], c["endpoint"], c["status"]) for c in calls) == [
        ("reccobeats", "GET /audio-features", 200),
        ("spotify", "GET /me/top/tracks", 200),
        ("spotify", "GET /me/top/tracks", 200),
    ]
    assert {c["query"] for c in calls if c["endpoint"] == "GET /audio-features"} == {f"ids={track}"}
    first, second, last = sorted(calls, key=lambda c: c["started"])
    assert max(first["started"], second["started"]) < min(first["finished"], second["finished"]), "they overlapped"
    assert last["started"] >= max(first["finished"], second["finished"])
    assert all(0 <= c["started"] < c["finished"] for c in calls)

    await http.post(sim.base_url + "/__sim/reset")
    assert sim.calls() == []

"""The benchmark harness: its pure parts, the legacy model's claimed calls, and the quick path end to end.

Timings are never asserted; shapes, counts and calls are.
"""

from __future__ import annotations

import json
import struct
from dataclasses import replace
from pathlib import Path

import pytest

from bench import report
from bench.bound import REQUIRED_CALLS, capacity_rps, lower_bound
from bench.config import TINY
from bench.legacy.ledger import Ledger
from bench.legacy.run import run_legacy
from bench.prompts import cases, load_prompt
from bench.runner import run_bench
from bench.simctl import after_first_cooldown, endpoint_calls
from sim.profile import load_profile
from sim.testing import running_sim

# The model's HTTP timeouts scale with its clock (30 s → 0.6 s real): a loaded machine must not make a call
# time out and retry, which would add calls the monolith's call graph does not have.
LEGACY_SCALE = 0.02
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def test_first_cooldown_separates_later_429s() -> None:
    series = [
        {"reccobeats": 0, "spotify": 0},
        {"reccobeats": 3, "spotify": 0},  # the first burst
        {"reccobeats": 5, "spotify": 0},  # still inside it
        {"reccobeats": 5, "spotify": 0},  # quiet: the first cooldown ends here
        {"reccobeats": 7, "spotify": 0},  # 429s again: these count
    ]
    assert after_first_cooldown(series) == {"reccobeats": 2, "spotify": 0}
    assert after_first_cooldown(series[:3]) == {"reccobeats": 0, "spotify": 0}


def test_lower_bound_is_the_serial_path_from_the_profile() -> None:
    profile = load_profile("realistic")
    bound = lower_bound(profile, tokens_out=200)
    speed = profile.gemini.speed
    llm = (
        profile.gemini.latency["POST /models/{model}:generateContent"].median_s
        + speed.ttft_s
        + 200 * speed.s_per_output_token
    )
    assert bound.llm_s == pytest.approx(llm)
    assert bound.critical_path_s == pytest.approx(llm + bound.recommendation_s + bound.features_s)
    assert bound.recommendation_s == profile.reccobeats.latency["GET /track/recommendation"].median_s
    assert bound.rate_with_burst_s == 0.0  # one request fits in every burst
    assert bound.bound_s == max(bound.critical_path_s, bound.rate_s)
    # 2 ReccoBeats calls per request at 3/s and 1 Gemini call at 300/min: ReccoBeats sets the pace.
    assert capacity_rps(profile, REQUIRED_CALLS) == pytest.approx(profile.reccobeats.rate_limit.rate_per_s / 2)


def test_cases_give_each_run_a_new_user_and_load_prompts_are_distinct() -> None:
    runs = cases(["a", "b"], 5)
    assert [c.prompt for c in runs] == ["a", "b", "a", "b", "a"]
    assert len({c.user for c in runs}) == 5
    assert len({load_prompt(i) for i in range(1500)}) == 1500


def test_markers_replace_only_the_bench_section() -> None:
    text = f"intro\n{report.README_START}\nold\n{report.README_END}\noutro\n"
    new = report.replace_between_markers(text, f"{report.README_START}\nnew\n{report.README_END}")
    assert new == f"intro\n{report.README_START}\nnew\n{report.README_END}\noutro\n"
    assert report.replace_between_markers("no markers", "x") is None


async def test_legacy_model_makes_the_calls_it_claims() -> None:
    """One legacy run against a realistic (Development Mode) simulator: the ledger equals the simulator's
    counters, and the call graph is the monolith's."""
    prompt = "rainy sunday, slow jazz, nothing sad"
    async with running_sim("realistic", time_scale=LEGACY_SCALE, seed=42) as sim:
        urls = {"spotify": sim.spotify_url, "reccobeats": sim.reccobeats_url, "gemini": sim.gemini_url}
        result = await run_legacy(urls, LEGACY_SCALE, prompt, "user-4242-legacy")
        stats = sim.stats()
    ledger: Ledger = result.ledger
    assert result.outcome.failed == ""
    assert ledger.by_endpoint() == endpoint_calls(stats)
    # Intent, mood, anchor extraction, artist validation, seed selection, two quality passes, ordering: ≥ 10.
    assert 10 <= ledger.count("gemini") <= 20
    assert {c.tool for c in ledger.calls if c.upstream == "gemini"} >= {
        "intent_analysis",
        "mood_analysis",
        "anchor_extract_tracks",
        "quality_evaluation",
        "final_quality",
        "ordering_energy",
        "ordering_strategy",
    }
    # Audio features one track per call, never the batch endpoint; each after an ID conversion.
    assert ledger.count("reccobeats", "GET /audio-features") == 0
    assert ledger.count("reccobeats", "GET /track/{id}/audio-features") >= 1
    assert ledger.count("reccobeats", "GET /track") >= 1
    # Development Mode: top-tracks is 403 in all 9 markets, then GET /artists/{id} and a limit-20 search (400).
    top = [c for c in ledger.calls if c.endpoint == "GET /artists/{id}/top-tracks"]
    assert top and all(c.status == 403 for c in top)
    assert len(top) == 9 * ledger.count("spotify", "GET /artists/{id}")
    assert ledger.count("spotify", "GET /search", tool="get_artist_top_tracks") == ledger.count(
        "spotify", "GET /artists/{id}"
    )
    assert all(
        c.status == 400 for c in ledger.calls if c.tool == "get_artist_top_tracks" and c.endpoint == "GET /search"
    )
    assert ledger.count("spotify", "GET /me/top/tracks") >= 1 and ledger.count("spotify", "GET /me/top/artists") >= 1


def _png_size(path: Path) -> tuple[int, int]:
    data = path.read_bytes()
    assert data[:8] == PNG_MAGIC
    width, height = struct.unpack(">II", data[16:24])
    return width, height


@pytest.mark.integration
async def test_quick_path_writes_every_output(tmp_path: Path) -> None:
    """The bench-quick code path at a tiny scale: legacy, the mesh's cold/warm/load, and the report."""
    config = replace(TINY, out_dir=tmp_path)
    doc = await run_bench(config, "test", progress=lambda _message: None)

    saved = json.loads((tmp_path / "latest.json").read_text())
    assert saved["targets"] == json.loads(json.dumps(doc["targets"]))
    assert set(saved) >= {
        "generated_at",
        "machine",
        "config",
        "prompts",
        "lower_bound",
        "scenarios",
        "ratios",
        "targets",
        "quality",
        "followups",
    }
    assert set(saved["scenarios"]) == {"legacy", "cold", "warm", "load"}
    for name, scenario in saved["scenarios"].items():
        assert set(scenario) >= {
            "requests",
            "ok",
            "latency_sim_s",
            "latency_wall_s",
            "upstream_calls_per_request",
            "llm",
            "rate_limited",
            "rate_limited_after_first_cooldown",
            "errors_by_code",
            "samples",
        }, name
        assert set(scenario["latency_sim_s"]) >= {"p50", "p95", "p99"}
        assert set(scenario["upstream_calls_per_request"]) == {"spotify", "reccobeats", "gemini"}
    assert saved["scenarios"]["legacy"]["requests"] == TINY.legacy_runs
    assert saved["scenarios"]["legacy"]["ledger_matches_simulator"] is True
    assert saved["scenarios"]["cold"]["requests"] == TINY.cold_runs
    assert saved["scenarios"]["warm"]["requests"] == TINY.cold_runs * TINY.warm_repeats
    assert saved["scenarios"]["load"]["requests"] >= 1
    for name in ("cold", "warm", "load"):  # the mesh authenticated its callers: every request carried the token
        assert "UNAUTHENTICATED" not in saved["scenarios"][name]["errors_by_code"], name
    assert {"throughput_rps_sim", "offered_rps_sim", "overload", "batching"} <= set(saved["scenarios"]["load"])
    assert set(saved["scenarios"]["load"]["overload"]) >= {"goodput_rps_sim", "shed", "shed_p50_sim_s", "failed"}
    # The load ran through two replicas of each gateway; both ReccoBeat gateways' batch metrics were read.
    assert saved["replicas"] == 2 and saved["scenarios"]["load"]["batching"]["batches"] >= 0
    # The orchestrator's admissions were read too: every load request was admitted under some verdict.
    admitted = saved["scenarios"]["load"]["admissions"]
    assert set(admitted) == {"full", "impersonal", "lean", "shed"}
    assert sum(admitted.values()) == saved["scenarios"]["load"]["requests"]
    assert len(saved["lower_bound"]["per_prompt"]) == len(saved["prompts"])
    assert all(b["bound_s"] > 0 for b in saved["lower_bound"]["per_prompt"])
    assert set(saved["ratios"]) == {
        "legacy_over_cold",
        "cold_over_bound",
        "cold_p50_over_median_bound",
        "warm_over_cold",
    }
    assert len(saved["targets"]) == 19 and all(t["met"] in (True, False, None) for t in saved["targets"])
    quality = saved["quality"]
    assert quality["cases"] == 5 and {r["kind"] for r in quality["results"]} == {
        "genre",
        "artist",
        "track",
        "exclusion",
        "vague",
    }
    assert set(quality) >= {"genre_precision_mean", "mentioned_included", "excluded_present", "gap_ratio"}
    assert saved["followups"]["refine"]["requests"] == TINY.refine_runs
    assert saved["followups"]["popular"]["requests"] == TINY.popular_runs
    assert not saved["notes"], saved["notes"]  # the mesh ran

    md = (tmp_path / "latest.md").read_text()
    assert "| scenario | runs (ok) |" in md
    assert "| load under overload (issue 7) | figure |" in md and "| admitted full / impersonal / lean / shed |" in md
    assert "## Quality per labelled prompt" in md and "| refine: tweak (×" in md
    assert all(f"| {name} (×" in md for name in ("legacy", "cold", "warm", "load"))
    section = (tmp_path / "README-section.md").read_text()
    assert section.startswith(report.README_START) and section.rstrip().endswith(report.README_END)
    for png in ("latency.png", "upstream_calls.png"):
        width, height = _png_size(tmp_path / png)
        assert width > 300 and height > 200

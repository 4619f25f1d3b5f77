"""Profiles: the checked-in ones load with the documented attributes; extends, overrides and errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from sim.endpoints import ENDPOINTS, UPSTREAMS
from sim.profile import Latency, ProfileError, checked_in_profiles, load_profile
from tests.sim.conftest import write_profile


def test_checked_in_profiles_load_with_every_endpoint() -> None:
    assert {"realistic", "extended", "fast"} <= set(checked_in_profiles())
    for name in checked_in_profiles():
        profile = load_profile(name)
        assert profile.name == name
        for upstream in UPSTREAMS:
            assert set(profile.upstream(upstream).latency) == set(ENDPOINTS[upstream])


def test_realistic_models_development_mode_and_the_monolith() -> None:
    p = load_profile("realistic")
    assert not p.spotify.extended_quota
    assert (p.spotify.search_limit_max, p.spotify.search_limit_default) == (10, 5)
    assert p.spotify.rate_limit.window_s == 30
    assert p.spotify.latency["GET /search"].median_s == 0.25
    assert p.reccobeats.latency["GET /track/recommendation"].median_s > p.reccobeats.latency["GET /track"].median_s
    assert p.reccobeats.reject_more_negatives_than_seeds and p.reccobeats.reject_seed_overlap
    assert p.reccobeats.rate_limit.cooldown_max_s > p.reccobeats.rate_limit.cooldown_min_s
    assert p.gemini.speed.ttft_s > 0 and p.gemini.speed.s_per_output_token > 0
    assert p.reccobeats.faults.error_rate > 0 and p.catalog.tracks == 50_000


def test_extended_overrides_only_what_differs() -> None:
    realistic, extended = load_profile("realistic"), load_profile("extended")
    assert extended.spotify.extended_quota and extended.spotify.search_limit_max == 50
    assert extended.reccobeats == realistic.reccobeats
    assert extended.spotify.latency == realistic.spotify.latency
    assert extended.spotify.rate_limit.max_requests > realistic.spotify.rate_limit.max_requests


def test_fast_has_no_random_faults() -> None:
    fast = load_profile("fast")
    for upstream in UPSTREAMS:
        faults = fast.upstream(upstream).faults
        assert faults.error_rate == faults.timeout_rate == 0


def test_latency_defaults_and_per_endpoint_overrides(tmp_path: Path) -> None:
    path = write_profile(
        tmp_path,
        'extends = "fast"\n[reccobeats.latency]\nmedian_s = 0.2\nspread = 0.1\n'
        '[reccobeats.latency."GET /track/recommendation"]\nmedian_s = 2.0\n',
    )
    profile = load_profile(path)
    assert profile.name == "custom"
    assert profile.reccobeats.latency["GET /track"] == Latency(median_s=0.2, spread=0.1)
    assert profile.reccobeats.latency["GET /track/recommendation"] == Latency(median_s=2.0, spread=0.1)


@pytest.mark.parametrize(
    ("body", "complaint"),
    [
        ('extends = "fast"\n[spotify]\nbogus = 1\n', "bogus"),
        ('extends = "fast"\n[spotify.latency."GET /nowhere"]\nmedian_s = 1\n', "GET /nowhere"),
        ('extends = "fast"\n[reccobeats.faults]\nerror_rate = 2\n', "error_rate"),
        ('extends = "nonexistent"\n', "nonexistent"),
        ("this is not toml", "custom.toml"),
    ],
)
def test_bad_profiles_fail_naming_the_problem(tmp_path: Path, body: str, complaint: str) -> None:
    with pytest.raises(ProfileError, match=complaint):
        load_profile(write_profile(tmp_path, body))

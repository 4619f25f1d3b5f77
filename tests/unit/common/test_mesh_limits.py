"""The local mesh sets each gateway's limits from the simulator profile it runs: a little below it."""

from __future__ import annotations

import pytest

from segue_cli.mesh import upstream_limits_env
from services.llm_gateway import config as llm_config
from services.reccobeat_gateway import config as reccobeat_config
from services.seed_gatherer import config as seed_config
from sim.profile import load_profile


def configs(time_scale: float) -> tuple[seed_config.Config, reccobeat_config.Config, llm_config.Config]:
    env = upstream_limits_env(load_profile("realistic"), time_scale)
    return (
        seed_config.from_env({"RECCOBEAT_GATEWAY_ADDR": "x:1", **env["seed_gatherer"]}),
        reccobeat_config.from_env(env["reccobeat_gateway"]),
        llm_config.from_env({"GEMINI_API_KEY": "k", **env["llm_gateway"]}),
    )


def test_realistic_at_real_speed_gives_the_services_own_defaults() -> None:
    seed, reccobeat, llm = configs(1.0)
    assert seed.limits == seed_config.from_env({"RECCOBEAT_GATEWAY_ADDR": "x:1"}).limits
    assert reccobeat.limits == reccobeat_config.from_env({}).limits
    assert llm.limits == llm_config.from_env({"GEMINI_API_KEY": "k"}).limits


def test_every_limit_stays_below_the_profile_at_any_time_scale() -> None:
    profile = load_profile("realistic")
    for scale in (1.0, 0.25, 0.05):
        seed, reccobeat, llm = configs(scale)
        (spotify,) = seed.limits
        window = profile.spotify.rate_limit.window_s * scale
        assert spotify.burst + spotify.rate * window < profile.spotify.rate_limit.max_requests
        (recco,) = reccobeat.limits
        assert recco.rate < profile.reccobeats.rate_limit.rate_per_s / scale
        assert recco.burst < profile.reccobeats.rate_limit.burst
        rpm, tpm = llm.limits
        minute = 60 * scale
        assert rpm.burst + rpm.rate * 60 < profile.gemini.rate_limit.rpm * 60 / minute
        assert tpm.burst + tpm.rate * 60 == pytest.approx(0.9 * profile.gemini.rate_limit.tpm / scale, rel=1e-3)

from __future__ import annotations

import pytest

from services.common.config import ConfigError
from services.reccobeat_gateway.config import from_env


def test_defaults_point_at_the_real_api() -> None:
    cfg = from_env({})
    assert cfg.base_url == "https://api.reccobeats.com/v1"
    assert cfg.server.grpc_port == 50054
    assert (cfg.max_attempts, cfg.max_concurrency, cfg.batch_window_s, cfg.hedge) == (3, 8, 0.005, True)
    assert cfg.endpoint_timeouts() == {
        "GET /audio-features": 2.5,
        "GET /track/recommendation": 4.5,
        "GET /artist/search": 3.0,
        "GET /artist/{id}/track": 2.5,
    }
    assert (cfg.absent_rotation_s, cfg.absent_generations, cfg.absent_capacity) == (86400, 2, 1_000_000)
    assert (cfg.absent_false_positive_rate, cfg.absent_recheck_fraction) == (0.001, 0.01)
    assert (cfg.track_ttl_s, cfg.recommendation_ttl_s, cfg.artist_ttl_s) == (30 * 86400, 900, 86400)


def test_overrides_are_read() -> None:
    cfg = from_env(
        {
            "RECCOBEAT_BASE_URL": "http://127.0.0.1:9/reccobeats/v1/",
            "RECCOBEAT_MAX_CONCURRENCY": "2",
            "TRACK_CACHE_TTL_S": "60",
            "GRPC_PORT": "0",
            "RECCOBEAT_RECOMMENDATION_TIMEOUT_S": "9",
            "RECCOBEAT_HEDGE": "false",
            "RECCOBEAT_BATCH_WINDOW_MS": "20",
            "ABSENT_GENERATIONS": "3",
            "RECCOBEAT_RECOMMENDATION_HEDGE_DELAY_S": "3.5",
        }
    )
    assert cfg.base_url == "http://127.0.0.1:9/reccobeats/v1"
    assert (cfg.max_concurrency, cfg.track_ttl_s, cfg.server.grpc_port) == (2, 60.0, 0)
    assert cfg.endpoint_timeouts()["GET /track/recommendation"] == 9.0
    assert (cfg.hedge, cfg.batch_window_s, cfg.absent_generations) == (False, 0.02, 3)
    assert (cfg.hedge_delay_s, cfg.recommendation_hedge_delay_s) == (1.0, 3.5)


def test_every_bad_variable_is_named_at_once() -> None:
    with pytest.raises(ConfigError) as err:
        from_env(
            {
                "RECCOBEAT_BASE_URL": "ftp://x",
                "RECCOBEAT_MAX_ATTEMPTS": "0",
                "RECCOBEAT_AUDIO_FEATURES_TIMEOUT_S": "soon",
                "ABSENT_RECHECK_FRACTION": "0.9",
                "RECCOBEAT_TIMEOUT_S": "5",  # retired: says what replaced it
                "RECCOBEAT_TRACK_TIMEOUT_S": "2",  # retired with GET /track
            }
        )
    text = str(err.value)
    names = (
        "RECCOBEAT_BASE_URL",
        "RECCOBEAT_MAX_ATTEMPTS",
        "RECCOBEAT_AUDIO_FEATURES_TIMEOUT_S",
        "ABSENT_RECHECK_FRACTION",
    )
    assert all(name in text for name in names)
    assert "RECCOBEAT_TIMEOUT_S is no longer read" in text
    assert "RECCOBEAT_TRACK_TIMEOUT_S is no longer read: the gateway no longer calls GET /track" in text


def test_the_upstream_limit_defaults_sit_below_the_realistic_profile_and_can_be_changed() -> None:
    (limit,) = from_env({}).limits
    # The realistic simulator profile: a 3/s bucket of 8.
    assert (limit.rate, limit.burst) == (2.7, 6.0)
    cfg = from_env(
        {
            "RECCOBEAT_LIMIT_RATE_PER_S": "10",
            "RECCOBEAT_LIMIT_BURST": "20",
            "SCHEDULER_REPLICAS": "4",
            "SCHEDULER_BACKGROUND_RESERVE": "0.25",
        }
    )
    assert (cfg.limits[0].rate, cfg.limits[0].burst) == (10.0, 20.0)
    assert (cfg.scheduler.replicas, cfg.scheduler.background_reserve) == (4, 0.25)
    with pytest.raises(ConfigError) as err:
        from_env({"RECCOBEAT_LIMIT_RATE_PER_S": "0", "SCHEDULER_BACKGROUND_RESERVE": "2", "SCHEDULER_REPLICAS": "0"})
    assert all(
        name in str(err.value)
        for name in ("RECCOBEAT_LIMIT_RATE_PER_S", "SCHEDULER_BACKGROUND_RESERVE", "SCHEDULER_REPLICAS")
    )

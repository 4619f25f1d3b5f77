"""Seed gatherer configuration from the environment."""

from __future__ import annotations

import pytest

from services.common.config import ConfigError
from services.seed_gatherer.config import from_env


def test_defaults_are_the_real_spotify_api_in_development_mode() -> None:
    cfg = from_env({"RECCOBEAT_GATEWAY_ADDR": "reccobeat-gateway:50054"})

    assert cfg.server.grpc_port == 50053
    assert cfg.spotify_base_url == "https://api.spotify.com/v1"
    assert cfg.spotify_timeout_s == 10.0
    assert cfg.spotify_extended_quota is False
    assert cfg.reccobeat_gateway_addr == "reccobeat-gateway:50054"
    assert cfg.peer_timeout_s == 10.0
    assert cfg.user_context_ttl_s == 1800.0
    assert (cfg.top_tracks_limit, cfg.top_artists_limit) == (40, 50)


def test_every_variable_is_read() -> None:
    cfg = from_env(
        {
            "RECCOBEAT_GATEWAY_ADDR": "127.0.0.1:1",
            "GRPC_PORT": "0",
            "SPOTIFY_BASE_URL": "http://127.0.0.1:9000/spotify/v1/",
            "SPOTIFY_TIMEOUT_S": "2.5",
            "SPOTIFY_EXTENDED_QUOTA": "true",
            "PEER_TIMEOUT_S": "3",
            "USER_CONTEXT_TTL_S": "60",
            "TOP_TRACKS_LIMIT": "20",
            "TOP_ARTISTS_LIMIT": "15",
        }
    )

    assert cfg.server.grpc_port == 0
    assert cfg.spotify_base_url == "http://127.0.0.1:9000/spotify/v1"
    assert (cfg.spotify_timeout_s, cfg.peer_timeout_s, cfg.user_context_ttl_s) == (2.5, 3.0, 60.0)
    assert cfg.spotify_extended_quota is True
    assert (cfg.top_tracks_limit, cfg.top_artists_limit) == (20, 15)


def test_every_bad_variable_is_named_at_once() -> None:
    with pytest.raises(ConfigError) as caught:
        from_env(
            {
                "SPOTIFY_BASE_URL": "api.spotify.com",
                "SPOTIFY_EXTENDED_QUOTA": "maybe",
                "TOP_TRACKS_LIMIT": "51",
                "TOP_ARTISTS_LIMIT": "0",
                "USER_CONTEXT_TTL_S": "soon",
            }
        )

    problems = " | ".join(caught.value.problems)
    for name in (
        "RECCOBEAT_GATEWAY_ADDR is required",
        "SPOTIFY_BASE_URL",
        "SPOTIFY_EXTENDED_QUOTA",
        "TOP_TRACKS_LIMIT",
        "TOP_ARTISTS_LIMIT",
        "USER_CONTEXT_TTL_S",
    ):
        assert name in problems
    assert len(caught.value.problems) == 6


def test_spotify_limit_is_a_rolling_window_below_the_realistic_profile() -> None:
    cfg = from_env({"RECCOBEAT_GATEWAY_ADDR": "x:1"})
    (limit,) = cfg.limits
    # At most burst + rate x window in any window: 81 per 30 s, under the 90 the realistic profile allows.
    assert limit.burst + limit.rate * 30 == pytest.approx(81)
    assert limit.burst == 4
    cfg = from_env(
        {
            "RECCOBEAT_GATEWAY_ADDR": "x:1",
            "SPOTIFY_LIMIT_REQUESTS": "50",
            "SPOTIFY_LIMIT_WINDOW_S": "10",
            "SPOTIFY_LIMIT_BURST": "10",
        }
    )
    assert (cfg.limits[0].rate, cfg.limits[0].burst) == (4.0, 10.0)
    with pytest.raises(ConfigError, match="SPOTIFY_LIMIT_BURST must be below SPOTIFY_LIMIT_REQUESTS"):
        from_env({"RECCOBEAT_GATEWAY_ADDR": "x:1", "SPOTIFY_LIMIT_REQUESTS": "5", "SPOTIFY_LIMIT_BURST": "5"})

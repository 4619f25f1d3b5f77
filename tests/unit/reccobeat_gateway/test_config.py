from __future__ import annotations

import pytest

from services.common.config import ConfigError
from services.reccobeat_gateway.config import from_env


def test_defaults_point_at_the_real_api() -> None:
    cfg = from_env({})
    assert cfg.base_url == "https://api.reccobeats.com/v1"
    assert cfg.server.grpc_port == 50054
    assert (cfg.timeout_s, cfg.max_attempts, cfg.max_concurrency) == (5.0, 3, 8)
    assert (cfg.track_ttl_s, cfg.recommendation_ttl_s, cfg.artist_ttl_s) == (30 * 86400, 900, 86400)


def test_overrides_are_read() -> None:
    cfg = from_env(
        {
            "RECCOBEAT_BASE_URL": "http://127.0.0.1:9/reccobeats/v1/",
            "RECCOBEAT_MAX_CONCURRENCY": "2",
            "TRACK_CACHE_TTL_S": "60",
            "GRPC_PORT": "0",
        }
    )
    assert cfg.base_url == "http://127.0.0.1:9/reccobeats/v1"
    assert (cfg.max_concurrency, cfg.track_ttl_s, cfg.server.grpc_port) == (2, 60.0, 0)


def test_every_bad_variable_is_named_at_once() -> None:
    with pytest.raises(ConfigError) as err:
        from_env({"RECCOBEAT_BASE_URL": "ftp://x", "RECCOBEAT_MAX_ATTEMPTS": "0", "RECCOBEAT_TIMEOUT_S": "soon"})
    text = str(err.value)
    assert all(name in text for name in ("RECCOBEAT_BASE_URL", "RECCOBEAT_MAX_ATTEMPTS", "RECCOBEAT_TIMEOUT_S"))

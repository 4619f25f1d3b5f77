"""Configuration of the ReccoBeats gateway, from environment variables."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from services.common.config import EnvReader, ServerConfig, read_server_config

DEFAULT_PORT = 50054
_DAY_S = 86_400.0


@dataclass(frozen=True)
class Config:
    server: ServerConfig
    base_url: str = "https://api.reccobeats.com/v1"
    timeout_s: float = 5.0  # p99 of a healthy call is ~3 s; past that a retry beats waiting out a 30 s tail
    max_attempts: int = 3
    max_concurrency: int = 8  # upstream calls in flight per process
    track_ttl_s: float = 30 * _DAY_S  # track metadata and audio features never change
    recommendation_ttl_s: float = 900.0
    artist_ttl_s: float = _DAY_S
    absent_ttl_s: float = _DAY_S  # short: an ID ReccoBeats lacks today may appear later


def from_env(environ: Mapping[str, str]) -> Config:
    env = EnvReader(environ)
    cfg = Config(
        server=read_server_config(env, default_port=DEFAULT_PORT),
        base_url=env.url("RECCOBEAT_BASE_URL", Config.base_url),
        timeout_s=env.number("RECCOBEAT_TIMEOUT_S", Config.timeout_s, minimum=0.1),
        max_attempts=env.integer("RECCOBEAT_MAX_ATTEMPTS", Config.max_attempts, minimum=1, maximum=10),
        max_concurrency=env.integer("RECCOBEAT_MAX_CONCURRENCY", Config.max_concurrency, minimum=1, maximum=256),
        track_ttl_s=env.number("TRACK_CACHE_TTL_S", Config.track_ttl_s, minimum=1),
        recommendation_ttl_s=env.number("RECOMMENDATION_CACHE_TTL_S", Config.recommendation_ttl_s, minimum=1),
        artist_ttl_s=env.number("ARTIST_CACHE_TTL_S", Config.artist_ttl_s, minimum=1),
        absent_ttl_s=env.number("ABSENT_ID_TTL_S", Config.absent_ttl_s, minimum=1),
    )
    env.finish()
    return cfg

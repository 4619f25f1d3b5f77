"""Configuration of the ReccoBeats gateway, from environment variables."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import ClassVar

from services.common.config import EnvReader, ServerConfig, read_server_config
from services.common.gcra import Limit
from services.common.scheduler import SchedulerSettings, read_scheduler_settings
from services.reccobeat_gateway.validation import MAX_IDS_PER_REQUEST

_DAY_S = 86_400.0


@dataclass(frozen=True)
class Config:
    PORT: ClassVar[int] = 50054

    server: ServerConfig
    base_url: str = "https://api.reccobeats.com/v1"
    # One attempt's timeout per endpoint, ≈ the p99.9 of a healthy answer in sim/profiles/realistic.toml
    # (lognormal, median 0.45 s, 0.9 s for recommendations, 0.6 s for artist search, σ 0.5): long enough
    # never to cut a healthy answer, short enough that the 2 % ×30 tail is hedged, then retried.
    features_timeout_s: float = 2.5
    recommendation_timeout_s: float = 4.5
    artist_search_timeout_s: float = 3.0
    artist_tracks_timeout_s: float = 2.5
    hedge: bool = True  # one hedged copy of a GET slower than its endpoint's p95 (takes a rate-limit token)
    hedge_min_delay_s: float = 0.25
    hedge_delay_s: float = 1.0  # before an endpoint has 20 answers: ≈ the realistic p95 of a lookup
    recommendation_hedge_delay_s: float = 2.0  # the same for a recommendation query (median 0.9 s): ≈ its p95
    hedge_max_wait_s: float = 0.5  # for a token: ~1.5 tokens at 3/s, far less than a timeout and a retry
    max_attempts: int = 3
    max_concurrency: int = 8  # upstream calls in flight per process
    batch_window_s: float = 0.005  # IDs asked for by concurrent calls within this window share upstream calls
    track_ttl_s: float = 30 * _DAY_S  # a track's audio features (and an artist's IDs) never change
    recommendation_ttl_s: float = 900.0
    artist_ttl_s: float = _DAY_S
    # The registry of IDs ReccoBeats lacks: an ID is remembered between (G−1)·period and G·period.
    absent_rotation_s: float = _DAY_S
    absent_generations: int = 2
    absent_capacity: int = 1_000_000  # per generation and kind, at the false-positive rate below
    absent_false_positive_rate: float = 0.001
    absent_recheck_fraction: float = 0.01  # of "absent" answers, asked upstream again anyway
    max_ids_per_request: int = MAX_IDS_PER_REQUEST  # GetAudioFeatures: what one call may cost

    # ReccoBeats publishes no numbers; it sustains a few calls a second with short bursts (the realistic
    # simulator profile: a 3/s bucket of 8). A little below that, so the shared budget sees no 429.
    limit_rate_per_s: float = 2.7
    limit_burst: float = 6.0
    scheduler: SchedulerSettings = field(default_factory=SchedulerSettings)

    @property
    def limits(self) -> tuple[Limit, ...]:
        return (Limit("requests", self.limit_rate_per_s, self.limit_burst),)

    def endpoint_timeouts(self) -> dict[str, float]:
        return {
            "GET /audio-features": self.features_timeout_s,
            "GET /track/recommendation": self.recommendation_timeout_s,
            "GET /artist/search": self.artist_search_timeout_s,
            "GET /artist/{id}/track": self.artist_tracks_timeout_s,
        }


def from_env(environ: Mapping[str, str]) -> Config:
    env = EnvReader(environ)
    cfg = Config(
        server=read_server_config(env, default_port=Config.PORT),
        base_url=env.url("RECCOBEAT_BASE_URL", Config.base_url),
        features_timeout_s=env.number("RECCOBEAT_AUDIO_FEATURES_TIMEOUT_S", Config.features_timeout_s, minimum=0.1),
        recommendation_timeout_s=env.number(
            "RECCOBEAT_RECOMMENDATION_TIMEOUT_S", Config.recommendation_timeout_s, minimum=0.1
        ),
        artist_search_timeout_s=env.number(
            "RECCOBEAT_ARTIST_SEARCH_TIMEOUT_S", Config.artist_search_timeout_s, minimum=0.1
        ),
        artist_tracks_timeout_s=env.number(
            "RECCOBEAT_ARTIST_TRACKS_TIMEOUT_S", Config.artist_tracks_timeout_s, minimum=0.1
        ),
        hedge=env.flag("RECCOBEAT_HEDGE", Config.hedge),
        hedge_min_delay_s=env.number("RECCOBEAT_HEDGE_MIN_DELAY_S", Config.hedge_min_delay_s, minimum=0.0),
        hedge_delay_s=env.number("RECCOBEAT_HEDGE_DELAY_S", Config.hedge_delay_s, minimum=0.0),
        recommendation_hedge_delay_s=env.number(
            "RECCOBEAT_RECOMMENDATION_HEDGE_DELAY_S", Config.recommendation_hedge_delay_s, minimum=0.0
        ),
        hedge_max_wait_s=env.number("RECCOBEAT_HEDGE_MAX_WAIT_S", Config.hedge_max_wait_s, minimum=0.0),
        max_attempts=env.integer("RECCOBEAT_MAX_ATTEMPTS", Config.max_attempts, minimum=1, maximum=10),
        max_concurrency=env.integer("RECCOBEAT_MAX_CONCURRENCY", Config.max_concurrency, minimum=1, maximum=256),
        batch_window_s=env.number("RECCOBEAT_BATCH_WINDOW_MS", Config.batch_window_s * 1000, minimum=0, maximum=1000)
        / 1000,
        track_ttl_s=env.number("TRACK_CACHE_TTL_S", Config.track_ttl_s, minimum=1),
        recommendation_ttl_s=env.number("RECOMMENDATION_CACHE_TTL_S", Config.recommendation_ttl_s, minimum=1),
        artist_ttl_s=env.number("ARTIST_CACHE_TTL_S", Config.artist_ttl_s, minimum=1),
        absent_rotation_s=env.number("ABSENT_ROTATION_S", Config.absent_rotation_s, minimum=1),
        absent_generations=env.integer("ABSENT_GENERATIONS", Config.absent_generations, minimum=1, maximum=30),
        absent_capacity=env.integer("ABSENT_CAPACITY", Config.absent_capacity, minimum=1000, maximum=100_000_000),
        absent_false_positive_rate=env.number(
            "ABSENT_FALSE_POSITIVE_RATE", Config.absent_false_positive_rate, minimum=1e-6, maximum=0.1
        ),
        absent_recheck_fraction=env.number(
            "ABSENT_RECHECK_FRACTION", Config.absent_recheck_fraction, minimum=0.0, maximum=0.5
        ),
        max_ids_per_request=env.integer(
            "RECCOBEAT_MAX_IDS_PER_REQUEST", Config.max_ids_per_request, minimum=1, maximum=2000
        ),
        limit_rate_per_s=env.number("RECCOBEAT_LIMIT_RATE_PER_S", Config.limit_rate_per_s, minimum=0.001),
        limit_burst=env.number("RECCOBEAT_LIMIT_BURST", Config.limit_burst, minimum=1),
        scheduler=read_scheduler_settings(env),
    )
    env.retired("RECCOBEAT_TIMEOUT_S", "set the per-endpoint RECCOBEAT_*_TIMEOUT_S instead")
    env.retired("RECCOBEAT_TRACK_TIMEOUT_S", "the gateway no longer calls GET /track (GetTracks was removed)")
    env.retired("ABSENT_ID_TTL_S", "absent IDs are remembered for ABSENT_ROTATION_S × (ABSENT_GENERATIONS − 1 to 1)")
    env.finish()
    return cfg

"""Seed gatherer configuration from the environment."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import ClassVar

from services.common.channels import DEFAULT_CONNECT_TIMEOUT_S
from services.common.config import EnvReader, ServerConfig, read_server_config
from services.common.gcra import Limit
from services.common.identity import IdentityConfig, read_identity_config
from services.common.scheduler import SchedulerSettings, read_scheduler_settings
from services.common.spotify_limit import SpotifyLimit, read_spotify_limit
from services.seed_gatherer.discovery import DiscoverySettings
from services.seed_gatherer.spotify_client import TOP_LIMIT_MAX


@dataclass(frozen=True, kw_only=True)  # keywords only: a default on every field that has one
class Config:
    PORT: ClassVar[int] = 50053

    server: ServerConfig
    spotify_base_url: str = "https://api.spotify.com/v1"
    spotify_timeout_s: float = 10.0
    # False = Development Mode (the 2026 cuts): search limit ≤ 10, no batch or artist top-tracks endpoints,
    # popularity may be absent.
    spotify_extended_quota: bool = False
    reccobeat_gateway_addr: str
    peer_timeout_s: float = 10.0
    user_context_ttl_s: float = 1800.0
    # 40: their audio features are one ReccoBeats batch (40 IDs at most), where 50 took two — a call of the
    # ReccoBeats budget a new user's first request spends while the mood streams, just before discovery's burst.
    top_tracks_limit: int = 40
    top_artists_limit: int = 50
    identity: IdentityConfig
    search_cache_ttl_s: float = 86_400.0  # Spotify catalog searches, shared by every user
    discovery: DiscoverySettings = field(default_factory=DiscoverySettings)
    # A slow Spotify call gets one hedged copy only from the spare share of the budget: the rolling 30 s
    # app-wide limit is the mesh's bottleneck under load, when no copy is sent (reliability-notes §6:
    # hedging against a rate-limited third-party API must never raise its 429s or take a user's slot).
    spotify_hedge: bool = True
    # How long a call waits for the ReccoBeat gateway with no ready connection before going on without it.
    peer_connect_timeout_s: float = DEFAULT_CONNECT_TIMEOUT_S
    # Spotify's app-wide limit (services.common.spotify_limit), shared with the orchestrator's identity check.
    spotify_limit: SpotifyLimit = field(default_factory=SpotifyLimit)
    scheduler: SchedulerSettings = field(default_factory=SchedulerSettings)

    @property
    def limits(self) -> tuple[Limit, ...]:
        return self.spotify_limit.limits


def from_env(environ: Mapping[str, str]) -> Config:
    env = EnvReader(environ)
    cfg = Config(
        server=read_server_config(env, default_port=Config.PORT),
        spotify_base_url=env.url("SPOTIFY_BASE_URL", Config.spotify_base_url),
        spotify_timeout_s=env.number("SPOTIFY_TIMEOUT_S", Config.spotify_timeout_s, minimum=0.1),
        spotify_extended_quota=env.flag("SPOTIFY_EXTENDED_QUOTA", Config.spotify_extended_quota),
        reccobeat_gateway_addr=env.text("RECCOBEAT_GATEWAY_ADDR"),
        peer_timeout_s=env.number("PEER_TIMEOUT_S", Config.peer_timeout_s, minimum=0.1),
        user_context_ttl_s=env.number("USER_CONTEXT_TTL_S", Config.user_context_ttl_s, minimum=1),
        top_tracks_limit=env.integer("TOP_TRACKS_LIMIT", Config.top_tracks_limit, minimum=1, maximum=TOP_LIMIT_MAX),
        top_artists_limit=env.integer("TOP_ARTISTS_LIMIT", Config.top_artists_limit, minimum=1, maximum=TOP_LIMIT_MAX),
        spotify_hedge=env.flag("SPOTIFY_HEDGE", Config.spotify_hedge),
        identity=read_identity_config(env),
        spotify_limit=read_spotify_limit(env),
        scheduler=read_scheduler_settings(env),
        peer_connect_timeout_s=env.number("PEER_CONNECT_TIMEOUT_S", Config.peer_connect_timeout_s, minimum=0.05),
        search_cache_ttl_s=env.number("SEARCH_CACHE_TTL_S", Config.search_cache_ttl_s, minimum=1),
        discovery=DiscoverySettings(
            max_artists=env.integer("DISCOVERY_MAX_ARTISTS", DiscoverySettings.max_artists, minimum=1, maximum=40),
            tracks_per_artist=env.integer(
                "DISCOVERY_TRACKS_PER_ARTIST", DiscoverySettings.tracks_per_artist, minimum=1, maximum=50
            ),
            parallelism=env.integer("DISCOVERY_PARALLELISM", DiscoverySettings.parallelism, minimum=1, maximum=40),
            ttl_s=env.number("DISCOVERY_TTL_S", DiscoverySettings.ttl_s, minimum=1),
            useless_ttl_s=env.number("USELESS_ARTIST_TTL_S", DiscoverySettings.useless_ttl_s, minimum=1),
        ),
    )
    env.finish()
    return cfg

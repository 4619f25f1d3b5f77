"""Orchestrator configuration from the environment."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import ClassVar

from limits import RateLimitItem

from services.common.channels import DEFAULT_CONNECT_TIMEOUT_S
from services.common.config import EnvReader, ServerConfig, read_server_config
from services.common.identity import IdentityConfig, read_identity_config
from services.common.scheduler import SchedulerSettings, read_scheduler_settings
from services.common.spotify_limit import SpotifyLimit, read_spotify_limit
from services.orchestrator.admission import read_quota
from services.orchestrator.callers import CallerAuthConfig, read_caller_auth
from services.orchestrator.overload import DEFAULT_MOOD_BUDGET_S, DEFAULT_TARGET_S
from services.orchestrator.popular import PopularSettings


@dataclass(frozen=True, kw_only=True)  # keywords only: a default on every field that has one
class Config:
    PORT: ClassVar[int] = 50051
    # Quotas as written in the environment (services.orchestrator.admission.read_quota).
    CALLER_QUOTA: ClassVar[str] = "1200/minute"
    USER_QUOTA: ClassVar[str] = "60/minute"
    PREFETCH_USER_QUOTA: ClassVar[str] = "2/minute"

    server: ServerConfig
    llm_gateway_addr: str
    seed_gatherer_addr: str
    reccobeat_gateway_addr: str
    recommend_timeout_s: float = 60.0  # the deadline when the caller sets none
    peer_timeout_s: float = 30.0  # a peer call's timeout only when the caller set no deadline
    session_ttl_s: float = 3600.0
    repeat_ttl_s: float = 900.0  # how long a user's repeat of a prompt is answered from that pass's pool
    prefetch_timeout_s: float = 30.0
    # Who the user is: GET /v1/me on Spotify, remembered under a keyed hash of the token.
    spotify_base_url: str = "https://api.spotify.com/v1"
    spotify_timeout_s: float = 10.0
    identity: IdentityConfig
    callers: CallerAuthConfig
    caller_quota: tuple[RateLimitItem, ...]  # per caller (authenticated name, or peer address), per replica
    user_quota: tuple[RateLimitItem, ...]  # per verified user, per replica
    prefetch_max_inflight: int = 8
    prefetch_user_quota: tuple[RateLimitItem, ...]
    popular: PopularSettings
    # How long a call waits for a peer with no ready connection before degrading without it.
    peer_connect_timeout_s: float = DEFAULT_CONNECT_TIMEOUT_S
    # The LLM step's own budget (never past the caller's deadline): past it the keyword mood answers.
    llm_mood_budget_s: float = DEFAULT_MOOD_BUDGET_S
    # Overload: a full or impersonal pass expected to take longer than this is made lean instead (or shed).
    overload_target_s: float = DEFAULT_TARGET_S
    # The identity check (GET /me) takes its slot of Spotify's app-wide budget, shared with the seed gatherer.
    spotify_limit: SpotifyLimit = field(default_factory=SpotifyLimit)
    scheduler: SchedulerSettings = field(default_factory=SchedulerSettings)


def from_env(environ: Mapping[str, str]) -> Config:
    env = EnvReader(environ)
    cfg = Config(
        server=read_server_config(env, default_port=Config.PORT),
        llm_gateway_addr=env.text("LLM_GATEWAY_ADDR"),
        seed_gatherer_addr=env.text("SEED_GATHERER_ADDR"),
        reccobeat_gateway_addr=env.text("RECCOBEAT_GATEWAY_ADDR"),
        recommend_timeout_s=env.number("RECOMMEND_TIMEOUT_S", Config.recommend_timeout_s, minimum=1),
        peer_timeout_s=env.number("PEER_TIMEOUT_S", Config.peer_timeout_s, minimum=0.1),
        session_ttl_s=env.number("SESSION_TTL_S", Config.session_ttl_s, minimum=1),
        repeat_ttl_s=env.number("REPEAT_TTL_S", Config.repeat_ttl_s, minimum=1),
        prefetch_timeout_s=env.number("PREFETCH_TIMEOUT_S", Config.prefetch_timeout_s, minimum=1),
        spotify_base_url=env.url("SPOTIFY_BASE_URL", Config.spotify_base_url),
        spotify_timeout_s=env.number("SPOTIFY_TIMEOUT_S", Config.spotify_timeout_s, minimum=0.1),
        identity=read_identity_config(env),
        callers=read_caller_auth(env),
        caller_quota=read_quota(env, "CALLER_QUOTA", Config.CALLER_QUOTA),
        user_quota=read_quota(env, "USER_QUOTA", Config.USER_QUOTA),
        prefetch_max_inflight=env.integer(
            "PREFETCH_MAX_INFLIGHT", Config.prefetch_max_inflight, minimum=1, maximum=1000
        ),
        prefetch_user_quota=read_quota(env, "PREFETCH_USER_QUOTA", Config.PREFETCH_USER_QUOTA),
        peer_connect_timeout_s=env.number("PEER_CONNECT_TIMEOUT_S", Config.peer_connect_timeout_s, minimum=0.05),
        llm_mood_budget_s=env.number("LLM_MOOD_BUDGET_S", Config.llm_mood_budget_s, minimum=0.1, maximum=600.0),
        overload_target_s=env.number("OVERLOAD_TARGET_S", Config.overload_target_s, minimum=1.0, maximum=600.0),
        spotify_limit=read_spotify_limit(env),
        scheduler=read_scheduler_settings(env),
        popular=PopularSettings(
            moods=tuple(m.strip() for m in env.text("POPULAR_MOODS", "").split("|") if m.strip()),
            interval_s=env.number("POPULAR_MOODS_INTERVAL_S", PopularSettings.interval_s, minimum=1),
            recent=env.integer("POPULAR_MOODS_RECENT", PopularSettings.recent, minimum=0, maximum=100),
            window_s=env.number("POPULAR_MOODS_WINDOW_S", PopularSettings.window_s, minimum=1),
            timeout_s=env.number("POPULAR_MOODS_TIMEOUT_S", PopularSettings.timeout_s, minimum=1),
        ),
    )
    deadlines = {"RECOMMEND_TIMEOUT_S": cfg.recommend_timeout_s, "PREFETCH_TIMEOUT_S": cfg.prefetch_timeout_s}
    for name, value in deadlines.items():
        if value > cfg.server.max_deadline_s:
            env.problem(f"{name} must be at most MAX_DEADLINE_S ({cfg.server.max_deadline_s:g}), got {value:g}")
    env.finish()
    return cfg

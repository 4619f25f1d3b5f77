"""llm_gateway configuration from the environment."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import ClassVar

from services.common.config import EnvReader, ServerConfig, read_server_config
from services.common.gcra import Limit
from services.common.logs import register_secret
from services.common.scheduler import SchedulerSettings, read_scheduler_settings
from services.llm_gateway.tasks import DEFAULT_MAX_PROMPT_CHARS

_API_VERSION = re.compile(r"v\d+[a-z0-9]*")


@dataclass(frozen=True)
class Config:
    PORT: ClassVar[int] = 50052

    server: ServerConfig
    gemini_api_key: str = field(repr=False)  # a secret: kept out of repr, logs and errors
    gemini_base_url: str = "https://generativelanguage.googleapis.com"
    gemini_model: str = "gemini-2.5-flash"
    gemini_api_version: str = ""  # empty: the SDK's default (v1 in google-genai 3.x)
    llm_timeout_s: float = 30.0
    llm_max_attempts: int = 3
    llm_cache_ttl_s: float = 7 * 24 * 3600.0
    # Without Redis (one process, no shared budget): this process's own count of Gemini requests per
    # minute past which mood analyses are bundled (0: only while a 429's pause lasts).
    gemini_local_rpm: int = 0
    bundle_window_s: float = 0.05
    bundle_max_prompts: int = 8
    llm_max_prompt_chars: int = DEFAULT_MAX_PROMPT_CHARS  # RunTasks: characters sent in one LLM call
    # Per project and model, shown in AI Studio rather than published; the realistic simulator profile
    # allows 300 requests and 1M input tokens a minute. A little below, so the shared budget sees no 429.
    limit_rpm: int = 270
    limit_tpm: int = 900_000
    limit_request_burst: int = 10
    limit_token_burst: int = 45_000
    scheduler: SchedulerSettings = field(default_factory=SchedulerSettings)

    @property
    def limits(self) -> tuple[Limit, ...]:
        return (
            Limit.window("rpm", self.limit_rpm, 60.0, self.limit_request_burst),
            Limit.window("tpm", self.limit_tpm, 60.0, self.limit_token_burst, per="token"),
        )


def from_env(environ: Mapping[str, str]) -> Config:
    env = EnvReader(environ)
    server = read_server_config(env, default_port=Config.PORT)
    api_key = env.text("GEMINI_API_KEY").strip()
    # Registered before anything else can fail, so no later log line can show it.
    if api_key:
        register_secret(api_key)
    cfg = Config(
        server=server,
        gemini_api_key=api_key,
        gemini_base_url=env.url("GEMINI_BASE_URL", Config.gemini_base_url),
        gemini_model=env.text("GEMINI_MODEL", Config.gemini_model).strip(),
        gemini_api_version=env.matching("GEMINI_API_VERSION", "", _API_VERSION, "v1 or v1beta"),
        llm_timeout_s=env.number("LLM_TIMEOUT_S", Config.llm_timeout_s, minimum=0.1, maximum=600.0),
        llm_max_attempts=env.integer("LLM_MAX_ATTEMPTS", Config.llm_max_attempts, minimum=1, maximum=10),
        llm_cache_ttl_s=env.number("LLM_CACHE_TTL_S", Config.llm_cache_ttl_s, minimum=1.0),
        gemini_local_rpm=env.integer("GEMINI_LOCAL_RPM", Config.gemini_local_rpm, minimum=0),
        bundle_window_s=env.number("LLM_BUNDLE_WINDOW_MS", Config.bundle_window_s * 1000, minimum=0, maximum=60_000)
        / 1000,
        bundle_max_prompts=env.integer("LLM_BUNDLE_MAX_PROMPTS", Config.bundle_max_prompts, minimum=1, maximum=50),
        llm_max_prompt_chars=env.integer(
            "LLM_MAX_PROMPT_CHARS", Config.llm_max_prompt_chars, minimum=1000, maximum=1_000_000
        ),
        limit_rpm=env.integer("GEMINI_LIMIT_RPM", Config.limit_rpm, minimum=2),
        limit_tpm=env.integer("GEMINI_LIMIT_TPM", Config.limit_tpm, minimum=2),
        limit_request_burst=env.integer("GEMINI_LIMIT_REQUEST_BURST", Config.limit_request_burst, minimum=1),
        limit_token_burst=env.integer("GEMINI_LIMIT_TOKEN_BURST", Config.limit_token_burst, minimum=1),
        scheduler=read_scheduler_settings(env),
    )
    if cfg.limit_request_burst >= cfg.limit_rpm:
        env.problem("GEMINI_LIMIT_REQUEST_BURST must be below GEMINI_LIMIT_RPM (the burst is part of the minute)")
    if cfg.limit_token_burst >= cfg.limit_tpm:
        env.problem("GEMINI_LIMIT_TOKEN_BURST must be below GEMINI_LIMIT_TPM (the burst is part of the minute)")
    env.finish()
    return cfg

"""llm_gateway configuration from the environment."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from services.common.config import ConfigError, EnvReader, ServerConfig, read_server_config
from services.common.logs import register_secret

DEFAULT_PORT = 50052
_API_VERSION = re.compile(r"v\d+[a-z0-9]*")


@dataclass(frozen=True)
class Config:
    server: ServerConfig
    gemini_api_key: str = field(repr=False)  # a secret: kept out of repr, logs and errors
    gemini_base_url: str = "https://generativelanguage.googleapis.com"
    gemini_model: str = "gemini-2.5-flash"
    gemini_api_version: str = ""  # empty: the SDK's default (v1 in google-genai 3.x)
    llm_timeout_s: float = 30.0
    llm_max_attempts: int = 3
    llm_cache_ttl_s: float = 7 * 24 * 3600.0


def from_env(environ: Mapping[str, str]) -> Config:
    env = EnvReader(environ)
    server = read_server_config(env, default_port=DEFAULT_PORT)
    api_key = env.text("GEMINI_API_KEY").strip()
    # Registered before anything else can fail, so no later log line can show it.
    if api_key:
        register_secret(api_key)
    api_version = env.text("GEMINI_API_VERSION", "").strip()
    cfg = Config(
        server=server,
        gemini_api_key=api_key,
        gemini_base_url=env.url("GEMINI_BASE_URL", "https://generativelanguage.googleapis.com"),
        gemini_model=env.text("GEMINI_MODEL", "gemini-2.5-flash").strip(),
        gemini_api_version=api_version,
        llm_timeout_s=env.number("LLM_TIMEOUT_S", 30.0, minimum=0.1, maximum=600.0),
        llm_max_attempts=env.integer("LLM_MAX_ATTEMPTS", 3, minimum=1, maximum=10),
        llm_cache_ttl_s=env.number("LLM_CACHE_TTL_S", 7 * 24 * 3600.0, minimum=1.0),
    )
    # EnvReader has no reader for this shape, so its problem joins the reader's own list.
    extra = []
    if api_version and not _API_VERSION.fullmatch(api_version):
        extra.append(f"GEMINI_API_VERSION must look like v1 or v1beta, got {api_version!r}")
    try:
        env.finish()
    except ConfigError as exc:
        raise ConfigError([*exc.problems, *extra]) from None
    if extra:
        raise ConfigError(extra)
    return cfg

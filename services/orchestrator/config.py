"""Orchestrator configuration from the environment."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from services.common.config import EnvReader, ServerConfig, read_server_config


@dataclass(frozen=True)
class Config:
    server: ServerConfig
    llm_gateway_addr: str
    seed_gatherer_addr: str
    reccobeat_gateway_addr: str
    recommend_timeout_s: float  # the deadline when the caller sets none
    peer_timeout_s: float
    session_ttl_s: float
    prefetch_timeout_s: float


def from_env(environ: Mapping[str, str]) -> Config:
    env = EnvReader(environ)
    cfg = Config(
        server=read_server_config(env, default_port=50051),
        llm_gateway_addr=env.text("LLM_GATEWAY_ADDR"),
        seed_gatherer_addr=env.text("SEED_GATHERER_ADDR"),
        reccobeat_gateway_addr=env.text("RECCOBEAT_GATEWAY_ADDR"),
        recommend_timeout_s=env.number("RECOMMEND_TIMEOUT_S", 60.0, minimum=1),
        peer_timeout_s=env.number("PEER_TIMEOUT_S", 30.0, minimum=0.1),
        session_ttl_s=env.number("SESSION_TTL_S", 3600.0, minimum=1),
        prefetch_timeout_s=env.number("PREFETCH_TIMEOUT_S", 30.0, minimum=1),
    )
    env.finish()
    return cfg

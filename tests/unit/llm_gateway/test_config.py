"""from_env: defaults, and one error naming every bad variable."""

from __future__ import annotations

import pytest

from services.common.config import ConfigError
from services.common.logs import redact
from services.llm_gateway.config import from_env


def test_defaults_point_at_the_real_gemini() -> None:
    cfg = from_env({"GEMINI_API_KEY": "k-9d8c7b6a5"})
    assert cfg.server.grpc_port == 50052
    assert cfg.gemini_base_url == "https://generativelanguage.googleapis.com"
    assert cfg.gemini_model == "gemini-2.5-flash"
    assert cfg.gemini_api_version == ""
    assert (cfg.llm_timeout_s, cfg.llm_max_attempts, cfg.llm_cache_ttl_s) == (30.0, 3, 7 * 24 * 3600.0)


def test_the_key_is_kept_out_of_repr_and_masked_in_logs() -> None:
    key = "AIzaSy-secret-config-key"
    cfg = from_env({"GEMINI_API_KEY": key, "GEMINI_BASE_URL": "http://127.0.0.1:9/gemini/"})
    assert cfg.gemini_api_key == key
    assert key not in repr(cfg)
    assert redact(f"calling with {key}") == "calling with ***"
    assert cfg.gemini_base_url == "http://127.0.0.1:9/gemini"


def test_every_bad_variable_is_named_at_once() -> None:
    with pytest.raises(ConfigError) as caught:
        from_env(
            {
                "GEMINI_BASE_URL": "ftp://gemini",
                "GEMINI_API_VERSION": "latest",
                "LLM_TIMEOUT_S": "soon",
                "LLM_MAX_ATTEMPTS": "0",
                "LLM_CACHE_TTL_S": "-5",
                "GRPC_PORT": "70000",
            }
        )
    message = str(caught.value)
    for name in (
        "GEMINI_API_KEY is required",
        "GEMINI_BASE_URL",
        "GEMINI_API_VERSION",
        "LLM_TIMEOUT_S",
        "LLM_MAX_ATTEMPTS",
        "LLM_CACHE_TTL_S",
        "GRPC_PORT",
    ):
        assert name in message
    assert len(caught.value.problems) == 7


def test_a_bad_api_version_alone_is_an_error() -> None:
    with pytest.raises(ConfigError, match="GEMINI_API_VERSION must look like v1"):
        from_env({"GEMINI_API_KEY": "k-9d8c7b6a5", "GEMINI_API_VERSION": "2"})
    assert from_env({"GEMINI_API_KEY": "k-9d8c7b6a5", "GEMINI_API_VERSION": "v1beta"}).gemini_api_version == "v1beta"


def test_gemini_limits_are_requests_and_input_tokens_per_minute() -> None:
    rpm, tpm = from_env({"GEMINI_API_KEY": "k"}).limits
    # Below the realistic profile's 300 requests and 1M input tokens a minute.
    assert (rpm.per, rpm.burst + rpm.rate * 60) == ("request", pytest.approx(270))
    assert (tpm.per, tpm.burst + tpm.rate * 60) == ("token", pytest.approx(900_000))
    cfg = from_env({"GEMINI_API_KEY": "k", "GEMINI_LIMIT_RPM": "20", "GEMINI_LIMIT_REQUEST_BURST": "2"})
    assert cfg.limits[0].rate == pytest.approx(18 / 60)
    with pytest.raises(ConfigError) as caught:
        from_env({"GEMINI_API_KEY": "k", "GEMINI_LIMIT_TPM": "100", "GEMINI_LIMIT_TOKEN_BURST": "100"})
    assert "GEMINI_LIMIT_TOKEN_BURST must be below GEMINI_LIMIT_TPM" in str(caught.value)

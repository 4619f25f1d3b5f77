"""Configuration from environment variables: pure functions over a mapping, failing fast.

Each service's `config.from_env(environ)` reads everything through one `EnvReader`, then calls
`reader.finish()`, which raises a single `ConfigError` naming every bad variable at once — a pod
that crash-loops should say all that is wrong, not one thing per restart.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TypeVar

from services.common.logs import register_secret

T = TypeVar("T", int, float)

_TRUE = {"1", "true", "yes", "on"}
_REDIS_URL = re.compile(r"(rediss?(\+cluster)?|unix)://\S+", re.IGNORECASE)
_FALSE = {"0", "false", "no", "off", ""}


class ConfigError(ValueError):
    """One or more environment variables are missing or malformed."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("invalid configuration: " + "; ".join(problems))
        self.problems = problems


class EnvReader:
    """Reads typed values from an environment mapping and collects every problem."""

    def __init__(self, environ: Mapping[str, str]) -> None:
        self._environ = environ
        self._problems: list[str] = []

    def text(self, name: str, default: str | None = None) -> str:
        value = self._environ.get(name)
        if value is None or value == "":
            if default is None:
                self._problems.append(f"{name} is required")
                return ""
            return default
        return value

    def secret(self, name: str, *, min_chars: int = 16) -> str:
        """An optional secret (empty when unset), masked in every log line from here on."""
        value = self.text(name, "").strip()
        if value and len(value) < min_chars:
            self._problems.append(f"{name} must be at least {min_chars} characters")
        if value:
            register_secret(value)
        return value

    def problem(self, message: str) -> None:
        """A problem that spans several variables, reported with the others."""
        self._problems.append(message)

    def integer(self, name: str, default: int, *, minimum: int | None = None, maximum: int | None = None) -> int:
        return self._number(name, default, int, minimum, maximum)

    def number(self, name: str, default: float, *, minimum: float | None = None, maximum: float | None = None) -> float:
        return self._number(name, default, float, minimum, maximum)

    def flag(self, name: str, default: bool) -> bool:
        raw = self._environ.get(name)
        if raw is None:
            return default
        lowered = raw.strip().lower()
        if lowered in _TRUE:
            return True
        if lowered in _FALSE:
            return False
        self._problems.append(f"{name} must be true or false, got {raw!r}")
        return default

    def choice(self, name: str, default: str, choices: tuple[str, ...]) -> str:
        value = self.text(name, default).strip().upper()
        if value not in choices:
            self._problems.append(f"{name} must be one of {', '.join(choices)}, got {value!r}")
            return default
        return value

    def matching(self, name: str, default: str, pattern: re.Pattern[str], shape: str) -> str:
        """Text that must fully match `pattern` when set; `shape` tells the operator what it should look like."""
        value = self.text(name, default).strip()
        if value and not pattern.fullmatch(value):
            self._problems.append(f"{name} must look like {shape}, got {value!r}")
        return value

    def url(self, name: str, default: str) -> str:
        value = self.text(name, default).rstrip("/")
        if not value.startswith(("http://", "https://")):
            self._problems.append(f"{name} must be an http(s) URL, got {value!r}")
        return value

    def _number(self, name: str, default: T, kind: type[T], minimum: T | None, maximum: T | None) -> T:
        raw = self._environ.get(name)
        if raw is None or raw.strip() == "":
            return default
        try:
            value = kind(raw.strip())
        except ValueError:
            self._problems.append(f"{name} must be {'an integer' if kind is int else 'a number'}, got {raw!r}")
            return default
        if (minimum is not None and value < minimum) or (maximum is not None and value > maximum):
            bounds = f"{minimum if minimum is not None else '-inf'}..{maximum if maximum is not None else 'inf'}"
            self._problems.append(f"{name} must be in {bounds}, got {raw!r}")
            return default
        return value

    def retired(self, name: str, instead: str) -> None:
        """A variable no longer read: setting it is an error that says what replaced it, not silently ignored."""
        if self._environ.get(name, "") != "":
            self._problems.append(f"{name} is no longer read: {instead}")

    def finish(self) -> None:
        if self._problems:
            raise ConfigError(self._problems)


@dataclass(frozen=True)
class SecurityConfig:
    """Transport security and peer checks. All empty: plaintext, any caller accepted (the local mesh)."""

    tls_cert_file: str = ""  # with tls_key_file: TLS on the gRPC port; also the client certificate to peers
    tls_key_file: str = ""
    tls_client_ca_file: str = ""  # mutual TLS: only clients with a certificate signed by this CA connect
    peer_ca_file: str = ""  # TLS to peers, their certificates verified against this CA
    peer_server_name: str = ""  # the name peers' certificates carry, when it is not the address dialled
    mesh_credential: str = field(default="", repr=False)  # shared secret of the mesh, for platform-terminated TLS
    reflection: bool = True
    metrics_host: str = ""  # empty: the gRPC bind address

    @property
    def tls(self) -> bool:
        return bool(self.tls_cert_file)

    @property
    def peers_verified(self) -> bool:
        """Whether an internal service can tell a mesh peer from anyone else."""
        return bool(self.mesh_credential or self.tls_client_ca_file)


def read_security_config(env: EnvReader) -> SecurityConfig:
    cfg = SecurityConfig(
        tls_cert_file=env.text("TLS_CERT_FILE", "").strip(),
        tls_key_file=env.text("TLS_KEY_FILE", "").strip(),
        tls_client_ca_file=env.text("TLS_CLIENT_CA_FILE", "").strip(),
        peer_ca_file=env.text("PEER_TLS_CA_FILE", "").strip(),
        peer_server_name=env.text("PEER_TLS_SERVER_NAME", "").strip(),
        mesh_credential=env.secret("MESH_CREDENTIAL"),
        reflection=env.flag("REFLECTION", True),
        metrics_host=env.text("METRICS_HOST", "").strip(),
    )
    if bool(cfg.tls_cert_file) != bool(cfg.tls_key_file):
        env.problem("TLS_CERT_FILE and TLS_KEY_FILE must be set together")
    if cfg.tls_client_ca_file and not cfg.tls_cert_file:
        env.problem("TLS_CLIENT_CA_FILE needs TLS_CERT_FILE and TLS_KEY_FILE (mutual TLS is TLS first)")
    if cfg.peer_server_name and not cfg.peer_ca_file:
        env.problem("PEER_TLS_SERVER_NAME needs PEER_TLS_CA_FILE")
    return cfg


@dataclass(frozen=True)
class ServerConfig:
    """What every service's gRPC server and its surroundings need."""

    grpc_host: str = "[::]"
    grpc_port: int = 50051
    metrics_port: int = 9090  # 0 picks a free port; -1 disables the /metrics endpoint
    log_level: str = "INFO"
    redis_url: str = ""  # empty: the in-process cache; redis+cluster://host:port: a Redis Cluster
    shutdown_grace_s: float = 10.0
    drain_delay_s: float = 5.0  # NOT_SERVING before stopping, so load balancers move away first
    max_connection_age_s: float = 300.0  # clients re-resolve DNS and spread over new pods
    max_concurrent_rpcs: int = 1000
    revision: str = ""  # the source revision this build came from, shown in segue_build_info
    otlp_endpoint: str = ""  # OTLP/HTTP collector; empty: tracing off
    security: SecurityConfig = field(default_factory=SecurityConfig)
    # The longest deadline a call is worked on for: connection ageing waits this long for calls in flight.
    max_deadline_s: float = 120.0
    # Redis as a dependency that can fail: short socket timeouts, pooled connections checked, and a
    # breaker that bypasses the cache for a while after repeated failures.
    redis_timeout_s: float = 0.25
    redis_health_check_interval_s: float = 5.0
    cache_breaker_failures: int = 3
    cache_breaker_open_s: float = 5.0
    cache_local_copy_s: float = 120.0  # how long a process-local copy may stand in for Redis (0: none)


def read_server_config(env: EnvReader, *, default_port: int = 50051) -> ServerConfig:
    return ServerConfig(
        grpc_host=env.text("GRPC_HOST", "[::]"),
        grpc_port=env.integer("GRPC_PORT", default_port, minimum=0, maximum=65535),
        metrics_port=env.integer("METRICS_PORT", 9090, minimum=-1, maximum=65535),
        log_level=env.choice("LOG_LEVEL", "INFO", ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")),
        redis_url=env.matching("REDIS_URL", "", _REDIS_URL, "redis://host:port/db or redis+cluster://host:port"),
        shutdown_grace_s=env.number("SHUTDOWN_GRACE_S", 10.0, minimum=0),
        drain_delay_s=env.number("DRAIN_DELAY_S", 5.0, minimum=0),
        max_connection_age_s=env.number("MAX_CONNECTION_AGE_S", 300.0, minimum=1),
        max_concurrent_rpcs=env.integer("MAX_CONCURRENT_RPCS", 1000, minimum=1),
        revision=env.text("SEGUE_REVISION", "unknown"),
        otlp_endpoint=env.text("OTEL_EXPORTER_OTLP_ENDPOINT", ""),
        security=read_security_config(env),
        max_deadline_s=env.number("MAX_DEADLINE_S", 120.0, minimum=1),
        redis_timeout_s=env.number("REDIS_TIMEOUT_S", 0.25, minimum=0.01),
        redis_health_check_interval_s=env.number("REDIS_HEALTH_CHECK_INTERVAL_S", 5.0, minimum=0),
        cache_breaker_failures=env.integer("CACHE_BREAKER_FAILURES", 3, minimum=1),
        cache_breaker_open_s=env.number("CACHE_BREAKER_OPEN_S", 5.0, minimum=0.1),
        cache_local_copy_s=env.number("CACHE_LOCAL_COPY_S", 120.0, minimum=0),
    )

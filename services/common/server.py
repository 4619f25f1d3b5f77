"""Server bootstrap shared by every service: interceptors, TLS, health, reflection, /metrics, graceful stop.

A service describes itself with a `ServiceDefinition`; `start` runs it (tests call this in-process
on port 0) and `main` runs it as a process until SIGTERM: NOT_SERVING → drain delay → stop(grace)
→ cancel and await background work → close clients.
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import sys
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, TypeVar

from google.protobuf import descriptor_pool
from grpc import aio
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_health.v1.health import aio as health_aio
from grpc_reflection.v1alpha import reflection
from prometheus_client import CollectorRegistry, start_http_server

from services.common import logs, tracing
from services.common.background import Close, shut_down
from services.common.config import ConfigError, SecurityConfig, ServerConfig
from services.common.interceptors import server_interceptors
from services.common.mesh_security import PeerCredentialInterceptor, describe, server_credentials
from services.common.metrics import GrpcMetrics, server_registry

log = logging.getLogger(__name__)


@dataclass
class ServiceDefinition:
    service_names: Sequence[str]  # full proto names, e.g. "segue.v1.ReccoBeatGateway"
    add_to_server: Callable[[aio.Server], None]
    # At shutdown, after the server stopped taking calls: `background` first (each cancels and awaits its own
    # work), then `closers` (the clients that work used: peer channels, Redis, HTTP clients).
    background: Sequence[Close] = ()
    closers: Sequence[Close] = field(default_factory=list)
    # Public services authenticate their callers themselves (`admission`, described by `callers` for the
    # start-up line); internal ones accept only mesh peers when the mesh is configured to tell.
    public: bool = False
    admission: Sequence[aio.ServerInterceptor] = ()
    callers: str = ""


@dataclass
class RunningService:
    definition: ServiceDefinition
    server: aio.Server
    health: health_aio.HealthServicer
    port: int
    metrics_port: int | None
    _metrics_http: Any = None

    async def shutdown(self, drain_delay_s: float, grace_s: float) -> None:
        """Stop taking new work, let load balancers notice, finish in-flight calls, release clients."""
        await self.health.enter_graceful_shutdown()
        log.info("draining", extra={"drain_delay_s": drain_delay_s, "grace_s": grace_s})
        if drain_delay_s > 0:
            await asyncio.sleep(drain_delay_s)
        await self.server.stop(grace_s)
        await shut_down(self.definition.background, self.definition.closers)
        if self._metrics_http is not None:
            self._metrics_http.shutdown()
            self._metrics_http.server_close()
        tracing.shutdown()
        log.info("stopped")


_GRPC_TYPES = {
    (False, False): "unary",
    (True, False): "client_stream",
    (False, True): "server_stream",
    (True, True): "bidi_stream",
}


def preset_methods(metrics: GrpcMetrics, service_names: Sequence[str]) -> None:
    """Every method of these services gets its metric series at 0 before the first call."""
    pool = descriptor_pool.Default()
    for name in service_names:
        for method in pool.FindServiceByName(name).methods:
            kind = _GRPC_TYPES[(method.client_streaming, method.server_streaming)]
            metrics.preset(kind, name, method.name)


def _admission(definition: ServiceDefinition, security: SecurityConfig) -> list[aio.ServerInterceptor]:
    checks = list(definition.admission)
    if not definition.public and security.mesh_credential:
        checks.append(PeerCredentialInterceptor(security.mesh_credential))
    return checks


async def start(definition: ServiceDefinition, cfg: ServerConfig, registry: CollectorRegistry) -> RunningService:
    security = cfg.security
    credentials = server_credentials(security)  # read first: a missing file fails before anything listens
    metrics = GrpcMetrics.create(registry)
    health_name = health_pb2.DESCRIPTOR.services_by_name["Health"].full_name
    preset_methods(metrics, (*definition.service_names, health_name))
    server = aio.server(
        interceptors=[*tracing.server_interceptors(), *server_interceptors(metrics, _admission(definition, security))],
        options=[
            ("grpc.max_connection_age_ms", int(cfg.max_connection_age_s * 1000)),
            # Ageing a connection must never cut a call still within its deadline (not the shutdown grace).
            ("grpc.max_connection_age_grace_ms", int(connection_age_grace_s(cfg) * 1000)),
            # Two servers must never silently share a port.
            ("grpc.so_reuseport", 0),
        ],
        maximum_concurrent_rpcs=cfg.max_concurrent_rpcs,
    )
    definition.add_to_server(server)
    health = health_aio.HealthServicer()
    health_pb2_grpc.add_HealthServicer_to_server(health, server)
    if security.reflection:
        reflection.enable_server_reflection((*definition.service_names, health_name, reflection.SERVICE_NAME), server)
    address = f"{cfg.grpc_host}:{cfg.grpc_port}"
    port = server.add_secure_port(address, credentials) if credentials else server.add_insecure_port(address)
    if port == 0:
        raise RuntimeError(f"could not bind gRPC port {cfg.grpc_host}:{cfg.grpc_port}")
    await server.start()

    metrics_http, metrics_port = None, None
    if cfg.metrics_port >= 0:
        metrics_host = security.metrics_host or _metrics_addr(cfg.grpc_host)
        metrics_http, _thread = start_http_server(cfg.metrics_port, addr=metrics_host, registry=registry)
        metrics_port = int(metrics_http.server_port)

    for name in ("", *definition.service_names):
        await health.set(name, health_pb2.HealthCheckResponse.SERVING)
    log.info(describe(security, public=definition.public, callers=definition.callers))
    log.info("serving", extra={"grpc_port": port, "metrics_port": metrics_port})
    return RunningService(definition, server, health, port, metrics_port, metrics_http)


def connection_age_grace_s(cfg: ServerConfig) -> float:
    """How long an aged connection keeps serving its calls: the longest deadline a call may have, plus a margin."""
    return max(cfg.max_deadline_s, cfg.shutdown_grace_s) + 5.0


def _metrics_addr(grpc_host: str) -> str:
    return "0.0.0.0" if grpc_host in ("[::]", "0.0.0.0", "") else grpc_host.strip("[]")


class ServiceConfig(Protocol):
    @property
    def server(self) -> ServerConfig: ...


C = TypeVar("C", bound=ServiceConfig)
Builder = Callable[[C, CollectorRegistry], Awaitable[ServiceDefinition]]


async def serve_until_signal(cfg: C, build: Builder[C]) -> None:
    registry = server_registry(cfg.server.revision)
    running = await start(await build(cfg, registry), cfg.server, registry)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    log.info("signal received, shutting down")
    await running.shutdown(cfg.server.drain_delay_s, cfg.server.shutdown_grace_s)


def main(service: str, load: Callable[[Mapping[str, str]], C], build: Builder[C]) -> None:
    """Process entry point of `python -m services.<service>`: config, logging, serve until SIGTERM."""
    try:
        cfg = load(os.environ)
    except ConfigError as exc:
        logs.configure(service)
        log.error("%s", exc)
        sys.exit(2)
    logs.configure(service, cfg.server.log_level)
    # Before the service builds its clients and channels: the instrumentations patch them as they are made.
    tracing.configure(service, cfg.server.otlp_endpoint)
    try:
        asyncio.run(serve_until_signal(cfg, build))
    except ConfigError as exc:  # a file named in the configuration could not be read
        log.error("%s", exc)
        sys.exit(2)

"""Who may talk to a service, and how: TLS on every port, mutual TLS or a mesh credential between peers.

Two ways for an internal service to know a caller is a mesh peer, either or both:
- mutual TLS: the server requires a client certificate signed by TLS_CLIENT_CA_FILE (checked by gRPC
  during the handshake: a non-peer never gets a call through);
- a shared mesh credential (MESH_CREDENTIAL) every peer sends in `x-segue-mesh-credential` metadata,
  compared in constant time — for platforms that terminate TLS in front of the pods.
Health checks stay open (the kubelet's gRPC probe sends no metadata). With none of this set, the
service says so in one "auth off: ..." line at start.
"""

from __future__ import annotations

import hmac
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import grpc
from grpc import aio

from services.common.call_context import metadata_value
from services.common.config import ConfigError, SecurityConfig
from services.common.errors import Unauthenticated
from services.common.interceptors import StreamBehavior, UnaryBehavior, _HandlerInterceptor

MESH_CREDENTIAL_HEADER = "x-segue-mesh-credential"
OPEN_SERVICES = ("/grpc.health.v1.Health/",)


def _read(variable: str, path: str) -> bytes:
    try:
        return Path(path).read_bytes()
    except OSError as exc:
        raise ConfigError([f"{variable} {path!r} cannot be read: {exc.strerror or exc}"]) from exc


def server_credentials(cfg: SecurityConfig) -> grpc.ServerCredentials | None:
    """TLS for the gRPC port (mutual when a client CA is set), or None for plaintext."""
    if not cfg.tls:
        return None
    key, cert = _read("TLS_KEY_FILE", cfg.tls_key_file), _read("TLS_CERT_FILE", cfg.tls_cert_file)
    client_ca = _read("TLS_CLIENT_CA_FILE", cfg.tls_client_ca_file) if cfg.tls_client_ca_file else None
    return grpc.ssl_server_credentials([(key, cert)], root_certificates=client_ca, require_client_auth=bool(client_ca))


def channel_credentials(cfg: SecurityConfig) -> tuple[grpc.ChannelCredentials | None, list[tuple[str, Any]]]:
    """Credentials and options for a channel to a peer: TLS when PEER_TLS_CA_FILE is set, presenting this
    service's own certificate (for peers that require mutual TLS)."""
    if not cfg.peer_ca_file:
        return None, []
    own_key = _read("TLS_KEY_FILE", cfg.tls_key_file) if cfg.tls else None
    own_cert = _read("TLS_CERT_FILE", cfg.tls_cert_file) if cfg.tls else None
    credentials = grpc.ssl_channel_credentials(
        root_certificates=_read("PEER_TLS_CA_FILE", cfg.peer_ca_file), private_key=own_key, certificate_chain=own_cert
    )
    options = [("grpc.ssl_target_name_override", cfg.peer_server_name)] if cfg.peer_server_name else []
    return credentials, options


class AdmissionInterceptor(_HandlerInterceptor):
    """Runs `admit(ctx)` before every call but health checks; `admit` raises (e.g. Unauthenticated) to refuse."""

    def admit(self, ctx: aio.ServicerContext) -> None:
        raise NotImplementedError

    def around_unary(self, behavior: UnaryBehavior, method: str) -> UnaryBehavior:
        if method.startswith(OPEN_SERVICES):
            return behavior

        async def wrapped(request: Any, ctx: aio.ServicerContext) -> Any:
            self.admit(ctx)
            return await behavior(request, ctx)

        return wrapped

    def around_stream(self, behavior: StreamBehavior, method: str) -> StreamBehavior:
        if method.startswith(OPEN_SERVICES):
            return behavior

        async def wrapped(request: Any, ctx: aio.ServicerContext) -> AsyncIterator[Any]:
            self.admit(ctx)
            async for item in behavior(request, ctx):
                yield item

        return wrapped


class PeerCredentialInterceptor(AdmissionInterceptor):
    """Internal services: only callers that present the mesh credential get through."""

    def __init__(self, credential: str) -> None:
        self._credential = credential.encode()

    def admit(self, ctx: aio.ServicerContext) -> None:
        offered = metadata_value(ctx, MESH_CREDENTIAL_HEADER)
        if not hmac.compare_digest(offered.encode(), self._credential):
            raise Unauthenticated("this is an internal service: only peers of the mesh may call it")


class MeshCredentialClientInterceptor(aio.UnaryUnaryClientInterceptor, aio.UnaryStreamClientInterceptor):
    """Every call to a peer carries the mesh credential."""

    def __init__(self, credential: str) -> None:
        self._credential = credential

    def _details(self, details: aio.ClientCallDetails) -> aio.ClientCallDetails:
        metadata = aio.Metadata(*(tuple(details.metadata) if details.metadata else ()))
        metadata[MESH_CREDENTIAL_HEADER] = self._credential
        return aio.ClientCallDetails(
            details.method, details.timeout, metadata, details.credentials, details.wait_for_ready
        )

    async def intercept_unary_unary(
        self, continuation: Callable[..., Awaitable[Any]], client_call_details: aio.ClientCallDetails, request: Any
    ) -> Any:
        return await continuation(self._details(client_call_details), request)

    async def intercept_unary_stream(
        self, continuation: Callable[..., Awaitable[Any]], client_call_details: aio.ClientCallDetails, request: Any
    ) -> Any:
        return await continuation(self._details(client_call_details), request)


def describe(cfg: SecurityConfig, *, public: bool, callers: str) -> str:
    """The one start-up line saying what protects this service, beginning "auth off:" when anything does not.

    `callers` describes how a public service authenticates its callers ("" when it does not).
    """
    off: list[str] = []
    on: list[str] = []
    if public:
        (on if callers else off).append(callers or "callers are not authenticated (set CALLER_TOKENS or JWT_*)")
    elif cfg.peers_verified:
        ways = (("mutual TLS", cfg.tls_client_ca_file), ("mesh credential", cfg.mesh_credential))
        on.append("only mesh peers are accepted (" + " and ".join(w for w, used in ways if used) + ")")
    else:
        off.append("any caller is accepted as a peer (set MESH_CREDENTIAL or TLS_CLIENT_CA_FILE)")
    (on if cfg.tls else off).append("TLS on the gRPC port" if cfg.tls else "plaintext gRPC (set TLS_CERT_FILE)")
    if cfg.peer_ca_file:
        on.append("TLS to peers")
    on.append("reflection " + ("on" if cfg.reflection else "off"))
    if off:
        return "auth off: " + "; ".join(off) + " | on: " + "; ".join(on)
    return "auth on: " + "; ".join(on)

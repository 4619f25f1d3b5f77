"""Calls to a running orchestrator, shared by the `segue` command and the benchmarks."""

from __future__ import annotations

import ipaddress
import re
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import grpc
from grpc import aio
from segue.v1 import orchestrator_pb2, orchestrator_pb2_grpc

from services.common import stubs
from services.common.call_context import AUTHORIZATION_HEADER, SPOTIFY_TOKEN_HEADER
from services.common.errors import RETRY_AFTER_HEADER

Metadata = tuple[tuple[str, str], ...]
OnProgress = Callable[[orchestrator_pb2.Progress], None]

# gRPC target schemes whose rest is a path or an address list rather than one host:port.
_PATH_SCHEMES = ("unix:", "unix-abstract:", "ipv4:", "ipv6:", "vsock:")
_HOST = re.compile(r"^[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?$")
_EXAMPLE = "e.g. 127.0.0.1:50051 or dns:///orchestrator:50051"


class Unreachable(Exception):
    """No connection to the orchestrator could be made: nothing listens there, or the name does not resolve."""

    def __init__(self, addr: str, details: str) -> None:
        super().__init__(f"nothing listens at {addr}")
        self.addr = addr
        self.details = details  # gRPC's own reason (connection refused, name not found, ...)


def check_addr(addr: str) -> str:
    """`addr` if it is a gRPC target this command can dial, else ValueError saying what a valid one looks like.

    Checked before any call, so a typo is a usage error instead of a slow UNAVAILABLE.
    """
    if addr.startswith(_PATH_SCHEMES):
        if not addr.partition(":")[2].strip("/"):
            raise ValueError(f"{addr!r} names no address after the scheme")
        return addr
    host_port = addr
    if addr.startswith("dns:"):
        # dns:[//authority/]host:port
        host_port = addr.removeprefix("dns:")
        if host_port.startswith("//"):
            host_port = host_port[2:].partition("/")[2]
    elif "://" in addr:
        raise ValueError(f"{addr!r} is a URL; give host:port ({_EXAMPLE})")
    host, sep, port = host_port.rpartition(":")
    if not sep or not host:
        raise ValueError(f"{addr!r} is not host:port ({_EXAMPLE})")
    if not port.isdigit() or not 1 <= int(port) <= 65535:
        raise ValueError(f"{addr!r} has no valid port: {port!r} is not a number from 1 to 65535")
    if host.startswith("[") and host.endswith("]"):
        try:
            ipaddress.IPv6Address(host[1:-1])
        except ValueError:
            raise ValueError(f"{addr!r}: {host} is not an IPv6 address") from None
    elif ":" in host:
        raise ValueError(f"{addr!r}: put an IPv6 address in brackets, e.g. [::1]:50051")
    elif not _HOST.match(host):
        raise ValueError(f"{addr!r}: {host!r} is not a host name or address")
    return addr


@dataclass(frozen=True)
class Target:
    """An orchestrator and how to reach it: TLS credentials when it serves TLS, this caller's own token when it
    authenticates its callers."""

    addr: str
    credentials: grpc.ChannelCredentials | None = None
    caller_token: str = ""


def tls_credentials(ca_file: str, cert_file: str = "", key_file: str = "") -> grpc.ChannelCredentials | None:
    """TLS verified against the CA in `ca_file` (PEM), presenting a client certificate when given; None: plaintext."""
    if not ca_file:
        return None
    key = Path(key_file).read_bytes() if key_file else None
    cert = Path(cert_file).read_bytes() if cert_file else None
    return grpc.ssl_channel_credentials(Path(ca_file).read_bytes(), private_key=key, certificate_chain=cert)


@asynccontextmanager
async def orchestrator(target: Target | str) -> AsyncIterator[orchestrator_pb2_grpc.OrchestratorAsyncStub]:
    """A stub on a channel to `target`; a call that never reached it raises Unreachable instead of UNAVAILABLE.

    UNAVAILABLE alone cannot tell the two apart: the orchestrator also answers it when a peer it cannot do
    without is down. The channel's state can: it is READY only if a connection was made.
    """
    target = Target(target) if isinstance(target, str) else target
    if target.credentials is not None:
        channel = aio.secure_channel(target.addr, target.credentials)
    else:
        channel = aio.insecure_channel(target.addr)
    async with channel:
        try:
            yield stubs.orchestrator(channel)
        except aio.AioRpcError as exc:
            if exc.code() == grpc.StatusCode.UNAVAILABLE and channel.get_state() != grpc.ChannelConnectivity.READY:
                raise Unreachable(target.addr, exc.details() or "") from exc
            raise


def retry_after_ms(exc: aio.AioRpcError) -> int | None:
    """The pushback the orchestrator sent with RESOURCE_EXHAUSTED (trailer `retry-after-ms`), if any."""
    for key, value in exc.trailing_metadata() or ():
        if key == RETRY_AFTER_HEADER and isinstance(value, str) and value.isdigit():
            return int(value)
    return None


def token_metadata(token: str, caller_token: str = "") -> Metadata:
    """The user's Spotify access token travels in call metadata, never in a message that might be logged;
    so does the caller's own credential, when the orchestrator authenticates its callers."""
    caller = ((AUTHORIZATION_HEADER, f"Bearer {caller_token}"),) if caller_token else ()
    return ((SPOTIFY_TOKEN_HEADER, token), *caller)


def recommend_request(
    prompt: str, user: str = "", size: int | None = None, session: str = ""
) -> orchestrator_pb2.RecommendRequest:
    """An unset `size` leaves the field out, so the orchestrator's default applies. `user` is the Spotify user id
    the token belongs to, or empty for "whoever the token belongs to"."""
    request = orchestrator_pb2.RecommendRequest(user_id=user, mood_prompt=prompt, session_id=session)
    if size is not None:
        request.size = size
    return request


async def call_recommend(
    stub: orchestrator_pb2_grpc.OrchestratorAsyncStub,
    request: orchestrator_pb2.RecommendRequest,
    token: str,
    timeout_s: float,
    stream: bool = False,
    on_progress: OnProgress | None = None,
    wait_for_ready: bool = False,
    caller_token: str = "",
) -> orchestrator_pb2.RecommendResponse:
    """Recommend, or with `stream` RecommendStream, whose progress events go to `on_progress`.

    By default an unreachable orchestrator fails at once (UNAVAILABLE) instead of waiting out the
    deadline; `wait_for_ready` waits for one that is still starting.
    """
    if not stream:
        response: orchestrator_pb2.RecommendResponse = await stub.Recommend(
            request, metadata=token_metadata(token, caller_token), timeout=timeout_s, wait_for_ready=wait_for_ready
        )
        return response
    call = stub.RecommendStream(
        orchestrator_pb2.RecommendStreamRequest(request=request),
        metadata=token_metadata(token, caller_token),
        timeout=timeout_s,
        wait_for_ready=wait_for_ready,
    )
    async for event in call:
        if event.HasField("progress") and on_progress is not None:
            on_progress(event.progress)
        if event.HasField("result"):
            result: orchestrator_pb2.RecommendResponse = event.result
            return result
    raise RuntimeError("the stream ended without a result")

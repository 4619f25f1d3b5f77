"""Channels to peer services: round-robin over every resolved address, retries for UNAVAILABLE only.

Retries live in one layer — the gateways' upstream calls — so internal channels retry only a
connection that never reached a server (UNAVAILABLE), under a throttle. A call starts only once the
channel has a ready connection, waiting at most a short connect budget for one: a peer that is
restarting is reached, and a peer that is down fails the call at once (UNAVAILABLE) so the caller
degrades instead of waiting out its whole deadline.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

import grpc
from grpc import aio

from services.common import call_context, tracing
from services.common.config import SecurityConfig
from services.common.interceptors import ClientMetricsInterceptor, PropagatingClientInterceptor
from services.common.mesh_security import MeshCredentialClientInterceptor, channel_credentials
from services.common.metrics import GrpcMetrics

_SERVICE_CONFIG = json.dumps(
    {
        "loadBalancingConfig": [{"round_robin": {}}],
        "methodConfig": [
            {
                "name": [{}],
                # Not waitForReady: the gate below already waits (a bounded time) for a connection before a
                # call starts; a retry after the connection dropped mid-call must fail fast too if the peer
                # is gone, or every call in flight to a killed peer would wait out its whole deadline.
                "waitForReady": False,
                "retryPolicy": {
                    "maxAttempts": 3,
                    "initialBackoff": "0.05s",
                    "maxBackoff": "1s",
                    "backoffMultiplier": 2,
                    "retryableStatusCodes": ["UNAVAILABLE"],
                },
            }
        ],
        "retryThrottling": {"maxTokens": 10, "tokenRatio": 0.1},
    }
)

DEFAULT_CONNECT_TIMEOUT_S = 2.0


class _UnaryStreamOnly(aio.UnaryStreamClientInterceptor):
    def __init__(self, inner: aio.UnaryStreamClientInterceptor) -> None:
        self._inner = inner

    async def intercept_unary_stream(
        self, continuation: Any, client_call_details: aio.ClientCallDetails, request: Any
    ) -> Any:
        return await self._inner.intercept_unary_stream(continuation, client_call_details, request)


def for_every_kind(interceptors: list[aio.ClientInterceptor]) -> list[aio.ClientInterceptor]:
    """The interceptors, each one that also intercepts unary-stream calls listed again as only that.

    grpc.aio files an interceptor under the first kind of call it implements (an if/elif on its class), so
    one written for unary-unary and unary-stream calls alike would never see a stream (AnalyzeMoodStream):
    no deadline, request id, metrics or mesh credential on it.
    """
    both = [
        _UnaryStreamOnly(i)
        for i in interceptors
        if isinstance(i, aio.UnaryUnaryClientInterceptor) and isinstance(i, aio.UnaryStreamClientInterceptor)
    ]
    return [*interceptors, *both]


class ConnectGate(aio.UnaryUnaryClientInterceptor, aio.UnaryStreamClientInterceptor):
    """Lets a call start only on a channel with a ready connection, waiting at most the connect budget.

    A peer found unreachable stays "down" while its channel is in TRANSIENT_FAILURE: later calls fail
    at once instead of each waiting the budget again; the channel keeps reconnecting in the background
    and the first call after it is READY goes through.
    """

    def __init__(self, target: str, connect_timeout_s: float) -> None:
        self._target = target
        self._connect_timeout_s = connect_timeout_s
        self._down = False
        self.channel: aio.Channel | None = None

    def _unavailable(self, why: str) -> aio.AioRpcError:
        return aio.AioRpcError(
            grpc.StatusCode.UNAVAILABLE, aio.Metadata(), aio.Metadata(), f"{self._target} unreachable: {why}"
        )

    async def wait_ready(self) -> None:
        channel = self.channel
        if channel is None:
            return
        state = channel.get_state(try_to_connect=True)
        if state is grpc.ChannelConnectivity.READY:
            self._down = False
            return
        if self._down and state is grpc.ChannelConnectivity.TRANSIENT_FAILURE:
            raise self._unavailable("no connection since the last attempt")
        wait = call_context.budget(self._connect_timeout_s)
        if wait <= 0:
            return  # no time left at all: the deadline interceptor fails the call, the peer is not to blame
        try:
            async with asyncio.timeout(wait):
                await channel.channel_ready()
        except TimeoutError:
            # Only a whole connect budget without a connection says the peer is down.
            self._down = wait >= self._connect_timeout_s
            raise self._unavailable(f"no ready connection within {wait:.2g}s") from None
        self._down = False

    async def intercept_unary_unary(
        self, continuation: Any, client_call_details: aio.ClientCallDetails, request: Any
    ) -> Any:
        await self.wait_ready()
        return await continuation(client_call_details, request)

    async def intercept_unary_stream(
        self, continuation: Any, client_call_details: aio.ClientCallDetails, request: Any
    ) -> Any:
        await self.wait_ready()
        return await continuation(client_call_details, request)


def make_channel(
    target: str,
    *,
    metrics: GrpcMetrics,
    default_timeout_s: float = 30.0,
    connect_timeout_s: float = DEFAULT_CONNECT_TIMEOUT_S,
    security: SecurityConfig | None = None,
) -> aio.Channel:
    """`target` is host:port locally, or `dns:///name-headless.ns.svc.cluster.local:port` in Kubernetes.

    `metrics` is the service's one `GrpcMetrics.create(registry, "client")`, shared by all its channels.
    Interceptors, outermost first: tracing (a span around the whole call), grpc_client_* metrics, the
    connect gate, then the deadline and request id that every hop carries, then the mesh credential when
    there is one. With `security`, the channel uses TLS to peers when that is configured.
    """
    security = security or SecurityConfig()
    credentials, tls_options = channel_credentials(security)
    gate = ConnectGate(target, connect_timeout_s)
    reconnect_ms = max(100, int(connect_timeout_s * 1000))
    options = [
        ("grpc.service_config", _SERVICE_CONFIG),
        ("grpc.enable_retries", 1),
        ("grpc.max_receive_message_length", 16 * 1024 * 1024),
        # Reconnect to a peer that went away at least once per connect budget, so a restarted peer
        # is found again within one budget (gRPC's default backoff grows to two minutes).
        ("grpc.initial_reconnect_backoff_ms", min(reconnect_ms, 250)),
        ("grpc.max_reconnect_backoff_ms", reconnect_ms),
        *tls_options,
    ]
    # The gate before the deadline: the deadline the propagating interceptor computes must not include
    # the wait for a connection.
    interceptors: list[aio.ClientInterceptor] = [
        *tracing.client_interceptors(),
        ClientMetricsInterceptor(metrics),
        gate,
        PropagatingClientInterceptor(default_timeout_s),
    ]
    if security.mesh_credential:
        interceptors.append(MeshCredentialClientInterceptor(security.mesh_credential))
    interceptors = for_every_kind(interceptors)
    if credentials is not None:
        channel = aio.secure_channel(target, credentials, options=options, interceptors=interceptors)
    else:
        channel = aio.insecure_channel(target, options=options, interceptors=interceptors)
    gate.channel = channel
    return channel

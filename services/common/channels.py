"""Channels to peer services: round-robin over every resolved address, retries for UNAVAILABLE only.

Retries live in one layer — the gateways' upstream calls — so internal channels retry only a
connection that never reached a server (UNAVAILABLE), under a throttle, and wait for a ready
connection instead of failing while a peer starts or restarts.
"""

from __future__ import annotations

import json

from grpc import aio

from services.common import tracing
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
                "waitForReady": True,
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


def make_channel(
    target: str, *, metrics: GrpcMetrics, default_timeout_s: float = 30.0, security: SecurityConfig | None = None
) -> aio.Channel:
    """`target` is host:port locally, or `dns:///name-headless.ns.svc.cluster.local:port` in Kubernetes.

    `metrics` is the service's one `GrpcMetrics.create(registry, "client")`, shared by all its channels.
    Interceptors, outermost first: tracing (a span around the whole call), grpc_client_* metrics,
    then the deadline and request id that every hop carries, then the mesh credential when there is one.
    With `security`, the channel uses TLS to peers when that is configured.
    """
    security = security or SecurityConfig()
    credentials, tls_options = channel_credentials(security)
    options = [
        ("grpc.service_config", _SERVICE_CONFIG),
        ("grpc.enable_retries", 1),
        ("grpc.max_receive_message_length", 16 * 1024 * 1024),
        *tls_options,
    ]
    interceptors: list[aio.ClientInterceptor] = [
        *tracing.client_interceptors(),
        ClientMetricsInterceptor(metrics),
        PropagatingClientInterceptor(default_timeout_s),
    ]
    if security.mesh_credential:
        interceptors.append(MeshCredentialClientInterceptor(security.mesh_credential))
    if credentials is not None:
        return aio.secure_channel(target, credentials, options=options, interceptors=interceptors)
    return aio.insecure_channel(target, options=options, interceptors=interceptors)

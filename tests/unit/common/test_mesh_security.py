"""Peer checks, request ids, undecodable requests and upstream-call trailers, through a real grpc.aio server."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from typing import Any

import grpc
import pytest
from grpc import aio
from grpc_health.v1 import health_pb2, health_pb2_grpc
from prometheus_client import CollectorRegistry
from segue.v1 import common_pb2, llm_gateway_pb2, llm_gateway_pb2_grpc

from services.common import call_context, stubs, upstream_calls
from services.common.channels import make_channel
from services.common.config import ConfigError, EnvReader, SecurityConfig, ServerConfig, read_server_config
from services.common.mesh_security import MESH_CREDENTIAL_HEADER, describe
from services.common.metrics import GrpcMetrics
from services.common.server import RunningService, ServiceDefinition, start

CREDENTIAL = "a-mesh-credential-of-some-length"


class Probe(llm_gateway_pb2_grpc.LlmGatewayServicer):
    """Answers with the request id it saw, after 'calling' Spotify twice (for the trailer)."""

    async def AnalyzeMood(self, request: Any, ctx: aio.ServicerContext) -> llm_gateway_pb2.AnalyzeMoodResponse:
        upstream_calls.count("spotify", 2)
        return llm_gateway_pb2.AnalyzeMoodResponse(
            mood=common_pb2.MoodProfile(interpretation=call_context.request_id())
        )


async def serve(security: SecurityConfig, registry: CollectorRegistry | None = None) -> RunningService:
    servicer = Probe()
    definition = ServiceDefinition(
        service_names=["segue.v1.LlmGateway"],
        add_to_server=lambda server: llm_gateway_pb2_grpc.add_LlmGatewayServicer_to_server(servicer, server),
    )
    cfg = ServerConfig(grpc_host="127.0.0.1", grpc_port=0, metrics_port=-1, security=security)
    return await start(definition, cfg, registry or CollectorRegistry())


def client_metrics() -> GrpcMetrics:
    return GrpcMetrics.create(CollectorRegistry(), "client")


@pytest.fixture
async def guarded() -> AsyncIterator[RunningService]:
    running = await serve(SecurityConfig(mesh_credential=CREDENTIAL))
    yield running
    await running.shutdown(drain_delay_s=0, grace_s=0)


async def test_with_a_mesh_credential_only_peers_that_send_it_get_through(guarded: RunningService) -> None:
    address = f"127.0.0.1:{guarded.port}"
    request = llm_gateway_pb2.AnalyzeMoodRequest(prompt="x")
    async with aio.insecure_channel(address) as channel:
        stub = stubs.llm_gateway(channel)
        for metadata in ((), ((MESH_CREDENTIAL_HEADER, CREDENTIAL[:-1]),), ((MESH_CREDENTIAL_HEADER, ""),)):
            with pytest.raises(aio.AioRpcError) as refused:
                await stub.AnalyzeMood(request, metadata=metadata, timeout=5)
            assert refused.value.code() == grpc.StatusCode.UNAUTHENTICATED
        health = health_pb2_grpc.HealthStub(channel)  # probes send no metadata: health stays open
        reply = await health.Check(health_pb2.HealthCheckRequest(service="segue.v1.LlmGateway"), timeout=5)
        assert reply.status == health_pb2.HealthCheckResponse.SERVING

    peer = make_channel(address, metrics=client_metrics(), security=SecurityConfig(mesh_credential=CREDENTIAL))
    try:
        stub = stubs.llm_gateway(peer)
        counted = upstream_calls.start()
        answer = await stub.AnalyzeMood(request, timeout=5)
        assert answer.mood.interpretation
        assert counted == {"spotify": 2}, "the peer's upstream calls came back in its trailers and were added up"
    finally:
        await peer.close()


async def test_an_unsafe_or_long_request_id_is_replaced(guarded: RunningService) -> None:
    peer = make_channel(
        f"127.0.0.1:{guarded.port}", metrics=client_metrics(), security=SecurityConfig(mesh_credential=CREDENTIAL)
    )
    try:
        stub = stubs.llm_gateway(peer)
        seen = []
        for offered in ("req-1.a_B", "r" * 65, "two words", '{"json": 1}', "../../x"):
            answer = await stub.AnalyzeMood(
                llm_gateway_pb2.AnalyzeMoodRequest(prompt="x"), metadata=(("x-request-id", offered),), timeout=5
            )
            seen.append(answer.mood.interpretation)
    finally:
        await peer.close()
    assert seen[0] == "req-1.a_B"
    assert all(len(s) == 16 and s not in ("r" * 65,) for s in seen[1:])


async def test_bytes_that_are_no_message_are_invalid_argument_and_counted_so() -> None:
    registry = CollectorRegistry()
    running = await serve(SecurityConfig(), registry)
    try:
        async with aio.insecure_channel(f"127.0.0.1:{running.port}") as channel:
            with pytest.raises(aio.AioRpcError) as bad:
                await channel.unary_unary("/segue.v1.LlmGateway/AnalyzeMood")(b"\x0a\xff\xff\xff\xff\x0f", timeout=5)
    finally:
        await running.shutdown(drain_delay_s=0, grace_s=0)
    assert bad.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert bad.value.details() == (
        "the request is not a valid segue.v1.AnalyzeMoodRequest message: its bytes could not be parsed"
    )
    labels = {"grpc_type": "unary", "grpc_service": "segue.v1.LlmGateway", "grpc_method": "AnalyzeMood"}
    assert registry.get_sample_value("grpc_server_handled_total", {**labels, "grpc_code": "InvalidArgument"}) == 1


def test_the_start_line_says_auth_off_and_what_is_missing() -> None:
    off = describe(SecurityConfig(), public=False, callers="")
    assert off.startswith("auth off: any caller is accepted as a peer (set MESH_CREDENTIAL or TLS_CLIENT_CA_FILE)")
    assert "plaintext gRPC (set TLS_CERT_FILE)" in off
    public = describe(SecurityConfig(), public=True, callers="")
    assert public.startswith("auth off: callers are not authenticated")
    on = describe(
        SecurityConfig(tls_cert_file="c", tls_key_file="k", tls_client_ca_file="ca", reflection=False),
        public=False,
        callers="",
    )
    assert on == "auth on: only mesh peers are accepted (mutual TLS); TLS on the gRPC port; reflection off"


def read(environ: dict[str, str]) -> ServerConfig:
    env = EnvReader(environ)
    cfg = read_server_config(env)
    env.finish()
    return cfg


def test_security_settings_are_checked_together() -> None:
    with pytest.raises(ConfigError) as bad:
        read(
            {
                "TLS_CERT_FILE": "/x.crt",
                "TLS_CLIENT_CA_FILE": "/ca.crt",
                "MESH_CREDENTIAL": "short",
                "PEER_TLS_SERVER_NAME": "peer",
                "REFLECTION": "maybe",
            }
        )
    problems = " | ".join(bad.value.problems)
    assert "TLS_CERT_FILE and TLS_KEY_FILE must be set together" in problems
    assert "MESH_CREDENTIAL must be at least 16 characters" in problems
    assert "PEER_TLS_SERVER_NAME needs PEER_TLS_CA_FILE" in problems
    assert "REFLECTION must be true or false" in problems
    assert "short" not in str(bad.value).replace("must be at least", ""), "the secret itself is not repeated"
    cfg = read({"MESH_CREDENTIAL": CREDENTIAL, "REFLECTION": "off", "METRICS_HOST": "10.0.0.5"})
    assert cfg.security.peers_verified and not cfg.security.reflection and cfg.security.metrics_host == "10.0.0.5"
    assert CREDENTIAL not in repr(cfg)


async def test_a_certificate_file_that_cannot_be_read_fails_the_start_naming_the_variable() -> None:
    with pytest.raises(ConfigError, match=re.escape("TLS_KEY_FILE '/nonexistent/key.pem' cannot be read")):
        await serve(SecurityConfig(tls_cert_file="/nonexistent/cert.pem", tls_key_file="/nonexistent/key.pem"))

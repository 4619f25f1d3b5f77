"""The shared server runtime, exercised through a real grpc.aio server on 127.0.0.1:0."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from importlib import metadata

import grpc
import httpx
import pytest
from google.rpc.error_details_pb2 import RetryInfo
from grpc import aio
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc
from grpc_status import rpc_status
from prometheus_client import CollectorRegistry
from segue.v1 import common_pb2, llm_gateway_pb2, llm_gateway_pb2_grpc

from segue_cli.mesh import free_port
from services.common import call_context, stubs
from services.common.channels import make_channel
from services.common.config import ServerConfig
from services.common.errors import InvalidArgument, ResourceExhausted
from services.common.metrics import GrpcMetrics, server_registry
from services.common.server import RunningService, ServiceDefinition, start


class ProbeServicer(llm_gateway_pb2_grpc.LlmGatewayServicer):
    """Behaves according to the prompt, so one server can show each outcome."""

    def __init__(self) -> None:
        self.seen_request_ids: list[str] = []
        self.seen_remaining: list[float | None] = []
        self.seen_lanes: list[call_context.Lane] = []
        self.release = asyncio.Event()
        self.arrived = asyncio.Event()

    async def AnalyzeMood(
        self, request: llm_gateway_pb2.AnalyzeMoodRequest, context_: aio.ServicerContext
    ) -> llm_gateway_pb2.AnalyzeMoodResponse:
        self.seen_request_ids.append(call_context.request_id())
        self.seen_remaining.append(call_context.time_remaining())
        self.seen_lanes.append(call_context.lane())
        if request.prompt == "bad":
            raise InvalidArgument("prompt must not be 'bad'")
        if request.prompt == "busy":
            raise ResourceExhausted("cooling down", retry_after_s=1.5)
        if request.prompt == "crash":
            raise RuntimeError("secret internals")
        if request.prompt == "abort":
            await context_.abort(grpc.StatusCode.NOT_FOUND, "aborted by handler")
        if request.prompt == "slow":
            self.arrived.set()
            await self.release.wait()
        return llm_gateway_pb2.AnalyzeMoodResponse(mood=common_pb2.MoodProfile(interpretation=request.prompt))


def probe_definition(servicer: ProbeServicer) -> ServiceDefinition:
    return ServiceDefinition(
        service_names=["segue.v1.LlmGateway"],
        add_to_server=lambda server: llm_gateway_pb2_grpc.add_LlmGatewayServicer_to_server(servicer, server),
    )


@pytest.fixture
async def running() -> AsyncIterator[tuple[RunningService, ProbeServicer, CollectorRegistry]]:
    servicer = ProbeServicer()
    registry = CollectorRegistry()
    definition = probe_definition(servicer)
    svc = await start(definition, ServerConfig(grpc_host="127.0.0.1", grpc_port=0, metrics_port=0), registry)
    yield svc, servicer, registry
    await svc.shutdown(drain_delay_s=0, grace_s=0)


def handled(registry: CollectorRegistry, code: str) -> float:
    value = registry.get_sample_value(
        "grpc_server_handled_total",
        {"grpc_type": "unary", "grpc_service": "segue.v1.LlmGateway", "grpc_method": "AnalyzeMood", "grpc_code": code},
    )
    return value or 0.0


async def call(port: int, prompt: str, **kw: object) -> llm_gateway_pb2.AnalyzeMoodResponse:
    async with aio.insecure_channel(f"127.0.0.1:{port}") as channel:
        stub = stubs.llm_gateway(channel)
        return await stub.AnalyzeMood(llm_gateway_pb2.AnalyzeMoodRequest(prompt=prompt), timeout=5, **kw)


async def test_domain_errors_map_to_status_codes_and_metrics_see_the_real_code(running) -> None:  # type: ignore[no-untyped-def]
    svc, _, registry = running
    assert (await call(svc.port, "fine")).mood.interpretation == "fine"

    with pytest.raises(grpc.aio.AioRpcError) as bad:
        await call(svc.port, "bad")
    assert bad.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert bad.value.details() == "prompt must not be 'bad'"

    with pytest.raises(grpc.aio.AioRpcError) as busy:
        await call(svc.port, "busy")
    assert busy.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
    trailers = tuple(busy.value.trailing_metadata() or ())
    assert ("grpc-retry-pushback-ms", "1500") in trailers
    assert ("retry-after-ms", "1500") in trailers
    # The same delay as google.rpc RetryInfo, in the standard status details.
    status = rpc_status.from_call(busy.value)
    assert status is not None and status.code == grpc.StatusCode.RESOURCE_EXHAUSTED.value[0]
    (detail,) = status.details
    retry = RetryInfo()
    assert detail.Unpack(retry) and retry.retry_delay.ToMilliseconds() == 1500

    with pytest.raises(grpc.aio.AioRpcError) as crash:
        await call(svc.port, "crash")
    assert crash.value.code() == grpc.StatusCode.INTERNAL
    assert "secret internals" not in (crash.value.details() or "")
    assert "request id" in (crash.value.details() or "")

    with pytest.raises(grpc.aio.AioRpcError) as aborted:
        await call(svc.port, "abort")
    assert aborted.value.code() == grpc.StatusCode.NOT_FOUND

    # go-grpc-prometheus spells codes as grpc-go prints them
    assert handled(registry, "OK") == 1
    assert handled(registry, "InvalidArgument") == 1
    assert handled(registry, "ResourceExhausted") == 1
    assert handled(registry, "Internal") == 1
    assert handled(registry, "NotFound") == 1
    assert handled(registry, "INVALID_ARGUMENT") == 0
    started = registry.get_sample_value(
        "grpc_server_started_total",
        {"grpc_type": "unary", "grpc_service": "segue.v1.LlmGateway", "grpc_method": "AnalyzeMood"},
    )
    assert started == 5


async def test_metrics_endpoint_serves_the_servers_registry(running) -> None:  # type: ignore[no-untyped-def]
    svc, _, _ = running
    await call(svc.port, "fine")
    async with httpx.AsyncClient() as http:
        text = (await http.get(f"http://127.0.0.1:{svc.metrics_port}/metrics")).text
    assert 'grpc_server_handled_total{grpc_code="OK",grpc_method="AnalyzeMood"' in text
    assert "_created" not in text  # one switch in services.common.metrics turns these off for every registry


def test_every_method_series_exists_at_zero_before_the_first_call(running) -> None:  # type: ignore[no-untyped-def]
    _, _, registry = running
    labels = {"grpc_type": "unary", "grpc_service": "segue.v1.LlmGateway", "grpc_method": "RunTasks"}
    assert registry.get_sample_value("grpc_server_started_total", labels) == 0
    assert registry.get_sample_value("grpc_server_handled_total", {**labels, "grpc_code": "Unavailable"}) == 0
    assert registry.get_sample_value("grpc_server_handled_total", {**labels, "grpc_code": "Canceled"}) == 0
    assert registry.get_sample_value("grpc_server_handling_seconds_count", labels) == 0
    watch = {"grpc_type": "server_stream", "grpc_service": "grpc.health.v1.Health", "grpc_method": "Watch"}
    assert registry.get_sample_value("grpc_server_started_total", watch) == 0


def test_a_server_registry_carries_process_platform_gc_and_build_info() -> None:
    registry = server_registry("abc1234")
    names = {family.name for family in registry.collect()}
    assert {"process_cpu_seconds", "process_resident_memory_bytes", "python_info", "python_gc_collections"} <= names
    build = [s for f in registry.collect() if f.name == "segue_build" for s in f.samples]
    assert [(s.name, s.labels["revision"], s.value) for s in build] == [("segue_build_info", "abc1234", 1.0)]
    assert build[0].labels["version"] == metadata.version("segue")


async def test_request_id_and_deadline_reach_the_handler(running) -> None:  # type: ignore[no-untyped-def]
    svc, servicer, _ = running
    await call(svc.port, "fine", metadata=(("x-request-id", "abc123"),))
    await call(svc.port, "fine")
    assert servicer.seen_request_ids[0] == "abc123"
    assert servicer.seen_request_ids[1] and servicer.seen_request_ids[1] != "abc123"
    remaining = servicer.seen_remaining[0]
    assert remaining is not None and 0 < remaining <= 5.1  # gRPC rounds deadlines up slightly


async def test_client_interceptor_propagates_request_id_lane_and_caps_timeout(running) -> None:  # type: ignore[no-untyped-def]
    svc, servicer, _ = running
    client_registry = CollectorRegistry()
    channel = make_channel(
        f"127.0.0.1:{svc.port}", metrics=GrpcMetrics.create(client_registry, "client"), default_timeout_s=30
    )
    try:
        stub = stubs.llm_gateway(channel)
        call_context.set_request_id("parent-req")
        call_context.set_deadline_in(2.0)
        await stub.AnalyzeMood(llm_gateway_pb2.AnalyzeMoodRequest(prompt="fine"))
        assert servicer.seen_request_ids[-1] == "parent-req"
        remaining = servicer.seen_remaining[-1]
        assert remaining is not None and remaining <= 1.9  # the parent deadline less the margin, not 30 s

        assert servicer.seen_lanes[-1] is call_context.Lane.INTERACTIVE
        call_context.set_lane(call_context.Lane.BACKGROUND)
        await stub.AnalyzeMood(llm_gateway_pb2.AnalyzeMoodRequest(prompt="fine"))
        assert servicer.seen_lanes[-1] is call_context.Lane.BACKGROUND  # background work stays background downstream

        call_context.set_deadline_in(-1.0)
        with pytest.raises(Exception, match="deadline passed"):
            await stub.AnalyzeMood(llm_gateway_pb2.AnalyzeMoodRequest(prompt="fine"))
        call_context.set_deadline_in(None)
        with pytest.raises(grpc.aio.AioRpcError):
            await stub.AnalyzeMood(llm_gateway_pb2.AnalyzeMoodRequest(prompt="bad"))

        # grpc_client_* counts every outgoing call by its outcome (recorded once the call's status is known)
        labels = {"grpc_type": "unary", "grpc_service": "segue.v1.LlmGateway", "grpc_method": "AnalyzeMood"}

        def client_handled(code: str) -> float:
            return client_registry.get_sample_value("grpc_client_handled_total", {**labels, "grpc_code": code}) or 0

        for _ in range(100):
            if client_handled("InvalidArgument"):
                break
            await asyncio.sleep(0.01)
        assert client_registry.get_sample_value("grpc_client_started_total", labels) == 4
        assert client_handled("OK") == 2
        assert client_handled("DeadlineExceeded") == 1  # refused before it went out: no time left
        assert client_handled("InvalidArgument") == 1
        assert client_registry.get_sample_value("grpc_client_handling_seconds_count", labels) == 4
    finally:
        call_context.set_deadline_in(None)
        call_context.set_lane(call_context.Lane.INTERACTIVE)
        await channel.close()


async def test_health_serving_then_not_serving_while_in_flight_calls_finish(running) -> None:  # type: ignore[no-untyped-def]
    svc, servicer, _ = running
    async with aio.insecure_channel(f"127.0.0.1:{svc.port}") as channel:
        health = health_pb2_grpc.HealthStub(channel)
        for name in ("", "segue.v1.LlmGateway"):
            reply = await health.Check(health_pb2.HealthCheckRequest(service=name), timeout=5)
            assert reply.status == health_pb2.HealthCheckResponse.SERVING

        # A watch sees the status change the moment it happens, so no sleep has to guess when that is.
        watch = health.Watch(health_pb2.HealthCheckRequest(service="segue.v1.LlmGateway"), timeout=10)
        assert (await watch.read()).status == health_pb2.HealthCheckResponse.SERVING

        stub = stubs.llm_gateway(channel)
        in_flight = asyncio.ensure_future(
            stub.AnalyzeMood(llm_gateway_pb2.AnalyzeMoodRequest(prompt="slow"), timeout=10)
        )
        await asyncio.wait_for(servicer.arrived.wait(), 5)
        shutdown = asyncio.ensure_future(svc.shutdown(drain_delay_s=0.3, grace_s=5))
        assert (await watch.read()).status == health_pb2.HealthCheckResponse.NOT_SERVING
        watch.cancel()
        servicer.release.set()
        assert (await in_flight).mood.interpretation == "slow"
        await shutdown


async def test_reflection_lists_the_services(running) -> None:  # type: ignore[no-untyped-def]
    svc, _, _ = running
    async with aio.insecure_channel(f"127.0.0.1:{svc.port}") as channel:
        stub = reflection_pb2_grpc.ServerReflectionStub(channel)
        call = stub.ServerReflectionInfo(iter([reflection_pb2.ServerReflectionRequest(list_services="")]), timeout=5)
        names = {s.name async for reply in call for s in reply.list_services_response.service}
    assert {"segue.v1.LlmGateway", "grpc.health.v1.Health", "grpc.reflection.v1alpha.ServerReflection"} <= names


async def test_connection_ageing_does_not_cut_a_call_within_its_deadline() -> None:
    servicer = ProbeServicer()
    definition = probe_definition(servicer)
    # The connection ages after 1 s; the shutdown grace alone (0.5 s) used to be the ageing grace too.
    cfg = ServerConfig(
        grpc_host="127.0.0.1", grpc_port=0, metrics_port=-1, max_connection_age_s=1, shutdown_grace_s=0.5
    )
    svc = await start(definition, cfg, CollectorRegistry())
    try:
        async with aio.insecure_channel(f"127.0.0.1:{svc.port}") as channel:
            stub = stubs.llm_gateway(channel)
            pending = asyncio.ensure_future(
                stub.AnalyzeMood(llm_gateway_pb2.AnalyzeMoodRequest(prompt="slow"), timeout=30)
            )
            await servicer.arrived.wait()
            await asyncio.sleep(3)  # past the connection's age plus the old grace
            servicer.release.set()
            reply = await pending
        assert reply.mood.interpretation == "slow"
    finally:
        await svc.shutdown(drain_delay_s=0, grace_s=0)


async def test_a_call_cut_before_its_deadline_is_logged_and_one_past_it_counts_as_deadline_exceeded(
    running, caplog: pytest.LogCaptureFixture
) -> None:  # type: ignore[no-untyped-def]
    svc, servicer, registry = running
    async with aio.insecure_channel(f"127.0.0.1:{svc.port}") as channel:
        stub = stubs.llm_gateway(channel)
        cut = stub.AnalyzeMood(llm_gateway_pb2.AnalyzeMoodRequest(prompt="slow"), timeout=30)
        await servicer.arrived.wait()
        with caplog.at_level("WARNING"):
            cut.cancel()
            await eventually(lambda: handled(registry, "Canceled") == 1)
        assert "AnalyzeMood cut before its deadline" in caplog.text
        servicer.arrived.clear()
        with pytest.raises(aio.AioRpcError) as exc:
            await stub.AnalyzeMood(llm_gateway_pb2.AnalyzeMoodRequest(prompt="slow"), timeout=0.3)
        assert exc.value.code() == grpc.StatusCode.DEADLINE_EXCEEDED
        await eventually(lambda: handled(registry, "DeadlineExceeded") == 1)


async def eventually(check: Callable[[], bool], within_s: float = 10.0) -> None:
    async with asyncio.timeout(within_s):
        while True:
            if check():
                return
            await asyncio.sleep(0.02)


async def test_a_peer_with_no_ready_connection_fails_within_the_connect_budget_then_is_found_again() -> None:
    port = free_port()
    client_registry = CollectorRegistry()
    channel = make_channel(
        f"127.0.0.1:{port}",
        metrics=GrpcMetrics.create(client_registry, "client"),
        default_timeout_s=30,
        connect_timeout_s=0.5,
    )
    stub = stubs.llm_gateway(channel)
    request = llm_gateway_pb2.AnalyzeMoodRequest(prompt="hello")
    try:
        async with asyncio.timeout(10):  # far below the call's 30 s: a dead peer costs the connect budget
            for _ in range(3):
                with pytest.raises(aio.AioRpcError) as exc:
                    await stub.AnalyzeMood(request)
                assert exc.value.code() == grpc.StatusCode.UNAVAILABLE
                assert "unreachable" in (exc.value.details() or "")
        refused = {"grpc_type": "unary", "grpc_service": "segue.v1.LlmGateway", "grpc_method": "AnalyzeMood"}
        unavailable = {**refused, "grpc_code": "Unavailable"}
        assert client_registry.get_sample_value("grpc_client_handled_total", unavailable) == 3
        servicer = ProbeServicer()
        definition = probe_definition(servicer)
        svc = await start(
            definition, ServerConfig(grpc_host="127.0.0.1", grpc_port=port, metrics_port=-1), CollectorRegistry()
        )
        try:
            async with asyncio.timeout(20):
                while True:  # the channel reconnects on its own; calls go through once it is ready
                    try:
                        reply = await stub.AnalyzeMood(request)
                        break
                    except aio.AioRpcError as exc:
                        assert exc.code() == grpc.StatusCode.UNAVAILABLE
                        await asyncio.sleep(0.1)
            assert reply.mood.interpretation == "hello"
        finally:
            await svc.shutdown(drain_delay_s=0, grace_s=0)
    finally:
        await channel.close()

"""One Recommend is one trace: spans from all four services, their upstream HTTP calls and Redis commands.

The mesh exports over OTLP/HTTP to a collector this test runs on loopback (the opentelemetry-proto
message types decode what arrives).
"""

from __future__ import annotations

import json
import threading
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import pytest_asyncio
from grpc import aio
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)
from opentelemetry.proto.trace.v1.trace_pb2 import Span
from segue.v1 import orchestrator_pb2

from segue_cli.mesh import SERVICES, Mesh, MeshOptions, running_mesh
from services.common import stubs
from tests.integration.probes import eventually

pytestmark = [pytest.mark.integration, pytest.mark.asyncio(loop_scope="session")]


@dataclass(frozen=True)
class Received:
    service: str
    trace_id: str
    name: str
    kind: int
    attributes: dict[str, str]


class Collector:
    """A minimal OTLP/HTTP trace receiver: POST /v1/traces with a protobuf ExportTraceServiceRequest."""

    def __init__(self) -> None:
        self.spans: list[Received] = []
        self.paths: set[str] = set()
        self._lock = threading.Lock()

    def receive(self, path: str, body: bytes) -> None:
        request = ExportTraceServiceRequest.FromString(body)
        with self._lock:
            self.paths.add(path)
            for resource_spans in request.resource_spans:
                resource = {a.key: a.value.string_value for a in resource_spans.resource.attributes}
                for scope_spans in resource_spans.scope_spans:
                    for span in scope_spans.spans:
                        self.spans.append(
                            Received(
                                resource.get("service.name", ""),
                                span.trace_id.hex(),
                                span.name,
                                span.kind,
                                {a.key: a.value.string_value for a in span.attributes},
                            )
                        )

    def trace(self, trace_id: str) -> list[Received]:
        with self._lock:
            return [s for s in self.spans if s.trace_id == trace_id]


@contextmanager
def collector_on_loopback() -> Iterator[tuple[Collector, str]]:
    collector = Collector()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            collector.receive(self.path, self.rfile.read(int(self.headers["Content-Length"])))
            body = ExportTraceServiceResponse().SerializeToString()
            self.send_response(200)
            self.send_header("Content-Type", "application/x-protobuf")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield collector, f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()


@dataclass
class TracedMesh:
    mesh: Mesh
    collector: Collector


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def traced(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[TracedMesh]:
    with collector_on_loopback() as (collector, endpoint):
        options = MeshOptions(
            profile="fast",
            redis="spawn",
            log_dir=tmp_path_factory.mktemp("traced-mesh-logs"),
            # export every 100 ms instead of the default 5 s, so the test waits less
            service_env={"OTEL_EXPORTER_OTLP_ENDPOINT": endpoint, "OTEL_BSP_SCHEDULE_DELAY": "100"},
        )
        async with running_mesh(options) as mesh:
            yield TracedMesh(mesh, collector)


async def test_one_recommend_is_one_trace_across_the_four_services(traced: TracedMesh) -> None:
    async with aio.insecure_channel(traced.mesh.orchestrator) as channel:
        response = await stubs.orchestrator(channel).Recommend(
            orchestrator_pb2.RecommendRequest(user_id="simuser77", mood_prompt="late night drive, synthwave", size=5),
            metadata=(("x-spotify-token", "user-77-trace"),),
            timeout=60,
        )
    assert len(response.tracks) == 5

    collector = traced.collector
    root = "/segue.v1.Orchestrator/Recommend"
    # Every hop is a client span in the caller and a server span in the callee, joined by traceparent.
    hops = [
        ("orchestrator", "llm_gateway", "/segue.v1.LlmGateway/AnalyzeMoodStream"),
        ("orchestrator", "seed_gatherer", "/segue.v1.SeedGatherer/GatherSeeds"),
        ("orchestrator", "reccobeat_gateway", "/segue.v1.ReccoBeatGateway/GetRecommendations"),
    ]

    def recommend_trace() -> list[Received]:
        roots = [s for s in collector.spans if s.name == root and s.kind == Span.SPAN_KIND_SERVER]
        return collector.trace(roots[-1].trace_id) if roots else []

    def has(spans: list[Received], service: str, name: str, kind: int) -> bool:
        return any(s.service == service and s.name == name and s.kind == kind for s in spans)

    async def complete() -> bool:
        spans = recommend_trace()
        return {s.service for s in spans} >= set(SERVICES) and all(
            has(spans, caller, method, Span.SPAN_KIND_CLIENT) and has(spans, callee, method, Span.SPAN_KIND_SERVER)
            for caller, callee, method in hops
        )

    await eventually(complete, "one trace with spans from all four services and every hop of the Recommend")
    spans = recommend_trace()
    assert collector.paths == {"/v1/traces"}
    by_service = {name: [s for s in spans if s.service == name] for name in SERVICES}
    # Upstream HTTP calls (httpx) and Redis commands are in the same trace.
    http = [s for s in by_service["seed_gatherer"] + by_service["reccobeat_gateway"] if s.kind == Span.SPAN_KIND_CLIENT]
    assert any(s.attributes.get("http.request.method") or s.attributes.get("http.method") for s in http)
    assert any(s.attributes.get("db.system") == "redis" or s.attributes.get("db.system.name") == "redis" for s in spans)
    # No health-check noise.
    assert not [s for s in collector.spans if "grpc.health.v1.Health" in s.name]


def logged_trace_ids(log_dir: Path) -> set[str]:
    ids = set()
    for name in SERVICES:
        for line in (log_dir / f"{name}.log").read_text().splitlines():
            if line.startswith("{"):
                ids.add(json.loads(line).get("trace_id", ""))
    return ids - {""}


async def test_service_log_lines_carry_the_trace_id_of_their_request(traced: TracedMesh) -> None:
    logged = logged_trace_ids(traced.mesh.log_dir)
    assert logged, "no log line carried a trace id"
    assert logged & {s.trace_id for s in traced.collector.spans}, "log lines name traces that were never exported"

"""A real Prometheus scrapes the local mesh with deploy/prometheus's config and rules.

Recommends go in; the Recommend latency quantile, a per-phase quantile and the warnings counter come back
through Prometheus's HTTP API; every recording rule, alert and dashboard query evaluates without error.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import pytest_asyncio
import yaml
from grpc import aio
from segue.v1 import orchestrator_pb2

from segue_cli.mesh import ROOT, Mesh, free_port, stop_process
from services.common import stubs
from tests.deploy.conftest import tool
from tests.integration.probes import eventually

pytestmark = [pytest.mark.integration, pytest.mark.asyncio(loop_scope="session")]

PROMETHEUS_DIR = ROOT / "deploy" / "prometheus"
DASHBOARD = ROOT / "deploy" / "grafana" / "segue.json"


def write_config(mesh: Mesh, into: Path) -> Path:
    """local.yml and rules.yml as shipped, pointed at this mesh's metrics ports and sped up to 1 s."""
    rules = yaml.safe_load((PROMETHEUS_DIR / "rules.yml").read_text())
    for group in rules["groups"]:
        group["interval"] = "1s"
    (into / "rules.yml").write_text(yaml.safe_dump(rules))
    config = yaml.safe_load((PROMETHEUS_DIR / "local.yml").read_text())
    config["global"] = {"scrape_interval": "1s", "evaluation_interval": "1s"}
    (job,) = config["scrape_configs"]
    for target in job["static_configs"]:
        service = target["labels"]["service"].replace("-", "_")
        target["targets"] = [f"127.0.0.1:{mesh.metrics_ports[service]}"]
    path = into / "prometheus.yml"
    path.write_text(yaml.safe_dump(config))
    return path


def start_prometheus(binary: str, config: Path, workdir: Path, port: int) -> subprocess.Popen[bytes]:
    with open(workdir / "prometheus.log", "wb") as log:
        return subprocess.Popen(
            [binary, f"--config.file={config}", f"--storage.tsdb.path={workdir / 'data'}",
             f"--web.listen-address=127.0.0.1:{port}", "--log.level=warn"],
            stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
        )  # fmt: skip


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def prometheus(mesh: Mesh, tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[httpx.AsyncClient]:
    binary = tool("prometheus", "apt-get install prometheus (.ci/run does)")
    workdir = tmp_path_factory.mktemp("prometheus")
    port = free_port()
    proc = start_prometheus(binary, write_config(mesh, workdir), workdir, port)
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=10) as http:

            async def all_targets_up() -> bool:
                assert proc.poll() is None, (workdir / "prometheus.log").read_text()
                try:
                    if (await http.get("/-/ready")).status_code != 200:  # still loading its storage
                        return False
                    result = await query(http, 'up{job="segue"}')
                except httpx.TransportError:
                    return False
                return len(result) == 4 and all(float(r["value"][1]) == 1 for r in result)

            await eventually(all_targets_up, "Prometheus scraping the four services", within_s=60)
            yield http
    finally:
        stop_process(proc)


async def query(http: httpx.AsyncClient, promql: str) -> list[dict[str, Any]]:
    reply = (await http.get("/api/v1/query", params={"query": promql})).json()
    assert reply["status"] == "success", f"{promql}: {reply.get('error')}"
    result: list[dict[str, Any]] = reply["data"]["result"]
    return result


def number(result: list[dict[str, Any]]) -> float | None:
    values = [float(r["value"][1]) for r in result]
    return values[0] if len(values) == 1 and values[0] == values[0] else None  # NaN != NaN


async def test_prometheus_reads_back_latency_phases_and_warnings(prometheus: httpx.AsyncClient, mesh: Mesh) -> None:
    warned = 0
    async with aio.insecure_channel(mesh.orchestrator) as channel:
        stub = stubs.orchestrator(channel)
        for i, size in enumerate((5, 5, 100)):  # the last asks for more than the fast catalog can fit
            response = await stub.Recommend(
                orchestrator_pb2.RecommendRequest(
                    user_id=f"simuser{60 + i}", mood_prompt=f"prometheus mood {i}", size=size
                ),
                metadata=(("x-spotify-token", f"user-{60 + i}-prom"),),
                timeout=60,
            )
            warned += len(response.warnings)
    assert warned

    async def seen(promql: str) -> bool:
        return number(await query(prometheus, promql)) is not None

    await eventually(lambda: seen("segue:recommend_latency_seconds:p95"), "the Recommend p95 recording rule")
    await eventually(lambda: seen('segue:recommend_phase_seconds:p95{phase="candidates"}'), "a per-phase p95")
    p95 = number(await query(prometheus, "segue:recommend_latency_seconds:p95"))
    assert p95 is not None and p95 > 0
    direct = 'histogram_quantile(0.5, sum by (le) (rate(segue_recommend_phase_seconds_bucket{phase="mood"}[5m])))'
    mood_p50 = number(await query(prometheus, direct))
    assert mood_p50 is not None and mood_p50 > 0

    async def warnings_counted() -> bool:
        return (number(await query(prometheus, "sum(segue_recommend_warnings_total)")) or 0) >= warned

    await eventually(warnings_counted, "the warnings of the answers in segue_recommend_warnings_total")
    build = await query(prometheus, 'segue_build_info{job="segue"}')
    assert len(build) == 4 and all(r["metric"]["version"] for r in build)
    assert await query(prometheus, 'count({job="segue", __name__=~".+_created"})') == []
    assert number(await query(prometheus, 'count(process_resident_memory_bytes{job="segue"})')) == 4
    codes = await query(prometheus, 'grpc_server_handled_total{grpc_code="InvalidArgument"}')
    assert codes, "go-grpc-prometheus code names, every series preset to 0"


async def test_every_rule_and_dashboard_query_evaluates_without_error(prometheus: httpx.AsyncClient) -> None:
    async def evaluated() -> list[dict[str, Any]]:
        groups = (await prometheus.get("/api/v1/rules")).json()["data"]["groups"]
        return [rule for group in groups for rule in group["rules"]]

    async def all_evaluated() -> bool:
        rules = await evaluated()
        return bool(rules) and all(not r["lastEvaluation"].startswith("0001") for r in rules)

    await eventually(all_evaluated, "every rule evaluated at least once")
    rules = await evaluated()
    shipped = [r for g in yaml.safe_load((PROMETHEUS_DIR / "rules.yml").read_text())["groups"] for r in g["rules"]]
    assert len(rules) == len(shipped)
    assert [(r["name"], r.get("lastError", "")) for r in rules if r["health"] != "ok"] == []

    dashboard = json.loads(DASHBOARD.read_text())
    expressions = [t["expr"] for panel in dashboard["panels"] for t in panel["targets"]]
    assert len(expressions) >= 12
    for expr in expressions:
        await query(prometheus, expr)  # asserts status success

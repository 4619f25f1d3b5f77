"""What the integration tests observe from outside the mesh: /metrics counters, and waiting on a condition.

Background work (Prefetch, a draining server) is waited for by its effect, within a bound generous enough
for a loaded 2-core CI machine; a test never assumes how long anything takes.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable

import httpx
from prometheus_client.parser import text_string_to_metric_families

from segue_cli.mesh import Mesh
from services.common.service_names import BY_PACKAGE

PATIENCE_S = 30.0
POLL_S = 0.05


async def eventually(check: Callable[[], Awaitable[bool]], what: str, within_s: float = PATIENCE_S) -> None:
    """Return as soon as `check()` is true; fail naming `what` if it is still false after `within_s`."""
    deadline = time.monotonic() + within_s
    while not await check():
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: still not so after {within_s:.0f}s")
        await asyncio.sleep(POLL_S)


async def handled(mesh: Mesh, service: str, method: str, code: str = "OK") -> float:
    """grpc_server_handled_total of one method of `service` with status `code`, from its /metrics (0 if absent)."""
    labels = {"grpc_service": BY_PACKAGE[service], "grpc_method": method, "grpc_code": code}
    return await scraped(mesh.metrics_ports[service], "grpc_server_handled_total", **labels)


async def scraped(metrics_port: int, name: str, **labels: str) -> float:
    """The sum of the samples of `name` whose labels include `labels`, from a service's /metrics."""
    async with httpx.AsyncClient(timeout=10) as http:
        text = (await http.get(f"http://127.0.0.1:{metrics_port}/metrics")).text
    return sum(
        sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
        if sample.name == name and labels.items() <= sample.labels.items()
    )

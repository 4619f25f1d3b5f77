"""A real service started in this process on 127.0.0.1:0, with a stub on a channel to it."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Generic, TypeVar

from grpc import aio
from prometheus_client import CollectorRegistry

from services.common.server import Builder, RunningService, ServiceConfig, start

# For a service's `config.from_env`: loopback, a free port, no /metrics endpoint.
LOOPBACK = {"GRPC_HOST": "127.0.0.1", "GRPC_PORT": "0", "METRICS_PORT": "-1"}

C = TypeVar("C", bound=ServiceConfig)
S = TypeVar("S")


@dataclass
class Served(Generic[S]):
    stub: S
    registry: CollectorRegistry  # the service's own metrics
    running: RunningService

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.running.port}"

    def metric(self, name: str, **labels: str) -> float:
        return self.registry.get_sample_value(name, labels) or 0.0

    def tokens_taken(self, upstream: str) -> float:
        """Upstream calls the scheduler let out for users: from the shared budget, or (Redis too slow on a
        loaded machine) from the local share."""
        return sum(
            self.metric("segue_scheduler_admissions_total", upstream=upstream, lane="interactive", outcome=outcome)
            for outcome in ("admitted", "waited", "local_fallback")
        )


@asynccontextmanager
async def serving(cfg: C, build: Builder[C], stub: Callable[[aio.Channel], S]) -> AsyncIterator[Served[S]]:
    """`build` is the service's `server.build` (bind extra arguments, e.g. an httpx transport, with partial)."""
    registry = CollectorRegistry()
    running = await start(await build(cfg, registry), cfg.server, registry)
    channel = aio.insecure_channel(f"127.0.0.1:{running.port}")
    try:
        yield Served(stub(channel), registry, running)
    finally:
        await channel.close()
        await running.shutdown(drain_delay_s=0, grace_s=0)

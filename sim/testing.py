"""Run the simulator inside the current event loop, for tests and benchmarks.

async with running_sim("fast", time_scale=0.01) as sim:
    async with httpx.AsyncClient(base_url=sim.spotify_url) as client: ...
    sim.stats()["upstreams"]["spotify"]["calls"]
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aiohttp import web

from sim.app import DEFAULT_SEED, create_app
from sim.catalog import Catalog
from sim.endpoints import PREFIXES
from sim.faults import apply_faults, faults_json
from sim.profile import Profile, load_profile
from sim.state import STATE_KEY, SimState


@dataclass
class RunningSim:
    app: web.Application
    host: str
    port: int

    @property
    def state(self) -> SimState:
        return self.app[STATE_KEY]

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def spotify_url(self) -> str:
        return self.base_url + PREFIXES["spotify"]

    @property
    def reccobeats_url(self) -> str:
        return self.base_url + PREFIXES["reccobeats"]

    @property
    def gemini_url(self) -> str:
        return self.base_url + PREFIXES["gemini"]

    @property
    def catalog(self) -> Catalog:
        return self.state.catalog

    @property
    def profile(self) -> Profile:
        return self.state.profile

    def stats(self) -> dict[str, Any]:
        return self.state.stats.as_json()

    def calls(self) -> list[dict[str, Any]]:
        """The /__sim/calls list: each call's upstream, endpoint, start and end (seconds since the reset)."""
        return self.state.stats.calls_json()

    def reset(self, limits: bool = True) -> None:
        self.state.reset(limits=limits)

    def set_faults(self, **fields: Any) -> dict[str, Any]:
        """The fields of POST /__sim/faults: upstream, error_rate, timeout_rate, rate_limit_rate, retry_after_s,
        extra_latency_s, outage, clear."""
        self.state.faults = apply_faults(self.state.faults, self.state.profile, fields)
        return faults_json(self.state.faults)


@asynccontextmanager
async def running_sim(
    profile: str | Path | Profile = "fast", time_scale: float = 1.0, seed: int = DEFAULT_SEED, host: str = "127.0.0.1"
) -> AsyncIterator[RunningSim]:
    """Start the simulator on `host`, a free port, in this loop; stop it on exit."""
    loaded = profile if isinstance(profile, Profile) else load_profile(profile)
    app = create_app(loaded, time_scale, seed)
    runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.5)
    await runner.setup()
    site = web.TCPSite(runner, host, 0)
    await site.start()
    try:
        port = runner.addresses[0][1]
        yield RunningSim(app, host, port)
    finally:
        await runner.cleanup()

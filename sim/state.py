"""Everything one simulator instance holds at run time, shared by its routes."""

from __future__ import annotations

import random
import time
import zlib
from dataclasses import dataclass, field

from aiohttp import web

from sim.catalog import Catalog
from sim.endpoints import UPSTREAMS, Upstream
from sim.faults import FaultSettings, profile_faults
from sim.gemini import Knowledge, knowledge
from sim.limits import GeminiQuota, RollingWindow, TokenBucket
from sim.profile import Profile
from sim.stats import Stats


@dataclass
class Limiters:
    spotify: RollingWindow
    reccobeats: TokenBucket
    gemini: GeminiQuota

    @classmethod
    def for_profile(cls, profile: Profile) -> Limiters:
        return cls(
            RollingWindow(profile.spotify.rate_limit),
            TokenBucket(profile.reccobeats.rate_limit),
            GeminiQuota(profile.gemini.rate_limit),
        )


@dataclass
class SimState:
    profile: Profile
    time_scale: float
    seed: int
    catalog: Catalog
    knowledge: Knowledge  # what the fake Gemini knows of the catalog, built before the first request
    stats: Stats
    faults: dict[Upstream, FaultSettings]
    limiters: Limiters
    # One generator per upstream (seeded by name, not hash(), which varies per process) so that a run's
    # latencies and faults repeat when its calls arrive in the same order.
    rngs: dict[Upstream, random.Random] = field(default_factory=dict)

    @classmethod
    def create(cls, profile: Profile, time_scale: float, seed: int, catalog: Catalog) -> SimState:
        if not time_scale > 0:
            raise ValueError("time_scale must be > 0")
        return cls(
            profile=profile,
            time_scale=time_scale,
            seed=seed,
            catalog=catalog,
            knowledge=knowledge(catalog),
            stats=Stats(profile.name, time_scale),
            faults=profile_faults(profile),
            limiters=Limiters.for_profile(profile),
            rngs={u: random.Random(seed * 1_000_003 + zlib.crc32(u.encode())) for u in UPSTREAMS},
        )

    def sim_now(self) -> float:
        """Simulated seconds on a monotonic clock: real time divided by the time-scale."""
        return time.monotonic() / self.time_scale

    def scaled(self, simulated_s: float) -> float:
        """Real seconds for a simulated duration."""
        return simulated_s * self.time_scale

    def reset(self, limits: bool = True) -> None:
        self.stats.reset()
        if limits:
            self.limiters = Limiters.for_profile(self.profile)


STATE_KEY = web.AppKey("sim_state", SimState)

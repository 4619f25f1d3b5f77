"""The least time any design that consults the LLM must take per prompt, from the profile's own numbers.

Critical path (the calls depend on each other): the median mood-analysis LLM call for that prompt
(endpoint median + time to first token + seconds per output token × the output tokens the fake model
produced for it), then one ReccoBeats recommendation call, then one batch audio-features call, each at its
median latency. Rate-limit bound: for each upstream the calls that must be made ÷ its allowed rate, both as
n/r and with the burst the limiter grants first, (n − b)/r (reliability-notes §6). The bound is the larger.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

from bench.catalog import sim_catalog
from bench.legacy.llm import MODEL, request_body
from bench.legacy.prompts import mood
from bench.simctl import GENERATE
from sim.gemini import generate, knowledge
from sim.profile import Profile

RECOMMEND_ENDPOINT = "GET /track/recommendation"
FEATURES_ENDPOINT = "GET /audio-features"
# The calls one request cannot avoid: one LLM call, one recommendation call, one audio-features call.
REQUIRED_CALLS = {"gemini": 1, "reccobeats": 2}


def allowed_rates(profile: Profile) -> dict[str, float]:
    """Sustained calls per simulated second each upstream allows."""
    return {
        "spotify": profile.spotify.rate_limit.max_requests / profile.spotify.rate_limit.window_s,
        "reccobeats": profile.reccobeats.rate_limit.rate_per_s,
        "gemini": profile.gemini.rate_limit.rpm / 60.0,
    }


def bursts(profile: Profile) -> dict[str, float]:
    return {
        "spotify": float(profile.spotify.rate_limit.max_requests),
        "reccobeats": float(profile.reccobeats.rate_limit.burst),
        "gemini": float(profile.gemini.rate_limit.rpm),
    }


def capacity_rps(profile: Profile, calls_per_request: Mapping[str, float]) -> float:
    """Requests per simulated second the limits sustain when each request makes these calls."""
    rates = allowed_rates(profile)
    return min((rates[u] / n for u, n in calls_per_request.items() if n > 0), default=float("inf"))


@dataclass(frozen=True)
class LowerBound:
    tokens_out: int
    llm_s: float
    recommendation_s: float
    features_s: float
    critical_path_s: float
    rate_s: float  # max over upstreams of n/r
    rate_with_burst_s: float  # max over upstreams of max(0, n − b)/r
    bound_s: float

    def as_json(self) -> dict[str, Any]:
        return asdict(self)


def lower_bound(profile: Profile, tokens_out: int) -> LowerBound:
    speed = profile.gemini.speed
    llm = profile.gemini.latency[GENERATE].median_s + speed.ttft_s + speed.s_per_output_token * tokens_out
    rec = profile.reccobeats.latency[RECOMMEND_ENDPOINT].median_s
    features = profile.reccobeats.latency[FEATURES_ENDPOINT].median_s
    rates, burst = allowed_rates(profile), bursts(profile)
    rate = max(n / rates[u] for u, n in REQUIRED_CALLS.items())
    rate_burst = max(max(0.0, n - burst[u]) / rates[u] for u, n in REQUIRED_CALLS.items())
    path = llm + rec + features
    return LowerBound(tokens_out, llm, rec, features, path, rate, rate_burst, max(path, rate))


def computed_mood_tokens(profile_name: str, seed: int, prompt: str) -> int:
    """Output tokens sim.gemini gives the legacy model's mood-analysis request for `prompt`
    (deterministic: the same as the simulator would count)."""
    return generate(request_body(mood(prompt)), MODEL, knowledge(sim_catalog(profile_name, seed))).output_tokens

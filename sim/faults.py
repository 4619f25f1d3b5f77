"""Fault settings per upstream: the profile's random error and timeout rates, changeable at run time.

POST /__sim/faults takes {"upstream": <name, optional: all if absent>, "error_rate", "timeout_rate",
"rate_limit_rate", "retry_after_s", "extra_latency_s", "outage"} (all optional) or {"clear": true}, which
restores the profile's settings. `extra_latency_s` is simulated seconds added to every call, scaled like
any other delay. `rate_limit_rate` is the share of calls answered 429 with `Retry-After: retry_after_s`
(simulated seconds, scaled): a 429 storm on top of the profile's own rate limits.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, replace
from typing import Any

from sim.endpoints import UPSTREAMS, Upstream
from sim.profile import Profile


@dataclass(frozen=True)
class FaultSettings:
    error_rate: float = 0.0
    timeout_rate: float = 0.0
    rate_limit_rate: float = 0.0
    retry_after_s: float = 1.0
    extra_latency_s: float = 0.0
    outage: bool = False


class FaultError(ValueError):
    pass


def profile_faults(profile: Profile) -> dict[Upstream, FaultSettings]:
    faults = {u: profile.upstream(u).faults for u in UPSTREAMS}
    return {u: FaultSettings(error_rate=f.error_rate, timeout_rate=f.timeout_rate) for u, f in faults.items()}


def apply_faults(
    current: Mapping[Upstream, FaultSettings], profile: Profile, request: Mapping[str, Any]
) -> dict[Upstream, FaultSettings]:
    """The fault settings after `request` (the POST /__sim/faults body); raises FaultError if malformed."""
    body = dict(request)
    if body.pop("clear", False) is True:
        if body:
            raise FaultError("`clear` cannot be combined with other fields")
        return profile_faults(profile)
    upstream = body.pop("upstream", None)
    if upstream is not None and upstream not in UPSTREAMS:
        raise FaultError(f"unknown upstream {upstream!r}; one of {', '.join(UPSTREAMS)}")
    changes: dict[str, Any] = {}
    for key, value in body.items():
        if key in ("error_rate", "timeout_rate", "rate_limit_rate"):
            if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 1:
                raise FaultError(f"{key} must be a number in [0, 1]")
            changes[key] = float(value)
        elif key in ("extra_latency_s", "retry_after_s"):
            if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
                raise FaultError(f"{key} must be a number >= 0")
            changes[key] = float(value)
        elif key == "outage":
            if not isinstance(value, bool):
                raise FaultError("outage must be true or false")
            changes[key] = value
        else:
            raise FaultError(f"unknown field {key!r}")
    targets = UPSTREAMS if upstream is None else (upstream,)
    return {u: replace(s, **changes) if u in targets else s for u, s in current.items()}


def faults_json(settings: Mapping[Upstream, FaultSettings]) -> dict[str, Any]:
    return {u: asdict(s) for u, s in settings.items()}

"""Profiles: how slow, limited and faulty each fake upstream is (sim/profiles/<name>.toml).

`load_profile(name_or_path)` returns a frozen dataclass tree that benchmarks read to compute lower bounds.
Every duration here is in *simulated* seconds; the server multiplies each by its time-scale.

- `profile.<upstream>.latency[endpoint]` → `Latency(median_s, spread, tail_probability, tail_factor)`:
  a lognormal with that median and log-space sigma `spread`; with probability `tail_probability` the
  sample is multiplied by `tail_factor` (the slow tail). Endpoint keys are those of `sim.endpoints`.
- `profile.<upstream>.faults` → `Faults(error_rate, timeout_rate, timeout_s)`.
- `profile.spotify.rate_limit` → `SpotifyRateLimit(window_s, max_requests)`: a rolling window, app-wide.
- `profile.reccobeats.rate_limit` → `ReccoBeatsRateLimit(rate_per_s, burst, cooldown_min_s, cooldown_max_s)`:
  a token bucket; a breach blocks for at least `cooldown_min_s`, and requests during a block double it
  (at most once per `cooldown_min_s / 4`) up to `cooldown_max_s`.
- `profile.gemini.rate_limit` → `GeminiRateLimit(rpm, tpm)`: per model, rolling 60 s; TPM counts input tokens.
- `profile.gemini.speed` → `LlmSpeed(ttft_s, s_per_output_token)`.

A profile file may start with `extends = "<name or path>"` and override only what differs.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any, cast

from pydantic import ConfigDict, Field, TypeAdapter
from pydantic.dataclasses import dataclass

from sim.catalog import CatalogSizes
from sim.endpoints import ENDPOINTS, UPSTREAMS, Upstream

PROFILES_DIR = Path(__file__).parent / "profiles"
_STRICT = ConfigDict(extra="forbid")
Seconds = Annotated[float, Field(ge=0.0)]
Fraction = Annotated[float, Field(ge=0.0, le=1.0)]
Positive = Annotated[float, Field(gt=0.0)]


@dataclass(frozen=True, config=_STRICT)
class Latency:
    median_s: Seconds = 0.001
    spread: Annotated[float, Field(ge=0.0, le=3.0)] = 0.0  # sigma of log(latency)
    tail_probability: Fraction = 0.0
    tail_factor: Annotated[float, Field(ge=1.0)] = 1.0


@dataclass(frozen=True, config=_STRICT)
class Faults:
    error_rate: Fraction = 0.0  # share of calls answered by a random 5xx
    timeout_rate: Fraction = 0.0  # share of calls held for timeout_s, then answered 504
    timeout_s: Positive = 30.0


@dataclass(frozen=True, config=_STRICT)
class SpotifyRateLimit:
    window_s: Positive = 30.0
    max_requests: Annotated[int, Field(ge=1)] = 1_000_000


@dataclass(frozen=True, config=_STRICT)
class ReccoBeatsRateLimit:
    rate_per_s: Positive = 1_000_000.0  # tokens added per second
    burst: Annotated[int, Field(ge=1)] = 1_000_000  # bucket size
    cooldown_min_s: Positive = 1.0
    cooldown_max_s: Positive = 1.0


@dataclass(frozen=True, config=_STRICT)
class GeminiRateLimit:
    rpm: Annotated[int, Field(ge=1)] = 1_000_000  # requests per minute per model
    tpm: Annotated[int, Field(ge=1)] = 1_000_000_000  # input tokens per minute per model


@dataclass(frozen=True, config=_STRICT)
class LlmSpeed:
    ttft_s: Seconds = 0.0
    s_per_output_token: Seconds = 0.0


@dataclass(frozen=True, config=_STRICT)
class SpotifyProfile:
    latency: Mapping[str, Latency]
    faults: Faults = Faults()
    rate_limit: SpotifyRateLimit = SpotifyRateLimit()
    extended_quota: bool = False  # False = Development Mode (2026 rules)
    search_limit_max: Annotated[int, Field(ge=1, le=50)] = 10
    search_limit_default: Annotated[int, Field(ge=1, le=50)] = 5


@dataclass(frozen=True, config=_STRICT)
class ReccoBeatsProfile:
    latency: Mapping[str, Latency]
    faults: Faults = Faults()
    rate_limit: ReccoBeatsRateLimit = ReccoBeatsRateLimit()
    reject_more_negatives_than_seeds: bool = True  # 400 when len(negativeSeeds) > len(seeds)
    reject_seed_overlap: bool = True  # 400 when an ID is both a seed and a negative seed


@dataclass(frozen=True, config=_STRICT)
class GeminiProfile:
    latency: Mapping[str, Latency]
    faults: Faults = Faults()
    rate_limit: GeminiRateLimit = GeminiRateLimit()
    speed: LlmSpeed = LlmSpeed()


UpstreamProfile = SpotifyProfile | ReccoBeatsProfile | GeminiProfile


@dataclass(frozen=True, config=_STRICT)
class Profile:
    name: str
    spotify: SpotifyProfile
    reccobeats: ReccoBeatsProfile
    gemini: GeminiProfile
    description: str = ""
    catalog: CatalogSizes = CatalogSizes()

    def upstream(self, name: Upstream) -> UpstreamProfile:
        return cast(UpstreamProfile, getattr(self, name))


class ProfileError(ValueError):
    pass


def profile_path(name_or_path: str | Path, relative_to: Path = PROFILES_DIR) -> Path:
    """A checked-in profile's file for a bare name (`realistic`), else the path itself."""
    text = str(name_or_path)
    if "/" not in text and not text.endswith(".toml"):
        return PROFILES_DIR / f"{text}.toml"
    path = Path(text)
    return path if path.is_absolute() else relative_to / path


def load_profile(name_or_path: str | Path) -> Profile:
    """Load a checked-in profile by name or any profile file by path; fail naming what is wrong."""
    path = profile_path(name_or_path, Path.cwd())
    raw = _load_raw(path, seen=())
    raw.setdefault("name", path.stem)
    for upstream in UPSTREAMS:
        section = raw.setdefault(upstream, {})
        if not isinstance(section, dict):
            raise ProfileError(f"{path}: [{upstream}] must be a table")
        section["latency"] = _resolve_latency(path, upstream, section.get("latency", {}))
    try:
        return TypeAdapter(Profile).validate_python(raw)
    except ValueError as exc:
        raise ProfileError(f"{path}: {exc}") from exc


def _load_raw(path: Path, seen: tuple[Path, ...]) -> dict[str, Any]:
    if path in seen:
        raise ProfileError(f"{path}: `extends` loops back to itself")
    try:
        data = tomllib.loads(path.read_text())
    except FileNotFoundError as exc:
        raise ProfileError(f"no profile at {path}") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ProfileError(f"{path}: {exc}") from exc
    base = data.pop("extends", None)
    if base is None:
        return data
    parent = _load_raw(profile_path(base, path.parent), (*seen, path))
    parent.pop("name", None)
    parent.pop("description", None)
    return _merge(parent, data)


def _merge(base: dict[str, Any], override: Mapping[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in override.items():
        if isinstance(value, Mapping) and isinstance(out.get(key), dict):
            out[key] = _merge(out[key], value)
        else:
            out[key] = value
    return out


_LATENCY_FIELDS = frozenset(("median_s", "spread", "tail_probability", "tail_factor"))


def _resolve_latency(path: Path, upstream: Upstream, table: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """`[<up>.latency]` holds defaults plus `"<METHOD> <template>"` sub-tables; expand to every endpoint."""
    defaults = {k: v for k, v in table.items() if not isinstance(v, Mapping)}
    overrides = {k: v for k, v in table.items() if isinstance(v, Mapping)}
    unknown = [k for k in defaults if k not in _LATENCY_FIELDS] + [k for k in overrides if k not in ENDPOINTS[upstream]]
    if unknown:
        raise ProfileError(
            f"{path}: unknown key(s) in [{upstream}.latency]: {', '.join(unknown)} "
            f"(endpoints: {', '.join(ENDPOINTS[upstream])})"
        )
    return {endpoint: {**defaults, **overrides.get(endpoint, {})} for endpoint in ENDPOINTS[upstream]}


def checked_in_profiles() -> list[str]:
    return sorted(p.stem for p in PROFILES_DIR.glob("*.toml"))

"""The catalog the bench's simulators serve, built once per profile and seed (a build takes most of a second)."""

from __future__ import annotations

from functools import lru_cache

from sim.catalog import Catalog, build_catalog
from sim.profile import load_profile


@lru_cache(maxsize=4)
def sim_catalog(profile_name: str, seed: int) -> Catalog:
    return build_catalog(seed, load_profile(profile_name).catalog)

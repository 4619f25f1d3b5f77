"""A soak of a few hundred requests: no process grows without bound, and Redis stays within its limit."""

from __future__ import annotations

import pytest

from segue_cli.mesh import Mesh
from tests.chaos.soak import SOAK, SOAK_MAXMEMORY, soak

pytestmark = [pytest.mark.chaos, pytest.mark.asyncio(loop_scope="session")]

# Growth allowed between the two measurements: a bounded process levels off after the warm-up.
GROWTH_FACTOR, GROWTH_SLACK_KB = 1.25, 20_000


async def test_a_soak_grows_no_process_without_bound_and_redis_stays_within_its_limit(chaos_mesh: Mesh) -> None:
    figures = await soak(chaos_mesh)
    failed = [r for r in figures.results if r.kind == "failed"]
    assert not failed, f"{len(failed)} of {len(figures.results)} failed, e.g. {failed[:3]}"
    for name, kb in figures.after_kb.items():
        before = figures.before_kb[name]
        assert kb <= before * GROWTH_FACTOR + GROWTH_SLACK_KB, f"{name} grew from {before} kB to {kb} kB in {SOAK}"
    assert figures.redis_memory["maxmemory_policy"] == "allkeys-lru"
    assert figures.evicted_keys > 0, "the soak should have filled Redis to its limit"
    # Redis evicts before each write, so it may overshoot by about one write at most.
    assert figures.redis_memory["used_memory"] <= SOAK_MAXMEMORY * 1.1, figures.redis_memory["used_memory_human"]

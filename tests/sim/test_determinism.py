"""Two simulator instances with the same seed answer alike; another seed gives another catalog."""

from __future__ import annotations

from typing import Any

import httpx

from sim.testing import RunningSim, running_sim
from tests.sim.conftest import AUTH


async def answers(sim: RunningSim, http: httpx.AsyncClient) -> list[Any]:
    seeds = [t.spotify_id for t in sim.catalog.tracks if t.has_audio_features][:3]
    return [
        (await http.get(sim.spotify_url + "/me/top/tracks", params={"limit": 50}, headers=AUTH)).json()["items"],
        (await http.get(sim.spotify_url + "/me/top/artists", params={"time_range": "short_term"}, headers=AUTH)).json()[
            "items"
        ],
        (
            await http.get(
                sim.spotify_url + "/search", params={"q": "genre:jazz", "type": "track,artist"}, headers=AUTH
            )
        ).json(),
        (
            await http.get(
                sim.reccobeats_url + "/track/recommendation",
                params={"seeds": ",".join(seeds), "size": 30, "valence": 0.8},
            )
        ).json(),
    ]


def without_urls(value: Any) -> Any:
    """Paging hrefs carry the port, which differs between instances."""
    if isinstance(value, dict):
        return {k: without_urls(v) for k, v in value.items() if k not in ("href", "next", "previous")}
    if isinstance(value, list):
        return [without_urls(v) for v in value]
    return value


async def test_same_seed_same_answers_across_instances(http: httpx.AsyncClient) -> None:
    async with running_sim("fast", seed=5) as first:
        a = await answers(first, http)
    async with running_sim("fast", seed=5) as second:
        b = await answers(second, http)
    async with running_sim("fast", seed=6) as other:
        c = await answers(other, http)
    assert without_urls(a) == without_urls(b)
    assert [t["id"] for t in a[0]] != [t["id"] for t in c[0]]
    assert len(a[3]["content"]) == 30

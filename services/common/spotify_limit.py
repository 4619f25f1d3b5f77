"""Spotify's app-wide limit, defined once for every service that calls Spotify through the shared scheduler:
the seed gatherer (the user's context, catalog searches) and the orchestrator (the identity check, GET /me).

Spotify counts an app's calls over a rolling 30 s window and publishes no number; reports (and the
realistic simulator profile) say about 90. A little below, so the shared budget sees no 429.
"""

from __future__ import annotations

from dataclasses import dataclass

from services.common.config import EnvReader
from services.common.gcra import Limit


@dataclass(frozen=True)
class SpotifyLimit:
    requests: int = 81
    window_s: float = 30.0
    burst: int = 4

    @property
    def limits(self) -> tuple[Limit, ...]:
        return (Limit.window("requests", self.requests, self.window_s, self.burst),)


def read_spotify_limit(env: EnvReader) -> SpotifyLimit:
    limit = SpotifyLimit(
        requests=env.integer("SPOTIFY_LIMIT_REQUESTS", SpotifyLimit.requests, minimum=2),
        window_s=env.number("SPOTIFY_LIMIT_WINDOW_S", SpotifyLimit.window_s, minimum=0.001),
        burst=env.integer("SPOTIFY_LIMIT_BURST", SpotifyLimit.burst, minimum=1),
    )
    if limit.burst >= limit.requests:
        env.problem("SPOTIFY_LIMIT_BURST must be below SPOTIFY_LIMIT_REQUESTS (the burst is part of the window)")
    return limit

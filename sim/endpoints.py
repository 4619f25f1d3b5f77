"""Every endpoint the simulator serves, named by its route template relative to the upstream's base URL.

These names are the keys of the stats JSON and of per-endpoint latencies in profiles.
"""

from __future__ import annotations

from typing import Final, Literal

Upstream = Literal["spotify", "reccobeats", "gemini"]
UPSTREAMS: Final[tuple[Upstream, ...]] = ("spotify", "reccobeats", "gemini")

ENDPOINTS: Final[dict[Upstream, tuple[str, ...]]] = {
    "spotify": (
        "GET /me",
        "GET /me/top/tracks",
        "GET /me/top/artists",
        "GET /search",
        "GET /artists/{id}",
        "GET /artists/{id}/top-tracks",
        "GET /audio-features",
    ),
    "reccobeats": (
        "GET /track",
        "GET /track/recommendation",
        "GET /track/{id}/audio-features",
        "GET /audio-features",
        "GET /artist",
        "GET /artist/search",
        "GET /artist/{id}/track",
    ),
    "gemini": ("POST /models/{model}:generateContent", "POST /models/{model}:streamGenerateContent"),
}

# Path prefix of each upstream on the simulator; the base URL a client uses is http://host:port + prefix.
PREFIXES: Final[dict[Upstream, str]] = {
    "spotify": "/spotify/v1",
    "reccobeats": "/reccobeats/v1",
    "gemini": "/gemini",
}

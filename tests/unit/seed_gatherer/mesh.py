"""The seed gatherer and the real ReccoBeat gateway on 127.0.0.1:0, with scripted upstream HTTP APIs."""

from __future__ import annotations

import socket
import uuid
from collections.abc import AsyncIterator, Mapping
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, field
from functools import partial
from typing import Any

import httpx

from services.common import stubs
from services.reccobeat_gateway import config as gateway_config
from services.reccobeat_gateway import server as gateway_server
from services.seed_gatherer import config, server
from tests.unit.inprocess import LOOPBACK, Served, serving


def features_row(spotify_id: str, **values: float) -> dict[str, Any]:
    """A ReccoBeats audio-features row; unnamed features sit mid-range."""
    row: dict[str, Any] = dict.fromkeys(
        ("acousticness", "danceability", "energy", "instrumentalness", "liveness", "speechiness", "valence"), 0.5
    )
    row.update(loudness=-8.0, tempo=120.0, key=5, mode=1)
    row.update(values)
    row.update(id=str(uuid.uuid5(uuid.NAMESPACE_URL, spotify_id)), href=f"https://open.spotify.com/track/{spotify_id}")
    return row


@dataclass
class FakeReccoBeats:
    """`GET /audio-features?ids=` over a fixed table; IDs not in it are left out, as ReccoBeats does."""

    features: dict[str, dict[str, Any]] = field(default_factory=dict)  # Spotify ID → row
    requests: list[httpx.Request] = field(default_factory=list)

    def transport(self) -> httpx.MockTransport:
        return httpx.MockTransport(self.handle)

    def handle(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if request.url.path != "/v1/audio-features":
            return httpx.Response(404, json={"error": "not scripted"})
        ids = request.url.params["ids"].split(",")
        return httpx.Response(200, json={"content": [self.features[i] for i in ids if i in self.features]})


def unused_port() -> int:
    """A loopback port nobody listens on: the address of a peer that is down."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


Mesh = Served["seed_gatherer_pb2_grpc.SeedGathererAsyncStub"]
# Calls counted are the calls the services must make: no hedged copies (a loaded machine answers late) and no
# random re-check of an ID known absent (1 % of registry hits by default), unless a test asks for them.
EXACT_CALLS = {"RECCOBEAT_HEDGE": "false", "SPOTIFY_HEDGE": "false", "ABSENT_RECHECK_FRACTION": "0"}


@asynccontextmanager
async def running_mesh(
    spotify: httpx.AsyncBaseTransport | None = None,
    reccobeats: httpx.AsyncBaseTransport | None = None,
    *,
    env: Mapping[str, str] | None = None,
    gateway_env: Mapping[str, str] | None = None,
    gateway_up: bool = True,
) -> AsyncIterator[Mesh]:
    """Transports script the upstreams; without one, the base URL in `env` / `gateway_env` is used (the sim).

    `gateway_up=False` leaves the gateway down: its address refuses connections. See EXACT_CALLS.
    """
    async with AsyncExitStack() as stack:
        gateway_addr = f"127.0.0.1:{unused_port()}"
        if gateway_up:
            gateway = await stack.enter_async_context(
                serving(
                    gateway_config.from_env({**LOOPBACK, **EXACT_CALLS, **(gateway_env or {})}),
                    partial(gateway_server.build, transport=reccobeats),
                    stubs.reccobeat_gateway,
                )
            )
            gateway_addr = gateway.address
        cfg = config.from_env({**LOOPBACK, **EXACT_CALLS, "RECCOBEAT_GATEWAY_ADDR": gateway_addr, **(env or {})})
        yield await stack.enter_async_context(
            serving(cfg, partial(server.build, transport=spotify), stubs.seed_gatherer)
        )

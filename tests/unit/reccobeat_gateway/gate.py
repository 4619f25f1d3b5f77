"""An httpx transport that holds every upstream request until the test opens it.

With the gateway's upstream calls held, a test can start many RPCs, wait (on a condition, not a
sleep) until all of them have queued their IDs, then let the calls go: what is batched or shared
then depends on what the gateway does, never on how fast the machine is.
"""

from __future__ import annotations

import asyncio

import httpx


class Gate(httpx.AsyncBaseTransport):
    def __init__(self, inner: httpx.AsyncBaseTransport | None = None) -> None:
        self._inner = inner or httpx.AsyncHTTPTransport()
        self._open = asyncio.Event()
        self.arrived = 0  # requests that reached the gate, held or not

    def open(self) -> None:
        self._open.set()

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.arrived += 1
        await self._open.wait()
        return await self._inner.handle_async_request(request)

    async def aclose(self) -> None:
        await self._inner.aclose()

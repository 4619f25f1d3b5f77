"""A frozen Redis: a TCP server that accepts connections and never answers, as a SIGSTOPped redis-server does."""

from __future__ import annotations

import asyncio


class FrozenServer:
    def __init__(self) -> None:
        self.received = 0
        self.port = 0
        self._server: asyncio.Server | None = None
        self._writers: list[asyncio.StreamWriter] = []

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._writers.append(writer)
        try:
            while chunk := await reader.read(4096):
                self.received += len(chunk)
        except (asyncio.CancelledError, ConnectionError):
            return

    async def __aenter__(self) -> FrozenServer:
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def __aexit__(self, *exc: object) -> None:
        for writer in self._writers:
            writer.close()
        assert self._server is not None
        self._server.close()

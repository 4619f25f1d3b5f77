"""A tiny Gemini stand-in for unit tests: a real aiohttp server answering with scripted, Gemini-shaped JSON.

The real google-genai SDK does the HTTP against it, so the tests exercise the actual request building,
response parsing and error classes. Each request is recorded (path, headers, JSON body, arrival time).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web


@dataclass
class Reply:
    status: int = 200
    body: Any = None
    delay_s: float = 0.0
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class Seen:
    path: str
    headers: dict[str, str]
    body: dict[str, Any]
    at: float

    @property
    def prompt(self) -> str:
        return str(self.body["contents"][0]["parts"][0]["text"])

    @property
    def schema(self) -> dict[str, Any]:
        return dict(self.body["generationConfig"]["responseSchema"])


def answer(payload: Any, *, prompt_tokens: int = 50, output_tokens: int = 20) -> Reply:
    """A successful generateContent answer whose text is `payload` (JSON-encoded unless already a string)."""
    text = payload if isinstance(payload, str) else json.dumps(payload)
    return Reply(
        200,
        {
            "candidates": [
                {"content": {"role": "model", "parts": [{"text": text}]}, "finishReason": "STOP", "index": 0}
            ],
            "usageMetadata": {
                "promptTokenCount": prompt_tokens,
                "candidatesTokenCount": output_tokens,
                "totalTokenCount": prompt_tokens + output_tokens,
            },
            "modelVersion": "gemini-2.5-flash",
        },
    )


def error(code: int, status: str, message: str = "error", details: list[dict[str, Any]] | None = None) -> Reply:
    return Reply(code, {"error": {"code": code, "message": message, "status": status, "details": details or []}})


def rate_limited(retry_delay: str) -> Reply:
    return error(
        429,
        "RESOURCE_EXHAUSTED",
        "You exceeded your current quota",
        [
            {"@type": "type.googleapis.com/google.rpc.QuotaFailure", "violations": [{"quotaMetric": "requests"}]},
            {"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": retry_delay},
        ],
    )


class FakeGemini:
    def __init__(self) -> None:
        self.requests: list[Seen] = []
        self.script: list[Reply] = []  # consumed first, in order
        self.default: Callable[[Seen], Reply] = lambda seen: error(500, "INTERNAL", "no reply scripted")
        self.url = ""
        self._runner: web.AppRunner | None = None
        self._closing = asyncio.Event()

    async def _handle(self, request: web.Request) -> web.Response:
        seen = Seen(request.path, dict(request.headers), await request.json(), time.monotonic())
        self.requests.append(seen)
        reply = self.script.pop(0) if self.script else self.default(seen)
        if reply.delay_s:
            # Interrupted by stop(), so a slow reply does not hold up the test's teardown.
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._closing.wait(), reply.delay_s)
        return web.json_response(reply.body, status=reply.status, headers=reply.headers)

    async def start(self) -> None:
        app = web.Application()
        app.router.add_post("/{tail:.*}", self._handle)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.url = f"http://127.0.0.1:{port}/gemini"

    async def stop(self) -> None:
        self._closing.set()
        if self._runner is not None:
            await self._runner.cleanup()

"""The path every upstream call takes: count it, apply faults, run the handler, wait the latency, answer.

Order per call: forced outage (503) → random 5xx, timeout (504 after `timeout_s`) or 429 from the fault rates →
the endpoint's handler (auth, rate limit, validation, the answer). Every reply, errors included, waits the
endpoint's sampled latency plus any extra fault latency plus the reply's own work time (LLM generation),
all multiplied by the time-scale. A streamed reply (Reply.events) then sends each event after its own work
time; the call counts as finished when its last event is sent.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import math
import random
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Protocol

from aiohttp import web

from sim.endpoints import ENDPOINTS, PREFIXES, Upstream
from sim.profile import Latency
from sim.reply import Call, Handler, Reply, ReplyError, retry_after
from sim.state import STATE_KEY, SimState
from sim.upstreams.params import ParamError

_RANDOM_ERRORS = (500, 502, 503)


class ErrorReply(Protocol):
    def __call__(self, request: web.Request, status: int, message: str | None = None, /) -> Reply:
        """The upstream's own error body for `status`, with its usual message unless one is given."""
        ...


@dataclass(frozen=True)
class UpstreamRoutes:
    name: Upstream
    handlers: Mapping[str, Handler]  # endpoint key ("GET /track") → handler
    error: ErrorReply  # faults, unknown paths and malformed requests are answered with it
    path_prefix: str  # aiohttp path prefix, may hold placeholders (Gemini's API version)
    placeholder_patterns: Mapping[str, str] = field(default_factory=dict)  # e.g. {"model": "[^/:]+"}
    # What a handler raises for a malformed request: answered 400 with str(exc) as the message.
    bad_request: tuple[type[Exception], ...] = (ParamError,)


def sample_latency(latency: Latency, rng: random.Random) -> float:
    """Simulated seconds: lognormal around the median, times the tail factor with the tail probability."""
    value = latency.median_s * math.exp(latency.spread * rng.gauss(0.0, 1.0)) if latency.spread else latency.median_s
    if latency.tail_probability and rng.random() < latency.tail_probability:
        value *= latency.tail_factor
    return value


def _decide(state: SimState, routes: UpstreamRoutes, endpoint: str, call: Call) -> Reply:
    faults = state.faults[routes.name]
    if faults.outage:
        return routes.error(call.request, 503)
    rng = state.rngs[routes.name]
    roll = rng.random()
    if roll < faults.error_rate:
        return routes.error(call.request, rng.choice(_RANDOM_ERRORS))
    if roll < faults.error_rate + faults.timeout_rate:
        timeout_s = state.profile.upstream(routes.name).faults.timeout_s
        return replace(routes.error(call.request, 504), work_s=timeout_s)
    if roll < faults.error_rate + faults.timeout_rate + faults.rate_limit_rate:
        limited = routes.error(call.request, 429)
        return replace(limited, headers={**limited.headers, "Retry-After": retry_after(state, faults.retry_after_s)})
    try:
        return routes.handlers[endpoint](call)
    except ReplyError as exc:
        return exc.reply
    except routes.bad_request as exc:
        return routes.error(call.request, 400, str(exc))


async def _stream(state: SimState, request: web.Request, reply: Reply) -> web.StreamResponse:
    """Send the reply's events as they are ready, each after its own work time: a client reads the start of
    the answer before its end, and the whole takes as long as the unstreamed reply would."""
    response = web.StreamResponse(status=reply.status, headers={**reply.headers, "Content-Type": "text/event-stream"})
    await response.prepare(request)
    with contextlib.suppress(ConnectionResetError):  # a client that stops reading hangs up: nobody to send to
        for event in reply.events:
            await asyncio.sleep(state.scaled(event.work_s))
            await response.write(event.encoded())
        await response.write_eof()
    return response


async def _serve(routes: UpstreamRoutes, endpoint: str | None, request: web.Request) -> web.StreamResponse:
    state = request.app[STATE_KEY]
    started = state.stats.start(routes.name, endpoint)
    status = 500  # what an unexpected exception becomes
    reply: Reply | None = None
    try:
        call = Call(state, request, await request.read())
        if endpoint is None:
            reply = routes.error(request, 404)
            delay = 0.0
        else:
            latency = state.profile.upstream(routes.name).latency[endpoint]
            delay = sample_latency(latency, state.rngs[routes.name]) + state.faults[routes.name].extra_latency_s
            reply = _decide(state, routes, endpoint, call)
        status = reply.status
        await asyncio.sleep(state.scaled(delay + reply.work_s))
        return await _stream(state, request, reply) if reply.events else reply.response()
    finally:
        state.stats.finish(routes.name, endpoint, status, started, request.query_string)
        if reply is not None and (reply.tokens_in or reply.tokens_out):
            state.stats.add_tokens(routes.name, reply.tokens_in, reply.tokens_out)


def _aiohttp_path(template: str, patterns: Mapping[str, str]) -> str:
    for name, pattern in patterns.items():
        template = template.replace("{" + name + "}", "{" + name + ":" + pattern + "}")
    return template


def add_upstream(app: web.Application, routes: UpstreamRoutes) -> None:
    """Register every endpoint of one upstream (static paths before dynamic ones), then a catch-all."""
    for endpoint in ENDPOINTS[routes.name]:
        method, template = endpoint.split(" ", 1)
        path = routes.path_prefix + _aiohttp_path(template, routes.placeholder_patterns)
        app.router.add_route(method, path, functools.partial(_serve, routes, endpoint))
    app.router.add_route("*", PREFIXES[routes.name] + "/{tail:.*}", functools.partial(_serve, routes, None))

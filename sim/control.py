"""Control endpoints under /__sim (never counted in stats).

- GET  /__sim/health  → 200 {"status": "ok", profile, time_scale, seed, catalog sizes}
- GET  /__sim/stats   → the stats JSON (see sim.stats)
- GET  /__sim/calls   → {"calls": [{upstream, endpoint, query, started, finished, status}]}: the last calls since
  the reset, times in seconds since it, so a test can see which calls overlapped
- POST /__sim/reset   → zero the counters and, unless the body says {"limits": false}, the rate-limit state
- POST /__sim/faults → change fault settings (see sim.faults), answered with all of them; 400 {"error": ...} if
  malformed
"""

from __future__ import annotations

import json
from dataclasses import asdict
from typing import Any

from aiohttp import web

from sim.faults import FaultError, apply_faults, faults_json
from sim.state import STATE_KEY


async def _json_body(request: web.Request) -> dict[str, Any]:
    raw = await request.read()
    if not raw.strip():
        return {}
    try:
        body = json.loads(raw)
    except ValueError:
        raise _bad_request("body is not JSON") from None
    if not isinstance(body, dict):
        raise _bad_request("body must be a JSON object")
    return body


def _bad_request(message: str) -> web.HTTPBadRequest:
    return web.HTTPBadRequest(text=json.dumps({"error": message}), content_type="application/json")


async def health(request: web.Request) -> web.Response:
    state = request.app[STATE_KEY]
    return web.json_response(
        {
            "status": "ok",
            "profile": state.profile.name,
            "time_scale": state.time_scale,
            "seed": state.seed,
            "catalog": asdict(state.catalog.sizes),
        }
    )


async def stats(request: web.Request) -> web.Response:
    return web.json_response(request.app[STATE_KEY].stats.as_json())


async def calls(request: web.Request) -> web.Response:
    return web.json_response({"calls": request.app[STATE_KEY].stats.calls_json()})


async def reset(request: web.Request) -> web.Response:
    state = request.app[STATE_KEY]
    body = await _json_body(request)
    state.reset(limits=body.get("limits", True) is not False)
    return web.json_response({"reset": True, "since": state.stats.since})


async def set_faults(request: web.Request) -> web.Response:
    state = request.app[STATE_KEY]
    try:
        state.faults = apply_faults(state.faults, state.profile, await _json_body(request))
    except FaultError as exc:
        return web.json_response({"error": str(exc)}, status=400)
    return web.json_response(faults_json(state.faults))


def add_control_routes(app: web.Application) -> None:
    app.router.add_get("/__sim/health", health)
    app.router.add_get("/__sim/stats", stats)
    app.router.add_get("/__sim/calls", calls)
    app.router.add_post("/__sim/reset", reset)
    app.router.add_post("/__sim/faults", set_faults)

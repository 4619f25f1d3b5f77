"""The simulator's aiohttp application: three fake upstreams and the /__sim control endpoints."""

from __future__ import annotations

from aiohttp import web

from sim.catalog import Catalog, build_catalog
from sim.control import add_control_routes
from sim.pipeline import add_upstream
from sim.profile import Profile
from sim.state import STATE_KEY, SimState
from sim.upstreams import gemini, reccobeats, spotify

DEFAULT_SEED = 42


def create_app(
    profile: Profile, time_scale: float = 1.0, seed: int = DEFAULT_SEED, catalog: Catalog | None = None
) -> web.Application:
    """Build the catalog (unless given) and the app; the catalog is ready when this returns."""
    app = web.Application()
    app[STATE_KEY] = SimState.create(profile, time_scale, seed, catalog or build_catalog(seed, profile.catalog))
    add_control_routes(app)
    for routes in (spotify.ROUTES, reccobeats.ROUTES, gemini.ROUTES):
        add_upstream(app, routes)
    return app

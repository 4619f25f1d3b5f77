"""Who gets in, and how often: caller quota → verified identity → user quota, before any work starts.

Quotas are counted in this process with the `limits` library (moving windows in memory): each replica
allows its own quota, so N replicas allow N times it in all. That keeps a flood from one caller off
every replica's hot path without a Redis round trip per call; a mesh-wide quota belongs to the shared
rate-limit scheduler. Past a quota: RESOURCE_EXHAUSTED with `retry-after-ms`.

The caller quota is checked before the token is: a flood of made-up tokens costs Spotify nothing past it.
"""

from __future__ import annotations

import re
import time
from collections.abc import Sequence

from limits import RateLimitItem, parse_many
from limits.aio.storage import MemoryStorage
from limits.aio.strategies import MovingWindowRateLimiter

from services.common.config import EnvReader
from services.common.errors import ResourceExhausted
from services.common.identity import Identities, Identity
from services.orchestrator.callers import current_caller

# "120/minute", "10/second;600/hour" (limits' notation, restricted to the plain form); "off" disables.
_QUOTA = re.compile(r"off|\d+\s*/\s*(second|minute|hour|day)(\s*;\s*\d+\s*/\s*(second|minute|hour|day))*")
QUOTA_SHAPE = "'N/second', 'N/minute', 'N/hour' or 'N/day', several joined by ';', or 'off'"


def read_quota(env: EnvReader, name: str, default: str) -> tuple[RateLimitItem, ...]:
    text = env.matching(name, default, _QUOTA, QUOTA_SHAPE)
    if not _QUOTA.fullmatch(text) or text == "off":
        return ()
    return tuple(parse_many(text))


class Quotas:
    """Moving-window request counts per key, in this process."""

    def __init__(self) -> None:
        self._limiter = MovingWindowRateLimiter(MemoryStorage())

    async def hit(self, scope: str, key: str, items: Sequence[RateLimitItem], what: str) -> None:
        """Count one request of `key` against every window of `items`; RESOURCE_EXHAUSTED past any."""
        for item in items:
            if not await self._limiter.hit(item, scope, key):
                stats = await self._limiter.get_window_stats(item, scope, key)
                wait = max(0.001, stats.reset_time - time.time())
                raise ResourceExhausted(f"{what} quota ({item}) is used up: retry in {wait:.1f}s", wait)


class Admission:
    def __init__(
        self,
        identities: Identities,
        quotas: Quotas,
        caller_quota: Sequence[RateLimitItem],
        user_quota: Sequence[RateLimitItem],
    ) -> None:
        self._identities = identities
        self._quotas = quotas
        self._caller_quota = caller_quota
        self._user_quota = user_quota

    async def caller(self) -> None:
        await self._quotas.hit("caller", current_caller().name, self._caller_quota, "this caller's request")

    async def identity(self, token: str, claimed_user_id: str) -> Identity:
        """The user the token belongs to (UNAUTHENTICATED, or PERMISSION_DENIED when the claim names another)."""
        return await self._identities.verify(token, claimed_user_id)

    async def user(self, token: str, claimed_user_id: str) -> Identity:
        """The verified user, once the user's own request quota allows one more."""
        identity = await self.identity(token, claimed_user_id)
        await self._quotas.hit("user", identity.key, self._user_quota, "this user's request")
        return identity

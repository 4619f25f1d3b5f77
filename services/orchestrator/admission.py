"""Who gets in, and how often: caller quota → verified identity → user quota, before any work starts.

Quotas are counted in this process with the `limits` library (moving windows in memory): each replica
allows its own quota, so N replicas allow N times it in all. That keeps a flood from one caller off
every replica's hot path without a Redis round trip per call; a mesh-wide quota belongs to the shared
rate-limit scheduler. Past a quota: RESOURCE_EXHAUSTED with `retry-after-ms`.

The caller quota is checked before the token is: a flood of made-up tokens costs Spotify nothing past it.

When Spotify cannot say whose token a request carries for a transient reason (its `GET /v1/me` answered
429 or 5xx, timed out, or the shared scheduler's wait for a slot outlasts the deadline), the request goes
on unverified (`Unverified`, see `unverified_by`): a playlist made from the prompt alone, reading and
writing no per-user artifact. A refused token (UNAUTHENTICATED) and a claim naming another user
(PERMISSION_DENIED) stay refusals: only Spotify's trouble degrades, never a "no".
"""

from __future__ import annotations

import enum
import re
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from limits import RateLimitItem, parse_many
from limits.aio.storage import MemoryStorage
from limits.aio.strategies import MovingWindowRateLimiter

from services.common.config import EnvReader
from services.common.errors import PermissionDenied, ResourceExhausted, SegueError, Unauthenticated, Unavailable
from services.common.identity import Identities, Identity
from services.orchestrator.callers import current_caller
from services.orchestrator.overload import Plan

# "120/minute", "10/second;600/hour" (limits' notation, restricted to the plain form); "off" disables.
_QUOTA = re.compile(r"off|\d+\s*/\s*(second|minute|hour|day)(\s*;\s*\d+\s*/\s*(second|minute|hour|day))*")
QUOTA_SHAPE = "'N/second', 'N/minute', 'N/hour' or 'N/day', several joined by ';', or 'off'"


def read_quota(env: EnvReader, name: str, default: str) -> tuple[RateLimitItem, ...]:
    text = env.matching(name, default, _QUOTA, QUOTA_SHAPE)
    if not _QUOTA.fullmatch(text) or text == "off":
        return ()
    return tuple(parse_many(text))


class UnverifiedReason(enum.StrEnum):
    RATE_LIMITED = "rate_limited"  # GET /me answered 429, or the wait for a Spotify slot outlasts the deadline
    UNAVAILABLE = "unavailable"  # GET /me answered 5xx, timed out, or answered without a user id


@dataclass(frozen=True)
class Unverified:
    """A request whose token's user Spotify could not confirm, for a transient reason."""

    reason: UnverifiedReason
    detail: str  # the error's message (safe to show: it names no token)

    @property
    def why_impersonal(self) -> str:
        return (
            f"Spotify could not confirm whose token this is ({self.detail}): this playlist follows the prompt "
            "but not your taste, and starts no session"
        )

    def plan(self, admitted: Plan) -> Plan:
        """What the pass may do: nothing of the user's (the overload's impersonal plan), nothing with the token;
        and, when overload admitted it lean, no fresh recommendations either (both said in one warning)."""
        why = self.why_impersonal
        if not admitted.recommendations:
            why += f"; and {admitted.why_impersonal}"
        return Plan(
            personalised=False,
            mood_budget_s=admitted.mood_budget_s,
            why_impersonal=why,
            verified=False,
            recommendations=admitted.recommendations,
        )


def unverified_by(exc: SegueError) -> Unverified | None:
    """Whether the identity check's failure lets the request go on unverified (None: it is refused as raised).

    A refusal stays one: a rejected token (UNAUTHENTICATED), a user this app may not serve or a claim naming
    another user (PERMISSION_DENIED), or any answer about the request itself (an upstream 4xx other than 429).
    Transient trouble does not: a rate limit (RESOURCE_EXHAUSTED), an unreachable or failing Spotify
    (UNAVAILABLE). A spent deadline stays DEADLINE_EXCEEDED: no pass could be made in it either.
    """
    if isinstance(exc, Unauthenticated | PermissionDenied):
        return None
    if isinstance(exc, ResourceExhausted):
        return Unverified(UnverifiedReason.RATE_LIMITED, exc.message)
    if isinstance(exc, Unavailable):
        return Unverified(UnverifiedReason.UNAVAILABLE, exc.message)
    return None


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

    async def identity(self, token: str, claimed_user_id: str, meanwhile: Callable[[], None] | None = None) -> Identity:
        """The user the token belongs to (UNAUTHENTICATED, or PERMISSION_DENIED when the claim names another).
        `meanwhile`: called when Spotify must be asked whose token it is (see Identities.verify)."""
        return await self._identities.verify(token, claimed_user_id, meanwhile=meanwhile)

    async def user(
        self, token: str, claimed_user_id: str, meanwhile: Callable[[], None] | None = None
    ) -> Identity | Unverified:
        """The verified user, once the user's own request quota allows one more; `Unverified` when Spotify
        could not say whose token it is for a transient reason (no user, so no user quota to count)."""
        try:
            identity = await self.identity(token, claimed_user_id, meanwhile)
        except SegueError as exc:
            unverified = unverified_by(exc)
            if unverified is None:
                raise
            return unverified
        await self._quotas.hit("user", identity.key, self._user_quota, "this user's request")
        return identity

"""Background prefetches, bounded: dropped — never queued — past their bounds, and the caller told why.

At most PREFETCH_MAX_INFLIGHT run at once in this process, at most one per user, and at most
PREFETCH_USER_QUOTA are accepted per user per window. A prefetch is only ever a hint (the request
that follows warms the same caches), so one past a bound answers `accepted: false` with the reason
instead of waiting: a queue would hold the flood's work in memory and spend the upstreams' budgets
on it later, while interactive requests wait behind it.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence

from limits import RateLimitItem

from services.common.background import BackgroundTasks
from services.common.errors import ResourceExhausted
from services.common.identity import Identity
from services.orchestrator.admission import Quotas

log = logging.getLogger(__name__)


class BackgroundWork:
    def __init__(self, quotas: Quotas, max_inflight: int, user_quota: Sequence[RateLimitItem]) -> None:
        self._quotas = quotas
        self._max_inflight = max_inflight
        self._user_quota = user_quota
        self._admitting = 0  # prefetches whose user is being verified: they hold a slot too
        self._users: set[str] = set()  # one running prefetch each
        self._tasks = BackgroundTasks("prefetch")

    async def submit(
        self, verify: Callable[[], Awaitable[Identity]], work: Callable[[Identity], Awaitable[None]]
    ) -> str:
        """Verify the user, then run `work` for them in the background. "" when started, else why it was dropped.

        The slot is taken before the user is verified, so a flood of prefetches with new tokens cannot make
        more than PREFETCH_MAX_INFLIGHT identity look-ups at once either. `verify`'s errors propagate.
        """
        if self._admitting + len(self._users) >= self._max_inflight:
            return f"dropped: {self._max_inflight} prefetches are already running; try again later"
        self._admitting += 1
        try:
            identity = await verify()
            if identity.key in self._users:
                return "dropped: a prefetch for this user is already running"
            try:
                await self._quotas.hit("prefetch", identity.key, self._user_quota, "this user's prefetch")
            except ResourceExhausted as exc:
                return f"dropped: {exc.message}"
            self._users.add(identity.key)
            task = self._tasks.spawn(self._run(identity, work), "warm")
            # Freed however the task ends, even cancelled before it ever ran.
            task.add_done_callback(lambda _: self._users.discard(identity.key))
            return ""
        finally:
            self._admitting -= 1

    async def _run(self, identity: Identity, work: Callable[[Identity], Awaitable[None]]) -> None:
        try:
            await work(identity)
        except Exception as exc:
            log.warning("a prefetch failed: %s", exc)

    async def close(self) -> None:
        """Cancel what is still running and wait until it has ended (at shutdown nobody waits for a prefetch)."""
        await self._tasks.close()

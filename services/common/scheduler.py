"""One upstream budget shared by every replica: GCRA limits and the 429 cooldown, decided in Redis.

Each upstream has two keys that share a hash tag, so one script can touch both on a Redis Cluster:
`segue:rl:{<upstream>}:cooldown` (when the last 429's pause ends) and `segue:rl:{<upstream>}:gcra`
(a hash: per limit its TAT and parameters). Three small Lua scripts decide on the Redis server's own
clock (`TIME`), so replicas' clocks never matter:

- acquire: the cooldown and every limit (Gemini: requests and tokens per minute) in one round trip.
  An interactive call reserves the earliest slot within its deadline and learns its exact wait; a
  background call only takes a slot that is free now and leaves the reserve share of each burst
  (see gcra.py); past the deadline nothing is taken and the caller is refused at once.
- hold: a 429's Retry-After sets the cooldown, which only ever extends, and empties the buckets for
  when it ends, so every replica resumes at the sustained rate instead of in a burst. (A replica back
  from the local fallback likewise leaves the buckets empty, without a cooldown, when the last slot it
  promised alone is past.)
- peek: the wait a call would have now, changing nothing (`estimate_wait`, `BudgetView`).

Why our own script and not throttled-py (whose async Redis GCRA also uses the server's clock and
runs on a cluster): it checks one limit per key and round trip, so RPM and TPM could not be decided
together (a call could take an RPM slot and then be refused on TPM); it has no cooldown floor read
with the decision, no reservation (its wait mode polls, so the wait is not known before waiting),
and no priority lanes. Those are the whole job here, and the script is about forty lines.

When Redis cannot be reached, each replica falls back to `LocalLimiter` at its share of every limit
(SCHEDULER_REPLICAS), starting after the last slot it knew Redis had promised, says so once in the log
and in `segue_scheduler_redis_fallback`, and tries Redis again every PROBE_INTERVAL_S.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any, TypeVar

from redis.exceptions import RedisError

from services.common import call_context
from services.common.config import EnvReader
from services.common.errors import UpstreamRateLimited
from services.common.gcra import Decision, Limit, LocalLimiter
from services.common.metrics import SchedulerMetrics
from services.common.redis_client import SOCKET_TIMEOUT_S, RedisClient
from services.common.upstream_http import LocalCooldown, Pacer

log = logging.getLogger(__name__)
T = TypeVar("T")

PROBE_INTERVAL_S = 1.0  # while falling back, how often one call tries Redis again
REDIS_TIMEOUT_S = SOCKET_TIMEOUT_S  # a scheduler round trip slower than this counts as Redis being unavailable
_REDIS_FAILURES = (RedisError, OSError, TimeoutError)

_NOW = """
local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000 + tonumber(clock[2]) / 1000
local cooldown = tonumber(redis.call('GET', KEYS[1]) or 0)
local function ms(x) return string.format('%.3f', x) end
local function withheld(reserve, interval, tolerance, cost)
  return math.min(reserve * tolerance, math.max(0, tolerance - cost * interval))
end
"""

# KEYS: cooldown, gcra. ARGV: max wait (ms), reserve share, then per limit: name, interval (ms per unit),
# tolerance (ms), cost (units), per. Returns {granted, wait ms, cooldown ms left}; a refusal writes nothing.
ACQUIRE = (
    _NOW
    + """
local max_wait, reserve = tonumber(ARGV[1]), tonumber(ARGV[2])
local slot, tats = math.max(now, cooldown), {}
for i = 3, #ARGV, 5 do
  local interval, tolerance, cost = tonumber(ARGV[i + 1]), tonumber(ARGV[i + 2]), tonumber(ARGV[i + 3])
  tats[i] = math.max(tonumber(redis.call('HGET', KEYS[2], ARGV[i] .. ':tat') or 0), now)
  slot = math.max(slot, tats[i] + cost * interval - tolerance + withheld(reserve, interval, tolerance, cost))
end
local left = math.max(0, cooldown - now)
if slot - now > max_wait then return {0, ms(slot - now), ms(left)} end
local horizon = 0
for i = 3, #ARGV, 5 do
  local tat = math.max(tats[i], slot) + tonumber(ARGV[i + 3]) * tonumber(ARGV[i + 1])
  redis.call('HSET', KEYS[2], ARGV[i] .. ':tat', ms(tat), ARGV[i] .. ':interval', ARGV[i + 1],
    ARGV[i] .. ':tolerance', ARGV[i + 2], ARGV[i] .. ':per', ARGV[i + 4])
  horizon = math.max(horizon, tat - now)
end
redis.call('PEXPIRE', KEYS[2], math.ceil(horizon) + 1000)
return {1, ms(slot - now), ms(left)}
"""
)

# KEYS: cooldown, gcra. ARGV: cooldown (ms; 0 sets none), hold (ms), then per limit as for ACQUIRE (cost
# unused). Every bucket is left empty when the cooldown or the hold ends, whichever is later, so calls
# resume at the sustained rate, not in a burst. Returns the cooldown left (ms), which may be longer than
# asked: it only ever extends.
HOLD = (
    _NOW
    + """
local held, pausing = now + tonumber(ARGV[2]), tonumber(ARGV[1]) > 0
if pausing then
  local ends = now + tonumber(ARGV[1])
  if ends > cooldown then
    redis.call('SET', KEYS[1], ms(ends), 'PX', math.ceil(ends - now))
    cooldown = ends
  end
end
local horizon = redis.call('PTTL', KEYS[2])
for i = 3, #ARGV, 5 do
  local field = ARGV[i] .. ':tat'
  local empty_at = held
  if pausing then empty_at = math.max(held, cooldown) end
  local tat = math.max(tonumber(redis.call('HGET', KEYS[2], field) or 0), empty_at + tonumber(ARGV[i + 2]))
  redis.call('HSET', KEYS[2], field, ms(tat), ARGV[i] .. ':interval', ARGV[i + 1],
    ARGV[i] .. ':tolerance', ARGV[i + 2], ARGV[i] .. ':per', ARGV[i + 4])
  horizon = math.max(horizon, math.ceil(tat - now) + 1000)
end
if #ARGV > 2 then redis.call('PEXPIRE', KEYS[2], horizon) end
return ms(math.max(0, cooldown - now))
"""
)

# KEYS: cooldown, gcra. ARGV: reserve share, tokens, calls (default 1: the wait until that many calls
# could all have gone). Limits as the replicas last stored them, so any process can read the budget
# without their configuration. Returns {wait ms, cooldown ms left}.
PEEK = (
    _NOW
    + """
local reserve, tokens, calls = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3] or 1)
local slot, limits = math.max(now, cooldown), {}
local fields = redis.call('HGETALL', KEYS[2])
for i = 1, #fields, 2 do
  local name, attribute = string.match(fields[i], '^(.*):(%a+)$')
  if name then
    limits[name] = limits[name] or {}
    limits[name][attribute] = fields[i + 1]
  end
end
for _, limit in pairs(limits) do
  if limit.tat and limit.interval and limit.tolerance then
    local interval, tolerance, cost = tonumber(limit.interval), tonumber(limit.tolerance), calls
    if limit.per == 'token' then cost = tokens * calls end
    local tat = math.max(tonumber(limit.tat), now)
    slot = math.max(slot, tat + cost * interval - tolerance + withheld(reserve, interval, tolerance, cost))
  end
end
return {ms(slot - now), ms(math.max(0, cooldown - now))}
"""
)


def keys(upstream: str) -> list[str]:
    """The upstream's two keys, in one hash slot."""
    return [f"segue:rl:{{{upstream}}}:cooldown", f"segue:rl:{{{upstream}}}:gcra"]


def _limit_args(limits: Sequence[Limit], tokens: int) -> list[str | float]:
    args: list[str | float] = []
    for limit in limits:
        interval, tolerance = 1000.0 * limit.interval_s, 1000.0 * limit.tolerance_s
        args += [limit.name, f"{interval:.6f}", f"{tolerance:.6f}", f"{limit.cost(tokens):.6f}", limit.per]
    return args


def _seconds(value: Any) -> float:
    return float(value.decode() if isinstance(value, bytes) else value) / 1000.0


@dataclass(frozen=True)
class SchedulerSettings:
    replicas: int = 2  # each replica's share of a limit while Redis is unreachable is 1/replicas
    background_reserve: float = 0.5  # share of every burst that background work may never use


def read_scheduler_settings(env: EnvReader) -> SchedulerSettings:
    return SchedulerSettings(
        replicas=env.integer("SCHEDULER_REPLICAS", SchedulerSettings.replicas, minimum=1, maximum=1000),
        background_reserve=env.number(
            "SCHEDULER_BACKGROUND_RESERVE", SchedulerSettings.background_reserve, minimum=0.0, maximum=1.0
        ),
    )


def reserve_for(lane: call_context.Lane, settings: SchedulerSettings) -> float:
    return 0.0 if lane is call_context.Lane.INTERACTIVE else settings.background_reserve


class BudgetView:
    """The shared budget, read-only, from any process with Redis (admission control, prompt bundling).

    A Redis error reads as no wait: a caller must never be shed because the view could not look.
    """

    def __init__(self, redis: RedisClient, settings: SchedulerSettings | None = None) -> None:
        self._peek = redis.register_script(PEEK)
        self._settings = settings or SchedulerSettings()

    async def estimate_wait(
        self, upstream: str, *, tokens: int = 0, lane: call_context.Lane = call_context.Lane.INTERACTIVE, calls: int = 1
    ) -> float:
        """Seconds a call of this lane and token cost would wait for `upstream` if it asked now; 0: at once.

        With `calls` > 1: until that many such calls could all have gone (the last one's wait).
        """
        try:
            return (await self.peek(upstream, tokens, lane, calls)).wait_s
        except _REDIS_FAILURES as exc:
            log.debug("budget view could not read %s: %s", upstream, exc.__class__.__name__)
            return 0.0

    async def peek(self, upstream: str, tokens: int, lane: call_context.Lane, calls: int = 1) -> Decision:
        """Like estimate_wait, but Redis errors propagate."""
        async with asyncio.timeout(REDIS_TIMEOUT_S):
            reply = await self._peek(keys(upstream), [reserve_for(lane, self._settings), tokens, max(1, calls)])
        return Decision(False, _seconds(reply[0]), _seconds(reply[1]))


class SharedScheduler:
    """The Pacer every replica shares through Redis, with a local fallback at 1/replicas of each limit."""

    def __init__(
        self,
        redis: RedisClient,
        limits: Mapping[str, Sequence[Limit]],
        *,
        metrics: SchedulerMetrics,
        settings: SchedulerSettings | None = None,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        redis_timeout_s: float = REDIS_TIMEOUT_S,
    ) -> None:
        self._settings = settings or SchedulerSettings()
        self._sleep = sleep
        self._redis_timeout_s = redis_timeout_s
        self._limits = {upstream: tuple(ls) for upstream, ls in limits.items()}
        self._local = LocalLimiter(
            {upstream: [limit.share(self._settings.replicas) for limit in ls] for upstream, ls in limits.items()}
        )
        self._view = BudgetView(redis, self._settings)
        self._acquire = redis.register_script(ACQUIRE)
        self._hold = redis.register_script(HOLD)
        self._redis = redis
        self._metrics = metrics
        self._falling_back = False
        self._next_probe = 0.0
        self._cooldown_until: dict[str, float] = {}  # monotonic; what this process last learnt, for the gauge
        self._shared_horizon: dict[str, float] = {}  # monotonic; the latest shared slot this process learnt of
        for upstream in limits:
            metrics.cooldown_seconds.labels(upstream).set_function(partial(self._cooldown_left, upstream))

    async def acquire(self, upstream: str, max_wait_s: float, *, tokens: int = 0) -> float:
        lane = call_context.lane()
        reserve = reserve_for(lane, self._settings)
        slept = 0.0
        while True:
            allowance = max(0.0, max_wait_s - slept)
            # Background work never books ahead: it takes a slot free now, so it never holds one a user needs.
            decision, shared = await self._decide(
                upstream, tokens, reserve, allowance if lane is call_context.Lane.INTERACTIVE else 0.0
            )
            if decision.wait_s > allowance:
                self._metrics.admissions.labels(upstream, lane, "refused").inc()
                raise UpstreamRateLimited(upstream, decision.wait_s)
            if decision.wait_s > 0:
                await self._sleep(decision.wait_s)
                slept += decision.wait_s
            if not decision.granted:
                continue  # background: ask again now that the bucket should have room
            if decision.wait_s > 0 and await self._cooling_down(upstream, shared):
                continue  # a 429 while this call waited voids its slot: queue again behind the pause
            outcome = "local_fallback" if not shared else "waited" if slept > 0 else "admitted"
            self._metrics.admissions.labels(upstream, lane, outcome).inc()
            self._metrics.wait_seconds.labels(upstream, lane).observe(slept)
            return slept

    async def pause(self, upstream: str, seconds: float) -> None:
        # This process holds off even if Redis cannot hear about it.
        left = self._local.pause(upstream, seconds)
        self._metrics.cooldowns.labels(upstream).inc()
        shared = await self._shared(partial(self._run_hold, upstream, seconds, seconds))
        if shared is not None:
            left = _seconds(shared)
        self._learn_cooldown(upstream, left)
        log.info("%s asked for a %.2fs pause; every replica holds off for %.2fs", upstream, seconds, left)

    async def estimate_wait(
        self, upstream: str, *, tokens: int = 0, lane: call_context.Lane = call_context.Lane.INTERACTIVE
    ) -> float:
        decision = await self._shared(partial(self._view.peek, upstream, tokens, lane))
        if decision is None:
            return self._local.decide(upstream, tokens, reserve_for(lane, self._settings), None).wait_s
        self._learn_cooldown(upstream, decision.cooldown_s)
        return decision.wait_s

    async def _decide(self, upstream: str, tokens: int, reserve: float, max_wait_s: float) -> tuple[Decision, bool]:
        """The decision from Redis (True) or, while it is unreachable, from the local share (False)."""
        args = [max_wait_s * 1000.0, reserve, *_limit_args(self._limits_of(upstream), tokens)]
        reply = await self._shared(partial(self._acquire, keys(upstream), args))
        if reply is None:
            return self._local.decide(upstream, tokens, reserve, max_wait_s), False
        decision = Decision(bool(int(reply[0])), _seconds(reply[1]), _seconds(reply[2]))
        self._learn_cooldown(upstream, decision.cooldown_s)
        if decision.granted:
            slot = time.monotonic() + decision.wait_s
            self._shared_horizon[upstream] = max(self._shared_horizon.get(upstream, slot), slot)
        return decision, True

    async def _cooling_down(self, upstream: str, shared: bool) -> bool:
        if self._local.cooldown_s(upstream) > 0:
            return True
        if not shared:
            return False
        left = await self._shared(partial(self._redis.pttl, keys(upstream)[0]))
        return left is not None and int(left) > 0

    async def _shared(self, call: Callable[[], Awaitable[T]]) -> T | None:
        """`call` on Redis; None while Redis is unreachable (the local share decides then)."""
        if not self._redis_due():
            return None
        try:
            async with asyncio.timeout(self._redis_timeout_s):
                if self._falling_back:
                    await self._hold_promised_slots()
                result = await call()
        except Exception as exc:  # whatever the Redis client raises (e.g. after a timeout cut it short)
            self._fell_back(exc)
            return None
        self._recovered()
        return result

    async def _run_hold(self, upstream: str, cooldown_s: float, hold_s: float) -> Any:
        args = [cooldown_s * 1000.0, max(0.0, hold_s) * 1000.0, *_limit_args(self._limits_of(upstream), 0)]
        return await self._hold(keys(upstream), args)

    async def _hold_promised_slots(self) -> None:
        """Back from the local fallback: slots this replica promised meanwhile are not given out again."""
        now = time.monotonic()
        for upstream in self._limits:
            await self._run_hold(upstream, 0.0, self._local.horizon(upstream) - now)

    def _limits_of(self, upstream: str) -> Sequence[Limit]:
        return self._limits.get(upstream, ())

    def _redis_due(self) -> bool:
        """Whether to ask Redis: always while it answers; once per PROBE_INTERVAL_S while it does not."""
        if not self._falling_back:
            return True
        now = time.monotonic()
        if now < self._next_probe:
            return False
        self._next_probe = now + PROBE_INTERVAL_S
        return True

    def _fell_back(self, exc: BaseException) -> None:
        self._next_probe = time.monotonic() + PROBE_INTERVAL_S
        if self._falling_back:
            return
        self._falling_back = True
        self._metrics.redis_fallback.set(1)
        # Slots already promised through Redis still go out: the local share starts after the last of them.
        for upstream, horizon in self._shared_horizon.items():
            self._local.hold(upstream, horizon)
        log.warning(
            "Redis unreachable for the upstream scheduler (%s): pacing with this replica's share (1/%d) of "
            "every limit until it is back",
            exc.__class__.__name__,
            self._settings.replicas,
        )

    def _recovered(self) -> None:
        if self._falling_back:
            self._falling_back = False
            self._metrics.redis_fallback.set(0)
            log.warning("Redis is back: the upstream scheduler uses the shared budget again")

    def _learn_cooldown(self, upstream: str, left_s: float) -> None:
        self._cooldown_until[upstream] = time.monotonic() + left_s

    def _cooldown_left(self, upstream: str) -> float:
        return max(0.0, self._cooldown_until.get(upstream, 0.0) - time.monotonic())


def make_pacer(
    redis: RedisClient | None,
    limits: Mapping[str, Sequence[Limit]],
    *,
    metrics: SchedulerMetrics,
    settings: SchedulerSettings,
) -> Pacer:
    """The shared scheduler when there is a Redis; without one (a single process), the local 429 pause."""
    if redis is None:
        return LocalCooldown()
    return SharedScheduler(redis, limits, metrics=metrics, settings=settings)

"""Closed-loop Recommend traffic against a running mesh, every answer classified ok / degraded / failed.

`concurrency` callers each send their next request as soon as the last one answered. Most requests
repeat a small set of users and prompts (served warm from the caches, as most real traffic is); every
`fresh_every`-th is a new user with a new prompt, so the upstreams, the LLM and the cache writes stay
in play while a fault lasts.

- failed: any status other than OK, or an OK answer with no track (no playlist is not an answer);
- degraded: a playlist that carries a warning about something that went wrong (anything but
  MISSING_DATA, which the catalog itself causes);
- ok: the rest.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

import grpc
from grpc import aio
from segue.v1 import common_pb2, orchestrator_pb2, orchestrator_pb2_grpc

from services.common import stubs

PROMPTS = (
    "rainy sunday, slow jazz",
    "upbeat indie for a summer road trip",
    "late night techno, dark and driving",
    "calm acoustic folk for reading",
    "happy pop to dance in the kitchen",
    "melancholy piano at dusk",
)
# The traffic is a few callers and users sending far more than a person would: the per-caller and per-user
# request quotas are off for it (they are tested in tests/security); Prefetch bounds stay on.
# A stopping service lets calls in flight finish within the callers' deadline (20 s), as the K8s manifests'
# grace periods do; the local mesh's 5 s grace could cancel a request slowed by a loaded machine.
CHAOS_ENV = {"CALLER_QUOTA": "off", "USER_QUOTA": "off", "SHUTDOWN_GRACE_S": "20"}
_FRESH_USERS = itertools.count(10_000)  # shared: a new user is new to the whole mesh, not only to one Traffic
_BENIGN = {common_pb2.WARNING_CODE_UNSPECIFIED, common_pb2.WARNING_CODE_MISSING_DATA}
# Like a well-behaved backend: wait for the orchestrator while it restarts, retry a refused connection.
_CLIENT_CONFIG = json.dumps(
    {
        "methodConfig": [
            {
                "name": [{}],
                "waitForReady": True,
                "retryPolicy": {
                    "maxAttempts": 3,
                    "initialBackoff": "0.1s",
                    "maxBackoff": "1s",
                    "backoffMultiplier": 2,
                    # CANCELLED too: this client never cancels a call, and a call that reaches a server just as
                    # it stops is answered CANCELLED, not UNAVAILABLE, before any handler ran (grpc/grpc#41785).
                    "retryableStatusCodes": ["UNAVAILABLE", "CANCELLED"],
                },
            }
        ]
    }
)


class NotRecovered(AssertionError):
    pass


@dataclass(frozen=True)
class Result:
    started: float  # seconds since the traffic began
    ended: float
    code: str  # gRPC status name
    tracks: int
    warnings: tuple[str, ...]  # "CODE component: message" of the fault-related warnings

    @property
    def kind(self) -> str:
        if self.code != "OK" or self.tracks == 0:
            return "failed"
        return "degraded" if self.warnings else "ok"


@dataclass(frozen=True)
class Counts:
    started: int
    ok: int
    degraded: int
    failed: int
    seconds: float
    failures: Counter[str] = field(default_factory=Counter)  # status (or "empty") → count
    warnings: Counter[str] = field(default_factory=Counter)  # "CODE component" → count

    @property
    def answered(self) -> int:
        return self.ok + self.degraded

    @property
    def throughput(self) -> float:
        """Playlists (ok or degraded) per second among the requests started in the window."""
        return self.answered / self.seconds if self.seconds > 0 else 0.0


def count(results: Sequence[Result], starts: Sequence[float], start: float, end: float) -> Counts:
    """The requests that started in [start, end), by outcome (those still in flight are only "started")."""
    chosen = [r for r in results if start <= r.started < end]
    kinds = Counter(r.kind for r in chosen)
    failures = Counter(r.code if r.code != "OK" else "empty" for r in chosen if r.kind == "failed")
    warnings = Counter(w.split(":", 1)[0] for r in chosen for w in r.warnings)
    started = sum(start <= t < end for t in starts)
    return Counts(started, kinds["ok"], kinds["degraded"], kinds["failed"], end - start, failures, warnings)


class Traffic:
    def __init__(
        self,
        address: str,
        *,
        concurrency: int = 6,
        users: int = 12,
        fresh_every: int = 4,
        size: int = 10,
        deadline_s: float = 20.0,
        tag: str = "chaos",
    ) -> None:
        self._address = address
        self._concurrency = concurrency
        self._users = users
        self._fresh_every = fresh_every
        self._size = size
        self._deadline_s = deadline_s
        self._tag = tag
        self._sequence = itertools.count()
        self._t0 = 0.0
        self._tasks: list[asyncio.Task[None]] = []
        self._channel: aio.Channel | None = None
        self.results: list[Result] = []
        self.starts: list[float] = []

    def now(self) -> float:
        return time.monotonic() - self._t0

    async def __aenter__(self) -> Traffic:
        self._t0 = time.monotonic()
        self._channel = aio.insecure_channel(
            self._address, options=[("grpc.service_config", _CLIENT_CONFIG), ("grpc.enable_retries", 1)]
        )
        stub = stubs.orchestrator(self._channel)
        self._tasks = [asyncio.create_task(self._caller(stub)) for _ in range(self._concurrency)]
        return self

    async def __aexit__(self, *exc: object) -> None:
        for task in self._tasks:
            task.cancel()
        # gather, not a suppressed await per task: a cancellation of this task itself must still propagate.
        await asyncio.gather(*self._tasks, return_exceptions=True)
        if self._channel is not None:
            await self._channel.close()

    def _next_request(self) -> tuple[orchestrator_pb2.RecommendRequest, str]:
        n = next(self._sequence)
        if self._fresh_every and n % self._fresh_every == self._fresh_every - 1:
            user, prompt = next(_FRESH_USERS), f"{PROMPTS[n % len(PROMPTS)]}, take {n}"
        else:
            user, prompt = n % self._users, PROMPTS[(n // self._users) % len(PROMPTS)]
        # The simulator's user n is "simuser<n>", and a token "user-<n>-..." is theirs.
        request = orchestrator_pb2.RecommendRequest(user_id=f"simuser{user}", mood_prompt=prompt, size=self._size)
        return request, f"user-{user}-{self._tag}"

    async def _caller(self, stub: orchestrator_pb2_grpc.OrchestratorAsyncStub) -> None:
        while True:
            request, token = self._next_request()
            started = self.now()
            self.starts.append(started)
            try:
                response = await stub.Recommend(
                    request, metadata=(("x-spotify-token", token),), timeout=self._deadline_s
                )
            except aio.AioRpcError as exc:
                code = exc.code() if isinstance(exc.code(), grpc.StatusCode) else grpc.StatusCode.UNKNOWN
                self.results.append(Result(started, self.now(), code.name, 0, ()))
                continue
            warnings = tuple(
                f"{common_pb2.WarningCode.Name(w.code)} {w.component}: {w.message}"
                for w in response.warnings
                if w.code not in _BENIGN
            )
            self.results.append(Result(started, self.now(), "OK", len(response.tracks), warnings))

    def count(self, start: float, end: float) -> Counts:
        return count(self.results, self.starts, start, end)

    async def wait_for(self, n: int, within_s: float) -> None:
        """Until `n` more answers have arrived (at most `within_s`): traffic flows before a fault starts."""
        target = len(self.results) + n
        deadline = time.monotonic() + within_s
        while len(self.results) < target:
            if time.monotonic() > deadline:
                raise AssertionError(f"only {len(self.results)} of {target} answers within {within_s:.0f}s")
            await asyncio.sleep(0.05)

    async def settle(self, before: float) -> None:
        """Until every request started before `before` has answered (each is bounded by its deadline)."""
        limit = time.monotonic() + self._deadline_s + 5
        while sum(t < before for t in self.starts) > sum(r.started < before for r in self.results):
            if time.monotonic() > limit:
                return
            await asyncio.sleep(0.05)

    async def wait_recovered(self, since: float, clean: int, min_rate: float, within_s: float) -> float:
        """Seconds after `since` until `clean` answers in a row (of requests started after it) were plain ok,
        arriving at `min_rate` per second or more: answers as good and nearly as many as before the fault.

        Fails naming the last outcomes if that does not happen within `within_s`.
        """
        span = clean / min_rate if min_rate > 0 else float("inf")
        deadline = time.monotonic() + within_s
        while True:
            after = sorted((r for r in self.results if r.started >= since), key=lambda r: r.ended)
            streak: list[Result] = []
            for r in after:
                streak = [*streak, r] if r.kind == "ok" else []
                while streak and streak[-1].ended - streak[0].ended > span:
                    streak.pop(0)
                if len(streak) >= clean:
                    return max(0.0, streak[0].started - since)
            if time.monotonic() > deadline:
                last = [f"{r.kind} {r.code} {list(r.warnings)[:1]}" for r in after[-5:]]
                raise NotRecovered(
                    f"no {clean} ok answers in a row at {min_rate:.1f}/s within {within_s:.0f}s; last: {last}"
                )
            await asyncio.sleep(0.1)

"""One vocabulary for degraded answers: which warning an error becomes, and what an answer cost.

Every service reports a skipped or shortened part of its answer through `degraded`, so one error reads
the same wherever it is met:

    the error                                            warning code            component
    rate limited (ResourceExhausted, a peer's
      RESOURCE_EXHAUSTED)                                UPSTREAM_RATE_LIMITED   ┐
    the deadline (DeadlineExceeded, a peer's                                     │ the upstream the error
      DEADLINE_EXCEEDED)                                 PARTIAL_RESULT          │ names, else the peer
    anything else                                        UPSTREAM_UNAVAILABLE    ┘ that failed, else the
                                                                                   caller's component

Components are the names below: a service of the mesh by its package name, an external API by its name.
A service that stands in for a failed part (a heuristic, a fallback) says so with `fallback_used`. A call to
another service of the mesh goes through `ask_peer`, whose `PeerFailed` keeps the peer's own status.
`Accounting` gathers the cache use and warnings of the steps of one answer.
"""

from __future__ import annotations

from collections.abc import Awaitable, Iterable, MutableSequence
from dataclasses import dataclass, field
from typing import Protocol, TypeVar

import grpc
from grpc import aio
from segue.v1 import common_pb2

from services.common.errors import SegueError

T = TypeVar("T")

# The services of the mesh.
ORCHESTRATOR = "orchestrator"
SEED_GATHERER = "seed_gatherer"
LLM_GATEWAY = "llm_gateway"
RECCOBEAT_GATEWAY = "reccobeat_gateway"
# The external APIs and the shared cache.
SPOTIFY = "spotify"
RECCOBEATS = "reccobeats"
GEMINI = "gemini"
CACHE = "cache"

# A peer's answer about the request itself passes through unchanged; a peer that cannot answer in time is
# the caller's DEADLINE_EXCEEDED; anything else is the peer's problem, reported as UNAVAILABLE (or
# degraded around, where the caller can).
_ABOUT_THE_REQUEST = {
    grpc.StatusCode.UNAUTHENTICATED,
    grpc.StatusCode.PERMISSION_DENIED,
    grpc.StatusCode.INVALID_ARGUMENT,
}


class PeerFailed(SegueError):
    """A service of the mesh did not answer a call: `component` names it, `peer_code` is what it said."""

    def __init__(self, component: str, code: grpc.StatusCode, details: str) -> None:
        if code in _ABOUT_THE_REQUEST:
            message, surfaced = details, code
        elif code == grpc.StatusCode.DEADLINE_EXCEEDED:
            message, surfaced = f"{component} did not answer before the deadline", code
        else:
            message, surfaced = f"{component}: {details}", grpc.StatusCode.UNAVAILABLE
        super().__init__(message)
        self.component = component
        self.code = surfaced
        self.peer_code = code


_CODES: dict[grpc.StatusCode, common_pb2.WarningCode.ValueType] = {
    grpc.StatusCode.RESOURCE_EXHAUSTED: common_pb2.WARNING_CODE_UPSTREAM_RATE_LIMITED,
    grpc.StatusCode.DEADLINE_EXCEEDED: common_pb2.WARNING_CODE_PARTIAL_RESULT,
}


def status_of(exc: BaseException) -> grpc.StatusCode:
    """The status behind an error: a peer's own answer, not what the caller surfaces it as."""
    if isinstance(exc, aio.AioRpcError):
        return exc.code()
    if isinstance(exc, PeerFailed):
        return exc.peer_code
    if isinstance(exc, SegueError):
        return exc.code
    return grpc.StatusCode.UNKNOWN


def warning_code(exc: BaseException) -> common_pb2.WarningCode.ValueType:
    return _CODES.get(status_of(exc), common_pb2.WARNING_CODE_UPSTREAM_UNAVAILABLE)


def component_of(exc: BaseException, default: str) -> str:
    """The upstream the error names (e.g. "spotify"), else the peer that failed, else `default`."""
    upstream = getattr(exc, "upstream", None)
    if isinstance(upstream, str) and upstream:
        return upstream
    if isinstance(exc, PeerFailed):
        return exc.component
    return default


def reason(exc: BaseException) -> str:
    """A caller-safe account of the error (a SegueError's message is caller-safe by contract)."""
    if isinstance(exc, SegueError):
        return exc.message
    if isinstance(exc, aio.AioRpcError):
        return f"{exc.code().name}: {exc.details()}"
    return exc.__class__.__name__


def degraded(exc: BaseException, component: str, what: str) -> common_pb2.Warning:
    """The warning for `what` (e.g. "top tracks skipped") that `exc` cost; `component` names who was asked."""
    return common_pb2.Warning(
        code=warning_code(exc), component=component_of(exc, component), message=f"{what}: {reason(exc)}"
    )


def fallback_used(component: str, message: str) -> common_pb2.Warning:
    return common_pb2.Warning(code=common_pb2.WARNING_CODE_FALLBACK_USED, component=component, message=message)


def missing_features(component: str, lacking: int, total: int | None = None) -> common_pb2.Warning:
    of = f" of {total}" if total is not None else ""
    return common_pb2.Warning(
        code=common_pb2.WARNING_CODE_MISSING_DATA,
        component=component,
        message=f"{lacking}{of} tracks have no audio features",
    )


async def ask_peer(component: str, pending: Awaitable[T]) -> T:
    """Await a call to a service of the mesh, turning its gRPC error into a PeerFailed that names it."""
    try:
        return await pending
    except aio.AioRpcError as exc:
        raise PeerFailed(component, exc.code(), exc.details() or exc.code().name) from exc


class Accounts(Protocol):
    """Anything that gathers cache use and warnings: an `Accounting`, or an answer message that has both."""

    @property
    def cache(self) -> common_pb2.CacheUsage: ...

    @property
    def warnings(self) -> MutableSequence[common_pb2.Warning]: ...


def absorb(into: Accounts, cache: common_pb2.CacheUsage, warnings: Iterable[common_pb2.Warning]) -> None:
    """What a step's answer reports about itself (its cache use and its warnings), added to `into`."""
    into.cache.hits += cache.hits
    into.cache.misses += cache.misses
    into.warnings.extend(warnings)


@dataclass
class Accounting:
    """The cache use and warnings of one answer, gathered from every step that made it."""

    cache: common_pb2.CacheUsage = field(default_factory=common_pb2.CacheUsage)
    warnings: list[common_pb2.Warning] = field(default_factory=list)

    def absorb(self, cache: common_pb2.CacheUsage, warnings: Iterable[common_pb2.Warning]) -> None:
        absorb(self, cache, warnings)

    def looked_up(self, lookups: int, hits: int, warnings: Iterable[common_pb2.Warning] = ()) -> None:
        """`lookups` cache reads, `hits` of them answered from the cache."""
        self.absorb(common_pb2.CacheUsage(hits=hits, misses=lookups - hits), warnings)

    def warn(self, code: common_pb2.WarningCode.ValueType, component: str, message: str) -> None:
        self.warnings.append(common_pb2.Warning(code=code, component=component, message=message))

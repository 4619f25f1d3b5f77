"""Domain errors. Handlers and logic raise these; one interceptor turns them into gRPC statuses.

Besides its code and message, an error a caller can act on carries google.rpc details (the standard
`grpc-status-details-bin` trailer, read with `grpc_status.rpc_status.from_call`), built here for every service:
INVALID_ARGUMENT a `BadRequest` naming each field at fault, RESOURCE_EXHAUSTED a `RetryInfo` with the delay
(also sent as the plain `retry-after-ms` trailer and gRPC's own `grpc-retry-pushback-ms`).
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass

import grpc
from google.protobuf import any_pb2, duration_pb2
from google.rpc.error_details_pb2 import BadRequest, RetryInfo
from google.rpc.status_pb2 import Status
from grpc_status import rpc_status

RETRY_PUSHBACK_HEADER = "grpc-retry-pushback-ms"
RETRY_AFTER_HEADER = "retry-after-ms"


class SegueError(Exception):
    """An error with a status a caller can act on. `message` is safe to show to the caller."""

    code: grpc.StatusCode = grpc.StatusCode.INTERNAL

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class FieldViolation:
    field: str  # the field's path in the request, e.g. "size", "targets[2].target"
    description: str


# Every INVALID_ARGUMENT message in segue names the field first ("size must be ...", "targets[0] repeats ...",
# several joined by "; "): a path with a dot or an index, or a bare name followed by what is wrong with it.
_FIELD_FIRST = re.compile(r"(?P<path>[a-z_][a-z0-9_]*(?:\[\d+\])?(?:\.[a-z_][a-z0-9_]*(?:\[\d+\])?)*) (?P<verb>\S+)")
_VERBS = frozenset({"must", "may", "is", "repeats"})


def violations_in(message: str) -> list[FieldViolation]:
    """The fields a message names, one per "; "-separated problem that starts with a field."""
    found = []
    for problem in message.split("; "):
        match = _FIELD_FIRST.match(problem)
        if match and (match["verb"] in _VERBS or "." in match["path"] or "[" in match["path"]):
            found.append(FieldViolation(match["path"], problem))
    return found


class InvalidArgument(SegueError):
    """`violations`: the fields at fault; by default those the message names (see `violations_in`)."""

    code = grpc.StatusCode.INVALID_ARGUMENT

    def __init__(self, message: str, violations: Sequence[FieldViolation] = ()) -> None:
        super().__init__(message)
        self.violations = tuple(violations) or tuple(violations_in(message))


class Unauthenticated(SegueError):
    code = grpc.StatusCode.UNAUTHENTICATED


class PermissionDenied(SegueError):
    """The caller is who it says, but may not act for the user it names."""

    code = grpc.StatusCode.PERMISSION_DENIED


class NotFound(SegueError):
    code = grpc.StatusCode.NOT_FOUND


class FailedPrecondition(SegueError):
    code = grpc.StatusCode.FAILED_PRECONDITION


class DeadlineExceeded(SegueError):
    code = grpc.StatusCode.DEADLINE_EXCEEDED


class Unavailable(SegueError):
    code = grpc.StatusCode.UNAVAILABLE


class ResourceExhausted(SegueError):
    """Out of quota or cooling down. `retry_after_s` becomes gRPC retry pushback for the caller."""

    code = grpc.StatusCode.RESOURCE_EXHAUSTED

    def __init__(self, message: str, retry_after_s: float | None = None) -> None:
        super().__init__(message)
        self.retry_after_s = retry_after_s


class UpstreamError(Unavailable):
    """An external API failed after the retries it deserved."""

    def __init__(self, upstream: str, message: str, status: int | None = None) -> None:
        super().__init__(f"{upstream}: {message}")
        self.upstream = upstream
        self.status = status


class UpstreamRejected(FailedPrecondition):
    """An external API refused the request itself (a 4xx other than 429): retrying cannot help."""

    def __init__(self, upstream: str, status: int, message: str) -> None:
        super().__init__(f"{upstream} answered {status}: {message}")
        self.upstream = upstream
        self.status = status


class UpstreamRateLimited(ResourceExhausted):
    """An external API is cooling down for longer than the caller can wait."""

    def __init__(self, upstream: str, retry_after_s: float) -> None:
        super().__init__(f"{upstream} is rate limited for {retry_after_s:.2f}s more", retry_after_s)
        self.upstream = upstream


def retry_after_ms(retry_after_s: float) -> int:
    return max(1, math.ceil(retry_after_s * 1000))


def _details(exc: SegueError) -> list[any_pb2.Any]:
    detail: BadRequest | RetryInfo | None = None
    if isinstance(exc, InvalidArgument) and exc.violations:
        detail = BadRequest(
            field_violations=[
                BadRequest.FieldViolation(field=v.field, description=v.description) for v in exc.violations
            ]
        )
    elif isinstance(exc, ResourceExhausted) and exc.retry_after_s is not None:
        delay = duration_pb2.Duration()
        delay.FromMilliseconds(retry_after_ms(exc.retry_after_s))
        detail = RetryInfo(retry_delay=delay)
    if detail is None:
        return []
    packed = any_pb2.Any()
    packed.Pack(detail)
    return [packed]


def error_trailers(exc: SegueError) -> tuple[tuple[str, str | bytes], ...]:
    """The trailing metadata an error's status carries beside its code and message: google.rpc details where a
    caller can act on them, and the retry delay in plain trailers."""
    trailers: list[tuple[str, str | bytes]] = []
    if isinstance(exc, ResourceExhausted) and exc.retry_after_s is not None:
        # gRPC's own pushback key for its retry machinery, and a plain one for any caller to read.
        retry_ms = str(retry_after_ms(exc.retry_after_s))
        trailers += [(RETRY_PUSHBACK_HEADER, retry_ms), (RETRY_AFTER_HEADER, retry_ms)]
    details = _details(exc)
    if details:
        status = Status(code=exc.code.value[0], message=exc.message, details=details)
        trailers += list(rpc_status.to_status(status).trailing_metadata)
    return tuple(trailers)

"""Domain errors. Handlers and logic raise these; one interceptor turns them into gRPC statuses."""

from __future__ import annotations

import grpc


class SegueError(Exception):
    """An error with a status a caller can act on. `message` is safe to show to the caller."""

    code: grpc.StatusCode = grpc.StatusCode.INTERNAL

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class InvalidArgument(SegueError):
    code = grpc.StatusCode.INVALID_ARGUMENT


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

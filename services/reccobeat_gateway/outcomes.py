"""Warnings shared by every gateway call."""

from __future__ import annotations

from segue.v1 import common_pb2

from services.common.errors import DeadlineExceeded, SegueError, UpstreamRateLimited
from services.reccobeat_gateway.rows import UPSTREAM


def warning(code: common_pb2.WarningCode.ValueType, message: str) -> common_pb2.Warning:
    return common_pb2.Warning(code=code, component=UPSTREAM, message=message)


def failure_warning(exc: SegueError, what: str) -> common_pb2.Warning:
    """A warning for a part of the answer that an upstream failure cost."""
    if isinstance(exc, UpstreamRateLimited):
        code = common_pb2.WARNING_CODE_UPSTREAM_RATE_LIMITED
    elif isinstance(exc, DeadlineExceeded):
        code = common_pb2.WARNING_CODE_PARTIAL_RESULT
    else:
        code = common_pb2.WARNING_CODE_UPSTREAM_UNAVAILABLE
    return warning(code, f"{what}: {exc.message}")

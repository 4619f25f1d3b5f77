"""Warnings for parts of an answer that were skipped or replaced because something failed."""

from __future__ import annotations

from segue.v1 import common_pb2

from services.common.errors import ResourceExhausted, SegueError


def upstream_warning(component: str, exc: SegueError, consequence: str) -> common_pb2.Warning:
    """`exc.message` is caller-safe by contract (never holds the token)."""
    code = (
        common_pb2.WARNING_CODE_UPSTREAM_RATE_LIMITED
        if isinstance(exc, ResourceExhausted)
        else common_pb2.WARNING_CODE_UPSTREAM_UNAVAILABLE
    )
    return common_pb2.Warning(code=code, component=component, message=f"{exc.message}; {consequence}")

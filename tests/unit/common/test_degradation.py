"""The one table from errors to warnings: every service reports the same trouble with the same code."""

from __future__ import annotations

import grpc
import pytest
from grpc import aio
from segue.v1 import common_pb2, seed_gatherer_pb2

from services.common import degradation
from services.common.degradation import Accounting, PeerFailed, absorb, degraded, warning_code
from services.common.errors import (
    DeadlineExceeded,
    InvalidArgument,
    ResourceExhausted,
    Unavailable,
    UpstreamError,
    UpstreamRateLimited,
    UpstreamRejected,
)

RATE_LIMITED = common_pb2.WARNING_CODE_UPSTREAM_RATE_LIMITED
PARTIAL = common_pb2.WARNING_CODE_PARTIAL_RESULT
UNAVAILABLE = common_pb2.WARNING_CODE_UPSTREAM_UNAVAILABLE


def rpc_error(code: grpc.StatusCode) -> aio.AioRpcError:
    return aio.AioRpcError(code, aio.Metadata(), aio.Metadata(), details="peer said no")


@pytest.mark.parametrize(
    ("error", "code"),
    [
        (UpstreamRateLimited("spotify", 3.0), RATE_LIMITED),
        (ResourceExhausted("quota used up", 1.0), RATE_LIMITED),
        (PeerFailed("reccobeat_gateway", grpc.StatusCode.RESOURCE_EXHAUSTED, "cooling down"), RATE_LIMITED),
        (rpc_error(grpc.StatusCode.RESOURCE_EXHAUSTED), RATE_LIMITED),
        # A deadline is the same everywhere: the answer is partial, whoever met it.
        (DeadlineExceeded("no time left to call spotify"), PARTIAL),
        (PeerFailed("seed_gatherer", grpc.StatusCode.DEADLINE_EXCEEDED, "deadline"), PARTIAL),
        (rpc_error(grpc.StatusCode.DEADLINE_EXCEEDED), PARTIAL),
        (UpstreamError("reccobeats", "GET /track failed after 3 attempt(s) (http_503)", 503), UNAVAILABLE),
        (UpstreamRejected("gemini", 400, "bad model"), UNAVAILABLE),
        (Unavailable("reccobeats: shutting down"), UNAVAILABLE),
        (PeerFailed("llm_gateway", grpc.StatusCode.INTERNAL, "boom"), UNAVAILABLE),
        (rpc_error(grpc.StatusCode.UNAVAILABLE), UNAVAILABLE),
        (RuntimeError("not ours"), UNAVAILABLE),
    ],
)
def test_each_error_has_one_warning_code(error: BaseException, code: common_pb2.WarningCode.ValueType) -> None:
    assert warning_code(error) == code


def test_a_peer_that_surfaces_as_unavailable_keeps_its_own_status_for_the_code() -> None:
    failed = PeerFailed("reccobeat_gateway", grpc.StatusCode.RESOURCE_EXHAUSTED, "cooling down")
    assert failed.code == grpc.StatusCode.UNAVAILABLE  # what the caller surfaces
    assert warning_code(failed) == RATE_LIMITED  # what the answer says happened


@pytest.mark.parametrize(
    ("error", "asked", "component"),
    [
        (UpstreamError("spotify", "GET /search failed"), degradation.SEED_GATHERER, "spotify"),
        (UpstreamRateLimited("reccobeats", 2.0), degradation.RECCOBEAT_GATEWAY, "reccobeats"),
        (PeerFailed("llm_gateway", grpc.StatusCode.UNAVAILABLE, "down"), degradation.ORCHESTRATOR, "llm_gateway"),
        (DeadlineExceeded("no time left"), degradation.SPOTIFY, "spotify"),
        (rpc_error(grpc.StatusCode.UNAVAILABLE), degradation.RECCOBEAT_GATEWAY, "reccobeat_gateway"),
    ],
)
def test_the_component_is_what_failed_else_who_was_asked(error: BaseException, asked: str, component: str) -> None:
    assert degradation.component_of(error, asked) == component


def test_a_degraded_warning_says_what_was_lost_and_why_without_more() -> None:
    warning = degraded(DeadlineExceeded("no time left to call spotify"), degradation.SPOTIFY, "top tracks skipped")
    assert (warning.code, warning.component) == (PARTIAL, "spotify")
    assert warning.message == "top tracks skipped: no time left to call spotify"

    from_rpc = degraded(rpc_error(grpc.StatusCode.UNAVAILABLE), degradation.RECCOBEAT_GATEWAY, "features skipped")
    assert from_rpc.message == "features skipped: UNAVAILABLE: peer said no"


def test_a_request_error_is_not_a_degradation_code_of_its_own() -> None:
    # Callers re-raise errors about the request; if one is ever reported, it does not pose as a deadline.
    assert warning_code(InvalidArgument("bad")) == UNAVAILABLE


def test_accounting_adds_cache_use_and_keeps_every_warning() -> None:
    first = common_pb2.Warning(code=UNAVAILABLE, component="spotify", message="a")
    second = common_pb2.Warning(code=PARTIAL, component="reccobeats", message="b")
    total = Accounting()
    total.absorb(common_pb2.CacheUsage(hits=2, misses=1), [first])
    total.looked_up(5, 3, [second])
    total.warn(common_pb2.WARNING_CODE_FALLBACK_USED, degradation.ORCHESTRATOR, "c")
    assert (total.cache.hits, total.cache.misses) == (5, 3)
    assert [w.message for w in total.warnings] == ["a", "b", "c"]


def test_an_answer_message_is_accounted_into_like_an_accounting() -> None:
    answer = seed_gatherer_pb2.DiscoverArtistsResponse(cache=common_pb2.CacheUsage(hits=1))
    absorb(answer, common_pb2.CacheUsage(hits=1, misses=4), [common_pb2.Warning(message="x")])
    assert (answer.cache.hits, answer.cache.misses) == (2, 4)
    assert [w.message for w in answer.warnings] == ["x"]

"""UpstreamClient: the mesh's only retry layer, exercised with httpx.MockTransport."""

from __future__ import annotations

import email.utils
import time
from collections.abc import Callable

import httpx
import pytest
from prometheus_client import CollectorRegistry

from services.common import call_context
from services.common.errors import UpstreamError, UpstreamRateLimited, UpstreamRejected
from services.common.metrics import UpstreamMetrics
from services.common.upstream_http import RetryPolicy, UpstreamClient, parse_retry_after


def client(
    handler: Callable[[httpx.Request], httpx.Response], *, attempts: int = 3
) -> tuple[UpstreamClient, CollectorRegistry]:
    registry = CollectorRegistry()
    c = UpstreamClient(
        "upstream",
        "http://upstream.test/v1",
        timeout_s=5.0,
        metrics=UpstreamMetrics.create(registry),
        retry=RetryPolicy(max_attempts=attempts, base_delay_s=0.001, max_delay_s=0.002),
        transport=httpx.MockTransport(handler),
    )
    return c, registry


async def test_success_joins_path_to_base_url_and_counts_outcome() -> None:
    seen: list[httpx.URL] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.url)
        return httpx.Response(200, json={"ok": True})

    c, registry = client(handler)
    assert await c.get_json("GET /track", "track", params=[("ids", "a,b")]) == {"ok": True}
    assert str(seen[0]) == "http://upstream.test/v1/track?ids=a%2Cb"
    assert (
        registry.get_sample_value(
            "segue_upstream_requests_total", {"upstream": "upstream", "endpoint": "GET /track", "outcome": "200"}
        )
        == 1
    )
    await c.aclose()


async def test_5xx_is_retried_then_succeeds() -> None:
    answers = iter([httpx.Response(503), httpx.Response(500), httpx.Response(200, json=[1])])
    c, registry = client(lambda request: next(answers))
    assert await c.get_json("GET /x", "x") == [1]
    assert registry.get_sample_value("segue_upstream_retries_total", {"upstream": "upstream", "reason": "503"}) == 1
    assert registry.get_sample_value("segue_upstream_retries_total", {"upstream": "upstream", "reason": "500"}) == 1
    await c.aclose()


async def test_4xx_is_not_retried() -> None:
    calls = 0

    def handler(request: httpx.Request) -> httpx.Response:
        nonlocal calls
        calls += 1
        return httpx.Response(400, text="seeds must be 1..5")

    c, _ = client(handler)
    with pytest.raises(UpstreamRejected) as exc:
        await c.get_json("GET /x", "x")
    assert calls == 1
    assert exc.value.status == 400 and "seeds must be 1..5" in exc.value.message
    await c.aclose()


async def test_retries_run_out_as_upstream_error() -> None:
    c, _ = client(lambda request: httpx.Response(502), attempts=2)
    with pytest.raises(UpstreamError) as exc:
        await c.get_json("GET /x", "x")
    assert exc.value.status == 502
    await c.aclose()


async def test_transport_errors_are_retried() -> None:
    calls = 0

    def handler(request: httpx.Request) -> httpx.Response:
        nonlocal calls
        calls += 1
        if calls == 1:
            raise httpx.ConnectError("refused")
        return httpx.Response(200, json={})

    c, _ = client(handler)
    assert await c.get_json("GET /x", "x") == {}
    assert calls == 2
    await c.aclose()


async def test_429_pauses_every_caller_for_retry_after() -> None:
    answers = iter([httpx.Response(429, headers={"Retry-After": "0.2"}), httpx.Response(200, json={})])
    c, registry = client(lambda request: next(answers))
    assert await c.get_json("GET /x", "x") == {}
    assert (
        registry.get_sample_value("segue_upstream_retries_total", {"upstream": "upstream", "reason": "rate_limited"})
        == 1
    )
    await c.aclose()

    # The pause outlives the call that saw it: a later caller with less time than the pause left
    # fails fast without calling the upstream at all.
    calls = 0

    def limited(request: httpx.Request) -> httpx.Response:
        nonlocal calls
        calls += 1
        return httpx.Response(429, headers={"Retry-After": "30"})

    c, _ = client(limited)
    call_context.set_deadline_in(2.0)
    try:
        with pytest.raises(UpstreamRateLimited):
            await c.get_json("GET /x", "x")
        with pytest.raises(UpstreamRateLimited) as exc:
            await c.get_json("GET /y", "y")
    finally:
        call_context.set_deadline_in(None)
    assert calls == 1
    assert exc.value.retry_after_s is not None and exc.value.retry_after_s > 2.0
    await c.aclose()


async def test_429_longer_than_the_deadline_fails_fast_with_retry_after() -> None:
    c, _ = client(lambda request: httpx.Response(429, headers={"Retry-After": "30"}))
    call_context.set_deadline_in(2.0)
    try:
        with pytest.raises(UpstreamRateLimited) as exc:
            await c.get_json("GET /x", "x")
    finally:
        call_context.set_deadline_in(None)
    # The hint is what is left of the pause when the retry was refused (at once, so nearly all of it).
    assert exc.value.retry_after_s == pytest.approx(30, abs=1.0)
    await c.aclose()


def test_parse_retry_after_forms() -> None:
    assert parse_retry_after("4", 1.0) == 4.0
    assert parse_retry_after("0.15", 1.0) == 0.15
    assert parse_retry_after(None, 1.5) == 1.5
    assert parse_retry_after("soon", 2.0) == 2.0
    future = email.utils.formatdate(time.time() + 60, usegmt=True)
    assert 55 <= parse_retry_after(future, 1.0) <= 61

"""Server and client interceptors shared by every service.

Server side (outermost first): call context (request id, deadline, upstream call count) → metrics →
error mapping → admission (caller or peer checks, per service) → undecodable requests.
grpc.aio interceptors only see the method name and metadata, so each one wraps the method handler
to reach the servicer context and the outcome.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import logging
import time
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine, Sequence
from typing import Any

import grpc
from grpc import aio

from services.common import call_context, margins, upstream_calls
from services.common.errors import DeadlineExceeded, InvalidArgument, SegueError, error_trailers
from services.common.metrics import GO_CODE_NAMES, GrpcMetrics

log = logging.getLogger(__name__)

UnaryBehavior = Callable[[Any, aio.ServicerContext], Awaitable[Any]]
StreamBehavior = Callable[[Any, aio.ServicerContext], AsyncIterator[Any]]
UnaryWrapper = Callable[[UnaryBehavior, str], UnaryBehavior]
StreamWrapper = Callable[[StreamBehavior, str], StreamBehavior]


Deserializer = Callable[[bytes], Any]


def _wrap_handler(
    handler: grpc.RpcMethodHandler | None,
    method: str,
    unary: UnaryWrapper,
    stream: StreamWrapper,
    deserializer: Callable[[Deserializer | None], Deserializer | None] = lambda d: d,
) -> grpc.RpcMethodHandler | None:
    """Wrap a unary-request handler's behavior. Client-streaming methods (none in segue) pass through."""
    if handler is None or handler.request_streaming:
        return handler
    if handler.response_streaming:
        return grpc.unary_stream_rpc_method_handler(
            stream(_as_generator(handler.unary_stream), method),
            request_deserializer=deserializer(handler.request_deserializer),
            response_serializer=handler.response_serializer,
        )
    return grpc.unary_unary_rpc_method_handler(
        unary(handler.unary_unary, method),
        request_deserializer=deserializer(handler.request_deserializer),
        response_serializer=handler.response_serializer,
    )


def _as_generator(behavior: Callable[[Any, aio.ServicerContext], Any]) -> StreamBehavior:
    """A server-streaming behavior as an async generator, which is what the wrappers iterate.

    grpc.aio also lets a handler be a coroutine that sends with `await ctx.write(...)` and returns
    (the health service's Watch is one); iterating its coroutine would fail every such call.
    """
    if not inspect.iscoroutinefunction(behavior):
        return behavior

    async def written(request: Any, ctx: aio.ServicerContext) -> AsyncIterator[Any]:
        await behavior(request, ctx)
        return
        yield  # unreachable: makes this function an async generator

    return written


class _HandlerInterceptor(aio.ServerInterceptor):
    """Base: subclasses provide `around_unary` and `around_stream` (and may wrap the request deserializer)."""

    async def intercept_service(
        self,
        continuation: Callable[[grpc.HandlerCallDetails], Awaitable[grpc.RpcMethodHandler]],
        handler_call_details: grpc.HandlerCallDetails,
    ) -> grpc.RpcMethodHandler:
        handler = await continuation(handler_call_details)
        return _wrap_handler(
            handler, handler_call_details.method, self.around_unary, self.around_stream, self.around_deserializer
        )

    def around_deserializer(self, deserializer: Deserializer | None) -> Deserializer | None:
        return deserializer

    def around_unary(self, behavior: UnaryBehavior, method: str) -> UnaryBehavior:
        raise NotImplementedError

    def around_stream(self, behavior: StreamBehavior, method: str) -> StreamBehavior:
        raise NotImplementedError


class CallContextInterceptor(_HandlerInterceptor):
    """Adopts the caller's request id (or makes one), records the call's deadline for downstream hops and
    starts counting the upstream calls the call will cost."""

    def _enter(self, ctx: aio.ServicerContext) -> None:
        call_context.set_request_id(
            call_context.adopted_request_id(call_context.metadata_value(ctx, call_context.REQUEST_ID_HEADER))
        )
        upstream_calls.start()
        call_context.set_deadline_in(ctx.time_remaining())
        call_context.begin_notes()
        call_context.set_lane(
            call_context.lane_from_header(call_context.metadata_value(ctx, call_context.PRIORITY_HEADER))
        )

    def around_unary(self, behavior: UnaryBehavior, method: str) -> UnaryBehavior:
        async def wrapped(request: Any, ctx: aio.ServicerContext) -> Any:
            self._enter(ctx)
            return await behavior(request, ctx)

        return wrapped

    def around_stream(self, behavior: StreamBehavior, method: str) -> StreamBehavior:
        async def wrapped(request: Any, ctx: aio.ServicerContext) -> AsyncIterator[Any]:
            self._enter(ctx)
            async for item in behavior(request, ctx):
                yield item

        return wrapped


def _split_method(method: str) -> tuple[str, str]:
    service, _, name = method.lstrip("/").partition("/")
    return service, name


_BY_VALUE = {status.value[0]: status for status in grpc.StatusCode}


def _outcome(ctx: aio.ServicerContext, exc: BaseException | None) -> str:
    """The status the client will see, in go-grpc-prometheus's spelling. An abort sets the code before raising."""
    if isinstance(exc, asyncio.CancelledError):
        remaining = ctx.time_remaining()
        if remaining is not None and remaining <= 0:
            # The client gave up at its deadline: that is what it saw.
            return GO_CODE_NAMES[grpc.StatusCode.DEADLINE_EXCEEDED]
        return GO_CODE_NAMES[grpc.StatusCode.CANCELLED]
    code = ctx.code()
    if code is None:
        return GO_CODE_NAMES[grpc.StatusCode.OK if exc is None else grpc.StatusCode.UNKNOWN]
    if not isinstance(code, grpc.StatusCode):  # grpc.aio may report the raw integer code
        code = _BY_VALUE.get(code, grpc.StatusCode.UNKNOWN)
    return GO_CODE_NAMES[code]


class MetricsInterceptor(_HandlerInterceptor):
    """grpc_server_started_total / handled_total / handling_seconds, with the real status code."""

    def __init__(self, metrics: GrpcMetrics) -> None:
        self._m = metrics

    def _start(self, method: str, grpc_type: str) -> tuple[str, str, str]:
        service, name = _split_method(method)
        self._m.started.labels(grpc_type, service, name).inc()
        return grpc_type, service, name

    def _finish(
        self, labels: tuple[str, str, str], ctx: aio.ServicerContext, exc: BaseException | None, t0: float
    ) -> None:
        outcome = _outcome(ctx, exc)
        if outcome == GO_CODE_NAMES[grpc.StatusCode.CANCELLED]:
            # Cut while its caller still waited: the client cancelled, or the connection under it closed
            # (a server stopping past its grace, connection ageing past its grace, a network cut).
            remaining = ctx.time_remaining()
            log.warning(
                "%s/%s cut before its deadline: the client cancelled or the connection closed",
                labels[1],
                labels[2],
                extra={"seconds_left": None if remaining is None else round(remaining, 3)},
            )
        self._m.handled.labels(*labels, outcome).inc()
        self._m.handling_seconds.labels(*labels).observe(time.perf_counter() - t0)

    def around_unary(self, behavior: UnaryBehavior, method: str) -> UnaryBehavior:
        async def wrapped(request: Any, ctx: aio.ServicerContext) -> Any:
            labels, t0 = self._start(method, "unary"), time.perf_counter()
            try:
                response = await behavior(request, ctx)
            except BaseException as exc:
                self._finish(labels, ctx, exc, t0)
                raise
            self._finish(labels, ctx, None, t0)
            return response

        return wrapped

    def around_stream(self, behavior: StreamBehavior, method: str) -> StreamBehavior:
        async def wrapped(request: Any, ctx: aio.ServicerContext) -> AsyncIterator[Any]:
            labels, t0 = self._start(method, "server_stream"), time.perf_counter()
            try:
                async for item in behavior(request, ctx):
                    yield item
            except BaseException as exc:
                self._finish(labels, ctx, exc, t0)
                raise
            self._finish(labels, ctx, None, t0)

        return wrapped


def _add_trailing_metadata(ctx: aio.ServicerContext, items: tuple[tuple[str, str | bytes], ...]) -> None:
    if items:
        ctx.set_trailing_metadata((*(ctx.trailing_metadata() or ()), *items))


class ErrorInterceptor(_HandlerInterceptor):
    """Maps domain errors to statuses in one place; anything unexpected becomes INTERNAL, logged with its stack.

    Every answer, error or not, also carries the upstream calls the call cost (see upstream_calls).
    """

    async def _abort(self, ctx: aio.ServicerContext, exc: Exception, method: str) -> None:
        _add_trailing_metadata(ctx, upstream_calls.trailer())
        if isinstance(exc, SegueError):
            _add_trailing_metadata(ctx, error_trailers(exc))
            log.info("%s failed: %s", method, exc.message, extra={"grpc_code": exc.code.name})
            await ctx.abort(exc.code, exc.message)
        log.exception("%s failed unexpectedly", method)
        await ctx.abort(
            grpc.StatusCode.INTERNAL, f"internal error (request id {call_context.request_id() or 'unknown'})"
        )

    def around_unary(self, behavior: UnaryBehavior, method: str) -> UnaryBehavior:
        async def wrapped(request: Any, ctx: aio.ServicerContext) -> Any:
            try:
                response = await behavior(request, ctx)
            except aio.AbortError:
                raise
            except Exception as exc:
                await self._abort(ctx, exc, method)
            _add_trailing_metadata(ctx, upstream_calls.trailer())
            return response

        return wrapped

    def around_stream(self, behavior: StreamBehavior, method: str) -> StreamBehavior:
        async def wrapped(request: Any, ctx: aio.ServicerContext) -> AsyncIterator[Any]:
            try:
                async for item in behavior(request, ctx):
                    yield item
            except aio.AbortError:
                raise
            except Exception as exc:
                await self._abort(ctx, exc, method)
            _add_trailing_metadata(ctx, upstream_calls.trailer())

        return wrapped


class Undecodable:
    """Stands in for a request whose bytes are not the message the method takes."""

    def __init__(self, message: str) -> None:
        self.message = message


def _tolerant(deserializer: Deserializer | None) -> Deserializer | None:
    """A deserializer that never raises: grpc would answer UNKNOWN with the exception's class and log a stack."""
    if deserializer is None:
        return None
    owner = getattr(deserializer, "__self__", None)  # FromString is a classmethod of the message class
    descriptor = getattr(owner, "DESCRIPTOR", None)
    name = getattr(descriptor, "full_name", "") or "request"

    def deserialize(raw: bytes) -> Any:
        try:
            return deserializer(raw)
        except Exception:
            return Undecodable(f"the request is not a valid {name} message: its bytes could not be parsed")

    return deserialize


class UndecodableRequestInterceptor(_HandlerInterceptor):
    """Innermost: a request that could not be parsed is INVALID_ARGUMENT with a plain message, no stack."""

    def around_deserializer(self, deserializer: Deserializer | None) -> Deserializer | None:
        return _tolerant(deserializer)

    def around_unary(self, behavior: UnaryBehavior, method: str) -> UnaryBehavior:
        async def wrapped(request: Any, ctx: aio.ServicerContext) -> Any:
            if isinstance(request, Undecodable):
                raise InvalidArgument(request.message)
            return await behavior(request, ctx)

        return wrapped

    def around_stream(self, behavior: StreamBehavior, method: str) -> StreamBehavior:
        async def wrapped(request: Any, ctx: aio.ServicerContext) -> AsyncIterator[Any]:
            if isinstance(request, Undecodable):
                raise InvalidArgument(request.message)
            async for item in behavior(request, ctx):
                yield item

        return wrapped


def server_interceptors(
    metrics: GrpcMetrics, admission: Sequence[aio.ServerInterceptor] = ()
) -> list[aio.ServerInterceptor]:
    """`admission`: who may call (caller or peer checks), run inside the error mapping and before decoding errors."""
    return [
        CallContextInterceptor(),
        MetricsInterceptor(metrics),
        ErrorInterceptor(),
        *admission,
        UndecodableRequestInterceptor(),
    ]


def _run_soon(pending: set[asyncio.Task[None]], work: Coroutine[Any, Any, None]) -> None:
    """Work a call's done-callback starts (it cannot await), held in `pending` until it ends."""
    task = asyncio.ensure_future(work)
    pending.add(task)
    task.add_done_callback(pending.discard)


class ClientMetricsInterceptor(aio.UnaryUnaryClientInterceptor, aio.UnaryStreamClientInterceptor):
    """grpc_client_started_total / handled_total / handling_seconds for every outgoing call.

    A call's status is known only when it ends, which for a stream is when the caller has read it: the
    outcome is recorded from the call's done callback (grpc.aio reads the status with a coroutine, so the
    callback hands it to a task).
    """

    def __init__(self, metrics: GrpcMetrics) -> None:
        self._m = metrics
        self._pending: set[asyncio.Task[None]] = set()

    async def _observe(self, continuation: Any, details: aio.ClientCallDetails, request: Any, grpc_type: str) -> Any:
        method = details.method.decode() if isinstance(details.method, bytes) else details.method
        service, name = _split_method(method)
        labels = (grpc_type, service, name)
        self._m.started.labels(*labels).inc()
        t0 = time.perf_counter()
        try:
            call = await continuation(details, request)
        except SegueError as exc:  # refused before it went out (no time left)
            self._finish(labels, GO_CODE_NAMES[exc.code], t0)
            raise
        except aio.AioRpcError as exc:  # refused before it went out (no ready connection: the connect gate)
            self._finish(labels, GO_CODE_NAMES.get(exc.code(), "Unknown"), t0)
            raise
        except BaseException:
            self._finish(labels, GO_CODE_NAMES[grpc.StatusCode.UNKNOWN], t0)
            raise
        call.add_done_callback(lambda done: self._when_done(done, labels, t0))
        return call

    def _when_done(self, call: Any, labels: tuple[str, str, str], t0: float) -> None:
        _run_soon(self._pending, self._record(call, labels, time.perf_counter() - t0))

    async def _record(self, call: Any, labels: tuple[str, str, str], elapsed: float) -> None:
        try:
            code = await call.code()
        except asyncio.CancelledError:
            code = grpc.StatusCode.CANCELLED
        self._m.handled.labels(*labels, GO_CODE_NAMES.get(code, "Unknown")).inc()
        self._m.handling_seconds.labels(*labels).observe(elapsed)

    def _finish(self, labels: tuple[str, str, str], code: str, t0: float) -> None:
        self._m.handled.labels(*labels, code).inc()
        self._m.handling_seconds.labels(*labels).observe(time.perf_counter() - t0)

    async def intercept_unary_unary(
        self, continuation: Any, client_call_details: aio.ClientCallDetails, request: Any
    ) -> Any:
        return await self._observe(continuation, client_call_details, request, "unary")

    async def intercept_unary_stream(
        self, continuation: Any, client_call_details: aio.ClientCallDetails, request: Any
    ) -> Any:
        return await self._observe(continuation, client_call_details, request, "server_stream")


def peer_timeout(asked_s: float | None, default_s: float, margin_s: float) -> float:
    """A downstream call's timeout: the caller's remaining deadline less `margin_s`, capped only by a
    timeout the call itself asks for (`asked_s`); `default_s` only when the caller set no deadline."""
    if asked_s is not None:
        return call_context.budget(asked_s, margin_s)
    remaining = call_context.time_remaining()
    return default_s if remaining is None else max(0.0, remaining - margin_s)


class PropagatingClientInterceptor(aio.UnaryUnaryClientInterceptor, aio.UnaryStreamClientInterceptor):
    """Every downstream call carries the request id and a timeout that ends before the incoming deadline.

    The downstream call gets the incoming deadline less a margin (or the timeout the call itself asks
    for, if smaller), so it gives up first and this service still has time to answer — with a partial
    result or an error that names what was slow — instead of the caller seeing a bare "Deadline
    Exceeded". The channel's default timeout applies only when the caller set no deadline: a fixed
    per-peer cap never cuts a call shorter than the caller's deadline allows. A call made with no time
    left fails at once instead of starting work nobody will wait for.
    """

    def __init__(self, default_timeout_s: float, margin_s: float = margins.PROPAGATION_S) -> None:
        self._default = default_timeout_s
        self._margin = margin_s
        self._pending: set[asyncio.Task[None]] = set()

    def _details(self, details: aio.ClientCallDetails) -> aio.ClientCallDetails:
        timeout = peer_timeout(details.timeout, self._default, self._margin)
        if timeout <= 0:
            raise DeadlineExceeded("the caller's deadline passed before a downstream call could start")
        metadata = aio.Metadata(*(tuple(details.metadata) if details.metadata else ()))
        rid = call_context.request_id()
        if rid and call_context.REQUEST_ID_HEADER not in metadata:
            metadata.add(call_context.REQUEST_ID_HEADER, rid)
        if call_context.lane() is call_context.Lane.BACKGROUND and call_context.PRIORITY_HEADER not in metadata:
            metadata.add(call_context.PRIORITY_HEADER, call_context.Lane.BACKGROUND.value)
        return aio.ClientCallDetails(details.method, timeout, metadata, details.credentials, details.wait_for_ready)

    async def intercept_unary_unary(
        self, continuation: Any, client_call_details: aio.ClientCallDetails, request: Any
    ) -> Any:
        call = await continuation(self._details(client_call_details), request)
        # Wait for the answer here to add the peer's upstream calls to this call's count; the caller's own
        # await then returns the same response (or raises the same error).
        try:
            await call
        except aio.AioRpcError as exc:
            upstream_calls.absorb(exc.trailing_metadata())
            return call
        upstream_calls.absorb(await call.trailing_metadata())
        return call

    async def intercept_unary_stream(
        self, continuation: Any, client_call_details: aio.ClientCallDetails, request: Any
    ) -> Any:
        call = await continuation(self._details(client_call_details), request)
        # A stream's trailers come when the caller has read it to its end: counted then, into the counter of
        # the call that made it (the done-callback runs outside its context).
        counter = upstream_calls.counter()
        if counter is not None:
            call.add_done_callback(lambda done: _run_soon(self._pending, self._absorb(done, counter)))
        return call

    @staticmethod
    async def _absorb(call: Any, counter: Counter[str]) -> None:
        with contextlib.suppress(asyncio.CancelledError, aio.AioRpcError):
            upstream_calls.absorb(await call.trailing_metadata(), into=counter)

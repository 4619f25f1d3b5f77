"""segue.v1.Orchestrator: translates calls into the workflow and its answer back."""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import time
from collections.abc import AsyncIterator, Awaitable

from grpc import aio
from segue.v1 import common_pb2, orchestrator_pb2, orchestrator_pb2_grpc

from services.common import call_context
from services.common.identity import Identity
from services.common.streams import as_messages
from services.orchestrator import ledger, workflow
from services.orchestrator.admission import Admission, Unverified
from services.orchestrator.metrics import RecommendMetrics
from services.orchestrator.overload import DEFAULT_MOOD_BUDGET_S, Overload, Plan
from services.orchestrator.peers import Peers
from services.orchestrator.popular import RecentPrompts
from services.orchestrator.prefetch import BackgroundWork
from services.orchestrator.requests import RecommendParams, check_user_id, parse_recommend
from services.orchestrator.sessions import Session, SessionStore

log = logging.getLogger(__name__)


def _recommend_params(request: orchestrator_pb2.RecommendRequest, ctx: aio.ServicerContext) -> RecommendParams:
    return parse_recommend(request, call_context.metadata_value(ctx, call_context.SPOTIFY_TOKEN_HEADER))


def _count_admission(response: orchestrator_pb2.RecommendResponse, seconds: float) -> None:
    """The time spent verifying the caller and the user (a GET /v1/me for a new token) is part of the total."""
    response.timings.insert(0, common_pb2.PhaseTiming(phase="admission", seconds=seconds))
    for timing in response.timings:
        if timing.phase == "total":
            timing.seconds += seconds


class OrchestratorServicer(orchestrator_pb2_grpc.OrchestratorServicer):
    def __init__(
        self,
        peers: Peers,
        sessions: SessionStore,
        admission: Admission,
        background: BackgroundWork,
        recommend_timeout_s: float,
        prefetch_timeout_s: float,
        metrics: RecommendMetrics,
        recent: RecentPrompts,
        *,
        overload: Overload | None = None,
        max_deadline_s: float = 120.0,
    ):
        self._peers = peers
        self._metrics = metrics
        self._recent = recent
        self._sessions = sessions
        self._admission = admission
        self._background = background
        self._recommend_timeout_s = recommend_timeout_s
        self._prefetch_timeout_s = prefetch_timeout_s
        self._max_deadline_s = max_deadline_s
        self._overload = overload or Overload(None, DEFAULT_MOOD_BUDGET_S)

    async def close(self) -> None:
        await self._background.close()

    def _with_default_deadline(self) -> None:
        """RECOMMEND_TIMEOUT_S when the caller set no deadline; never more than MAX_DEADLINE_S.

        Within MAX_DEADLINE_S the answer comes (partial if it must), so a caller allowing more still gets
        it in time, and connection ageing, which waits that long for calls in flight, never cuts it.
        """
        remaining = call_context.time_remaining()
        if remaining is None:
            call_context.set_deadline_in(self._recommend_timeout_s)
        elif remaining > self._max_deadline_s:
            call_context.set_deadline_in(self._max_deadline_s)

    async def _run(
        self, method: str, request: orchestrator_pb2.RecommendRequest, ctx: aio.ServicerContext, emit: workflow.Emit
    ) -> orchestrator_pb2.RecommendResponse:
        with ledger.recorded(method) as entry:
            started = time.perf_counter()
            await self._admission.caller()  # first: a flood of bad requests is a flood all the same
            params = _recommend_params(request, ctx)
            self._with_default_deadline()
            # Before the identity check, whose GET /me takes a Spotify slot: a request is shed at once.
            # While Spotify says whose new token it is, a session's first prompt has its mood asked for: a mood
            # is nobody's in particular.
            async with (
                self._overload.admitted(follow_up=bool(params.session_id)) as admitted,
                workflow.mood_ahead(self._peers, params, admitted.plan.mood_budget_s) as ahead,
            ):
                identity = await self._admission.user(params.token, params.user_id, ahead.start if ahead else None)
                admitted_s = time.perf_counter() - started
                if isinstance(identity, Unverified):
                    # Whose token this is stays unknown: no per-user artifact is read or written (no session).
                    entry.unverified(identity.reason)
                    self._metrics.unverified.labels(identity.reason.value).inc()
                    params = dataclasses.replace(params, user_id="", session_id="")
                    session = Session(session_id="")
                    plan = identity.plan(admitted.plan)
                    fresh = True
                else:
                    entry.admitted(identity)
                    # From here on the user is who the token says: every per-user artifact is reached through it.
                    params = dataclasses.replace(params, user_id=identity.user_id)
                    session = await self._sessions.load(identity.key, params.session_id, params.prompt)
                    fresh = session.mood is None  # a session's follow-up or a repeat mostly reuses its pool
                    plan = admitted.plan if fresh else Plan(mood_budget_s=admitted.plan.mood_budget_s)
                if not params.session_id:  # a later prompt of a session may be a tweak ("more upbeat"), not a mood
                    self._recent.add(params.prompt)
                response = await workflow.recommend(self._peers, params, session, admitted.watch(emit), plan, ahead)
                response.session_started = session.started
            if fresh:
                self._overload.observe_answer(response.timings)
            if isinstance(identity, Identity):
                await self._sessions.save(identity.key, session)
            _count_admission(response, admitted_s)
            self._metrics.record(response)
            entry.answered(response, params.size)
            return response

    async def Recommend(
        self, request: orchestrator_pb2.RecommendRequest, ctx: aio.ServicerContext
    ) -> orchestrator_pb2.RecommendResponse:
        return await self._run("Recommend", request, ctx, lambda progress: None)

    async def RecommendStream(
        self, request: orchestrator_pb2.RecommendStreamRequest, ctx: aio.ServicerContext
    ) -> AsyncIterator[orchestrator_pb2.RecommendStreamResponse]:
        def run(emit: workflow.Emit) -> Awaitable[orchestrator_pb2.RecommendResponse]:
            return self._run("RecommendStream", request.request, ctx, emit)

        Message = orchestrator_pb2.RecommendStreamResponse
        # Closed with the handler (a caller that hangs up): the run is cancelled and awaited at once.
        async with contextlib.aclosing(
            as_messages(run, lambda p: Message(progress=p), lambda r: Message(result=r))
        ) as messages:
            async for message in messages:
                yield message

    async def Prefetch(
        self, request: orchestrator_pb2.PrefetchRequest, ctx: aio.ServicerContext
    ) -> orchestrator_pb2.PrefetchResponse:
        await self._admission.caller()
        claimed = check_user_id(request.user_id)
        token = call_context.spotify_token(ctx)
        # Background work from here: the identity look-up too yields to users waiting for an answer.
        call_context.set_lane(call_context.Lane.BACKGROUND)
        dropped = await self._background.submit(
            lambda: self._admission.identity(token, claimed), lambda identity: self._warm(identity, token)
        )
        if dropped:
            log.info("prefetch %s", dropped)
        return orchestrator_pb2.PrefetchResponse(accepted=not dropped, reason=dropped)

    async def _warm(self, identity: Identity, token: str) -> None:
        # Runs after Prefetch has answered, so it needs a deadline of its own; nobody waits for it.
        call_context.set_deadline_in(self._prefetch_timeout_s)
        call_context.set_lane(call_context.Lane.BACKGROUND)
        await workflow.warm_user_context(self._peers, identity.user_id, token)

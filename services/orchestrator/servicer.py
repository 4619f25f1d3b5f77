"""segue.v1.Orchestrator: translates calls into the workflow and its answer back."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator

from grpc import aio
from segue.v1 import orchestrator_pb2, orchestrator_pb2_grpc

from services.common import context
from services.orchestrator import workflow
from services.orchestrator.metrics import RecommendMetrics
from services.orchestrator.peers import Peers
from services.orchestrator.requests import RecommendParams, check_user_id, parse_recommend
from services.orchestrator.sessions import SessionStore

log = logging.getLogger(__name__)


def _recommend_params(request: orchestrator_pb2.RecommendRequest, ctx: aio.ServicerContext) -> RecommendParams:
    return parse_recommend(request, context.metadata_value(ctx, context.SPOTIFY_TOKEN_HEADER))


class OrchestratorServicer(orchestrator_pb2_grpc.OrchestratorServicer):
    def __init__(
        self,
        peers: Peers,
        sessions: SessionStore,
        recommend_timeout_s: float,
        prefetch_timeout_s: float,
        metrics: RecommendMetrics,
    ):
        self._peers = peers
        self._metrics = metrics
        self._sessions = sessions
        self._recommend_timeout_s = recommend_timeout_s
        self._prefetch_timeout_s = prefetch_timeout_s
        self._background: set[asyncio.Task[None]] = set()

    def _with_default_deadline(self) -> None:
        if context.time_remaining() is None:
            context.set_deadline_in(self._recommend_timeout_s)

    async def _run(self, params: RecommendParams, emit: workflow.Emit) -> orchestrator_pb2.RecommendResponse:
        self._with_default_deadline()
        session = await self._sessions.load(params.user_id, params.session_id)
        response = await workflow.recommend(self._peers, params, session, emit)
        self._metrics.record(response)
        await self._sessions.save(params.user_id, session)
        return response

    async def Recommend(
        self, request: orchestrator_pb2.RecommendRequest, ctx: aio.ServicerContext
    ) -> orchestrator_pb2.RecommendResponse:
        return await self._run(_recommend_params(request, ctx), lambda progress: None)

    async def RecommendStream(
        self, request: orchestrator_pb2.RecommendStreamRequest, ctx: aio.ServicerContext
    ) -> AsyncIterator[orchestrator_pb2.RecommendStreamResponse]:
        params = _recommend_params(request.request, ctx)
        events: asyncio.Queue[orchestrator_pb2.Progress] = asyncio.Queue()
        run = asyncio.ensure_future(self._run(params, events.put_nowait))
        try:
            while not run.done() or not events.empty():
                getter = asyncio.ensure_future(events.get())
                await asyncio.wait({getter, run}, return_when=asyncio.FIRST_COMPLETED)
                if getter.done():
                    yield orchestrator_pb2.RecommendStreamResponse(progress=getter.result())
                else:
                    getter.cancel()
            yield orchestrator_pb2.RecommendStreamResponse(result=run.result())
        finally:
            run.cancel()

    async def Prefetch(
        self, request: orchestrator_pb2.PrefetchRequest, ctx: aio.ServicerContext
    ) -> orchestrator_pb2.PrefetchResponse:
        user_id = check_user_id(request.user_id)
        token = context.spotify_token(ctx)
        task = asyncio.create_task(self._warm(user_id, token))
        self._background.add(task)
        task.add_done_callback(self._background.discard)
        return orchestrator_pb2.PrefetchResponse(accepted=True)

    async def _warm(self, user_id: str, token: str) -> None:
        # Runs after Prefetch has answered, so it needs a deadline of its own; nobody waits for it.
        context.set_deadline_in(self._prefetch_timeout_s)
        context.set_lane(context.Lane.BACKGROUND)
        try:
            await workflow.warm_user_context(self._peers, user_id, token)
        except Exception as exc:
            log.warning("prefetch for a user failed: %s", exc)

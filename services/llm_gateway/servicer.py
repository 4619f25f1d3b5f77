"""The LlmGateway gRPC servicer: validate, call the logic, build the response. Nothing else."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Callable

from grpc import aio
from segue.v1 import common_pb2, llm_gateway_pb2, llm_gateway_pb2_grpc

from services.common.cache import cache_warnings
from services.common.streams import as_messages
from services.llm_gateway.mood import MoodAnalyzer, validate_prompt
from services.llm_gateway.tasks import TaskRunner, validate_request


class LlmGatewayServicer(llm_gateway_pb2_grpc.LlmGatewayServicer):
    def __init__(self, mood: MoodAnalyzer, tasks: TaskRunner) -> None:
        self._mood = mood
        self._tasks = tasks

    async def AnalyzeMood(
        self, request: llm_gateway_pb2.AnalyzeMoodRequest, context: aio.ServicerContext
    ) -> llm_gateway_pb2.AnalyzeMoodResponse:
        return await self._analyze(request, validate_prompt(request.prompt))

    async def AnalyzeMoodStream(
        self, streamed: llm_gateway_pb2.AnalyzeMoodStreamRequest, context: aio.ServicerContext
    ) -> AsyncIterator[llm_gateway_pb2.AnalyzeMoodStreamResponse]:
        request = streamed.request
        prompt = validate_prompt(request.prompt)  # before the stream starts: a bad prompt is refused at once

        async def run(emit: Callable[[common_pb2.MoodProfile], None]) -> llm_gateway_pb2.AnalyzeMoodResponse:
            return await self._analyze(request, prompt, emit)

        Message = llm_gateway_pb2.AnalyzeMoodStreamResponse
        # Closed with the handler (a caller that hangs up): the run is cancelled and awaited at once.
        async with contextlib.aclosing(
            as_messages(run, lambda s: Message(start=s), lambda r: Message(done=r))
        ) as messages:
            async for message in messages:
                yield message

    async def _analyze(
        self,
        request: llm_gateway_pb2.AnalyzeMoodRequest,
        prompt: str,  # the request's, validated
        on_start: Callable[[common_pb2.MoodProfile], None] | None = None,
    ) -> llm_gateway_pb2.AnalyzeMoodResponse:
        refines = request.refines if request.HasField("refines") else None
        result = await self._mood.analyze(prompt, refines, on_start)
        return llm_gateway_pb2.AnalyzeMoodResponse(
            mood=result.profile, usage=result.usage.to_proto(), warnings=[*result.warnings, *cache_warnings()]
        )

    async def RunTasks(
        self, request: llm_gateway_pb2.RunTasksRequest, context: aio.ServicerContext
    ) -> llm_gateway_pb2.RunTasksResponse:
        validate_request(request)
        result = await self._tasks.run(request)
        return llm_gateway_pb2.RunTasksResponse(
            results=result.results, usage=result.usage.to_proto(), warnings=[*result.warnings, *cache_warnings()]
        )

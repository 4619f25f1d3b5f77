"""The LlmGateway gRPC servicer: validate, call the logic, build the response. Nothing else."""

from __future__ import annotations

from grpc import aio
from segue.v1 import llm_gateway_pb2, llm_gateway_pb2_grpc

from services.common.cache import cache_warnings
from services.llm_gateway.mood import MoodAnalyzer, validate_prompt
from services.llm_gateway.tasks import TaskRunner, validate_request


class LlmGatewayServicer(llm_gateway_pb2_grpc.LlmGatewayServicer):
    def __init__(self, mood: MoodAnalyzer, tasks: TaskRunner) -> None:
        self._mood = mood
        self._tasks = tasks

    async def AnalyzeMood(
        self, request: llm_gateway_pb2.AnalyzeMoodRequest, context: aio.ServicerContext
    ) -> llm_gateway_pb2.AnalyzeMoodResponse:
        refines = request.refines if request.HasField("refines") else None
        result = await self._mood.analyze(validate_prompt(request.prompt), refines)
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

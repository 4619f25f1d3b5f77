"""RunTasks: every task of one request answered by ONE LLM call whose schema has a property per task.

Answers are checked against the request: a choice may only name that task's candidates (others are
dropped) and at most max_choices of them. When the LLM cannot answer, each task gets a fallback
(the caller's candidate order; mentions found by pattern) with a FALLBACK_USED warning.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from pydantic import BaseModel
from segue.v1 import common_pb2, llm_gateway_pb2

from services.common import mood_heuristics
from services.common.cache import Cache, digest
from services.common.cleaning import clean_names, clean_tracks, one_line
from services.common.errors import FieldViolation, InvalidArgument
from services.llm_gateway.fallback import fallback_warning
from services.llm_gateway.gemini import LLM_FAILURES, StructuredLlm
from services.llm_gateway.schemas import ChooseAnswer, MentionsAnswer, tasks_schema
from services.llm_gateway.usage import Usage

log = logging.getLogger(__name__)

TASK = "run_tasks"
PROMPT_VERSION = "tasks-1"  # part of the cache key: change it when prompts or schemas change meaning
MAX_TASKS = 20
MAX_CANDIDATES = 200
MAX_CONTEXT_CHARS = 2000
MAX_TEXT_CHARS = 4000
MAX_DESCRIPTION_CHARS = 300
DEFAULT_MAX_PROMPT_CHARS = 32_000  # ~8 k tokens: room for a few tasks of 200 short candidates each

SYSTEM_INSTRUCTION = """\
You are a music curator helping to build a playlist for a listener's request.
You receive several numbered tasks. Answer every one of them, each under its own key of the JSON
object (task_1, task_2, ...). When choosing, copy candidate ids exactly as listed, never invent one,
and never choose more than the task allows. When extracting mentions, list only songs and artists the
text names explicitly."""


@dataclass
class TasksResult:
    results: list[llm_gateway_pb2.LlmTaskResult]
    usage: Usage
    warnings: list[common_pb2.Warning] = field(default_factory=list)


def validate_request(request: llm_gateway_pb2.RunTasksRequest) -> None:
    """INVALID_ARGUMENT naming every problem of the request at once."""
    problems: list[str] = []
    if len(request.context) > MAX_CONTEXT_CHARS:
        problems.append(f"context must be at most {MAX_CONTEXT_CHARS} characters, got {len(request.context)}")
    if not request.tasks:
        problems.append("tasks must not be empty: at least one task is required")
    if len(request.tasks) > MAX_TASKS:
        problems.append(f"tasks may hold at most {MAX_TASKS} tasks per request, got {len(request.tasks)}")
    seen: set[str] = set()
    for i, task in enumerate(request.tasks):
        label = f"tasks[{i}]"
        if not task.task_id.strip():
            problems.append(f"{label}.task_id must not be empty")
        elif task.task_id in seen:
            problems.append(f"{label}.task_id {task.task_id!r} is not unique")
        seen.add(task.task_id)
        kind = task.WhichOneof("kind")
        if kind == "choose":
            problems.extend(_choose_problems(label, task.choose))
        elif kind == "extract_mentions":
            text = task.extract_mentions.text
            if not text.strip():
                problems.append(f"{label}.extract_mentions.text must not be empty")
            elif len(text) > MAX_TEXT_CHARS:
                problems.append(f"{label}.extract_mentions.text must be at most {MAX_TEXT_CHARS} characters")
        else:
            problems.append(f"{label} must set choose or extract_mentions")
    if problems:
        raise InvalidArgument("; ".join(problems))


def _choose_problems(label: str, choose: llm_gateway_pb2.ChooseCandidatesTask) -> list[str]:
    problems: list[str] = []
    if not choose.candidates:
        problems.append(f"{label}.choose needs at least 1 candidate")
    if len(choose.candidates) > MAX_CANDIDATES:
        problems.append(f"{label}.choose has {len(choose.candidates)} candidates, at most {MAX_CANDIDATES} allowed")
    if choose.max_choices < 0:
        problems.append(f"{label}.choose.max_choices must be 1 or more (0: no cap), got {choose.max_choices}")
    ids = [c.id for c in choose.candidates]
    if any(not i.strip() for i in ids):
        problems.append(f"{label}.choose candidate ids must not be empty")
    if len(set(ids)) != len(ids):
        problems.append(f"{label}.choose candidate ids must be unique")
    return problems


def property_name(index: int) -> str:
    """The schema property of the index-th task. Caller ids may be any text, so they are not used."""
    return f"task_{index + 1}"


def build_prompt(request: llm_gateway_pb2.RunTasksRequest) -> str:
    """Each task under its schema property's name; a choice's candidates one per line as `- <id>: <text>`."""
    parts = [f"Mood prompt: {one_line(request.context, MAX_CONTEXT_CHARS)}"] if request.context.strip() else []
    for i, task in enumerate(request.tasks):
        name = property_name(i)
        if task.WhichOneof("kind") == "choose":
            choose = task.choose
            limit = choice_cap(choose)
            lines = [f"- {c.id}: {one_line(c.description, MAX_DESCRIPTION_CHARS)}" for c in choose.candidates]
            parts.append(
                f"{name} (choose): {one_line(choose.instruction, 1000)}\n"
                f"Choose at most {limit} of the following, best first, and answer with their ids in chosen_ids.\n"
                f"Candidates for {name} (id: description):\n" + "\n".join(lines)
            )
        else:
            parts.append(
                f"{name} (extract mentions): list the songs (title and artist) and the artists named in this input.\n"
                f"Input: {one_line(task.extract_mentions.text, MAX_TEXT_CHARS)}"
            )
    return "\n\n".join(parts)


def build_schema(request: llm_gateway_pb2.RunTasksRequest) -> type[BaseModel]:
    return tasks_schema(
        {
            property_name(i): ChooseAnswer if task.WhichOneof("kind") == "choose" else MentionsAnswer
            for i, task in enumerate(request.tasks)
        }
    )


def choice_cap(choose: llm_gateway_pb2.ChooseCandidatesTask) -> int:
    """At most max_choices, 0 meaning no cap but the candidates' count."""
    return min(choose.max_choices or len(choose.candidates), len(choose.candidates))


def choose_result(
    choose: llm_gateway_pb2.ChooseCandidatesTask, chosen: list[str], reasoning: str
) -> llm_gateway_pb2.ChooseCandidatesResult:
    """Only this task's candidate ids, each once, in the order given, at most max_choices."""
    allowed = {c.id for c in choose.candidates}
    picked: list[str] = []
    for raw in chosen:
        cid = raw.strip()
        if cid in allowed and cid not in picked:
            picked.append(cid)
    return llm_gateway_pb2.ChooseCandidatesResult(
        chosen_ids=picked[: choice_cap(choose)], reasoning=one_line(reasoning, 500)
    )


def mentions_result(tracks: list[tuple[str, str]], artists: list[str]) -> llm_gateway_pb2.ExtractMentionsResult:
    return llm_gateway_pb2.ExtractMentionsResult(tracks=clean_tracks(tracks, 20), artists=clean_names(artists, 20))


def to_results(request: llm_gateway_pb2.RunTasksRequest, answer: BaseModel) -> list[llm_gateway_pb2.LlmTaskResult]:
    results: list[llm_gateway_pb2.LlmTaskResult] = []
    for i, task in enumerate(request.tasks):
        part = getattr(answer, property_name(i))
        if isinstance(part, ChooseAnswer):
            results.append(
                llm_gateway_pb2.LlmTaskResult(
                    task_id=task.task_id, choose=choose_result(task.choose, part.chosen_ids, part.reasoning)
                )
            )
        else:
            assert isinstance(part, MentionsAnswer)
            tracks = [(t.title, t.artist) for t in part.tracks]
            results.append(
                llm_gateway_pb2.LlmTaskResult(
                    task_id=task.task_id, extract_mentions=mentions_result(tracks, part.artists)
                )
            )
    return results


def fallback_results(request: llm_gateway_pb2.RunTasksRequest) -> list[llm_gateway_pb2.LlmTaskResult]:
    """Without the LLM: choices keep the caller's candidate order; mentions come from patterns."""
    results: list[llm_gateway_pb2.LlmTaskResult] = []
    for task in request.tasks:
        if task.WhichOneof("kind") == "choose":
            ids = [c.id for c in task.choose.candidates]
            chosen = choose_result(task.choose, ids, "fallback: the first candidates in the order given")
            results.append(llm_gateway_pb2.LlmTaskResult(task_id=task.task_id, choose=chosen))
        else:
            found = mood_heuristics.extract_mentions(task.extract_mentions.text)
            mentions = llm_gateway_pb2.ExtractMentionsResult(tracks=found.tracks, artists=found.artists)
            results.append(llm_gateway_pb2.LlmTaskResult(task_id=task.task_id, extract_mentions=mentions))
    return results


def check_prompt_size(prompt: str, max_chars: int) -> None:
    """What one LLM call may cost: the per-field limits alone allow ~1.2 M characters in one bundle."""
    if len(prompt) > max_chars:
        message = (
            f"the tasks make a prompt of {len(prompt)} characters, at most {max_chars} are sent in one call: "
            "send fewer tasks or candidates, or shorter descriptions"
        )
        raise InvalidArgument(message, [FieldViolation("tasks", message)])


class TaskRunner:
    def __init__(
        self, llm: StructuredLlm, cache: Cache, ttl_s: float, max_prompt_chars: int = DEFAULT_MAX_PROMPT_CHARS
    ) -> None:
        self._llm = llm
        self._cache = cache
        self._ttl_s = ttl_s
        self._max_prompt_chars = max_prompt_chars

    def cache_key(self, request: llm_gateway_pb2.RunTasksRequest) -> str:
        body = request.SerializeToString(deterministic=True).hex()
        return self._cache.key("tasks", digest(PROMPT_VERSION, self._llm.model, body))

    async def run(self, request: llm_gateway_pb2.RunTasksRequest) -> TasksResult:
        """`request` already validated field by field; INVALID_ARGUMENT when the whole is too large for one call.
        LLM trouble degrades to fallback results with a warning."""
        prompt = build_prompt(request)
        check_prompt_size(prompt, self._max_prompt_chars)
        usage = Usage()

        async def ask_llm() -> llm_gateway_pb2.RunTasksResponse:
            answer = await self._llm.generate(
                task=TASK,
                system=SYSTEM_INSTRUCTION,
                prompt=prompt,
                schema=build_schema(request),
                usage=usage,
            )
            return llm_gateway_pb2.RunTasksResponse(results=to_results(request, answer))

        try:
            answered, hit = await self._cache.get_or_produce(
                self.cache_key(request), llm_gateway_pb2.RunTasksResponse, self._ttl_s, ask_llm
            )
        except LLM_FAILURES as exc:
            warning = fallback_warning(exc, "tasks were answered by fallbacks (candidates in the order given)")
            log.warning("%s", warning.message)
            return TasksResult(fallback_results(request), usage, [warning])
        if hit:
            usage.cache_hits += 1
        return TasksResult(list(answered.results), usage)

"""Bad input over every public and internal RPC, against the real processes: a specific status and message each,
no process crash, no stack trace in any service's log.

Requests go out as raw bytes through a generic channel call, so a case can be a message or bytes no
message could serialize to. The mesh runs with auth off (the local mesh): the internal services are
reachable, which is what lets a table reach them.
"""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import grpc
import pytest
import pytest_asyncio
from google.protobuf.message import Message
from google.rpc.error_details_pb2 import BadRequest
from grpc import aio
from grpc_status import rpc_status
from segue.v1 import common_pb2, llm_gateway_pb2, orchestrator_pb2, reccobeat_gateway_pb2, seed_gatherer_pb2

from segue_cli.mesh import SERVICES, Mesh
from services.common.features import feature_named
from tests.security.conftest import ATTACKER_TOKEN, EXPIRED_TOKEN, VICTIM_ID, VICTIM_TOKEN

pytestmark = [pytest.mark.integration, pytest.mark.asyncio(loop_scope="session")]

OK = grpc.StatusCode.OK
BAD = grpc.StatusCode.INVALID_ARGUMENT
UNAUTH = grpc.StatusCode.UNAUTHENTICATED
DENIED = grpc.StatusCode.PERMISSION_DENIED
SEED = "4uLU6hMCjMI75M1A2tKUQC"
UUID = "2670c328-c40f-45f4-80df-f48b29296deb"
GARBAGE = b"\xff\xff\xff\xff\x0f\x0a\x05short"  # a varint that never ends, then a length past the end
MOOD = common_pb2.MoodProfile(
    targets=[
        common_pb2.FeatureTarget(feature=common_pb2.AUDIO_FEATURE_ENERGY, target=0.3, min=0.1, max=0.5, weight=1.0)
    ],
    genres=["jazz"],
)
SERVICE_OF = {
    "Orchestrator": "orchestrator",
    "SeedGatherer": "seed_gatherer",
    "ReccoBeatGateway": "reccobeat_gateway",
    "LlmGateway": "llm_gateway",
}


@dataclass(frozen=True)
class Case:
    name: str
    method: str  # "Service/Method"
    request: Message | bytes
    code: grpc.StatusCode
    message: str  # in the status details; for OK cases, a regex the answer's request_id must fully match
    token: str | None = VICTIM_TOKEN  # x-spotify-token, None: not sent
    metadata: tuple[tuple[str, str], ...] = field(default=())

    @property
    def stream(self) -> bool:
        return self.method.endswith("Stream")


def rec(**kw: object) -> orchestrator_pb2.RecommendRequest:
    fields: dict[str, object] = {"user_id": VICTIM_ID, "mood_prompt": "calm piano for reading", "size": 5}
    fields.update(kw)
    return orchestrator_pb2.RecommendRequest(**fields)


def stream(**kw: object) -> orchestrator_pb2.RecommendStreamRequest:
    return orchestrator_pb2.RecommendStreamRequest(request=rec(**kw))


def gather(**kw: object) -> seed_gatherer_pb2.GatherSeedsRequest:
    fields: dict[str, object] = {"user_id": VICTIM_ID, "mood": MOOD, "max_seeds": 3}
    fields.update(kw)
    return seed_gatherer_pb2.GatherSeedsRequest(**fields)


def recs(**kw: object) -> reccobeat_gateway_pb2.GetRecommendationsRequest:
    fields: dict[str, object] = {"seeds": [SEED], "size": 10}
    fields.update(kw)
    return reccobeat_gateway_pb2.GetRecommendationsRequest(**fields)


def choose(n_candidates: int = 3, description: str = "a track", max_choices: int = 1) -> llm_gateway_pb2.LlmTask:
    candidates = [llm_gateway_pb2.Candidate(id=f"c{i}", description=description) for i in range(n_candidates)]
    return llm_gateway_pb2.LlmTask(
        task_id="t",
        choose=llm_gateway_pb2.ChooseCandidatesTask(instruction="pick", candidates=candidates, max_choices=max_choices),
    )


def tasks(*items: llm_gateway_pb2.LlmTask, context: str = "calm") -> llm_gateway_pb2.RunTasksRequest:
    return llm_gateway_pb2.RunTasksRequest(context=context, tasks=list(items))


def many_tasks(n: int, candidates: int = 3, description: str = "a track") -> llm_gateway_pb2.RunTasksRequest:
    items = []
    for t in range(n):
        task = choose(candidates, description)
        task.task_id = f"t{t}"
        items.append(task)
    return tasks(*items, context="x" * 2000)


def target(name: str, value: float) -> common_pb2.FeatureTarget:
    """A target for the feature `name` names; a name that names none is sent as an enum number no feature has."""
    feature = feature_named(name)
    return common_pb2.FeatureTarget(feature=99 if feature is None else feature, target=value)


ORCH, SEEDS, RB, LLM = "Orchestrator", "SeedGatherer", "ReccoBeatGateway", "LlmGateway"
ID_MESSAGE = "must be the Spotify user id of the token's owner"
NEW_ID = r"[0-9a-f]{16}"

CASES = [
    # --- Orchestrator.Recommend ---
    Case("empty prompt", f"{ORCH}/Recommend", rec(mood_prompt=""), BAD, "mood_prompt must not be empty"),
    Case("blank prompt", f"{ORCH}/Recommend", rec(mood_prompt=" \n\t "), BAD, "mood_prompt must not be empty"),
    Case("prompt too long", f"{ORCH}/Recommend", rec(mood_prompt="x" * 2001), BAD, "at most 2000 characters, got 2001"),
    Case("size -1", f"{ORCH}/Recommend", rec(size=-1), BAD, "size must be between 1 and 100 (or 0 for 20), got -1"),
    Case("size 101", f"{ORCH}/Recommend", rec(size=101), BAD, "got 101"),
    Case("size max int", f"{ORCH}/Recommend", rec(size=2**31 - 1), BAD, "got 2147483647"),
    Case("user id with a space", f"{ORCH}/Recommend", rec(user_id="a b"), BAD, ID_MESSAGE),
    Case("user id, trailing newline", f"{ORCH}/Recommend", rec(user_id=VICTIM_ID + "\n"), BAD, ID_MESSAGE),
    Case("user id too long", f"{ORCH}/Recommend", rec(user_id="u" * 129), BAD, ID_MESSAGE),
    Case("user id not ascii", f"{ORCH}/Recommend", rec(user_id="simüser1"), BAD, ID_MESSAGE),
    Case("session id with a slash", f"{ORCH}/Recommend", rec(session_id="../etc"), BAD, "session_id must be"),
    Case("session id, trailing newline", f"{ORCH}/Recommend", rec(session_id="s1\n"), BAD, "session_id must be"),
    Case("session id too long", f"{ORCH}/Recommend", rec(session_id="s" * 129), BAD, "session_id must be"),
    Case("missing token", f"{ORCH}/Recommend", rec(), UNAUTH, "missing x-spotify-token metadata", token=None),
    Case("blank token", f"{ORCH}/Recommend", rec(), UNAUTH, "missing x-spotify-token metadata", token="  "),
    Case("expired token", f"{ORCH}/Recommend", rec(), UNAUTH, "Spotify rejected the access token", token=EXPIRED_TOKEN),
    Case("malformed token", f"{ORCH}/Recommend", rec(), UNAUTH, "Spotify rejected the access token", token="short"),
    Case(
        "another user's id", f"{ORCH}/Recommend", rec(), DENIED, "user_id names a different user", token=ATTACKER_TOKEN
    ),
    Case("another user's URI", f"{ORCH}/Recommend", rec(user_id="spotify:user:simuser2"), DENIED, "names a different"),
    # "kc:b" + session "c" and "kc" + session "b:c" once shared a Redis key; neither is this token's user now,
    # and key parts are escaped besides (tests/unit/common/test_identity_and_keys.py).
    Case(
        "key collision, part 1", f"{ORCH}/Recommend", rec(user_id="kc:b", session_id="c"), DENIED, "names a different"
    ),
    Case(
        "key collision, part 2", f"{ORCH}/Recommend", rec(user_id="kc", session_id="b:c"), DENIED, "names a different"
    ),
    Case("invalid protobuf", f"{ORCH}/Recommend", GARBAGE, BAD, "not a valid segue.v1.RecommendRequest message"),
    Case("truncated protobuf", f"{ORCH}/Recommend", rec().SerializeToString()[:-3], BAD, "not a valid segue.v1.Recomm"),
    Case("no bytes at all", f"{ORCH}/Recommend", b"", BAD, "mood_prompt must not be empty"),
    Case("4 KB request id", f"{ORCH}/Recommend", rec(), OK, NEW_ID, metadata=(("x-request-id", "r" * 4096),)),
    Case(
        "request id outside the alphabet",
        f"{ORCH}/Recommend",
        rec(),
        OK,
        NEW_ID,
        metadata=(("x-request-id", '{"inject": "me"}'),),
    ),
    Case(
        "a plain request id is kept",
        f"{ORCH}/Recommend",
        rec(),
        OK,
        "req-42.a_b",
        metadata=(("x-request-id", "req-42.a_b"),),
    ),
    # --- Orchestrator.RecommendStream ---
    Case(
        "stream: empty prompt", f"{ORCH}/RecommendStream", stream(mood_prompt=""), BAD, "mood_prompt must not be empty"
    ),
    Case("stream: bad size", f"{ORCH}/RecommendStream", stream(size=500), BAD, "got 500"),
    Case("stream: expired token", f"{ORCH}/RecommendStream", stream(), UNAUTH, "Spotify rejected", token=EXPIRED_TOKEN),
    Case(
        "stream: another user", f"{ORCH}/RecommendStream", stream(), DENIED, "names a different", token=ATTACKER_TOKEN
    ),
    Case("stream: invalid protobuf", f"{ORCH}/RecommendStream", GARBAGE, BAD, "not a valid segue.v1.RecommendStreamRe"),
    # --- Orchestrator.Prefetch ---
    Case("prefetch: bad user id", f"{ORCH}/Prefetch", orchestrator_pb2.PrefetchRequest(user_id="x\n"), BAD, ID_MESSAGE),
    Case(
        "prefetch: missing token",
        f"{ORCH}/Prefetch",
        orchestrator_pb2.PrefetchRequest(),
        UNAUTH,
        "missing x-spotify",
        token=None,
    ),
    Case(
        "prefetch: expired token",
        f"{ORCH}/Prefetch",
        orchestrator_pb2.PrefetchRequest(user_id=VICTIM_ID),
        UNAUTH,
        "Spotify rejected",
        token=EXPIRED_TOKEN,
    ),
    Case(
        "prefetch: another user",
        f"{ORCH}/Prefetch",
        orchestrator_pb2.PrefetchRequest(user_id=VICTIM_ID),
        DENIED,
        "names a different",
        token=ATTACKER_TOKEN,
    ),
    Case(
        "prefetch: invalid protobuf", f"{ORCH}/Prefetch", GARBAGE, BAD, "not a valid segue.v1.PrefetchRequest message"
    ),
    # --- SeedGatherer ---
    Case("gather: missing token", f"{SEEDS}/GatherSeeds", gather(), UNAUTH, "missing x-spotify-token", token=None),
    Case("gather: expired token", f"{SEEDS}/GatherSeeds", gather(), UNAUTH, "Spotify rejected", token=EXPIRED_TOKEN),
    Case("gather: another user", f"{SEEDS}/GatherSeeds", gather(), DENIED, "names a different", token=ATTACKER_TOKEN),
    Case("gather: no mood", f"{SEEDS}/GatherSeeds", gather(mood=None), BAD, "mood is required"),
    Case(
        "gather: max_seeds 6",
        f"{SEEDS}/GatherSeeds",
        gather(max_seeds=6),
        BAD,
        "max_seeds must be 0..5 (0 means 5), got 6",
    ),
    Case("gather: max_seeds -1", f"{SEEDS}/GatherSeeds", gather(max_seeds=-1), BAD, "got -1"),
    Case(
        "gather: 51 genres",
        f"{SEEDS}/GatherSeeds",
        gather(mood=common_pb2.MoodProfile(genres=["g"] * 51)),
        BAD,
        "mood.genres may hold at most 50 items, got 51",
    ),
    Case(
        "gather: prompt too long",
        f"{SEEDS}/GatherSeeds",
        gather(mood_prompt="x" * 2001),
        BAD,
        "mood_prompt must be at most 2000",
    ),
    Case("gather: user id newline", f"{SEEDS}/GatherSeeds", gather(user_id=VICTIM_ID + "\n"), BAD, ID_MESSAGE),
    Case("gather: invalid protobuf", f"{SEEDS}/GatherSeeds", GARBAGE, BAD, "not a valid segue.v1.GatherSeedsRequest"),
    Case(
        "discover: no mood",
        f"{SEEDS}/DiscoverArtists",
        seed_gatherer_pb2.DiscoverArtistsRequest(mood_prompt="jazz"),
        BAD,
        "mood is required",
        token=None,  # discovery is not personal: no token needed, bad input refused all the same
    ),
    Case(
        "discover: 51 artists",
        f"{SEEDS}/DiscoverArtists",
        seed_gatherer_pb2.DiscoverArtistsRequest(mood=common_pb2.MoodProfile(artists=["a"] * 51)),
        BAD,
        "mood.artists may hold at most 50 items, got 51",
    ),
    Case(
        "discover: prompt too long",
        f"{SEEDS}/DiscoverArtists",
        seed_gatherer_pb2.DiscoverArtistsRequest(mood=common_pb2.MoodProfile(), mood_prompt="x" * 2001),
        BAD,
        "mood_prompt must be at most 2000",
    ),
    Case(
        "discover: invalid protobuf",
        f"{SEEDS}/DiscoverArtists",
        GARBAGE,
        BAD,
        "not a valid segue.v1.DiscoverArtistsRequest",
    ),
    Case(
        "warm: missing token",
        f"{SEEDS}/WarmUserContext",
        seed_gatherer_pb2.WarmUserContextRequest(),
        UNAUTH,
        "missing x-spotify-token",
        token=None,
    ),
    Case(
        "warm: expired token",
        f"{SEEDS}/WarmUserContext",
        seed_gatherer_pb2.WarmUserContextRequest(user_id=VICTIM_ID),
        UNAUTH,
        "Spotify rejected",
        token=EXPIRED_TOKEN,
    ),
    Case(
        "warm: another user",
        f"{SEEDS}/WarmUserContext",
        seed_gatherer_pb2.WarmUserContextRequest(user_id=VICTIM_ID),
        DENIED,
        "names a different",
        token=ATTACKER_TOKEN,
    ),
    Case(
        "warm: bad user id",
        f"{SEEDS}/WarmUserContext",
        seed_gatherer_pb2.WarmUserContextRequest(user_id="a b"),
        BAD,
        ID_MESSAGE,
    ),
    # --- ReccoBeatGateway ---
    Case(
        "features: 1,000 made-up IDs",
        f"{RB}/GetAudioFeatures",
        reccobeat_gateway_pb2.GetAudioFeaturesRequest(ids=[f"madeup{n:016d}" for n in range(1000)]),
        BAD,
        "ids may hold at most 250 IDs per call, got 1000",
    ),
    Case(
        "features: 251 copies of one ID",
        f"{RB}/GetAudioFeatures",
        reccobeat_gateway_pb2.GetAudioFeaturesRequest(ids=[SEED] * 251),
        BAD,
        "at most 250 IDs per call, got 251",
    ),
    Case(
        "features: trailing newline",
        f"{RB}/GetAudioFeatures",
        reccobeat_gateway_pb2.GetAudioFeaturesRequest(ids=[SEED + "\n"]),
        BAD,
        "ids[0] must be a Spotify track ID",
    ),
    Case(
        "features: empty ID",
        f"{RB}/GetAudioFeatures",
        reccobeat_gateway_pb2.GetAudioFeaturesRequest(ids=[SEED, ""]),
        BAD,
        "ids[1] is empty",
    ),
    Case(
        "features: a comma",
        f"{RB}/GetAudioFeatures",
        reccobeat_gateway_pb2.GetAudioFeaturesRequest(ids=["a,b"]),
        BAD,
        "ids[0] must be a Spotify track ID",
    ),
    Case(
        "features: a URI",
        f"{RB}/GetAudioFeatures",
        reccobeat_gateway_pb2.GetAudioFeaturesRequest(ids=["spotify:track:x"]),
        BAD,
        "ids[0] must be",
    ),
    Case(
        "features: invalid protobuf",
        f"{RB}/GetAudioFeatures",
        GARBAGE,
        BAD,
        "not a valid segue.v1.GetAudioFeaturesRequest message",
    ),
    Case(
        "features: 251 IDs",
        f"{RB}/GetAudioFeatures",
        reccobeat_gateway_pb2.GetAudioFeaturesRequest(ids=[f"id{i}" for i in range(251)]),
        BAD,
        "at most 250 IDs per call",
    ),
    Case(
        "features: a space",
        f"{RB}/GetAudioFeatures",
        reccobeat_gateway_pb2.GetAudioFeaturesRequest(ids=["a b"]),
        BAD,
        "ids[0] must be",
    ),
    Case(
        "artists: 251 IDs",
        f"{RB}/GetArtists",
        reccobeat_gateway_pb2.GetArtistsRequest(ids=[f"id{i}" for i in range(251)]),
        BAD,
        "at most 250 IDs per call",
    ),
    Case("artists: a comma", f"{RB}/GetArtists", reccobeat_gateway_pb2.GetArtistsRequest(ids=["a,b"]), BAD, "ids[0]"),
    Case("artists: invalid protobuf", f"{RB}/GetArtists", GARBAGE, BAD, "not a valid segue.v1.GetArtistsRequest"),
    Case(
        "recommendations: no seeds",
        f"{RB}/GetRecommendations",
        recs(seeds=[]),
        BAD,
        "seeds must hold 1..5 track IDs, got none",
    ),
    Case("recommendations: 6 seeds", f"{RB}/GetRecommendations", recs(seeds=[SEED] * 6), BAD, "got 6"),
    Case(
        "recommendations: 6 negatives",
        f"{RB}/GetRecommendations",
        recs(negative_seeds=[SEED] * 6),
        BAD,
        "negative_seeds may hold at most 5",
    ),
    Case(
        "recommendations: size -1", f"{RB}/GetRecommendations", recs(size=-1), BAD, "size must be 1..100 (0 means 20)"
    ),
    Case(
        "recommendations: size 101", f"{RB}/GetRecommendations", recs(size=101), BAD, "size must be 1..100 (0 means 20)"
    ),
    Case(
        "recommendations: energy 1.5",
        f"{RB}/GetRecommendations",
        recs(targets=[target("energy", 1.5)]),
        BAD,
        "must be 0..1, got 1.5",
    ),
    Case(
        "recommendations: unknown feature",
        f"{RB}/GetRecommendations",
        recs(targets=[target("mood", 0.5)]),
        BAD,
        "targets[0].feature must be an AudioFeature",
    ),
    Case(
        "recommendations: seed newline",
        f"{RB}/GetRecommendations",
        recs(seeds=[SEED + "\n"]),
        BAD,
        "seeds[0] must be a Spotify track ID",
    ),
    Case(
        "search: empty query",
        f"{RB}/SearchArtists",
        reccobeat_gateway_pb2.SearchArtistsRequest(query=" "),
        BAD,
        "query must not be empty",
    ),
    Case(
        "search: long query",
        f"{RB}/SearchArtists",
        reccobeat_gateway_pb2.SearchArtistsRequest(query="q" * 1001),
        BAD,
        "at most 1000 characters",
    ),
    Case(
        "search: size 51",
        f"{RB}/SearchArtists",
        reccobeat_gateway_pb2.SearchArtistsRequest(query="a", size=51),
        BAD,
        "size must be 1..50",
    ),
    Case(
        "artist tracks: not a UUID",
        f"{RB}/GetArtistTracks",
        reccobeat_gateway_pb2.GetArtistTracksRequest(artist_id=SEED),
        BAD,
        "artist_id must be a ReccoBeats UUID",
    ),
    Case(
        "artist tracks: UUID newline",
        f"{RB}/GetArtistTracks",
        reccobeat_gateway_pb2.GetArtistTracksRequest(artist_id=UUID + "\n"),
        BAD,
        "artist_id must be a ReccoBeats UUID",
    ),
    Case(
        "artist tracks: size -1",
        f"{RB}/GetArtistTracks",
        reccobeat_gateway_pb2.GetArtistTracksRequest(artist_id=UUID, size=-1),
        BAD,
        "size must be 1..50",
    ),
    # --- LlmGateway ---
    Case(
        "mood: empty prompt",
        f"{LLM}/AnalyzeMood",
        llm_gateway_pb2.AnalyzeMoodRequest(prompt=" "),
        BAD,
        "prompt must not be empty",
    ),
    Case(
        "mood: prompt too long",
        f"{LLM}/AnalyzeMood",
        llm_gateway_pb2.AnalyzeMoodRequest(prompt="x" * 2001),
        BAD,
        "at most 2000 characters, got 2001",
    ),
    Case(
        "mood: invalid protobuf", f"{LLM}/AnalyzeMood", GARBAGE, BAD, "not a valid segue.v1.AnalyzeMoodRequest message"
    ),
    Case("tasks: none", f"{LLM}/RunTasks", tasks(), BAD, "at least one task is required"),
    Case("tasks: 21", f"{LLM}/RunTasks", many_tasks(21), BAD, "at most 20 tasks per request, got 21"),
    Case(
        "tasks: at the old limits (1.2 M characters)",
        f"{LLM}/RunTasks",
        many_tasks(20, 200, "d" * 300),
        BAD,
        "at most 32000 are sent in one call",
    ),
    Case("tasks: 201 candidates", f"{LLM}/RunTasks", tasks(choose(201)), BAD, "201 candidates, at most 200 allowed"),
    Case(
        "tasks: max_choices -1", f"{LLM}/RunTasks", tasks(choose(max_choices=-1)), BAD, "max_choices must be 1 or more"
    ),
    Case(
        "tasks: no kind",
        f"{LLM}/RunTasks",
        tasks(llm_gateway_pb2.LlmTask(task_id="t")),
        BAD,
        "must set choose or extract_mentions",
    ),
    Case("tasks: duplicate ids", f"{LLM}/RunTasks", tasks(choose(), choose()), BAD, "is not unique"),
    Case(
        "tasks: context too long",
        f"{LLM}/RunTasks",
        tasks(choose(), context="c" * 2001),
        BAD,
        "context must be at most 2000",
    ),
    Case(
        "tasks: text too long",
        f"{LLM}/RunTasks",
        tasks(
            llm_gateway_pb2.LlmTask(task_id="m", extract_mentions=llm_gateway_pb2.ExtractMentionsTask(text="t" * 4001))
        ),
        BAD,
        "extract_mentions.text must be at most 4000",
    ),
    Case("tasks: invalid protobuf", f"{LLM}/RunTasks", GARBAGE, BAD, "not a valid segue.v1.RunTasksRequest message"),
]


@pytest_asyncio.fixture(loop_scope="session")
async def channels(open_mesh: Mesh) -> AsyncIterator[dict[str, aio.Channel]]:
    opened = {
        name: aio.insecure_channel(open_mesh.addresses[name], options=[("grpc.max_send_message_length", 8 << 20)])
        for name in SERVICES
    }
    try:
        yield opened
    finally:
        for channel in opened.values():
            await channel.close()


def _metadata(case: Case) -> tuple[tuple[str, str], ...]:
    token = () if case.token is None else (("x-spotify-token", case.token),)
    return (*token, *case.metadata)


async def _call(channels: dict[str, aio.Channel], case: Case) -> tuple[grpc.StatusCode, str, bytes, list[str]]:
    """The status, its message, the answer, and the fields a google.rpc.BadRequest detail names."""
    service, method = case.method.split("/")
    channel = channels[SERVICE_OF[service]]
    raw = case.request if isinstance(case.request, bytes) else case.request.SerializeToString()
    path = f"/segue.v1.{service}/{method}"
    try:
        if case.stream:
            call = channel.unary_stream(path)(raw, metadata=_metadata(case), timeout=60)
            answer = b"".join([chunk async for chunk in call])
        else:
            answer = await channel.unary_unary(path)(raw, metadata=_metadata(case), timeout=60)
    except aio.AioRpcError as exc:
        return exc.code(), exc.details() or "", b"", _bad_fields(exc)
    return OK, "", answer, []


def _bad_fields(error: aio.AioRpcError) -> list[str]:
    status = rpc_status.from_call(error)
    fields: list[str] = []
    for detail in status.details if status else ():
        bad = BadRequest()
        if detail.Unpack(bad):
            fields += [v.field for v in bad.field_violations]
    return fields


async def test_the_table_holds_at_least_sixty_cases() -> None:
    assert len(CASES) >= 60
    assert len({c.name for c in CASES}) == len(CASES)


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
async def test_bad_input_gets_a_specific_status_and_message(channels: dict[str, aio.Channel], case: Case) -> None:
    code, details, answer, fields = await _call(channels, case)
    assert code == case.code, details
    if code == BAD and "is not a valid" not in details:  # unparsable bytes name no field
        assert fields and all(f in details for f in fields), (details, fields)
    if code == OK:  # the request-id cases: the answer's request_id says what the mesh logged it under
        response = orchestrator_pb2.RecommendResponse.FromString(answer)
        assert len(response.tracks) == 5
        assert re.fullmatch(case.message, response.request_id), response.request_id
    else:
        assert case.message in details, details


async def test_no_process_crashed_and_no_log_holds_a_stack_trace(open_mesh: Mesh) -> None:
    for name in (*SERVICES, "sim", "redis"):
        assert open_mesh.processes[name].poll() is None, f"{name} exited"
    for name in SERVICES:
        text = (open_mesh.log_dir / f"{name}.log").read_text()
        assert "Traceback" not in text, name
        assert "Task was destroyed but it is pending" not in text, name
        for line in text.splitlines():
            entry = json.loads(line)  # every line is a JSON object: nothing printed around the logger
            assert "exception" not in entry, (name, entry.get("message"))
            assert len(entry.get("request_id", "")) <= 64, (name, "an unbounded request id was adopted")

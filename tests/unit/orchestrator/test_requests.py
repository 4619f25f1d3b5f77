"""Request validation and optional steps, as plain functions."""

from __future__ import annotations

import grpc
import pytest
from segue.v1 import common_pb2, orchestrator_pb2

from services.common.errors import DeadlineExceeded, InvalidArgument, NotFound, Unauthenticated, Unavailable
from services.orchestrator.requests import DEFAULT_SIZE, parse_recommend
from services.orchestrator.workflow import Tally, no_playlist, optional_step


def request(**kw: object) -> orchestrator_pb2.RecommendRequest:
    fields: dict[str, object] = {"user_id": "u1", "mood_prompt": "rainy sunday, slow jazz"}
    fields.update(kw)
    return orchestrator_pb2.RecommendRequest(**fields)  # type: ignore[arg-type]


def test_unset_size_means_the_default_and_prompt_whitespace_is_normalised() -> None:
    params = parse_recommend(request(mood_prompt="  rainy   sunday \n jazz "), "tok")
    assert params.size == DEFAULT_SIZE
    assert parse_recommend(request(mood_prompt="jazz", size=0), "tok").size == DEFAULT_SIZE
    assert params.prompt == "rainy sunday jazz"


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"mood_prompt": "   "}, "mood_prompt must not be empty"),
        ({"mood_prompt": "x" * 2001}, "at most 2000 characters, got 2001"),
        ({"size": -1}, "size must be between 1 and 100 (or 0 for 20), got -1"),
        ({"size": 500}, "got 500"),
        ({"user_id": "a b"}, "user_id must be the Spotify user id of the token's owner"),
        ({"user_id": "victim\n"}, "user_id must be"),  # a full match: a trailing newline is no id
        ({"user_id": "x" * 129}, "user_id must be"),
        ({"session_id": "../../etc"}, "session_id must be"),
        ({"session_id": "s1\n"}, "session_id must be"),
    ],
)
def test_bad_requests_say_what_to_fix(fields: dict[str, object], message: str) -> None:
    with pytest.raises(InvalidArgument) as exc:
        parse_recommend(request(**fields), "tok")
    assert message in exc.value.message


def test_user_id_may_be_left_to_the_token() -> None:
    assert parse_recommend(request(user_id=""), "tok").user_id == ""


def test_missing_token_is_unauthenticated() -> None:
    with pytest.raises(Unauthenticated, match="x-spotify-token"):
        parse_recommend(request(), "  ")


async def test_an_optional_step_with_no_time_left_is_skipped_as_partial() -> None:
    async def no_time_to_start() -> None:
        # What the client interceptor raises when the deadline has passed before the call goes out.
        raise DeadlineExceeded("the caller's deadline passed before a downstream call could start")

    tally = Tally()
    assert await optional_step("reccobeat_gateway", no_time_to_start(), tally, "recommendations") is None
    assert [(w.code, w.component) for w in tally.warnings] == [
        (common_pb2.WARNING_CODE_PARTIAL_RESULT, "reccobeat_gateway")
    ]


def test_a_pass_that_found_nothing_says_why_with_the_status_that_fits() -> None:
    trouble = Tally()
    trouble.warn(common_pb2.WARNING_CODE_UPSTREAM_UNAVAILABLE, "spotify", "top tracks skipped")
    unavailable = no_playlist(trouble)
    assert isinstance(unavailable, Unavailable) and "spotify: top tracks skipped" in unavailable.message
    assert "retry later" in unavailable.message

    nothing_fits = Tally()
    nothing_fits.warn(common_pb2.WARNING_CODE_PARTIAL_RESULT, "seed_gatherer", "no usable top tracks")
    not_found = no_playlist(nothing_fits)
    assert isinstance(not_found, NotFound) and not_found.code == grpc.StatusCode.NOT_FOUND
    assert "no usable top tracks" in not_found.message and "exclusions" in not_found.message

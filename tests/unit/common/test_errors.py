"""The google.rpc details an error carries: the fields a message names, the retry delay."""

from __future__ import annotations

import grpc
from google.rpc.error_details_pb2 import BadRequest, RetryInfo
from google.rpc.status_pb2 import Status

from services.common.errors import (
    FieldViolation,
    InvalidArgument,
    ResourceExhausted,
    Unavailable,
    error_trailers,
    violations_in,
)


def status_of(trailers: tuple[tuple[str, str | bytes], ...]) -> Status:
    (raw,) = [value for key, value in trailers if key == "grpc-status-details-bin"]
    assert isinstance(raw, bytes)
    return Status.FromString(raw)


def test_the_fields_a_message_names_first_are_its_violations() -> None:
    message = "user_id must be a Spotify user id; mood.targets may hold at most 50 items, got 51"
    assert violations_in(message) == [
        FieldViolation("user_id", "user_id must be a Spotify user id"),
        FieldViolation("mood.targets", "mood.targets may hold at most 50 items, got 51"),
    ]
    assert [v.field for v in violations_in("targets[2] repeats the feature energy")] == ["targets[2]"]
    assert [v.field for v in violations_in("tasks[0].task_id 'a' is not unique")] == ["tasks[0].task_id"]
    # No field named: no violation is made up.
    assert violations_in("the request is not a valid segue.v1.RecommendRequest message") == []


def test_invalid_argument_carries_a_bad_request_with_each_field() -> None:
    error = InvalidArgument("size must be 1..100, got 0")
    status = status_of(error_trailers(error))
    assert (status.code, status.message) == (grpc.StatusCode.INVALID_ARGUMENT.value[0], error.message)
    bad = BadRequest()
    assert status.details[0].Unpack(bad)
    assert [(v.field, v.description) for v in bad.field_violations] == [("size", error.message)]
    explicit = InvalidArgument("nothing to name", [FieldViolation("ids", "too many")])
    assert explicit.violations == (FieldViolation("ids", "too many"),)


def test_resource_exhausted_carries_retry_info_and_the_plain_trailers() -> None:
    trailers = error_trailers(ResourceExhausted("cooling down", retry_after_s=2.0001))
    assert ("retry-after-ms", "2001") in trailers and ("grpc-retry-pushback-ms", "2001") in trailers
    retry = RetryInfo()
    assert status_of(trailers).details[0].Unpack(retry)
    assert retry.retry_delay.ToMilliseconds() == 2001


def test_errors_a_caller_cannot_act_on_carry_no_details() -> None:
    assert error_trailers(Unavailable("spotify: down")) == ()
    assert error_trailers(ResourceExhausted("no delay known")) == ()
    assert error_trailers(InvalidArgument("the request is not a valid message")) == ()

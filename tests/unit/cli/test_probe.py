"""The synthetic probe's judgement of an answer that came back OK."""

from __future__ import annotations

from segue.v1 import common_pb2, orchestrator_pb2

from segue_cli.probe import judge


def answer(*ids: str) -> orchestrator_pb2.RecommendResponse:
    return orchestrator_pb2.RecommendResponse(
        tracks=[orchestrator_pb2.PlaylistEntry(track=common_pb2.Track(spotify_id=i)) for i in ids]
    )


def test_a_full_distinct_answer_in_time_passes() -> None:
    assert judge(answer("a", "b", "c"), size=3, seconds=1.0, max_seconds=5.0) == []


def test_short_repeated_or_late_answers_fail_with_the_reason() -> None:
    assert judge(answer("a", "b"), size=3, seconds=1.0, max_seconds=5.0) == ["short playlist: 2 of 3 tracks"]
    assert judge(answer("a", "a", "b"), size=3, seconds=1.0, max_seconds=5.0) == ["a track appears twice"]
    assert judge(answer("a", "b", "c"), size=3, seconds=6.0, max_seconds=5.0) == ["slow: 6.00s, the budget is 5.00s"]

"""Request validation and playlist ranking, as plain functions."""

from __future__ import annotations

import pytest
from segue.v1 import common_pb2, orchestrator_pb2

from services.common.errors import DeadlineExceeded, InvalidArgument, Unauthenticated
from services.orchestrator import ranking
from services.orchestrator.requests import DEFAULT_SIZE, parse_recommend
from services.orchestrator.workflow import Tally, optional_step


def request(**kw: object) -> orchestrator_pb2.RecommendRequest:
    fields: dict[str, object] = {"user_id": "u1", "mood_prompt": "rainy sunday, slow jazz"}
    fields.update(kw)
    return orchestrator_pb2.RecommendRequest(**fields)  # type: ignore[arg-type]


def test_unset_size_means_the_default_and_prompt_whitespace_is_normalised() -> None:
    params = parse_recommend(request(mood_prompt="  rainy   sunday \n jazz "), "tok")
    assert params.size == DEFAULT_SIZE
    assert params.prompt == "rainy sunday jazz"


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"mood_prompt": "   "}, "mood_prompt must not be empty"),
        ({"mood_prompt": "x" * 2001}, "at most 2000 characters, got 2001"),
        ({"size": -1}, "size must be between 1 and 100 (or unset for 20), got -1"),
        ({"size": 0}, "got 0"),
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


def track(sid: str, artist: str, energy: float | None, title: str = "") -> common_pb2.Track:
    t = common_pb2.Track(spotify_id=sid, title=title or f"song {sid}", artists=[common_pb2.Artist(name=artist)])
    if energy is not None:
        t.audio_features.CopyFrom(common_pb2.AudioFeatures(energy=energy, valence=0.5, tempo=100))
    return t


TARGETS = [common_pb2.FeatureTarget(feature="energy", target=0.2, min=0.1, max=0.3, weight=1.0)]
REC = common_pb2.TRACK_SOURCE_RECOMMENDATION
TOP = common_pb2.TRACK_SOURCE_USER_TOP


def test_playlist_prefers_fitting_tracks_and_ranks_unknown_features_low() -> None:
    pool = [
        ranking.Candidate(track("loud", "a", 0.95), REC),
        ranking.Candidate(track("calm", "b", 0.2), REC),
        ranking.Candidate(track("unknown", "c", None), REC),
        ranking.Candidate(track("mild", "d", 0.35), REC),
    ]
    chosen = ranking.build_playlist(pool, TARGETS, size=2)
    assert {r.track.spotify_id for r in chosen} == {"calm", "mild"}
    scores = {r.track.spotify_id: r.score for r in ranking.score(pool, TARGETS)}
    assert scores["calm"] > scores["mild"] > scores["loud"]
    assert scores["unknown"] == ranking.MISSING_FEATURES_SCORE


def test_duplicates_by_id_or_title_and_artist_are_dropped() -> None:
    pool = [
        ranking.Candidate(track("x1", "Artist", 0.2, title="Blue Rain"), REC),
        ranking.Candidate(track("x1", "Other", 0.2), TOP),
        ranking.Candidate(track("x2", "artist", 0.2, title="blue  rain"), REC),
        ranking.Candidate(track("x3", "Artist", 0.2, title="Green Rain"), REC),
    ]
    assert [c.track.spotify_id for c in ranking.dedupe(pool)] == ["x1", "x3"]


def test_selection_limits_artists_and_own_tracks_but_fills_the_playlist() -> None:
    pool = [ranking.Candidate(track(f"a{i}", "same", 0.2), REC) for i in range(4)]
    pool += [ranking.Candidate(track(f"t{i}", f"own{i}", 0.2), TOP) for i in range(4)]
    pool += [ranking.Candidate(track("other", "else", 0.25), REC)]
    chosen = ranking.select(ranking.score(pool, TARGETS), size=5)
    assert len(chosen) == 5
    artists = [r.track.artists[0].name for r in chosen]
    assert artists.count("same") <= ranking.MAX_PER_ARTIST
    assert sum(r.source == TOP for r in chosen) <= 2  # 40 % of 5

    # when only one artist is available the limit bends rather than leave the playlist short
    only = [ranking.Candidate(track(f"s{i}", "solo", 0.2), REC) for i in range(4)]
    assert len(ranking.select(ranking.score(only, TARGETS), size=4)) == 4


def test_sequence_starts_with_the_best_fit_and_moves_to_near_neighbours() -> None:
    pool = [ranking.Candidate(track(s, s, e), REC) for s, e in [("e1", 0.9), ("e2", 0.2), ("e3", 0.5), ("e4", 0.25)]]
    ordered = ranking.build_playlist(pool, TARGETS, size=4)
    assert [r.track.spotify_id for r in ordered] == ["e2", "e4", "e3", "e1"]


def test_excluded_tracks_are_not_served_again() -> None:
    pool = [ranking.Candidate(track(s, s, 0.2), REC) for s in ("a", "b", "c")]
    assert {r.track.spotify_id for r in ranking.build_playlist(pool, TARGETS, 3, exclude=["b"])} == {"a", "c"}


async def test_an_optional_step_with_no_time_left_is_skipped_as_partial() -> None:
    async def no_time_to_start() -> None:
        # What the client interceptor raises when the deadline has passed before the call goes out.
        raise DeadlineExceeded("the caller's deadline passed before a downstream call could start")

    tally = Tally()
    assert await optional_step("reccobeat_gateway", no_time_to_start(), tally, "recommendations") is None
    assert [(w.code, w.component) for w in tally.warnings] == [
        (common_pb2.WARNING_CODE_PARTIAL_RESULT, "reccobeat_gateway")
    ]

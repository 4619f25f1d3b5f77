"""Seed selection as plain functions: mood fit ordering, the genre bonus, artist diversity, candidates."""

from __future__ import annotations

from collections.abc import Sequence

from segue.v1 import common_pb2

from services.seed_gatherer.seed_selection import (
    CANDIDATE_FLOOR,
    GENRE_BONUS,
    ScoredTrack,
    genres_match,
    pick_candidates,
    pick_seeds,
    rank,
    score_track,
    unranked,
)

MOOD = common_pb2.MoodProfile(
    targets=[
        common_pb2.FeatureTarget(feature=common_pb2.AUDIO_FEATURE_ENERGY, target=0.8, min=0.6, max=1.0, weight=1.0),
        common_pb2.FeatureTarget(feature=common_pb2.AUDIO_FEATURE_VALENCE, target=0.7, min=0.5, max=0.9, weight=0.6),
    ],
    genres=["rock"],
)


def track(track_id: str, artists: list[str], energy: float | None = 0.8, valence: float = 0.7) -> common_pb2.Track:
    out = common_pb2.Track(spotify_id=track_id, artists=[common_pb2.Artist(spotify_id=a) for a in artists])
    if energy is not None:
        out.audio_features.CopyFrom(common_pb2.AudioFeatures(energy=energy, valence=valence))
    return out


def ids(items: Sequence[ScoredTrack | common_pb2.Track]) -> list[str]:
    return [(i.track if isinstance(i, ScoredTrack) else i).spotify_id for i in items]


def test_rank_orders_by_fit_to_the_mood_and_drops_tracks_without_features() -> None:
    tracks = [
        track("far", ["a"], energy=0.1, valence=0.1),
        track("none", ["b"], energy=None),
        track("exact", ["c"], energy=0.8, valence=0.7),
        track("near", ["d"], energy=0.7, valence=0.6),
    ]

    ranked = rank(tracks, MOOD)

    assert ids(ranked) == ["exact", "near", "far"]
    assert ranked[0].score == 1.0
    assert ranked[0].score > ranked[1].score > ranked[2].score


def test_ties_keep_the_users_own_order_and_duplicates_count_once() -> None:
    tracks = [track("second", ["a"]), track("first", ["b"]), track("second", ["a"])]
    assert ids(rank(tracks, MOOD)) == ["second", "first"]


def test_a_matching_genre_of_the_tracks_artist_adds_a_bonus_capped_at_one() -> None:
    near = track("near", ["rocker"], energy=0.7)
    plain = score_track(near, MOOD, {})

    boosted = score_track(near, MOOD, {"rocker": ["indie rock"]})

    assert boosted == min(1.0, plain + GENRE_BONUS)
    assert score_track(track("exact", ["rocker"]), MOOD, {"rocker": ["rock"]}) == 1.0
    # the bonus reorders close calls: a slightly worse fit by a rock artist beats a slightly better one
    slightly_better = track("better", ["other"], energy=0.72)
    assert ids(rank([slightly_better, near], MOOD, {"rocker": ["rock"]})) == ["near", "better"]


def test_genre_matching_is_whole_word_and_ignores_case_and_hyphens() -> None:
    assert genres_match(["Indie Rock"], ["rock"])
    assert genres_match(["hip-hop"], ["Hip Hop"])
    assert not genres_match(["rockabilly"], ["rock"])
    assert not genres_match([], ["rock"])
    assert not genres_match(["rock"], [" "])


def test_seeds_take_at_most_two_tracks_per_artist() -> None:
    ranked = rank(
        [track("a1", ["a"]), track("a2", ["a"]), track("a3", ["a"]), track("b1", ["b"]), track("ab", ["a", "c"])],
        MOOD,
    )

    seeds, rest = pick_seeds(ranked, 5)

    assert ids(seeds) == ["a1", "a2", "b1"]
    assert ids(rest) == ["a3", "ab"]  # "ab" features artist a, who already has two seeds


def test_seeds_stop_at_the_count_asked_for_and_the_rest_stays_in_rank_order() -> None:
    ranked = rank([track(f"t{i}", [f"artist{i}"], energy=0.8 - i * 0.05) for i in range(8)], MOOD)

    seeds, rest = pick_seeds(ranked, 3)

    assert ids(seeds) == ["t0", "t1", "t2"]
    assert ids(rest) == ["t3", "t4", "t5", "t6", "t7"]


def test_candidates_are_the_rest_above_the_floor_up_to_the_limit() -> None:
    ranked = rank(
        [track("good", ["a"]), track("ok", ["b"], energy=0.55), track("poor", ["c"], energy=0.0, valence=0.0)], MOOD
    )
    assert ranked[-1].score < CANDIDATE_FLOOR <= ranked[1].score

    assert ids(pick_candidates(ranked)) == ["good", "ok"]
    assert ids(pick_candidates(ranked, limit=1)) == ["good"]


def test_unranked_keeps_the_input_order_with_score_zero_so_none_become_candidates() -> None:
    items = unranked([track("x", ["a"], energy=None), track("y", ["b"])])

    assert ids(items) == ["x", "y"]
    assert {i.score for i in items} == {0.0}
    assert pick_candidates(items) == []

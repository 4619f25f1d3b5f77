"""Discovery pruning, seed-ratio balancing and negative seeds, as plain functions."""

from __future__ import annotations

import pytest
from segue.v1 import common_pb2

from services.seed_gatherer.balance import (
    CATALOG_STYLE_SHARE,
    VAGUE_SHARE,
    is_catalog_style,
    negative_seeds,
    plan_seeds,
    user_top_share,
)
from services.seed_gatherer.pruning import Ask, Found, fit, prune
from services.seed_gatherer.seed_selection import ScoredTrack

USER_TOP = common_pb2.TRACK_SOURCE_USER_TOP
ANCHOR = common_pb2.TRACK_SOURCE_MOOD_SEARCH
NAMED = common_pb2.TRACK_SOURCE_USER_MENTIONED


def artist(name: str, *genres: str, popularity: int | None = None) -> common_pb2.Artist:
    a = common_pb2.Artist(spotify_id=f"sp-{name}", name=name, genres=genres)
    if popularity is not None:
        a.popularity = popularity
    return a


def found(*artists: common_pb2.Artist) -> list[Found]:
    return [Found(a, i) for i, a in enumerate(artists)]


# ---- pruning


def test_named_genre_artists_lead_and_artists_of_other_genres_go() -> None:
    ask = Ask(named_genres=("country",), genres=("country", "classic rock"))
    pool = found(
        artist("Rocker", "classic rock"),  # the mood's genre, but not the one the prompt names: a filler
        artist("Side", "folk", "country"),
        artist("Main", "country", "folk"),
        artist("Popper", "dance pop"),  # neither
    )
    kept = prune(pool, ask, useless=set(), limit=10)
    assert [f.artist.name for f in kept] == ["Main", "Side", "Rocker"]


def test_ruled_out_artists_by_name_or_genre_and_useless_ones_are_pruned_before_any_lookup() -> None:
    ask = Ask(genres=("rock",), avoid=("metal", "The Banned"))
    pool = found(
        artist("Heavy", "rock", "death metal"),
        artist("The Banned", "rock"),
        artist("Useless", "rock"),
        artist("Fine", "indie rock"),
    )
    kept = prune(pool, ask, useless={"sp-Useless"}, limit=10)
    assert [f.artist.name for f in kept] == ["Fine"]


def test_a_named_artist_stays_first_whatever_its_genres_and_the_limit_counts_it() -> None:
    ask = Ask(named_artists=("Odd One",), named_genres=("jazz",), genres=("jazz",))
    pool = found(artist("Cool", "jazz"), artist("Odd One", "polka"), artist("Smooth", "smooth jazz"))
    assert [f.artist.name for f in prune(pool, ask, set(), limit=2)] == ["Odd One", "Cool"]


def test_popularity_breaks_ties_and_drops_the_near_unknown_when_spotify_gives_it() -> None:
    ask = Ask(genres=("jazz",))
    pool = found(
        artist("Obscure", "jazz", popularity=3),
        artist("Known", "jazz", popularity=40),
        artist("Famous", "jazz", popularity=90),
        artist("Unrated", "jazz"),  # Development Mode: no popularity at all
    )
    assert [f.artist.name for f in prune(pool, ask, set(), limit=10)] == ["Famous", "Known", "Unrated"]


def test_artists_without_known_genres_rank_below_fits_and_a_suggestion_lifts_them() -> None:
    ask = Ask(genres=("jazz",), suggested=("Hinted",))
    assert fit(Found(artist("Hinted"), 0), ask) == pytest.approx(1.3)
    assert fit(Found(artist("Stranger"), 0), ask) == pytest.approx(0.5)
    assert fit(Found(artist("Fits", "jazz"), 0), ask) == pytest.approx(2.0)


def test_duplicates_found_by_two_searches_count_once() -> None:
    a = artist("Twice", "jazz")
    kept = prune([Found(a, 0), Found(a, 5)], Ask(genres=("jazz",)), set(), limit=10)
    assert len(kept) == 1


def test_ask_reads_named_genres_and_artists_from_the_prompt() -> None:
    mood = common_pb2.MoodProfile(genres=["hip hop", "trap"], artists=["Nas", "Other"], avoid=["pop"])
    ask = Ask.of(mood, "90s hip-hop like nas")
    assert ask.named_genres == ("hip hop",)
    assert ask.named_artists == ("Nas",)
    assert ask.suggested == ("Other",)
    assert ask.avoid == ("pop",)


# ---- seed-ratio balancing


def scored(*ids: str, by: str = "") -> list[ScoredTrack]:
    return [
        ScoredTrack(common_pb2.Track(spotify_id=i, artists=[common_pb2.Artist(name=by or i)]), 1.0 - n / 100)
        for n, i in enumerate(ids)
    ]


def test_a_genre_the_user_never_plays_is_seeded_mostly_by_discovery() -> None:
    mood = common_pb2.MoodProfile(genres=["country"])
    stranger = [artist("Mine", "techno")]
    fan = [artist("Mine", "country", "folk")]
    assert user_top_share(mood, "country road trip", stranger, True) == CATALOG_STYLE_SHARE[0]
    assert user_top_share(mood, "country road trip", fan, True) == CATALOG_STYLE_SHARE[1]


def test_a_vague_mood_leans_on_the_users_taste() -> None:
    mood = common_pb2.MoodProfile(genres=["neo soul", "indie pop"])
    assert not is_catalog_style(mood, "something to cheer me up")
    share = user_top_share(mood, "something to cheer me up", [artist("Mine", "techno")], True)
    assert share == VAGUE_SHARE[0] and share > CATALOG_STYLE_SHARE[0]
    assert user_top_share(mood, "something to cheer me up", [], False) == 0.0


def test_named_tracks_or_artists_make_a_prompt_catalog_style() -> None:
    named_track = common_pb2.MoodProfile(mentioned_tracks=[common_pb2.MentionedTrack(title="Blue", artist="Joni")])
    assert is_catalog_style(named_track, "songs like Blue")
    assert is_catalog_style(common_pb2.MoodProfile(artists=["Joni Mitchell"]), "like joni mitchell")
    assert not is_catalog_style(common_pb2.MoodProfile(artists=["Joni Mitchell"]), "rainy day folk")


def test_seeds_follow_the_shares_named_tracks_first() -> None:
    plan = plan_seeds(5, scored("named"), scored("a1", "a2", "a3", "a4"), scored("t1", "t2", "t3", "t4"), share=0.5)
    assert [(s.track.spotify_id, src) for s, src in plan] == [
        ("named", NAMED),
        ("t1", USER_TOP),
        ("t2", USER_TOP),
        ("a1", ANCHOR),
        ("a2", ANCHOR),
    ]


def test_a_source_that_runs_short_leaves_its_places_to_the_other() -> None:
    few_anchors = plan_seeds(5, [], scored("a1"), scored("t1", "t2", "t3", "t4", "t5"), share=0.2)
    assert [s.track.spotify_id for s, _ in few_anchors] == ["t1", "t2", "t3", "t4", "a1"]
    no_top = plan_seeds(5, [], scored("a1", "a2", "a3", "a4", "a5", "a6"), [], share=0.8)
    assert [s.track.spotify_id for s, _ in no_top] == ["a1", "a2", "a3", "a4", "a5"]


def test_a_track_in_two_sources_is_seeded_once() -> None:
    plan = plan_seeds(3, scored("both"), scored("both", "a2"), scored("both", "t2"), share=0.5)
    ids = [s.track.spotify_id for s, _ in plan]
    assert len(ids) == len(set(ids)) == 3


# ---- negative seeds


def test_negative_seeds_are_fewer_than_the_seeds_none_a_seed_and_at_most_five() -> None:
    ruled = [common_pb2.Track(spotify_id=i) for i in ("s1", "n1", "n1", "n2", "n3", "n4", "n5", "n6")]
    assert negative_seeds(ruled, ["s1", "s2", "s3"]) == ["n1", "n2"]
    assert negative_seeds(ruled, ["s1", "s2", "s3", "s4", "s5", "s6", "s7"]) == ["n1", "n2", "n3", "n4", "n5"]
    assert negative_seeds(ruled, ["only"]) == []
    assert negative_seeds([], ["s1", "s2"]) == []

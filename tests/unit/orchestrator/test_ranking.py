"""Playlist ranking as plain functions: exclusions, scores, reasons, selection limits, the energy arc."""

from __future__ import annotations

import pytest
from segue.v1 import common_pb2

from services.orchestrator import ranking
from services.orchestrator.ranking import Asked, Candidate

REC = common_pb2.TRACK_SOURCE_RECOMMENDATION
TOP = common_pb2.TRACK_SOURCE_USER_TOP
FOUND = common_pb2.TRACK_SOURCE_ARTIST_DISCOVERY
NAMED = common_pb2.TRACK_SOURCE_USER_MENTIONED
TARGETS = [common_pb2.FeatureTarget(feature=common_pb2.AUDIO_FEATURE_ENERGY, target=0.2, min=0.1, max=0.3, weight=1.0)]
CALM = Asked(targets=TARGETS)


def artist(name: str, *genres: str) -> common_pb2.Artist:
    return common_pb2.Artist(spotify_id=f"id-{name}", name=name, genres=genres)


def track(
    sid: str, by: str | common_pb2.Artist, energy: float | None, title: str = "", *also: common_pb2.Artist
) -> common_pb2.Track:
    main = by if isinstance(by, common_pb2.Artist) else common_pb2.Artist(name=by)
    t = common_pb2.Track(spotify_id=sid, title=title or f"song {sid}", artists=[main, *also])
    if energy is not None:
        t.audio_features.CopyFrom(common_pb2.AudioFeatures(energy=energy, valence=0.5, tempo=100))
    return t


def ids(playlist: list[ranking.Ranked]) -> list[str]:
    return [r.track.spotify_id for r in playlist]


def test_playlist_prefers_fitting_tracks_and_ranks_unknown_features_low() -> None:
    pool = [
        Candidate(track("loud", "a", 0.95), REC),
        Candidate(track("calm", "b", 0.2), REC),
        Candidate(track("unknown", "c", None), REC),
        Candidate(track("mild", "d", 0.35), REC),
    ]
    assert set(ids(ranking.build_playlist(pool, CALM, size=2))) == {"calm", "mild"}
    scores = {r.track.spotify_id: r.score for r in ranking.score(pool, CALM)}
    assert scores["calm"] > scores["mild"] > scores["loud"]
    assert scores["unknown"] == ranking.MISSING_FEATURES_SCORE


def test_duplicates_by_id_or_title_and_artist_are_dropped() -> None:
    pool = [
        Candidate(track("x1", "Artist", 0.2, title="Blue Rain"), REC),
        Candidate(track("x1", "Other", 0.2), TOP),
        Candidate(track("x2", "artist", 0.2, title="blue  rain"), REC),
        Candidate(track("x3", "Artist", 0.2, title="Green Rain"), REC),
    ]
    assert [c.track.spotify_id for c in ranking.dedupe(pool)] == ["x1", "x3"]


def test_a_named_genre_outranks_a_slightly_better_fit_and_a_known_mismatch_sinks() -> None:
    jazz, pop = artist("Miles", "smooth jazz"), artist("Popstar", "dance pop")
    asked = Asked(targets=TARGETS, genres=("jazz", "pop"), named_genres=("jazz",))
    ranks = {
        r.track.spotify_id: r.rank
        for r in ranking.score(
            [
                Candidate(track("jazzy", jazz, 0.3), FOUND),
                Candidate(track("poppy", pop, 0.2), FOUND),
                Candidate(track("unsure", "nobody", 0.2), REC),
            ],
            asked,
        )
    }
    assert ranks["jazzy"] > ranks["unsure"] > ranks["poppy"]


def test_what_the_prompt_rules_out_never_appears_even_to_fill_the_playlist() -> None:
    metal, banned, clean = artist("Iron", "death metal"), artist("Banned Band", "rock"), artist("Calm", "folk")
    excluded = common_pb2.Exclusions(genres=["metal"], artists=[banned])
    asked = Asked(targets=TARGETS, avoid=("metal", "Banned Band"), excluded=excluded)
    pool = [
        Candidate(track("m", metal, 0.2), FOUND),
        Candidate(track("b", banned, 0.2), TOP),
        Candidate(track("unknown-genres", "Stranger", 0.2), REC),  # could be metal: nothing shows otherwise
        Candidate(track("featuring", clean, 0.2, "", common_pb2.Artist(name="Guest")), REC),  # the guest may be
        Candidate(track("ok", clean, 0.25), FOUND),
        Candidate(track("named", metal, 0.9), NAMED),  # the listener asked for this very song
    ]
    assert set(ids(ranking.build_playlist(pool, asked, size=6))) == {"ok", "named"}


def test_unknown_genres_are_fine_when_no_genre_is_ruled_out() -> None:
    asked = Asked(targets=TARGETS, avoid=("sad",))
    pool = [Candidate(track("unknown-genres", "Stranger", 0.2), REC)]
    assert ids(ranking.build_playlist(pool, asked, size=1)) == ["unknown-genres"]


def test_reasons_say_why_in_a_listeners_words() -> None:
    jazz = artist("Miles", "jazz")
    asked = Asked(
        targets=[
            *TARGETS,
            common_pb2.FeatureTarget(feature=common_pb2.AUDIO_FEATURE_TEMPO, target=90, min=70, max=110, weight=0.5),
        ],
        genres=("jazz",),
        named_genres=("jazz",),
        named_artists=("Nina",),
        taste=frozenset({"id-Miles"}),
    )
    reasons = {
        r.track.spotify_id: r.reason
        for r in ranking.score(
            [
                Candidate(track("j", jazz, 0.32), FOUND),
                Candidate(track("n", artist("Nina"), 0.3), FOUND),
                Candidate(track("asked", "Someone", 0.3), NAMED),
                Candidate(track("mine", "Me", 0.25), TOP),
                Candidate(track("near", "Them", None), REC),
            ],
            asked,
        )
    }
    assert reasons["j"] == "jazz, like the mood asks; energy 0.32, 100 BPM"
    assert reasons["n"] == "by Nina, as you asked; energy 0.30, 100 BPM"
    assert reasons["asked"].startswith("you asked for this song")
    assert reasons["mine"].startswith("one of your top tracks")
    assert reasons["near"] == "close to the songs this playlist grew from; no audio features to judge the fit"


def test_selection_limits_artists_and_own_tracks_but_fills_the_playlist() -> None:
    pool = [Candidate(track(f"a{i}", "same", 0.2), REC) for i in range(4)]
    pool += [Candidate(track(f"t{i}", f"own{i}", 0.2), TOP) for i in range(4)]
    pool += [Candidate(track("other", "else", 0.25), REC)]
    chosen = ranking.select(ranking.score(pool, CALM), size=5, asked=CALM)
    assert len(chosen) == 5
    artists = [r.track.artists[0].name for r in chosen]
    assert artists.count("same") <= ranking.MAX_PER_ARTIST
    assert sum(r.source == TOP for r in chosen) <= 2  # 40 % of 5

    # when only one artist is available the limit bends rather than leave the playlist short
    only = [Candidate(track(f"s{i}", "solo", 0.2), REC) for i in range(4)]
    assert len(ranking.select(ranking.score(only, CALM), size=4, asked=CALM)) == 4


def test_the_users_balanced_share_is_filled_with_their_own_fitting_tracks_first() -> None:
    pool = [Candidate(track(f"r{i}", f"rec{i}", 0.2), REC) for i in range(10)]
    pool += [Candidate(track(f"t{i}", f"own{i}", 0.28), TOP) for i in range(10)]
    vague = Asked(targets=TARGETS, own_top_share=0.6)
    catalog_style = Asked(targets=TARGETS, own_top_share=0.1)
    assert sum(r.source == TOP for r in ranking.build_playlist(pool, vague, 10)) == 6
    assert sum(r.source == TOP for r in ranking.build_playlist(pool, catalog_style, 10)) == 1


def test_named_tracks_and_a_track_of_each_named_artist_are_always_in() -> None:
    asked = Asked(targets=TARGETS, named_artists=("Far Away",))
    pool = [Candidate(track(f"fit{i}", f"fit{i}", 0.2), REC) for i in range(6)]
    pool += [
        Candidate(track("poor-fit-named", "Whoever", 0.95), NAMED),
        Candidate(track("far", artist("Far Away"), 0.9), FOUND),
    ]
    playlist = ranking.build_playlist(pool, asked, size=3)
    assert {"poor-fit-named", "far"} <= set(ids(playlist))
    assert ids(playlist)[0] == "poor-fit-named", "the song the listener named opens the playlist"


def test_the_order_climbs_in_energy_to_a_peak_two_thirds_in_then_eases_off() -> None:
    energies = [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9]
    wide = Asked(
        targets=[
            common_pb2.FeatureTarget(feature=common_pb2.AUDIO_FEATURE_ENERGY, target=0.5, min=0.0, max=1.0, weight=1.0)
        ]
    )
    pool = [Candidate(track(f"e{e}", f"a{e}", e), REC) for e in energies]
    order = [r.track.audio_features.energy for r in ranking.build_playlist(pool, wide, size=9)]
    peak = order.index(max(order))
    assert peak == 5  # the sixth of nine: two thirds in
    assert order[: peak + 1] == sorted(order[: peak + 1])
    assert order[peak:] == sorted(order[peak:], reverse=True)


def test_excluded_tracks_are_not_served_again() -> None:
    pool = [Candidate(track(s, s, 0.2), REC) for s in ("a", "b", "c")]
    assert set(ids(ranking.build_playlist(pool, CALM, 3, exclude=["b"]))) == {"a", "c"}


@pytest.mark.parametrize("share", [0.0, 0.4])
def test_asked_reads_named_genres_and_artists_from_the_prompt(share: float) -> None:
    mood = common_pb2.MoodProfile(
        targets=TARGETS, genres=["hip hop", "r&b"], artists=["Nas", "Someone Else"], avoid=["pop"]
    )
    asked = Asked.of(mood, "90s Hip-Hop like NAS, no pop", top_artists=[artist("Mine")], own_top_share=share)
    assert asked.named_genres == ("hip hop",)
    assert asked.named_artists == ("Nas",)
    assert asked.avoid == ("pop",)
    assert asked.taste == frozenset({"id-Mine"})
    assert asked.own_top_share == share

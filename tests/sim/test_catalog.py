"""The synthetic catalog: deterministic, well-formed IDs, sensible genres, users and recommendations."""

from __future__ import annotations

import re

import numpy as np
import pytest

from sim.catalog import FEATURES, Catalog, CatalogSizes, Track, build_catalog
from sim.catalog.build import _build
from sim.catalog.recommend import recommend
from sim.catalog.search import parse_query, search_artists, search_tracks
from sim.catalog.users import TIME_RANGES, top_artists, top_tracks, user_for_token, user_number

SMALL = CatalogSizes(genres=30, artists=400, tracks=5000)
SPOTIFY_ID = re.compile(r"^[0-9A-Za-z]{22}$")
UUID4 = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return build_catalog(11, SMALL)


def test_same_seed_same_catalog_and_other_seed_differs() -> None:
    a = build_catalog(3, SMALL)
    b = _build.__wrapped__(3, SMALL)  # bypass the memo: really generate twice
    c = _build.__wrapped__(4, SMALL)
    assert a is build_catalog(3, SMALL)
    assert [t.spotify_id for t in a.tracks] == [t.spotify_id for t in b.tracks]
    assert [t.title for t in a.tracks] == [t.title for t in b.tracks]
    assert [x.name for x in a.artists] == [x.name for x in b.artists]
    assert np.array_equal(a.features, b.features)
    assert [t.spotify_id for t in a.tracks] != [t.spotify_id for t in c.tracks]


def test_sizes_and_id_formats(catalog: Catalog) -> None:
    assert (len(catalog.genres), len(catalog.artists), len(catalog.tracks)) == (30, 400, 5000)
    spotify_ids = [t.spotify_id for t in catalog.tracks] + [a.spotify_id for a in catalog.artists]
    assert all(SPOTIFY_ID.match(i) for i in spotify_ids)
    assert len(set(spotify_ids)) == len(spotify_ids)
    uuids = [t.reccobeats_id for t in catalog.tracks if t.reccobeats_id] + [a.reccobeats_id for a in catalog.artists]
    assert all(UUID4.match(u) for u in uuids)
    assert len(set(uuids)) == len(uuids)
    assert all(len(t.isrc) == 12 for t in catalog.tracks)
    assert catalog.features.shape == (5000, len(FEATURES))


def test_reccobeats_gaps_follow_the_configured_fractions(catalog: Catalog) -> None:
    absent = [t for t in catalog.tracks if not t.in_reccobeats]
    present = [t for t in catalog.tracks if t.in_reccobeats]
    no_features = [t for t in present if not t.has_audio_features]
    assert len(absent) == round(5000 * SMALL.absent_from_reccobeats)
    assert len(no_features) == round(len(present) * SMALL.without_audio_features)
    assert all(catalog.reccobeats_track(t.spotify_id) is None for t in absent[:20])
    assert all(catalog.audio_features(t) is None for t in no_features[:20])
    track = present[0]
    assert catalog.reccobeats_track(track.spotify_id) is track
    assert catalog.reccobeats_track(str(track.reccobeats_id)) is track


def test_genre_centroids_make_sense(catalog: Catalog) -> None:
    ambient, techno, jazz = catalog.genre("ambient"), catalog.genre("techno"), catalog.genre("jazz")
    assert ambient is not None and techno is not None and jazz is not None
    assert ambient.centroid["energy"] < 0.3 < 0.7 < techno.centroid["energy"]
    assert ambient.centroid["acousticness"] > 0.7 > techno.centroid["acousticness"]
    jazz_rows = catalog.features[[t.index for t in catalog.tracks if t.genre == "jazz"]]
    techno_rows = catalog.features[[t.index for t in catalog.tracks if t.genre == "techno"]]
    energy = FEATURES.index("energy")
    assert jazz_rows[:, energy].mean() < techno_rows[:, energy].mean()
    for name in (
        "jazz",
        "bossa nova",
        "lo-fi hip hop",
        "ambient",
        "indie folk",
        "synthwave",
        "k-pop",
        "techno",
        "classical",
        "metal",
    ):
        assert build_catalog(1, CatalogSizes(artists=50, tracks=200)).genre(name) is not None, name


def test_more_genres_than_the_table_are_named_variants() -> None:
    names = [g.name for g in build_catalog(1, CatalogSizes(genres=70, artists=100, tracks=300)).genres]
    assert len(set(names)) == 70
    assert any(n.startswith("dark ") for n in names)


def test_users_are_deterministic_and_time_ranges_differ_but_overlap(catalog: Catalog) -> None:
    assert user_number("user-7-anything") == 7
    assert user_number("some-opaque-token") == user_number("some-opaque-token") != user_number("another-token")
    ranges = {r: set(top_tracks(catalog, 7, r)) for r in TIME_RANGES}
    assert all(len(v) == 50 for v in ranges.values())
    assert ranges["short_term"] != ranges["long_term"]
    assert ranges["short_term"] & ranges["medium_term"]
    assert len(top_artists(catalog, 7, "medium_term")) == 50
    liked = {g for g, _ in user_for_token(catalog, "user-7-x").taste}
    assert 2 <= len(liked) <= 4
    genres_of_top = [catalog.tracks[t].genre for t in top_tracks(catalog, 7, "medium_term")]
    related = liked | {g for a in catalog.artists for g in a.genres if a.genres[0] in liked}
    assert sum(g in related for g in genres_of_top) >= 40
    assert top_tracks(catalog, 7, "medium_term") != top_tracks(catalog, 8, "medium_term")


def test_search_parses_filters_and_finds_by_words(catalog: Catalog) -> None:
    q = parse_query('track:Hey Jude artist:"The Beatles" remastered genre:rock')
    assert (q.track, q.artist, q.genre, q.text) == ("Hey Jude", "The Beatles", "rock", "remastered")
    artist = max(catalog.artists, key=lambda a: a.popularity)
    assert search_artists(catalog, artist.name)[0] == artist.index
    assert search_artists(catalog, f"artist:{artist.name.upper()}")[0] == artist.index
    track = catalog.tracks[artist.track_indices[0]]
    found = search_tracks(catalog, f"track:{track.title} artist:{artist.name}")
    assert track.index in found
    assert all(artist.index in catalog.tracks[t].artist_indices for t in found)
    jazz = search_artists(catalog, "genre:jazz")
    assert jazz and all("jazz" in catalog.artists[a].genres for a in jazz)
    assert search_tracks(catalog, "genre:Hip-Hop") == search_tracks(catalog, "genre:hip hop")
    assert search_artists(catalog, "zzzqqq") == []


def test_recommendations_are_neighbours_steered_by_targets_and_negatives(catalog: Catalog) -> None:
    jazz = [t for t in catalog.tracks if t.genre == "jazz" and t.has_audio_features][:3]
    result = recommend(catalog, jazz, [], 30)
    assert len(result) == 30
    assert not {t.index for t in jazz} & {t.index for t in result}
    assert all(t.has_audio_features for t in result)
    assert result == recommend(catalog, jazz, [], 30)
    assert sum(t.genre in ("jazz", "smooth jazz", "bossa nova", "blues") for t in result) >= 20
    energy = FEATURES.index("energy")

    def mean_energy(tracks: list[Track]) -> float:
        return float(np.mean([catalog.features[t.index, energy] for t in tracks]))

    calm = recommend(catalog, jazz, [], 30, {"energy": 0.1}, 5)
    loud = recommend(catalog, jazz, [], 30, {"energy": 0.9}, 5)
    assert mean_energy(calm) < mean_energy(result) < mean_energy(loud)
    weak = recommend(catalog, jazz, [], 30, {"energy": 0.9}, 1)
    assert mean_energy(weak) < mean_energy(loud)  # featureWeight scales the pull
    metal = [t for t in catalog.tracks if t.genre == "metal" and t.has_audio_features][:2]
    pushed = recommend(catalog, jazz, metal, 30)
    assert mean_energy(pushed) <= mean_energy(result)
    assert not {t.index for t in metal} & {t.index for t in pushed}
    no_features = [t for t in catalog.tracks if not t.has_audio_features][:2]
    assert recommend(catalog, no_features, [], 10) == []

"""The fallback search for a mood: which queries, concurrency-safe merging, partial failures."""

from __future__ import annotations

import pytest
from segue.v1 import common_pb2

from services.common.errors import Unauthenticated
from services.seed_gatherer.fallback import MAX_QUERIES, mood_queries, search_mood_tracks
from tests.unit.seed_gatherer.spotify_fake import TOKEN, FakeSpotify, spotify_client, track_json


def test_queries_use_the_first_genres_then_artists_when_there_are_no_genres() -> None:
    genres = common_pb2.MoodProfile(genres=["lo-fi", "jazz", " ", "soul", "funk"], artists=["Nujabes"])
    assert mood_queries(genres) == ['genre:"lo-fi"', 'genre:"jazz"', 'genre:"soul"'][:MAX_QUERIES]
    assert mood_queries(common_pb2.MoodProfile(artists=["Nujabes"])) == ['artist:"Nujabes"']
    assert mood_queries(common_pb2.MoodProfile(keywords=["rain"])) == []


async def test_results_of_every_genre_are_merged_without_duplicates() -> None:
    fake = FakeSpotify(
        searches={
            'genre:"lo-fi"': [track_json("x", ["a"]), track_json("y", ["b"])],
            'genre:"jazz"': [track_json("y", ["b"]), track_json("z", ["c"])],
        }
    )
    async with spotify_client(fake) as spotify:
        search = await search_mood_tracks(spotify, TOKEN, common_pb2.MoodProfile(genres=["lo-fi", "jazz"]))

    assert [t.spotify_id for t in search.tracks] == ["x", "y", "z"]
    assert search.described == 'genre:"lo-fi", genre:"jazz"'
    assert search.warnings == []
    assert {r.url.params["limit"] for r in fake.requests} == {"10"}  # Development Mode's maximum


async def test_a_failed_search_is_a_warning_while_the_others_still_count() -> None:
    fake = FakeSpotify(searches={'genre:"jazz"': [track_json("z", ["c"])]})
    fake.status['genre:"soul"'] = 503
    async with spotify_client(fake) as spotify:
        search = await search_mood_tracks(spotify, TOKEN, common_pb2.MoodProfile(genres=["soul", "jazz"]))

    assert [t.spotify_id for t in search.tracks] == ["z"]
    assert [(w.code, w.component) for w in search.warnings] == [
        (common_pb2.WARNING_CODE_UPSTREAM_UNAVAILABLE, "spotify")
    ]
    assert "1 of 2 mood searches failed" in search.warnings[0].message


async def test_a_rejected_token_fails_the_search() -> None:
    fake = FakeSpotify()
    fake.status["/search"] = 401
    async with spotify_client(fake) as spotify:
        with pytest.raises(Unauthenticated):
            await search_mood_tracks(spotify, TOKEN, common_pb2.MoodProfile(genres=["jazz"]))

"""Anchor searches for a mood: which queries, merging without duplicates, partial failures, the shared cache."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import pytest
from segue.v1 import common_pb2

from services.common.cache import Cache, MemoryStore
from services.common.errors import Unauthenticated
from services.seed_gatherer.anchors import MAX_QUERIES, mood_queries, search_mood_tracks
from services.seed_gatherer.catalog_search import CatalogSearch
from tests.unit.seed_gatherer.spotify_fake import TOKEN, FakeSpotify, spotify_client, track_json


@asynccontextmanager
async def catalog(fake: FakeSpotify) -> AsyncIterator[CatalogSearch]:
    async with spotify_client(fake) as spotify:
        yield CatalogSearch(spotify, Cache(MemoryStore(), "test"), ttl_s=60)


def test_queries_prefer_the_genres_the_prompt_names_then_the_moods_then_artists() -> None:
    mood = common_pb2.MoodProfile(genres=["lo-fi", "jazz", " ", "soul", "funk"], artists=["Nujabes"])
    assert mood_queries(mood) == ['genre:"lo-fi"', 'genre:"jazz"', 'genre:"soul"'][:MAX_QUERIES]
    assert mood_queries(mood, "some soul and funk tonight") == ['genre:"soul"', 'genre:"funk"']
    assert mood_queries(common_pb2.MoodProfile(artists=["Nujabes"])) == ['artist:"Nujabes"']
    assert mood_queries(common_pb2.MoodProfile(keywords=["rain"])) == []


async def test_results_of_every_genre_are_merged_without_duplicates() -> None:
    fake = FakeSpotify(
        searches={
            'genre:"lo-fi"': [track_json("x", ["a"]), track_json("y", ["b"])],
            'genre:"jazz"': [track_json("y", ["b"]), track_json("z", ["c"])],
        }
    )
    async with catalog(fake) as search:
        found = await search_mood_tracks(search, TOKEN, common_pb2.MoodProfile(genres=["lo-fi", "jazz"]))

    assert [t.spotify_id for t in found.tracks] == ["x", "y", "z"]
    assert found.described == 'genre:"lo-fi", genre:"jazz"'
    assert found.warnings == []
    assert {r.url.params["limit"] for r in fake.requests} == {"10"}  # Development Mode's maximum


async def test_a_search_is_asked_once_and_then_served_from_the_shared_cache() -> None:
    fake = FakeSpotify(searches={'genre:"jazz"': [track_json("z", ["c"])]})
    mood = common_pb2.MoodProfile(genres=["jazz"])
    async with catalog(fake) as search:
        first = await search_mood_tracks(search, TOKEN, mood)
        second = await search_mood_tracks(search, "another-users-token", mood)

    assert len(fake.requests) == 1
    assert (first.cache_hits, second.cache_hits) == (0, 1)
    assert [t.spotify_id for t in second.tracks] == ["z"]


async def test_a_failed_search_is_a_warning_while_the_others_still_count() -> None:
    fake = FakeSpotify(searches={'genre:"jazz"': [track_json("z", ["c"])]})
    fake.status['genre:"soul"'] = 503
    async with catalog(fake) as search:
        found = await search_mood_tracks(search, TOKEN, common_pb2.MoodProfile(genres=["soul", "jazz"]))

    assert [t.spotify_id for t in found.tracks] == ["z"]
    assert [(w.code, w.component) for w in found.warnings] == [
        (common_pb2.WARNING_CODE_UPSTREAM_UNAVAILABLE, "spotify")
    ]
    assert "1 of 2 mood searches failed" in found.warnings[0].message


async def test_a_rejected_token_fails_the_search() -> None:
    fake = FakeSpotify()
    fake.status["/search"] = 401
    async with catalog(fake) as search:
        with pytest.raises(Unauthenticated):
            await search_mood_tracks(search, TOKEN, common_pb2.MoodProfile(genres=["jazz"]))

"""The user's context: concurrent fetch, caching per user ID, and how a partial failure is handled."""

from __future__ import annotations

import asyncio

import pytest
from prometheus_client import CollectorRegistry

from services.common.cache import Cache, MemoryStore
from services.common.errors import Unauthenticated, UpstreamError
from services.common.identity import KeyedHash
from services.common.metrics import CacheMetrics
from services.seed_gatherer.spotify_client import SpotifyClient
from services.seed_gatherer.user_context import UserContextLoader
from tests.unit.seed_gatherer.spotify_fake import TOKEN, FakeSpotify, artist_json, spotify_client, track_json


def fake_user() -> FakeSpotify:
    return FakeSpotify(
        top_tracks=[track_json("t1", ["a1"]), track_json("t2", ["a2"])],
        top_artists=[artist_json("a1", genres=["jazz"]), artist_json("a2")],
    )


def loader(spotify: SpotifyClient, store: MemoryStore) -> UserContextLoader:
    cache = Cache(store, "seed_gatherer", CacheMetrics.create(CollectorRegistry()))
    return UserContextLoader(spotify, cache, ttl_s=60, tracks_limit=20, artists_limit=10)


async def test_the_second_load_for_a_user_comes_from_the_cache_without_calling_spotify() -> None:
    fake, store = fake_user(), MemoryStore()
    async with spotify_client(fake) as spotify:
        contexts = loader(spotify, store)
        first = await contexts.load("user-7", TOKEN)
        second = await contexts.load("user-7", TOKEN)

    assert not first.from_cache and second.from_cache
    assert [t.spotify_id for t in second.top_tracks] == ["t1", "t2"]
    assert second.genres_by_artist() == {"a1": ["jazz"]}
    assert sorted(fake.paths()) == ["/v1/me/top/artists", "/v1/me/top/tracks"]
    assert [r.url.params["limit"] for r in fake.requests if r.url.path.endswith("tracks")] == ["20"]
    assert (first.cache_usage.misses, second.cache_usage.hits) == (1, 1)


async def test_cache_keys_hold_neither_the_token_nor_the_raw_user_id() -> None:
    store = MemoryStore()
    user_key = KeyedHash(b"k" * 32)("user", "alice@example.com")  # what the verified identity carries
    async with spotify_client(fake_user()) as spotify:
        await loader(spotify, store).load(user_key, TOKEN)

    keys = list(store._data)
    assert keys == [f"segue:seed_gatherer:user_context:{user_key}"]
    assert not any(TOKEN in k or "alice" in k for k in keys)


async def test_users_do_not_share_a_context() -> None:
    fake, store = fake_user(), MemoryStore()
    async with spotify_client(fake) as spotify:
        contexts = loader(spotify, store)
        await contexts.load("user-7", TOKEN)
        other = await contexts.load("user-8", "user-8-demo-token")

    assert not other.from_cache
    assert fake.paths().count("/v1/me/top/tracks") == 2


async def test_failed_top_artists_give_a_warning_and_are_not_cached() -> None:
    fake, store = fake_user(), MemoryStore()
    fake.status["/me/top/artists"] = 503
    async with spotify_client(fake) as spotify:
        contexts = loader(spotify, store)
        first = await contexts.load("user-7", TOKEN)
        fake.status.clear()
        second = await contexts.load("user-7", TOKEN)

    assert [t.spotify_id for t in first.top_tracks] == ["t1", "t2"]
    assert first.top_artists == []
    assert [w.component for w in first.warnings] == ["spotify"]
    assert "top artists skipped" in first.warnings[0].message
    assert not second.from_cache and len(second.top_artists) == 2


async def test_failed_top_tracks_raise_the_upstream_error() -> None:
    fake = fake_user()
    fake.status["/me/top/tracks"] = 500
    async with spotify_client(fake) as spotify:
        with pytest.raises(UpstreamError):
            await loader(spotify, MemoryStore()).load("user-7", TOKEN)


async def test_a_rejected_token_wins_over_other_failures() -> None:
    fake = fake_user()
    fake.status.update({"/me/top/tracks": 500, "/me/top/artists": 401})
    async with spotify_client(fake) as spotify:
        with pytest.raises(Unauthenticated):
            await loader(spotify, MemoryStore()).load("user-7", TOKEN)


async def test_concurrent_loads_of_one_users_context_share_one_spotify_fetch() -> None:
    fake, store = fake_user(), MemoryStore()
    async with spotify_client(fake) as spotify:
        contexts = loader(spotify, store)
        loaded = await asyncio.gather(*(contexts.load("user-7", TOKEN) for _ in range(10)))
        other = await contexts.load("user-8", "user-8-demo-token")

    assert sorted(fake.paths()) == [
        "/v1/me/top/artists",
        "/v1/me/top/artists",
        "/v1/me/top/tracks",
        "/v1/me/top/tracks",
    ]
    assert all([t.spotify_id for t in c.top_tracks] == ["t1", "t2"] and not c.from_cache for c in loaded)
    loaded[0].top_tracks.clear()  # each caller owns its lists
    assert loaded[1].top_tracks and not other.from_cache

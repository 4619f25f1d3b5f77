"""Named tracks found in the catalog: the exact title (and artist), and titles several artists recorded."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from segue.v1 import common_pb2

from services.common.cache import Cache, MemoryStore
from services.seed_gatherer import mentions
from services.seed_gatherer.catalog_search import CatalogSearch
from tests.unit.seed_gatherer.spotify_fake import TOKEN, FakeSpotify, spotify_client, track_json

TITLE = 'track:"Midnight Stars"'


@asynccontextmanager
async def catalog(fake: FakeSpotify) -> AsyncIterator[CatalogSearch]:
    async with spotify_client(fake) as spotify:
        yield CatalogSearch(spotify, Cache(MemoryStore(), "test"), ttl_s=60)


def named(title: str, artist: str = "") -> common_pb2.MentionedTrack:
    return common_pb2.MentionedTrack(title=title, artist=artist)


def versions_json() -> list[dict[str, object]]:
    """Spotify's answer for the title: three versions by three artists, best known first, and a namesake."""
    return [
        track_json("jazz", ["a"], name="Midnight Stars"),
        track_json("blues", ["b"], name="Midnight Stars"),
        track_json("soul", ["c"], name="midnight  stars"),
        track_json("other", ["d"], name="Midnight Stars Forever"),
    ]


async def test_a_title_named_alone_that_several_artists_recorded_is_ambiguous_with_the_best_known_standing_in() -> None:
    async with catalog(FakeSpotify(searches={TITLE: versions_json()})) as search:
        found = await mentions.resolve(search, TOKEN, [named("Midnight Stars")])

    assert [t.spotify_id for t in found.found] == ["jazz"]
    [versions] = found.ambiguous
    assert [t.spotify_id for t in versions.tracks] == ["jazz", "blues", "soul"]  # the namesake is not a version
    assert versions.index == 0


async def test_a_title_named_with_its_artist_or_recorded_once_is_not_ambiguous() -> None:
    by_artist = 'track:"Midnight Stars" artist:"Artist b"'
    searches = {by_artist: versions_json()[1:2], 'track:"Only Once"': [track_json("one", ["a"], name="Only Once")]}
    async with catalog(FakeSpotify(searches=searches)) as search:
        found = await mentions.resolve(search, TOKEN, [named("Midnight Stars", "Artist b"), named("Only Once")])

    assert [t.spotify_id for t in found.found] == ["blues", "one"]
    assert found.ambiguous == []


async def ambiguous_mentions() -> mentions.Mentions:
    async with catalog(FakeSpotify(searches={TITLE: versions_json()})) as search:
        return await mentions.resolve(search, TOKEN, [named("Midnight Stars")])


async def test_the_version_by_an_artist_of_the_mood_settles_the_title() -> None:
    found = await ambiguous_mentions()
    left = mentions.settle(found, ["Artist c"], ["Artist b"])  # the mood's artists before the user's taste
    assert left == [] and [t.spotify_id for t in found.found] == ["soul"]


async def test_else_the_version_by_one_of_the_users_top_artists_settles_it() -> None:
    found = await ambiguous_mentions()
    assert mentions.settle(found, [], ["Artist b", "Someone Else"]) == []
    assert [t.spotify_id for t in found.found] == ["blues"]


async def test_what_heuristics_cannot_settle_is_left_for_the_llm_among_the_versions_that_fit() -> None:
    found = await ambiguous_mentions()
    [left] = mentions.settle(found, [], ["Artist b", "Artist c"])  # the user plays two of the three
    assert [t.spotify_id for t in left.tracks] == ["blues", "soul"]
    assert [t.spotify_id for t in found.found] == ["blues"]  # the best known of those stands in

    found = await ambiguous_mentions()
    [left] = mentions.settle(found, [], [])
    assert [t.spotify_id for t in left.tracks] == ["jazz", "blues", "soul"]
    assert [t.spotify_id for t in found.found] == ["jazz"]

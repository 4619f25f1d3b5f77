"""The Spotify client: paths, parameters, Development-Mode limits, parsing, and how failures surface."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from services.common.errors import Unauthenticated, UpstreamError, UpstreamRejected
from services.seed_gatherer.spotify_client import SpotifyClient, search_query
from tests.unit.seed_gatherer.spotify_fake import TOKEN, FakeSpotify, artist_json, spotify_client, track_json


@pytest.fixture
def fake() -> FakeSpotify:
    return FakeSpotify(
        top_tracks=[
            track_json("t1", ["a1"], name="First", popularity=70, isrc="USAAA0000001"),
            track_json(None, ["a2"]),  # a local file: no ID, cannot be a seed
            track_json("t2", ["a2", "a3"]),  # Development Mode: no popularity
        ],
        top_artists=[artist_json("a1", "One", ["indie rock"], popularity=55), artist_json("a2", "Two")],
    )


@pytest.fixture
async def client(fake: FakeSpotify) -> AsyncIterator[SpotifyClient]:
    async with spotify_client(fake) as c:
        yield c


async def test_top_tracks_parse_into_tracks_and_skip_items_without_an_id(
    client: SpotifyClient, fake: FakeSpotify
) -> None:
    tracks = await client.top_tracks(TOKEN, 50)

    assert [t.spotify_id for t in tracks] == ["t1", "t2"]
    first, second = tracks
    assert first.title == "First"
    assert first.spotify_uri == "spotify:track:t1"
    assert first.isrc == "USAAA0000001"
    assert first.album == "Album of t1"
    assert first.duration_ms == 200_000
    assert first.HasField("popularity") and first.popularity == 70
    assert not second.HasField("popularity")
    assert [a.spotify_id for a in second.artists] == ["a2", "a3"]
    request = fake.requests[0]
    assert request.url.path == "/v1/me/top/tracks"
    assert dict(request.url.params) == {"limit": "50", "time_range": "medium_term"}
    assert request.headers["authorization"] == f"Bearer {TOKEN}"


async def test_top_artists_keep_genres_and_optional_popularity(client: SpotifyClient, fake: FakeSpotify) -> None:
    artists = await client.top_artists(TOKEN, 80)

    assert [(a.spotify_id, list(a.genres)) for a in artists] == [("a1", ["indie rock"]), ("a2", [])]
    assert artists[0].popularity == 55
    assert not artists[1].HasField("popularity")
    assert fake.requests[0].url.params["limit"] == "50"  # Spotify's maximum, whatever was asked


@pytest.mark.parametrize(("extended_quota", "expected_limit"), [(False, "10"), (True, "50")])
async def test_search_limit_is_capped_by_the_quota_mode(extended_quota: bool, expected_limit: str) -> None:
    query = search_query(genre="lo-fi")
    fake = FakeSpotify(searches={query: [track_json(f"s{i}", ["a1"]) for i in range(60)]})
    async with spotify_client(fake, extended_quota=extended_quota) as client:
        tracks = await client.search_tracks(TOKEN, query, 100)

        assert len(tracks) == int(expected_limit)
        assert dict(fake.requests[0].url.params) == {"q": 'genre:"lo-fi"', "type": "track", "limit": expected_limit}


async def test_search_artists_reads_the_artists_page() -> None:
    fake = FakeSpotify(searches={'artist:"Nils Frahm"': [artist_json("nf", "Nils Frahm", ["neo-classical"])]})
    async with spotify_client(fake) as client:
        artists = await client.search_artists(TOKEN, search_query(artist="Nils Frahm"), 3)

        assert [(a.spotify_id, a.name) for a in artists] == [("nf", "Nils Frahm")]
        assert fake.requests[0].url.params["type"] == "artist"


def test_search_query_quotes_each_filter_and_drops_quotes_inside_values() -> None:
    assert search_query(track='Hey "Jude"', artist="The Beatles") == 'track:"Hey Jude" artist:"The Beatles"'
    assert search_query(genre="hip hop") == 'genre:"hip hop"'


async def test_a_rejected_token_is_unauthenticated_and_the_message_never_holds_the_token(fake: FakeSpotify) -> None:
    fake.status["/me/top/tracks"] = 401
    async with spotify_client(fake) as client:
        with pytest.raises(Unauthenticated) as caught:
            await client.top_tracks(TOKEN, 20)

        assert "expired or invalid" in caught.value.message
        assert "refresh" in caught.value.message
        assert TOKEN not in caught.value.message
        assert len(fake.requests) == 1  # a 401 is not retried


async def test_other_client_errors_stay_upstream_rejections(fake: FakeSpotify) -> None:
    fake.status["/me/top/artists"] = 403  # e.g. a user outside a Development-Mode app's allow-list
    async with spotify_client(fake) as client:
        with pytest.raises(UpstreamRejected) as caught:
            await client.top_artists(TOKEN, 20)

        assert caught.value.status == 403


async def test_a_body_of_the_wrong_shape_is_an_upstream_error() -> None:
    async with spotify_client(
        httpx.MockTransport(lambda _: httpx.Response(200, json={"items": "not a list"}))
    ) as client:
        with pytest.raises(UpstreamError, match="unexpected shape"):
            await client.top_tracks(TOKEN, 20)

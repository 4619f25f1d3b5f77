"""SearchArtists and GetArtistTracks."""

from __future__ import annotations

import grpc
import pytest
from segue.v1 import reccobeat_gateway_pb2 as pb

from tests.unit.reccobeat_gateway.conftest import Gateway
from tests.unit.reccobeat_gateway.fake_reccobeats import artist_row


async def test_search_maps_artists_and_caches_the_answer(gateway: Gateway) -> None:
    reply = await gateway.stub.SearchArtists(pb.SearchArtistsRequest(query="  Artist   3 "), timeout=10)
    assert [(a.name, a.reccobeats_id, a.spotify_id) for a in reply.artists] == [
        ("Artist 3", artist_row(3)["id"], "ar00000000000000000003")
    ]
    (call,) = gateway.upstream.calls("/artist/search")
    assert (call.url.params["searchText"], call.url.params["size"], call.url.params["page"]) == ("Artist 3", "25", "0")

    again = await gateway.stub.SearchArtists(pb.SearchArtistsRequest(query="artist 3"), timeout=10)
    assert list(again.artists) == list(reply.artists) and (again.cache.hits, again.cache.misses) == (1, 0)
    assert len(gateway.upstream.calls("/artist/search")) == 1


async def test_artist_tracks_are_fetched_once_then_cached(gateway: Gateway) -> None:
    artist_id = str(artist_row(2)["id"])
    reply = await gateway.stub.GetArtistTracks(pb.GetArtistTracksRequest(artist_id=artist_id, size=5), timeout=10)
    assert len(reply.tracks) == 5 and all(t.artists[0].reccobeats_id == artist_id for t in reply.tracks)
    again = await gateway.stub.GetArtistTracks(
        pb.GetArtistTracksRequest(artist_id=artist_id.upper(), size=5), timeout=10
    )
    assert again.cache.hits == 1 and list(again.tracks) == list(reply.tracks)
    assert [r.url.path for r in gateway.upstream.requests] == [f"/v1/artist/{artist_id}/track"]


async def test_an_unknown_artist_is_not_found(gateway: Gateway) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await gateway.stub.GetArtistTracks(
            pb.GetArtistTracksRequest(artist_id="2670c328-c40f-45f4-80df-f48b29296deb"), timeout=10
        )
    assert err.value.code() == grpc.StatusCode.NOT_FOUND
    assert "2670c328-c40f-45f4-80df-f48b29296deb" in (err.value.details() or "")

"""Parsing ReccoBeats answers, and the client's calls, against httpx.MockTransport."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import httpx
import pytest
from prometheus_client import CollectorRegistry

from services.common.errors import UpstreamError
from services.common.metrics import UpstreamMetrics
from services.common.upstream_http import UpstreamClient
from services.reccobeat_gateway.client import ReccoBeatsClient
from services.reccobeat_gateway.metrics import GatewayMetrics
from services.reccobeat_gateway.rows import features_from_row, rows_of, spotify_id_from_href, track_from_row
from tests.unit.reccobeat_gateway.fake_reccobeats import BASE_URL, FakeReccoBeats, FakeTrack, features_row, track_row


def make_client(transport: httpx.AsyncBaseTransport, max_concurrency: int = 8) -> ReccoBeatsClient:
    registry = CollectorRegistry()
    http = UpstreamClient(
        "reccobeats", BASE_URL, timeout_s=5, metrics=UpstreamMetrics.create(registry), transport=transport
    )
    return ReccoBeatsClient(http, GatewayMetrics.create(registry), max_concurrency=max_concurrency)


@pytest.fixture
async def client_for() -> AsyncIterator[list[ReccoBeatsClient]]:
    made: list[ReccoBeatsClient] = []
    yield made
    for c in made:
        await c.aclose()


@pytest.mark.parametrize(
    ("href", "expected"),
    [
        ("https://open.spotify.com/track/00aqkszH1FdUiJJWvX6iEl", "00aqkszH1FdUiJJWvX6iEl"),
        ("https://open.spotify.com/track/00aqkszH1FdUiJJWvX6iEl?si=abc", "00aqkszH1FdUiJJWvX6iEl"),
        ("https://open.spotify.com/intl-de/track/00aqkszH1FdUiJJWvX6iEl/", "00aqkszH1FdUiJJWvX6iEl"),
        ("https://open.spotify.com/album/00aqkszH1FdUiJJWvX6iEl", ""),
        ("", ""),
        (None, ""),
    ],
)
def test_spotify_id_is_read_from_the_href(href: object, expected: str) -> None:
    assert spotify_id_from_href(href, "track") == expected


def test_rows_come_from_content_or_a_bare_list_and_anything_else_is_an_upstream_error() -> None:
    row = {"id": "x"}
    assert rows_of({"content": [row], "page": 0}, "GET /track") == [row]
    assert rows_of([row, "junk"], "GET /track") == [row]
    assert rows_of({}, "GET /track") == []
    with pytest.raises(UpstreamError, match="GET /track answered str"):
        rows_of("oops", "GET /track")


def test_track_row_maps_to_a_track_with_spotify_ids_from_hrefs() -> None:
    t = FakeTrack(3)
    track = track_from_row(track_row(t))
    assert track is not None
    assert (track.spotify_id, track.spotify_uri, track.reccobeats_id) == (
        t.spotify_id,
        f"spotify:track:{t.spotify_id}",
        t.rb_id,
    )
    assert (track.title, track.duration_ms, track.isrc, track.popularity) == ("Song 3", 180_003, "USXX00000003", 3)
    assert [(a.name, a.spotify_id) for a in track.artists] == [("Artist 3", "ar00000000000000000003")]
    assert track.artists[0].reccobeats_id
    assert track_from_row({"trackTitle": "no id"}) is None


def test_features_row_needs_every_feature() -> None:
    t = FakeTrack(4)
    parsed = features_from_row(features_row(t))
    assert parsed is not None
    assert parsed.spotify_id == t.spotify_id and parsed.features.tempo == 84.0 and parsed.features.key == 4
    partial = features_row(t)
    del partial["energy"]
    assert features_from_row(partial) is None
    assert features_from_row({**features_row(t), "tempo": "fast"}) is None


@pytest.mark.parametrize("bare_list", [False, True])
async def test_client_reads_both_envelopes_the_same(bare_list: bool, client_for: list[ReccoBeatsClient]) -> None:
    upstream = FakeReccoBeats(bare_list=bare_list)
    client = make_client(upstream.transport())
    client_for.append(client)
    wanted = [upstream.tracks[1].spotify_id, upstream.tracks[2].rb_id, "unknownunknownunknown0"]
    features = await client.audio_features(wanted)
    assert {f.reccobeats_id for f in features} == {upstream.tracks[1].rb_id, upstream.tracks[2].rb_id}
    assert upstream.ids_sent("/audio-features") == [wanted]  # one call, CSV
    unanalysed = await client.audio_features([upstream.tracks[9].spotify_id])
    assert unanalysed == []  # a track ReccoBeats never analysed is left out


async def test_a_404_on_a_multi_get_means_none_found(client_for: list[ReccoBeatsClient]) -> None:
    client = make_client(httpx.MockTransport(lambda _: httpx.Response(404, text="nothing")))
    client_for.append(client)
    assert await client.audio_features(["abc"]) == []


async def test_the_client_refuses_more_than_40_ids(client_for: list[ReccoBeatsClient]) -> None:
    client = make_client(FakeReccoBeats().transport())
    client_for.append(client)
    with pytest.raises(ValueError, match=r"1\.\.40"):
        await client.audio_features([f"id{i}" for i in range(41)])


async def test_calls_in_flight_stay_within_the_concurrency_bound(client_for: list[ReccoBeatsClient]) -> None:
    upstream = FakeReccoBeats()
    in_flight, peak = 0, 0

    async def handler(request: httpx.Request) -> httpx.Response:
        nonlocal in_flight, peak
        in_flight += 1
        peak = max(peak, in_flight)
        await asyncio.sleep(0.01)
        in_flight -= 1
        return upstream.handle(request)

    client = make_client(httpx.MockTransport(handler), max_concurrency=2)
    client_for.append(client)
    batches = [[t.spotify_id] for t in upstream.tracks[:6]]
    results = await asyncio.gather(*(client.audio_features(b) for b in batches))
    assert [len(r) for r in results] == [1] * 6
    assert peak == 2

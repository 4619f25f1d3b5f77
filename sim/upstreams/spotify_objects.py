"""Spotify Web API JSON objects (Track, Artist, Album, User) built from the catalog.

`extended` is the app's quota mode: Development Mode (False) drops the fields Spotify removed in
February 2026 — Track `popularity`, `available_markets`; Artist `popularity`, `followers`.
"""

from __future__ import annotations

import hashlib
from typing import Any

from sim.catalog import Album, Artist, Catalog, Track
from sim.catalog.users import User

API = "https://api.spotify.com/v1"
OPEN = "https://open.spotify.com"
# Where a track is available (Extended Quota's `available_markets`; ReccoBeats' `availableCountries`).
MARKETS = "AR AU AT BE BR CA CL CO DE DK ES FI FR GB ID IE IN IT JP KR MX NL NO NZ PH PL PT SE SG TH US ZA".split()


def _images(image_id: str, sizes: tuple[int, ...]) -> list[dict[str, Any]]:
    # Real image URLs differ per size; a suffix keeps ours distinct and deterministic.
    return [
        {"url": f"https://i.scdn.co/image/{image_id[: 40 - 2]}{n:02x}", "height": s, "width": s}
        for n, s in enumerate(sizes)
    ]


def open_url(kind: str, spotify_id: str) -> str:
    """The object's page on open.spotify.com (also ReccoBeats' `href`, its only link back to Spotify)."""
    return f"{OPEN}/{kind}/{spotify_id}"


def _link(kind: str, spotify_id: str) -> dict[str, Any]:
    return {
        "external_urls": {"spotify": open_url(kind, spotify_id)},
        "href": f"{API}/{kind}s/{spotify_id}",
        "id": spotify_id,
        "type": kind,
        "uri": f"spotify:{kind}:{spotify_id}",
    }


def simple_artist(artist: Artist) -> dict[str, Any]:
    return {**_link("artist", artist.spotify_id), "name": artist.name}


def full_artist(artist: Artist, extended: bool) -> dict[str, Any]:
    image_id = hashlib.sha1(artist.spotify_id.encode()).hexdigest()
    out: dict[str, Any] = {
        **simple_artist(artist),
        "genres": list(artist.genres),
        "images": _images(image_id, (640, 320, 160)),
    }
    if extended:
        out["followers"] = {"href": None, "total": artist.followers}
        out["popularity"] = artist.popularity
    return out


def simple_album(catalog: Catalog, album: Album, extended: bool) -> dict[str, Any]:
    out: dict[str, Any] = {
        **_link("album", album.spotify_id),
        "album_type": album.album_type,
        "artists": [simple_artist(catalog.artists[album.artist_index])],
        "images": _images(album.image_id, (640, 300, 64)),
        "is_playable": True,
        "name": album.name,
        "release_date": album.release_date,
        "release_date_precision": "day",
        "total_tracks": len(album.track_indices),
    }
    if extended:
        out["available_markets"] = MARKETS
    return out


def full_track(catalog: Catalog, track: Track, extended: bool) -> dict[str, Any]:
    out: dict[str, Any] = {
        **_link("track", track.spotify_id),
        "album": simple_album(catalog, catalog.albums[track.album_index], extended),
        "artists": [simple_artist(catalog.artists[a]) for a in track.artist_indices],
        "disc_number": 1,
        "duration_ms": track.duration_ms,
        "explicit": track.explicit,
        "external_ids": {"isrc": track.isrc},
        "is_local": False,
        "is_playable": True,
        "name": track.title,
        "preview_url": None,
        "track_number": track.track_number,
    }
    if extended:
        out["available_markets"] = MARKETS
        out["popularity"] = track.popularity
    return out


def user(u: User) -> dict[str, Any]:
    """GET /me. Development Mode dropped the private fields (`country`, `email`, `product`, `explicit_content`,
    `followers`) in February 2026; Extended Quota keeps them, but no caller reads them, so the simulator never
    sends them."""
    return {
        "display_name": u.display_name,
        "external_urls": {"spotify": open_url("user", u.id)},
        "href": f"{API}/users/{u.id}",
        "id": u.id,
        "images": _images(hashlib.sha1(u.id.encode()).hexdigest(), (300, 64)),
        "type": "user",
        "uri": f"spotify:user:{u.id}",
    }

"""ReccoBeats JSON rows → segue messages.

ReccoBeats rows carry no Spotify ID field: the Spotify ID is the last path segment of `href`
(https://open.spotify.com/track/<id>). Rows that cannot be read are skipped and logged, so one odd
row never costs the rest of a batch; a body of the wrong shape altogether is an upstream error.
"""

from __future__ import annotations

import logging
import math
import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from segue.v1 import common_pb2, reccobeat_gateway_pb2

from services.common.degradation import RECCOBEATS
from services.common.errors import UpstreamError
from services.common.features import FEATURE_NAMES

log = logging.getLogger(__name__)

UPSTREAM = RECCOBEATS

_UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
# Spotify IDs are base-62; ReccoBeats IDs are UUIDs. Anything else (a comma above all) would corrupt a CSV batch.
_ID = re.compile(r"[A-Za-z0-9-]{1,64}")


def is_reccobeats_id(value: str) -> bool:
    return bool(_UUID.fullmatch(value))


def is_valid_id(value: str) -> bool:
    return bool(_ID.fullmatch(value))


def normalize_id(value: str) -> str:
    """UUIDs compare case-insensitively; Spotify IDs are case-sensitive and kept as given."""
    value = value.strip()
    return value.lower() if is_reccobeats_id(value) else value


def rows_of(payload: Any, endpoint: str) -> list[Mapping[str, Any]]:
    """The rows of a list answer: `{"content": [...]}` as clients see it, or a bare list as the reference shows."""
    if isinstance(payload, Mapping):
        payload = payload.get("content", [])
    if not isinstance(payload, list):
        raise UpstreamError(UPSTREAM, f"{endpoint} answered {type(payload).__name__}, expected a list of rows")
    return [row for row in payload if isinstance(row, Mapping)]


def spotify_id_from_href(href: Any, kind: str) -> str:
    """`https://open.spotify.com/<kind>/<id>` → `<id>`; "" when the link is absent or of another kind."""
    if not isinstance(href, str) or not href:
        return ""
    parts = [p for p in urlsplit(href).path.split("/") if p]
    if len(parts) >= 2 and parts[-2] == kind and is_valid_id(parts[-1]):
        return parts[-1]
    return ""


def _text(row: Mapping[str, Any], key: str) -> str:
    value = row.get(key)
    return value if isinstance(value, str) else ""


def _int(row: Mapping[str, Any], key: str) -> int | None:
    value = row.get(key)
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        return None
    return int(value)


def artist_from_row(row: Mapping[str, Any]) -> common_pb2.Artist | None:
    rb_id = _text(row, "id")
    if not rb_id:
        return None
    artist = common_pb2.Artist(
        reccobeats_id=normalize_id(rb_id),
        name=_text(row, "name"),
        spotify_id=spotify_id_from_href(row.get("href"), "artist"),
    )
    popularity = _int(row, "popularity")
    if popularity is not None:
        artist.popularity = popularity
    return artist


def track_from_row(row: Mapping[str, Any]) -> common_pb2.Track | None:
    rb_id = _text(row, "id")
    if not rb_id:
        log.warning("skipping a reccobeats track row without an id")
        return None
    spotify_id = spotify_id_from_href(row.get("href"), "track")
    raw_artists = row.get("artists")
    artists = (
        [a for a in (artist_from_row(r) for r in raw_artists if isinstance(r, Mapping)) if a is not None]
        if isinstance(raw_artists, list)
        else []
    )
    track = common_pb2.Track(
        reccobeats_id=normalize_id(rb_id),
        spotify_id=spotify_id,
        spotify_uri=f"spotify:track:{spotify_id}" if spotify_id else "",
        title=_text(row, "trackTitle"),
        artists=artists,
        duration_ms=_int(row, "durationMs") or 0,
        isrc=_text(row, "isrc"),
    )
    popularity = _int(row, "popularity")
    if popularity is not None:
        track.popularity = popularity
    return track


def features_from_row(row: Mapping[str, Any]) -> reccobeat_gateway_pb2.TrackFeatures | None:
    """A features row with every field a number, or None: a partial row is no better than none for ranking."""
    rb_id = _text(row, "id")
    values: dict[str, float] = {}
    for name in (*FEATURE_NAMES, "key", "mode"):
        value = row.get(name)
        if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
            log.warning("skipping a reccobeats features row without a numeric %r", name)
            return None
        values[name] = float(value)
    if not rb_id:
        return None
    features = common_pb2.AudioFeatures(
        key=int(values.pop("key")),
        mode=int(values.pop("mode")),
        **values,
    )
    return reccobeat_gateway_pb2.TrackFeatures(
        reccobeats_id=normalize_id(rb_id),
        spotify_id=spotify_id_from_href(row.get("href"), "track"),
        features=features,
    )

"""From a pool of candidate tracks to an ordered playlist: score, dedupe, diversify, sequence."""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from segue.v1 import common_pb2

from services.common.features import fit_score

MISSING_FEATURES_SCORE = 0.3  # a track we cannot judge ranks below most that fit
MAX_PER_ARTIST = 2
MAX_OWN_TOP_SHARE = 0.4  # a mood playlist, not a replay of the user's favourites


@dataclass(frozen=True)
class Candidate:
    track: common_pb2.Track
    source: common_pb2.TrackSource.ValueType


@dataclass(frozen=True)
class Ranked:
    track: common_pb2.Track
    source: common_pb2.TrackSource.ValueType
    score: float
    reason: str


def _identity(track: common_pb2.Track) -> tuple[str, str]:
    first_artist = track.artists[0].name if track.artists else ""
    return " ".join(track.title.lower().split()), first_artist.lower()


def dedupe(candidates: Iterable[Candidate]) -> list[Candidate]:
    """First occurrence wins, by Spotify ID, ReccoBeats ID, or title + first artist (re-releases)."""
    seen: set[object] = set()
    out = []
    for c in candidates:
        keys = [k for k in (c.track.spotify_id, c.track.reccobeats_id) if k] + [_identity(c.track)]
        if any(k in seen for k in keys):
            continue
        seen.update(keys)
        out.append(c)
    return out


def _reason(track: common_pb2.Track, source: common_pb2.TrackSource.ValueType) -> str:
    origin = {
        common_pb2.TRACK_SOURCE_USER_TOP: "one of your top tracks",
        common_pb2.TRACK_SOURCE_RECOMMENDATION: "recommended around your seeds",
    }.get(source, "found for this mood")
    if not track.HasField("audio_features"):
        return f"{origin}; no audio features to judge the fit"
    f = track.audio_features
    return f"{origin}; energy {f.energy:.2f}, valence {f.valence:.2f}, {f.tempo:.0f} BPM"


def score(candidates: Sequence[Candidate], targets: Sequence[common_pb2.FeatureTarget]) -> list[Ranked]:
    ranked = [
        Ranked(
            c.track,
            c.source,
            fit_score(c.track.audio_features, targets)
            if c.track.HasField("audio_features")
            else MISSING_FEATURES_SCORE,
            _reason(c.track, c.source),
        )
        for c in candidates
    ]
    ranked.sort(key=lambda r: (-r.score, r.track.spotify_id))
    return ranked


def select(ranked: Sequence[Ranked], size: int) -> list[Ranked]:
    """Best first, at most MAX_PER_ARTIST per artist and a bounded share of the user's own tracks.

    The limits bend rather than leave the playlist short: a second pass fills from what they held back.
    """
    max_own = max(1, math.floor(size * MAX_OWN_TOP_SHARE))
    chosen: list[Ranked] = []
    held: list[Ranked] = []
    per_artist: dict[str, int] = {}
    own = 0
    for r in ranked:
        if len(chosen) == size:
            break
        artist = r.track.artists[0].name.lower() if r.track.artists else ""
        is_own = r.source == common_pb2.TRACK_SOURCE_USER_TOP
        if per_artist.get(artist, 0) >= MAX_PER_ARTIST or (is_own and own >= max_own):
            held.append(r)
            continue
        chosen.append(r)
        per_artist[artist] = per_artist.get(artist, 0) + 1
        own += is_own
    chosen.extend(held[: size - len(chosen)])
    return chosen


def _distance(a: common_pb2.Track, b: common_pb2.Track) -> float:
    if not (a.HasField("audio_features") and b.HasField("audio_features")):
        return 1.0
    fa, fb = a.audio_features, b.audio_features
    return (
        abs(fa.energy - fb.energy)
        + abs(fa.valence - fb.valence)
        + abs(fa.danceability - fb.danceability)
        + abs(fa.tempo - fb.tempo) / 60.0
    )


def sequence(tracks: Sequence[Ranked]) -> list[Ranked]:
    """Play order: open with the best fit, then always the nearest remaining track, for smooth transitions."""
    if not tracks:
        return []
    remaining = list(tracks[1:])
    order = [tracks[0]]
    while remaining:
        nearest = min(remaining, key=lambda r: (_distance(order[-1].track, r.track), -r.score))
        remaining.remove(nearest)
        order.append(nearest)
    return order


def build_playlist(
    candidates: Iterable[Candidate], targets: Sequence[common_pb2.FeatureTarget], size: int, exclude: Iterable[str] = ()
) -> list[Ranked]:
    excluded = set(exclude)
    pool = [c for c in dedupe(candidates) if c.track.spotify_id not in excluded]
    return sequence(select(score(pool, targets), size))

"""Choosing seeds: score tracks against the mood, then pick the best with artist diversity.

Pure functions over messages, so every rule here is testable by feeding it tracks.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from segue.v1 import common_pb2

from services.common.features import fit_score
from services.common.genres import genres_match

DEFAULT_SEEDS = 5
MAX_SEEDS = 5
# A genre match is a hint, not a verdict: it reorders close calls but cannot lift a poor fit far.
GENRE_BONUS = 0.1
# ReccoBeats recommends around the seeds; two tracks of one artist already pull hard toward that artist.
MAX_SEEDS_PER_ARTIST = 2
CANDIDATE_FLOOR = 0.3
MAX_CANDIDATES = 30


@dataclass(frozen=True)
class ScoredTrack:
    track: common_pb2.Track
    score: float  # 0..1; 0 when the features are unknown


def unique_tracks(tracks: Iterable[common_pb2.Track]) -> list[common_pb2.Track]:
    """First occurrence of each Spotify ID, order kept."""
    seen: set[str] = set()
    out: list[common_pb2.Track] = []
    for track in tracks:
        if track.spotify_id and track.spotify_id not in seen:
            seen.add(track.spotify_id)
            out.append(track)
    return out


def score_track(
    track: common_pb2.Track, mood: common_pb2.MoodProfile, genres_by_artist: Mapping[str, Sequence[str]]
) -> float:
    fit = fit_score(track.audio_features, mood.targets)
    artist_genres = [g for a in track.artists for g in genres_by_artist.get(a.spotify_id, ())]
    if genres_match(artist_genres, mood.genres):
        fit += GENRE_BONUS
    return min(1.0, fit)


def rank(
    tracks: Iterable[common_pb2.Track],
    mood: common_pb2.MoodProfile,
    genres_by_artist: Mapping[str, Sequence[str]] | None = None,
) -> list[ScoredTrack]:
    """Tracks with audio features, best fit first; ties keep the input order (the user's own ranking)."""
    scored = [
        ScoredTrack(t, score_track(t, mood, genres_by_artist or {}))
        for t in unique_tracks(tracks)
        if t.HasField("audio_features")
    ]
    return sorted(scored, key=lambda s: s.score, reverse=True)


def unranked(tracks: Iterable[common_pb2.Track]) -> list[ScoredTrack]:
    """When the features are unknown (the gateway did not answer): the input order, score 0."""
    return [ScoredTrack(t, 0.0) for t in unique_tracks(tracks)]


def _artist_keys(track: common_pb2.Track) -> list[str]:
    return [a.spotify_id or a.name.lower() for a in track.artists]


def pick_seeds(
    ranked: Sequence[ScoredTrack], count: int, per_artist: int = MAX_SEEDS_PER_ARTIST
) -> tuple[list[ScoredTrack], list[ScoredTrack]]:
    """Up to `count` seeds in rank order, skipping tracks whose artists already have `per_artist` seeds.

    Returns (seeds, the rest in rank order).
    """
    seeds: list[ScoredTrack] = []
    rest: list[ScoredTrack] = []
    per_artist_seen: Counter[str] = Counter()
    for item in ranked:
        artists = _artist_keys(item.track)
        if len(seeds) < count and all(per_artist_seen[a] < per_artist for a in artists):
            seeds.append(item)
            per_artist_seen.update(artists)
        else:
            rest.append(item)
    return seeds, rest


def pick_candidates(
    ranked: Sequence[ScoredTrack], floor: float = CANDIDATE_FLOOR, limit: int = MAX_CANDIDATES
) -> list[ScoredTrack]:
    """The best tracks that still fit the mood, for the orchestrator to rank with everything else."""
    return [s for s in ranked if s.score >= floor][:limit]

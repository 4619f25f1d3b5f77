"""Seed-ratio balancing: how much of a playlist the user's own taste should shape, by the kind of prompt.

A catalog-style prompt ("90s hip hop", "songs like X", "something like <artist>") is about the catalog:
the user's own tracks get a small share, more when the user already plays what is asked for. A vague
mood ("something to cheer me up") is about the listener: their taste leads. Seeds follow the shares —
named tracks first, then the user's top tracks and the mood's anchors — and negative seeds are drawn
from what the prompt rules out, within what ReccoBeats accepts (fewer than the seeds, none a seed).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from segue.v1 import common_pb2

from services.common.genres import genres_match, named_in
from services.seed_gatherer.seed_selection import ScoredTrack, pick_seeds

CATALOG_STYLE_SHARE = (0.05, 0.4)  # the user's share when the prompt names genres, artists or tracks: low..high
VAGUE_SHARE = (0.4, 0.7)  # when it names none
MAX_NEGATIVE_SEEDS = 5


def plays_share(mood: common_pb2.MoodProfile, prompt: str, top_artists: Sequence[common_pb2.Artist]) -> float:
    """The share of the asked-for genres (named ones, else the mood's first three) the user's top artists play."""
    wanted = named_in(prompt, mood.genres) or [g for g in mood.genres if g.strip()][:3]
    if not wanted:
        return 0.0
    played = [g for a in top_artists for g in a.genres]
    return sum(genres_match(played, [w]) for w in wanted) / len(wanted)


def is_catalog_style(mood: common_pb2.MoodProfile, prompt: str) -> bool:
    return bool(named_in(prompt, mood.genres) or named_in(prompt, mood.artists) or mood.mentioned_tracks)


def user_top_share(
    mood: common_pb2.MoodProfile, prompt: str, top_artists: Sequence[common_pb2.Artist], has_top_tracks: bool
) -> float:
    """0..1: the share of seeds (and at most of the playlist) from the user's own top tracks."""
    if not has_top_tracks:
        return 0.0
    low, high = CATALOG_STYLE_SHARE if is_catalog_style(mood, prompt) else VAGUE_SHARE
    return round(low + (high - low) * plays_share(mood, prompt, top_artists), 3)


def plan_seeds(
    count: int,
    mentioned: Sequence[ScoredTrack],
    anchors: Sequence[ScoredTrack],
    top: Sequence[ScoredTrack],
    share: float,
) -> list[tuple[ScoredTrack, common_pb2.TrackSource.ValueType]]:
    """Named tracks first; the rest split between the user's top tracks and anchors by `share`, each best
    first with artist diversity; a source that runs short leaves its places to the other."""
    named = list(mentioned[:count])
    room = count - len(named)
    top_pool = _without(top, named)
    own, _ = pick_seeds(top_pool, round(room * share))
    anchored, _ = pick_seeds(_without(anchors, [*named, *own]), room - len(own))
    if len(own) + len(anchored) < room:  # anchors ran short: more of the user's own
        own, _ = pick_seeds(_without(top_pool, anchored), room - len(anchored))
    return [
        *((s, common_pb2.TRACK_SOURCE_USER_MENTIONED) for s in named),
        *((s, common_pb2.TRACK_SOURCE_USER_TOP) for s in own),
        *((s, common_pb2.TRACK_SOURCE_MOOD_SEARCH) for s in anchored),
    ]


def _without(tracks: Sequence[ScoredTrack], taken: Iterable[ScoredTrack]) -> list[ScoredTrack]:
    ids = {t.track.spotify_id for t in taken}
    return [t for t in tracks if t.track.spotify_id not in ids]


def negative_seeds(ruled_out: Sequence[common_pb2.Track], seed_ids: Sequence[str]) -> list[str]:
    """IDs of ruled-out tracks ReccoBeats will accept beside these seeds: none a seed, fewer than the seeds."""
    limit = min(MAX_NEGATIVE_SEEDS, len(seed_ids) - 1)
    seeds = set(seed_ids)
    out: list[str] = []
    for track in ruled_out:
        if len(out) >= limit:
            break
        tid = track.spotify_id or track.reccobeats_id
        if tid and tid not in seeds and tid not in out:
            out.append(tid)
    return out

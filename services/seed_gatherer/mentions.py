"""The tracks a prompt names ("songs like Blue Rain by Miles Quartet"), found in Spotify's catalog.

One search per named track (`track:"…" artist:"…"`), all at once. A result counts only when its title is
the named title (case and spacing aside), and, when the prompt names an artist, when that artist is among
the track's; a popular namesake by someone else is not what the listener asked for.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import partial

from segue.v1 import common_pb2

from services.common.degradation import SPOTIFY, degraded
from services.common.errors import SegueError
from services.common.fanout import failures, gather_tolerant
from services.common.genres import same_name
from services.seed_gatherer.catalog_search import CatalogSearch, Found
from services.seed_gatherer.spotify_client import search_query

MAX_MENTIONS = 5
RESULTS_PER_MENTION = 5


@dataclass
class Mentions:
    found: list[common_pb2.Track] = field(default_factory=list)
    missing: list[common_pb2.MentionedTrack] = field(default_factory=list)
    warnings: list[common_pb2.Warning] = field(default_factory=list)
    searches: int = 0
    cache_hits: int = 0


def best_match(named: common_pb2.MentionedTrack, results: Sequence[common_pb2.Track]) -> common_pb2.Track | None:
    """The first result with the named title (and the named artist among its artists, when one is named)."""
    for track in results:
        if not same_name(track.title, named.title):
            continue
        if not named.artist or any(same_name(a.name, named.artist) for a in track.artists):
            return track
    return None


async def resolve(search: CatalogSearch, token: str, named: Sequence[common_pb2.MentionedTrack]) -> Mentions:
    wanted = [m for m in named if m.title.strip()][:MAX_MENTIONS]
    out = Mentions(searches=len(wanted))
    if not wanted:
        return out
    queries = [search_query(track=m.title, artist=m.artist) for m in wanted]
    results = await gather_tolerant([partial(search.tracks, token, q, RESULTS_PER_MENTION) for q in queries])
    for mention, result in zip(wanted, results, strict=True):
        match = best_match(mention, result.tracks) if isinstance(result, Found) else None
        if isinstance(result, Found):
            out.cache_hits += result.hit
        if match is None:
            out.missing.append(mention)
        elif all(t.spotify_id != match.spotify_id for t in out.found):
            out.found.append(match)
    failed: list[SegueError] = failures(results)
    if failed:
        out.warnings.append(
            degraded(failed[0], SPOTIFY, f"{len(failed)} of {len(wanted)} named tracks could not be looked up")
        )
    return out

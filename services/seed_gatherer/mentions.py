"""The tracks a prompt names ("songs like Blue Rain by Miles Quartet"), found in Spotify's catalog.

One search per named track (`track:"…" artist:"…"`), all at once. A result counts only when its title is
the named title (case and spacing aside), and, when the prompt names an artist, when that artist is among
the track's; a popular namesake by someone else is not what the listener asked for.

A title named alone that several artists recorded is ambiguous. Heuristics settle it where they can (`settle`:
the version by an artist of the mood, named by the prompt or suggested for it, else by one the user plays);
what is left goes to the orchestrator, which asks the LLM with the versions shown. Meanwhile the best known
version stands in.
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
class Versions:
    """A title named alone that several artists recorded; found[index] holds the version standing in."""

    named: common_pb2.MentionedTrack
    tracks: list[common_pb2.Track]
    index: int


@dataclass
class Mentions:
    found: list[common_pb2.Track] = field(default_factory=list)
    missing: list[common_pb2.MentionedTrack] = field(default_factory=list)
    ambiguous: list[Versions] = field(default_factory=list)
    warnings: list[common_pb2.Warning] = field(default_factory=list)
    searches: int = 0
    cache_hits: int = 0


def matches(named: common_pb2.MentionedTrack, results: Sequence[common_pb2.Track]) -> list[common_pb2.Track]:
    """The results with the named title (and the named artist among their artists, when one is named)."""
    return [
        track
        for track in results
        if same_name(track.title, named.title)
        and (not named.artist or any(same_name(a.name, named.artist) for a in track.artists))
    ]


def _by_several(tracks: Sequence[common_pb2.Track]) -> bool:
    return len({t.artists[0].name.casefold() for t in tracks if t.artists}) > 1


async def resolve(search: CatalogSearch, token: str, named: Sequence[common_pb2.MentionedTrack]) -> Mentions:
    wanted = [m for m in named if m.title.strip()][:MAX_MENTIONS]
    out = Mentions(searches=len(wanted))
    if not wanted:
        return out
    queries = [search_query(track=m.title, artist=m.artist) for m in wanted]
    results = await gather_tolerant([partial(search.tracks, token, q, RESULTS_PER_MENTION) for q in queries])
    for mention, result in zip(wanted, results, strict=True):
        versions = matches(mention, result.tracks) if isinstance(result, Found) else []
        if isinstance(result, Found):
            out.cache_hits += result.hit
        if not versions:
            out.missing.append(mention)
        elif all(t.spotify_id != versions[0].spotify_id for t in out.found):
            out.found.append(versions[0])
            if _by_several(versions):
                out.ambiguous.append(Versions(mention, versions, len(out.found) - 1))
    failed: list[SegueError] = failures(results)
    if failed:
        out.warnings.append(
            degraded(failed[0], SPOTIFY, f"{len(failed)} of {len(wanted)} named tracks could not be looked up")
        )
    return out


def settle(mentions: Mentions, mood_artists: Sequence[str], top_artists: Sequence[str]) -> list[Versions]:
    """Settle each ambiguous title by heuristics where they can: the version by an artist of the mood,
    else by one of the user's top artists, stands in (`mentions.found`). The rest, still ambiguous (among
    those versions when several fit), are returned for the LLM."""
    left: list[Versions] = []
    for versions in mentions.ambiguous:
        fitting = _by_any(versions.tracks, mood_artists) or _by_any(versions.tracks, top_artists) or versions.tracks
        mentions.found[versions.index] = fitting[0]
        if _by_several(fitting):
            left.append(Versions(versions.named, fitting, versions.index))
    return left


def _by_any(tracks: Sequence[common_pb2.Track], artists: Sequence[str]) -> list[common_pb2.Track]:
    return [t for t in tracks if any(same_name(a.name, name) for a in t.artists for name in artists)]

"""Playlist quality: a labelled prompt set built from the simulator's catalog, and what each answer honours.

Every prompt names only what exists in the catalog the bench's simulator serves (genres, artists, tracks),
so each answer can be judged against the catalog's truth rather than against what the mesh believes:

- genre precision: the share of returned tracks whose artists carry a genre the prompt names (a label
  genre matches an artist genre that is it or holds it as whole words: "jazz" ~ "smooth jazz");
- mentions: each named catalog track is in the playlist; each named catalog artist has a track in it;
- exclusions: tracks by an excluded artist or whose artists carry an excluded genre (same matching);
- feature gap: the mean gap between each track's features and the mood's ranges (0 inside a range, the
  distance past it as a share of the feature's span, weighted as the mood weighs it), for the playlist
  and for random catalog tracks against the same mood; their ratio says how much better than chance;
- own-top share: the share of the user's own top tracks (medium term, what the mesh reads).
"""

from __future__ import annotations

import random
import re
import statistics
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from segue.v1 import common_pb2, orchestrator_pb2

from services.common.features import feature_name
from sim.catalog import FEATURE_RANGES, Artist, Catalog, Track
from sim.catalog.users import top_tracks

RANDOM_TRACKS = 2000  # catalog tracks (with features) the random baseline is measured on
_WORD = re.compile(r"[a-z0-9&]+")


@dataclass(frozen=True)
class QualityCase:
    kind: str  # "genre", "artist", "track", "exclusion", "vague"
    prompt: str
    genres: tuple[str, ...] = ()  # genres the prompt names: genre precision is measured against them
    tracks: tuple[tuple[str, str], ...] = ()  # (title, artist) the prompt names
    artists: tuple[str, ...] = ()  # artists the prompt names (a named track's artist included)
    excluded_genres: tuple[str, ...] = ()
    excluded_artists: tuple[str, ...] = ()


def _words(text: str) -> str:
    return " " + " ".join(_WORD.findall(text.lower().replace("-", " "))) + " "


def genre_matches(label: str, artist_genre: str) -> bool:
    """A label genre matches an artist genre that is it or holds it as whole words ("jazz" ~ "smooth jazz")."""
    return _words(label) in _words(artist_genre)


def _artist_genres(catalog: Catalog, track: Track) -> list[str]:
    return [g for a in track.artist_indices for g in catalog.artists[a].genres]


def _has_genre(catalog: Catalog, track: Track, labels: Iterable[str]) -> bool:
    genres = _artist_genres(catalog, track)
    return any(genre_matches(label, g) for label in labels for g in genres)


def _usable_tracks(catalog: Catalog, artist: Artist) -> list[Track]:
    return [catalog.tracks[t] for t in artist.track_indices if catalog.tracks[t].has_audio_features]


def _artist_of_genre(catalog: Catalog, genre: str, rank: int = 0, exclude: Sequence[str] = ()) -> Artist:
    """The rank-th most popular artist whose main genre is `genre`, with a discography ReccoBeats knows."""
    found = sorted(
        (
            a
            for a in catalog.artists
            if a.genres[0] == genre and len(_usable_tracks(catalog, a)) >= 6 and a.name not in exclude
        ),
        key=lambda a: (-a.popularity, a.index),
    )
    return found[min(rank, len(found) - 1)]


def _best_track(catalog: Catalog, artist: Artist) -> Track:
    """The artist's most popular track it leads, known to ReccoBeats with features, with a unique title."""
    titles = [t.title for t in catalog.tracks if t.artist_indices[0] == artist.index]
    own = [
        t for t in _usable_tracks(catalog, artist) if t.artist_indices[0] == artist.index and titles.count(t.title) == 1
    ]
    return sorted(own, key=lambda t: (-t.popularity, t.index))[0]


def shared_title(catalog: Catalog) -> tuple[Track, Track]:
    """A title of two words or more that exactly two artists recorded, in genres apart, both known to
    ReccoBeats with features: (the best known version, the other). Named alone, it is ambiguous."""
    versions: dict[str, list[Track]] = {}
    for track in catalog.tracks:
        versions.setdefault(track.title, []).append(track)
    for title, tracks in versions.items():
        if len(tracks) != 2 or " " not in title or not all(t.has_audio_features for t in tracks):
            continue
        known, other = sorted(tracks, key=lambda t: (-t.popularity, t.index))
        genres = [set(catalog.artists[t.artist_indices[0]].genres) for t in (known, other)]
        if known.popularity > other.popularity and not genres[0] & genres[1]:
            return known, other
    raise ValueError("the catalog has no title that exactly two artists in different genres recorded")


def cases(catalog: Catalog) -> list[QualityCase]:
    """The labelled prompt set: every name in it is one the catalog writes exactly that way."""
    liked = _artist_of_genre(catalog, "indie rock")
    gym = _artist_of_genre(catalog, "hip hop", 1)
    soul = _artist_of_genre(catalog, "soul")
    folk = _artist_of_genre(catalog, "folk")
    soul_track, folk_track = _best_track(catalog, soul), _best_track(catalog, folk)
    banned = _artist_of_genre(catalog, "indie rock", 2, exclude=(liked.name,))
    _, meant = shared_title(catalog)  # named alone: the LLM is shown both versions and chooses
    meant_by = catalog.artists[meant.artist_indices[0]]
    return [
        QualityCase("genre", "country songs for a long road trip", genres=("country",)),
        QualityCase("genre", "90s hip hop", genres=("hip hop",)),
        QualityCase("genre", "slow jazz for a rainy sunday", genres=("jazz",)),
        QualityCase("genre", "late night synthwave drive", genres=("synthwave",)),
        QualityCase("genre", "soft folk for a quiet evening", genres=("folk",)),
        QualityCase("artist", f"something like {liked.name}", artists=(liked.name,)),
        QualityCase("artist", f"{gym.name} and similar hip hop for the gym", genres=("hip hop",), artists=(gym.name,)),
        QualityCase(
            "track",
            f"songs like {soul_track.title} by {soul.name}",
            tracks=((soul_track.title, soul.name),),
            artists=(soul.name,),
        ),
        QualityCase(
            "track",
            f'"{folk_track.title}" by {folk.name}, and more like it',
            tracks=((folk_track.title, folk.name),),
            artists=(folk.name,),
        ),
        QualityCase(
            "track",
            f'"{meant.title}", the {meant_by.genres[0]} one, and more {meant_by.genres[0]} like it',
            genres=(meant_by.genres[0],),
            tracks=((meant.title, meant_by.name),),
        ),
        QualityCase("exclusion", "upbeat dance music, anything but pop", excluded_genres=("pop",)),
        QualityCase("exclusion", "energetic workout music, anything but metal", excluded_genres=("metal",)),
        QualityCase("exclusion", "chill evening music, no hip hop", excluded_genres=("hip hop",)),
        QualityCase(
            "exclusion",
            f"indie rock for a drive, but nothing by {banned.name}",
            genres=("indie rock",),
            excluded_artists=(banned.name,),
        ),
        QualityCase("vague", "something to cheer me up"),
        QualityCase("vague", "music for a lazy afternoon"),
        QualityCase("vague", "focus music for studying"),
    ]


def quick_cases(catalog: Catalog) -> list[QualityCase]:
    """One case of each kind (the harness test)."""
    seen: set[str] = set()
    out = []
    for case in cases(catalog):
        if case.kind not in seen:
            seen.add(case.kind)
            out.append(case)
    return out


def feature_gap(features: Mapping[str, float], targets: Sequence[common_pb2.FeatureTarget]) -> float | None:
    """Weighted mean gap between `features` and the targets' ranges, each as a share of the feature's span."""
    named = [(feature_name(t.feature), t) for t in targets]
    known = [(name, t) for name, t in named if name in FEATURE_RANGES]
    if not known:
        return None
    total = sum(max(t.weight, 0.05) for _, t in known)
    gap = 0.0
    for name, t in known:
        low, high = FEATURE_RANGES[name]
        value = features[name]
        gap += max(t.weight, 0.05) * max(t.min - value, value - t.max, 0.0) / (high - low)
    return gap / total


def random_gap(catalog: Catalog, targets: Sequence[common_pb2.FeatureTarget], seed: int = 7) -> float | None:
    rng = random.Random(seed)
    pool = [t for t in catalog.tracks if t.has_audio_features]
    gaps = [feature_gap(_features(catalog, t), targets) for t in rng.sample(pool, min(RANDOM_TRACKS, len(pool)))]
    known = [g for g in gaps if g is not None]
    return statistics.mean(known) if known else None


def _features(catalog: Catalog, track: Track) -> dict[str, float]:
    values = catalog.audio_features(track)
    assert values is not None
    return values


@dataclass
class CaseResult:
    case: QualityCase
    user: int
    code: str
    tracks: int = 0
    llm_calls: int = 0
    genre_precision: float | None = None
    mentioned_found: int = 0
    artists_found: int = 0
    excluded_present: int = 0
    gap: float | None = None
    random_gap: float | None = None
    own_top_share: float | None = None
    sources: dict[str, int] = field(default_factory=dict)
    sample_reasons: list[str] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        return {
            "kind": self.case.kind,
            "prompt": self.case.prompt,
            "user": self.user,
            "code": self.code,
            "tracks": self.tracks,
            "llm_calls": self.llm_calls,
            "labels": {
                "genres": list(self.case.genres),
                "tracks": [list(t) for t in self.case.tracks],
                "artists": list(self.case.artists),
                "excluded_genres": list(self.case.excluded_genres),
                "excluded_artists": list(self.case.excluded_artists),
            },
            "genre_precision": self.genre_precision,
            "mentioned": f"{self.mentioned_found}/{len(self.case.tracks)}",
            "mentioned_found": self.mentioned_found,
            "named_artists_found": self.artists_found,
            "excluded_present": self.excluded_present,
            "feature_gap": self.gap,
            "random_gap": self.random_gap,
            "own_top_share": self.own_top_share,
            "sources": self.sources,
            "sample_reasons": self.sample_reasons,
        }


def judge(
    case: QualityCase, user: int, response: orchestrator_pb2.RecommendResponse | None, code: str, catalog: Catalog
) -> CaseResult:
    """What one answer honours of its case, against the catalog's truth."""
    result = CaseResult(case, user, code)
    if response is None:
        return result
    result.llm_calls = response.llm.calls
    tracks = [catalog.track_by_spotify_id(e.track.spotify_id) for e in response.tracks]
    known = [t for t in tracks if t is not None]
    result.tracks = len(response.tracks)
    result.sources = {}
    for entry in response.tracks:
        name = common_pb2.TrackSource.Name(entry.source).removeprefix("TRACK_SOURCE_").lower()
        result.sources[name] = result.sources.get(name, 0) + 1
    result.sample_reasons = [e.reason for e in response.tracks[:3]]
    if not known:
        return result
    if case.genres:
        result.genre_precision = sum(_has_genre(catalog, t, case.genres) for t in known) / len(known)
    names = [{catalog.artists[a].name for a in t.artist_indices} for t in known]
    result.mentioned_found = sum(
        any(t.title == title and artist in n for t, n in zip(known, names, strict=True))
        for title, artist in case.tracks
    )
    result.artists_found = sum(any(artist in n for n in names) for artist in case.artists)
    result.excluded_present = sum(
        (bool(case.excluded_genres) and _has_genre(catalog, t, case.excluded_genres))
        or bool(n & set(case.excluded_artists))
        for t, n in zip(known, names, strict=True)
    )
    gaps = [
        g
        for t in known
        if t.has_audio_features and (g := feature_gap(_features(catalog, t), response.mood.targets)) is not None
    ]
    result.gap = statistics.mean(gaps) if gaps else None
    result.random_gap = random_gap(catalog, response.mood.targets)
    own = set(top_tracks(catalog, user, "medium_term"))
    result.own_top_share = sum(t.index in own for t in known) / len(known)
    return result


def _mean(values: Iterable[float | None]) -> float | None:
    known = [v for v in values if v is not None]
    return statistics.mean(known) if known else None


def summarize(results: Sequence[CaseResult]) -> dict[str, Any]:
    """Figures over all cases, and per kind of prompt."""
    ok = [r for r in results if r.code == "OK"]
    precision = [r.genre_precision for r in ok if r.case.genres and r.genre_precision is not None]
    gap, rand = _mean(r.gap for r in ok), _mean(r.random_gap for r in ok)
    catalog_style = [r.own_top_share for r in ok if r.case.kind != "vague" and r.own_top_share is not None]
    kinds = sorted({r.case.kind for r in results}, key=["genre", "artist", "track", "exclusion", "vague"].index)
    return {
        "cases": len(results),
        "ok": len(ok),
        "errors": {r.code: sum(x.code == r.code for x in results) for r in results if r.code != "OK"},
        "genre_precision_mean": statistics.mean(precision) if precision else None,
        "genre_precision_min": min(precision) if precision else None,
        "genre_cases": len(precision),
        "mentioned_tracks": sum(len(r.case.tracks) for r in results),
        "mentioned_included": sum(r.mentioned_found for r in ok),
        "named_artists": sum(len(r.case.artists) for r in results),
        "named_artists_represented": sum(r.artists_found for r in ok),
        "excluded_present": sum(r.excluded_present for r in ok),
        "exclusion_cases": sum(bool(r.case.excluded_genres or r.case.excluded_artists) for r in results),
        "feature_gap_mean": gap,
        "random_gap_mean": rand,
        "gap_ratio": None if gap is None or not rand else gap / rand,
        "own_top_share_mean": _mean(r.own_top_share for r in ok),
        "own_top_share_catalog_style": statistics.mean(catalog_style) if catalog_style else None,
        "tracks_mean": statistics.mean(r.tracks for r in ok) if ok else None,
        "llm_calls_max": max((r.llm_calls for r in results), default=0),
        "by_kind": {
            kind: {
                "cases": sum(r.case.kind == kind for r in results),
                "genre_precision": _mean(r.genre_precision for r in ok if r.case.kind == kind),
                "own_top_share": _mean(r.own_top_share for r in ok if r.case.kind == kind),
                "gap_ratio": _ratio(
                    _mean(r.gap for r in ok if r.case.kind == kind),
                    _mean(r.random_gap for r in ok if r.case.kind == kind),
                ),
                "tracks": _mean(float(r.tracks) for r in ok if r.case.kind == kind),
            }
            for kind in kinds
        },
        "results": [r.as_json() for r in results],
    }


def _ratio(a: float | None, b: float | None) -> float | None:
    return None if a is None or not b else a / b

"""From a pool of candidate tracks to an ordered playlist: filter, score, dedupe, diversify, sequence.

1. What the prompt rules out never appears: a track by a ruled-out artist or whose artists carry a
   ruled-out genre; and, when the prompt rules out a genre, a track whose artists' genres are unknown
   (nothing shows it is not of that genre). Only a track the prompt itself names is exempt.
2. Score: fit to the feature targets, then the genres (the genres the prompt names weigh most; a known
   mismatch costs), the artists the prompt names, the source and the user's taste.
3. Select: the named tracks, a track of each named artist, then the best, at most MAX_PER_ARTIST per
   artist and the user's own top tracks within their balanced share; the limits bend rather than leave
   the playlist short.
4. Sequence: a named track opens; the rest rise in energy to a peak two thirds in, then ease off.

Every entry's reason says why it is there in a listener's words ("jazz, like the mood asks; energy 0.32").
"""

from __future__ import annotations

import functools
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from segue.v1 import common_pb2

from services.common.features import (
    ACOUSTICNESS,
    DANCEABILITY,
    ENERGY,
    INSTRUMENTALNESS,
    LIVENESS,
    LOUDNESS,
    SPEECHINESS,
    TEMPO,
    VALENCE,
    Feature,
    feature_value,
    fit_score,
)
from services.common.genres import (
    Excluder,
    artist_keys,
    genre_matches,
    genres_match,
    named_in,
    same_name,
    track_genres,
)

MISSING_FEATURES_SCORE = 0.3  # a track we cannot judge ranks below most that fit
OWN_QUOTA_FLOOR = 0.6  # the user's own tracks fill their balanced share first, if they rank at least this
MAX_PER_ARTIST = 2
MAX_OWN_TOP_SHARE = 0.4  # without a balanced share: a mood playlist, not a replay of the user's favourites
NAMED_GENRE_BONUS = 0.15
GENRE_BONUS = 0.1
GENRE_MISMATCH = 0.25  # known genres, none of those the prompt names
UNCONFIRMED_GENRE = 0.05  # unknown genres when the prompt names genres
NAMED_ARTIST_BONUS = 0.3
FOUND_FOR_MOOD_BONUS = 0.05  # discovered artists' tracks and anchors were chosen for this mood
TASTE_BONUS = 0.05
PEAK_AT = 2 / 3

MENTIONED = common_pb2.TRACK_SOURCE_USER_MENTIONED
USER_TOP = common_pb2.TRACK_SOURCE_USER_TOP
FOR_MOOD = (common_pb2.TRACK_SOURCE_ARTIST_DISCOVERY, common_pb2.TRACK_SOURCE_MOOD_SEARCH)
# How a feature is said to a listener, and how its value is written.
_SPOKEN: Mapping[Feature, str] = {
    ENERGY: "energy {:.2f}",
    VALENCE: "brightness {:.2f}",
    DANCEABILITY: "danceability {:.2f}",
    ACOUSTICNESS: "acoustic {:.2f}",
    INSTRUMENTALNESS: "instrumental {:.2f}",
    SPEECHINESS: "spoken word {:.2f}",
    LIVENESS: "live feel {:.2f}",
    TEMPO: "{:.0f} BPM",
    LOUDNESS: "{:.0f} dB",
}


@dataclass(frozen=True)
class Candidate:
    track: common_pb2.Track
    source: common_pb2.TrackSource.ValueType


@dataclass(frozen=True)
class Ranked:
    track: common_pb2.Track
    source: common_pb2.TrackSource.ValueType
    score: float  # 0..1: fit to the mood's feature targets (what the answer reports)
    reason: str
    rank: float = 0.0  # what orders the pool: the fit plus the genre, artist, source and taste terms


@dataclass(frozen=True)
class Asked:
    """What the playlist is judged against: the mood, what the prompt names and rules out, the user's taste."""

    targets: Sequence[common_pb2.FeatureTarget]
    genres: tuple[str, ...] = ()
    named_genres: tuple[str, ...] = ()
    named_artists: tuple[str, ...] = ()
    avoid: tuple[str, ...] = ()
    excluded: common_pb2.Exclusions = field(default_factory=common_pb2.Exclusions)
    taste: frozenset[str] = frozenset()  # keys of the user's top artists
    own_top_share: float = MAX_OWN_TOP_SHARE

    @classmethod
    def of(
        cls,
        mood: common_pb2.MoodProfile,
        prompt: str,
        excluded: common_pb2.Exclusions | None = None,
        top_artists: Iterable[common_pb2.Artist] = (),
        own_top_share: float = MAX_OWN_TOP_SHARE,
    ) -> Asked:
        return cls(
            targets=list(mood.targets),
            genres=tuple(g for g in mood.genres if g.strip()),
            named_genres=tuple(named_in(prompt, mood.genres)),
            named_artists=tuple(named_in(prompt, mood.artists)),
            avoid=tuple(a for a in mood.avoid if a.strip()),
            excluded=excluded or common_pb2.Exclusions(),
            taste=frozenset(k for a in top_artists for k in artist_keys(a)),
            own_top_share=own_top_share,
        )

    @functools.cached_property
    def excluder(self) -> Excluder:
        return Excluder(self.excluded, self.avoid)

    @functools.cached_property
    def emphasis(self) -> list[Feature]:
        """The two features the mood weighs most, to name in reasons."""
        ranked = sorted(self.targets, key=lambda t: -t.weight)
        return [t.feature for t in ranked if t.feature in _SPOKEN][:2] or [ENERGY]


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


def allowed(candidate: Candidate, asked: Asked) -> bool:
    """Whether the prompt's exclusions let the track in (a track the prompt names always gets in)."""
    return candidate.source == MENTIONED or asked.excluder.admits(candidate.track)


def _named_artist(track: common_pb2.Track, asked: Asked) -> str:
    return next((a.name for a in track.artists for n in asked.named_artists if same_name(a.name, n)), "")


def _genre_part(track: common_pb2.Track, asked: Asked) -> tuple[float, str]:
    genres = track_genres(track)
    if not genres:
        return (-UNCONFIRMED_GENRE if asked.named_genres else 0.0), ""
    if asked.named_genres:
        named = next((g for g in asked.named_genres if genres_match(genres, [g])), "")
        if named:
            return NAMED_GENRE_BONUS, f"{named}, like the mood asks"
        return -GENRE_MISMATCH, ""
    fitting = next((g for g in genres if genre_matches(g, asked.genres)), "")
    return (GENRE_BONUS, f"{fitting}, which suits the mood") if fitting else (0.0, "")


def _features_part(track: common_pb2.Track, asked: Asked) -> str:
    if not track.HasField("audio_features"):
        return "no audio features to judge the fit"
    f = track.audio_features
    return ", ".join(_SPOKEN[feature].format(feature_value(f, feature)) for feature in asked.emphasis)


def _origin(candidate: Candidate, asked: Asked) -> str:
    if candidate.source == USER_TOP:
        return "one of your top tracks"
    if any(k in asked.taste for a in candidate.track.artists for k in artist_keys(a)):
        return "by an artist you listen to"
    if candidate.source == common_pb2.TRACK_SOURCE_RECOMMENDATION:
        return "close to the songs this playlist grew from"
    return "found for this mood"


def judge(candidate: Candidate, asked: Asked) -> Ranked:
    track = candidate.track
    fit = fit_score(track.audio_features, asked.targets) if track.HasField("audio_features") else MISSING_FEATURES_SCORE
    genre_bonus, genre_words = _genre_part(track, asked)
    artist = _named_artist(track, asked)
    bonus = genre_bonus + (NAMED_ARTIST_BONUS if artist else 0.0)
    if candidate.source in FOR_MOOD:
        bonus += FOUND_FOR_MOOD_BONUS
    if any(k in asked.taste for a in track.artists for k in artist_keys(a)):
        bonus += TASTE_BONUS
    lead = []
    if candidate.source == MENTIONED:
        lead.append("you asked for this song")
    elif artist:
        lead.append(f"by {artist}, as you asked")
    if genre_words:
        lead.append(genre_words)
    if not lead or candidate.source == USER_TOP:
        lead.append(_origin(candidate, asked))
    reason = "; ".join([*lead, _features_part(track, asked)])
    return Ranked(track, candidate.source, fit, reason, fit + bonus)


def score(candidates: Sequence[Candidate], asked: Asked) -> list[Ranked]:
    ranked = [judge(c, asked) for c in candidates if allowed(c, asked)]
    ranked.sort(key=lambda r: (-r.rank, r.track.spotify_id))
    return ranked


def _artist(r: Ranked) -> str:
    return r.track.artists[0].name.lower() if r.track.artists else ""


def select(ranked: Sequence[Ranked], size: int, asked: Asked | None = None) -> list[Ranked]:
    """Named tracks, a track of each named artist, then the best within the artist and own-track limits.

    The user's own tracks that fit fill their balanced share first. The limits bend rather than leave the
    playlist short: a last pass fills from what they held back.
    """
    asked = asked or Asked(targets=[])
    chosen = [r for r in ranked if r.source == MENTIONED][:size]
    for name in asked.named_artists:
        if not any(same_name(_named_artist(r.track, asked), name) for r in chosen):
            best = next((r for r in ranked if same_name(_named_artist(r.track, asked), name)), None)
            if best is not None and len(chosen) < size:
                chosen.append(best)
    taken = {id(r) for r in chosen}
    per_artist: dict[str, int] = {}
    for r in chosen:
        per_artist[_artist(r)] = per_artist.get(_artist(r), 0) + 1
    max_own = math.floor(size * asked.own_top_share)
    own = sum(r.source == USER_TOP for r in chosen)
    held: list[Ranked] = []
    quota = [r for r in ranked if r.source == USER_TOP and r.rank >= OWN_QUOTA_FLOOR]
    for r in [*quota, *ranked]:
        if len(chosen) == size:
            break
        if id(r) in taken:
            continue
        taken.add(id(r))
        is_own = r.source == USER_TOP
        if per_artist.get(_artist(r), 0) >= MAX_PER_ARTIST or (is_own and own >= max_own):
            held.append(r)
            continue
        chosen.append(r)
        per_artist[_artist(r)] = per_artist.get(_artist(r), 0) + 1
        own += is_own
    chosen.extend(held[: size - len(chosen)])
    return chosen


def _energy(r: Ranked, default: float) -> float:
    return r.track.audio_features.energy if r.track.HasField("audio_features") else default


def sequence(tracks: Sequence[Ranked], asked: Asked | None = None) -> list[Ranked]:
    """Play order: a track the prompt names opens; the rest climb in energy to the most energetic one, about
    two thirds in, then ease off (counting down from the top, every third track is kept for the way down)."""
    if not tracks:
        return []
    targets = asked.targets if asked else []
    energy_target = next((t.target for t in targets if t.feature == ENERGY), 0.5)
    opening = [r for r in tracks if r.source == MENTIONED][:1]
    rest = sorted((r for r in tracks if not any(r is o for o in opening)), key=lambda r: _energy(r, energy_target))
    step = round(1 / (1 - PEAK_AT))
    top = len(rest) - 1
    climb = [r for i, r in enumerate(rest) if (top - i) % step != 1]
    descent = [r for i, r in enumerate(rest) if (top - i) % step == 1]
    return [*opening, *climb, *reversed(descent)]


def build_playlist(
    candidates: Iterable[Candidate], asked: Asked, size: int, exclude: Iterable[str] = ()
) -> list[Ranked]:
    excluded = set(exclude)
    pool = [c for c in dedupe(candidates) if c.track.spotify_id not in excluded]
    return sequence(select(score(pool, asked), size, asked), asked)

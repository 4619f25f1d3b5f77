"""The monolith's workflow (§1), step by step and as serial as it was, against the simulator.

intent → mood → seed gatherer (user tracks, anchors, artist discovery, top tracks, top artists, seed pool)
→ recommendation generator (artists, then seeds) → quality evaluation and one improvement pass → final
outlier pass and playlist-target enforcement → ordering. Where the 2026 Development Mode makes a call fail
(artist top-tracks 403, search limit > 10 → 400) the model does what the code does with the failure —
the tool raises, the service returns [] — and the flow carries on with less.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from bench.legacy import prompts
from bench.legacy.llm import ask
from bench.legacy.reccobeats import ReccoBeatsApi, spotify_id_of
from bench.legacy.spotify import SpotifyApi
from bench.legacy.tools import RunContext

TARGET_COUNT = 20  # PlaylistTargetPlanner: 18/20/25 (§1 step 2); 20 is the mid value and segue's default size
ANCHOR_ARTISTS = 8  # ArtistProcessor: ≤8 artists (§2.4)
ANCHOR_GENRES = 8  # ≤8 `genre:` track searches, limit 15 (§2.4)
ANCHOR_GENRE_LIMIT = 15
MENTIONED_SEARCH_LIMIT = 3  # `track:X artist:Y`, limit 3 (§1 3a(1))
ARTIST_SEARCH_LIMIT = 3  # artist searches, limit 3 (§2.4)
DISCOVERY_ARTISTS = 8  # ≤8 LLM-suggested artists (§2.4)
DISCOVERY_GENRES = 10  # ≤10 genres: artist search limit 40 + track search limit 30 (§2.4)
GENRE_ARTIST_LIMIT = 40
GENRE_TRACK_LIMIT = 30
VALIDATION_BATCH = 30  # ceil(N/30) validation calls (§2.5.4)
MIN_KEPT_ARTISTS = 5
MAX_VALIDATED_ARTISTS = 20
TOP_TRACKS_LIMIT = 20  # §1 3a(4)
TOP_ARTISTS_LIMIT = 15  # §1 3a(5)
PIPELINE_ARTISTS = 20  # artist_pipeline: ≤20 artists, serial, 0.1 s apart (§2.4)
PIPELINE_SLEEP_S = 0.1
SEED_CHUNK = 3  # config.seed_chunk_size (§2.4)
MAX_NEGATIVE_SEEDS = 5  # state.negative_seeds[:5] (§2.4, §5)
QUALITY_TRACKS = 15  # the quality prompt shows the first 15 tracks (§2.5.6)
ENERGY_BATCH = 8  # ordering energy analysis in batches of 8, in parallel (§2.5.7)
FEATURE_TOLERANCE = {"energy": 0.2, "valence": 0.25, "tempo": 30.0, "loudness": 5.0}  # config.feature_tolerances (§3)
DEFAULT_TOLERANCE = 0.25
MISSING_FEATURES_COHESION = 0.75  # §3
MIN_ARTIST_TRACK_COHESION = 0.3  # artist tracks below this are dropped (§3)
REGENERATING = frozenset({"filter_and_replace", "reseed_from_clean", "generate_more"})
NEGATIVE_SEEDING = frozenset({"filter_and_replace", "reseed_from_clean"})


@dataclass
class Track:
    spotify_id: str
    reccobeats_id: str
    title: str
    artist: str
    artist_id: str
    source: str
    features: dict[str, Any] | None = None

    def line(self) -> str:
        return f"{self.title} by {self.artist}"


@dataclass
class Artist:
    id: str
    name: str


@dataclass
class Outcome:
    tracks: list[Track]
    phases: dict[str, float]  # simulated seconds per phase
    seconds: float  # simulated seconds, end to end
    wall_seconds: float
    failed: str = ""  # why the workflow failed, if it did


@dataclass
class Workflow:
    run: RunContext
    prompt: str
    spotify: SpotifyApi
    recco: ReccoBeatsApi
    targets: dict[str, float] = field(default_factory=dict)
    seeds: list[Track] = field(default_factory=list)
    anchors: list[Track] = field(default_factory=list)
    artists: list[Artist] = field(default_factory=list)
    negative_seeds: list[str] = field(default_factory=list)
    phases: dict[str, float] = field(default_factory=dict)

    @contextlib.contextmanager
    def phase(self, name: str) -> Iterator[None]:
        """Adds the simulated seconds spent inside to phase `name` (a phase that raises adds nothing)."""
        started = self.run.clock.elapsed()
        yield
        self.phases[name] = self.phases.get(name, 0.0) + self.run.clock.elapsed() - started


def from_spotify(obj: dict[str, Any], source: str) -> Track:
    artists = obj.get("artists") or [{}]
    first = artists[0] if isinstance(artists[0], dict) else {"name": str(artists[0])}
    return Track(
        str(obj.get("id", "")),
        "",
        str(obj.get("name", "")),
        str(first.get("name", "")),
        str(first.get("id", "")),
        source,
    )


def from_reccobeats(row: dict[str, Any], source: str) -> Track:
    first = (row.get("artists") or [{}])[0]
    return Track(
        spotify_id_of(row),
        str(row.get("id", "")),
        str(row.get("trackTitle", "")),
        str(first.get("name", "")),
        "",
        source,
    )


def artist_of(obj: dict[str, Any]) -> Artist:
    return Artist(str(obj.get("id")), str(obj.get("name")))


def cohesion(features: dict[str, Any] | None, targets: dict[str, float]) -> float:
    """`calculate_track_cohesion`: mean of 1 − |diff|/tolerance over the targeted features (§3)."""
    if not features or not targets:
        return MISSING_FEATURES_COHESION
    scores = [
        max(0.0, 1 - abs(float(features[name]) - target) / FEATURE_TOLERANCE.get(name, DEFAULT_TOLERANCE))
        for name, target in targets.items()
        if isinstance(features.get(name), int | float)
    ]
    return sum(scores) / len(scores) if scores else MISSING_FEATURES_COHESION


def midpoints(mood: dict[str, Any]) -> dict[str, float]:
    """FeatureExtractor: each [min, max] range becomes its midpoint (§1 step 2)."""
    out: dict[str, float] = {}
    for name, bounds in (mood.get("target_features") or {}).items():
        if isinstance(bounds, list) and len(bounds) == 2 and all(isinstance(b, int | float) for b in bounds):
            out[name] = (bounds[0] + bounds[1]) / 2
    return out


def strings(value: Any) -> list[str]:
    return [str(v) for v in value if isinstance(v, str) and v.strip()] if isinstance(value, list) else []


def number(value: Any, default: int) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else default


def score_of(value: Any, default: float) -> float:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else default


def picked(indices: Any, items: Sequence[Any]) -> list[Any]:
    """Items at the 1-based indices an LLM answered, ignoring out-of-range and repeated ones."""
    seen: list[int] = []
    for i in indices if isinstance(indices, list) else []:
        if isinstance(i, int) and 1 <= i <= len(items) and i not in seen:
            seen.append(i)
    return [items[i - 1] for i in seen]


def dedupe(tracks: Iterable[Track]) -> list[Track]:
    """By ID, then by normalized title + artist (§1 3b)."""
    seen: set[str] = set()
    out: list[Track] = []
    for t in tracks:
        keys = {t.spotify_id or t.reccobeats_id, f"{t.title.casefold()}|{t.artist.casefold()}"}
        if not keys & seen:
            seen |= keys
            out.append(t)
    return out


async def with_features(flow: Workflow, tracks: list[Track]) -> list[Track]:
    features = await flow.recco.audio_features([t.spotify_id or t.reccobeats_id for t in tracks])
    for t in tracks:
        t.features = features.get(t.spotify_id or t.reccobeats_id)
    return tracks


async def select_anchors(flow: Workflow, mood: dict[str, Any], mentioned_artists: list[str]) -> list[Track]:
    """`AnchorSelectionEngine` (§2.4, §2.5.3): gather candidates serially, then the LLM chain."""
    extracted = (await ask(flow.run, prompts.extract_mentioned_tracks(flow.prompt)) or {}).get("mentioned_tracks")
    candidates: list[Track] = []
    user_count = 0
    for item in (extracted if isinstance(extracted, list) else [])[:5]:
        if not isinstance(item, dict):
            continue
        query = f"track:{item.get('track_name', '')} artist:{item.get('artist_name', '')}"
        found = await flow.spotify.search_tracks(query, MENTIONED_SEARCH_LIMIT)
        if found:
            candidates += await with_features(flow, [from_spotify(found[0], "llm_anchor")])
            user_count += 1
    names = list(dict.fromkeys(mentioned_artists + strings(mood.get("artist_recommendations"))))
    for name in names[:ANCHOR_ARTISTS]:
        found = await flow.spotify.search_artists(name, ARTIST_SEARCH_LIMIT)
        if not found:
            continue
        tracks = await flow.spotify.artist_top_tracks(str(found[0].get("id")))
        for obj in tracks[: 5 if name in mentioned_artists else 3]:
            # one get_tracks_audio_features([id]) per track (`_create_artist_candidate`, §2.4)
            candidates += await with_features(flow, [from_spotify(obj, "artist_top_tracks")])
    for genre in strings(mood.get("genre_keywords"))[:ANCHOR_GENRES]:
        found = await flow.spotify.search_tracks(f"genre:{genre}", ANCHOR_GENRE_LIMIT)
        if found:
            candidates += await with_features(flow, [from_spotify(o, f"genre_{genre}") for o in found])
    if not candidates:
        return []  # "No anchor track candidates found": the rest of the chain is skipped
    lines = [t.line() for t in candidates]
    relevant = (await ask(flow.run, prompts.filter_tracks(flow.prompt, lines)) or {}).get("relevant_tracks")
    kept = picked(relevant, candidates) or candidates
    lines = [t.line() for t in kept]
    strategy = await ask(flow.run, prompts.anchor_strategy(flow.prompt, lines)) or {}
    count = number(strategy.get("anchor_count"), 5)
    scores = (await ask(flow.run, prompts.score_candidates(flow.prompt, lines)) or {}).get("track_scores")
    ranked = (
        picked([s.get("track_index") for s in scores if isinstance(s, dict)], kept) if isinstance(scores, list) else []
    )
    ranked = ranked or kept
    if user_count >= count:  # finalize_selection is skipped when the user's own tracks suffice
        return ranked[:count]
    final = await ask(flow.run, prompts.finalize_anchors(flow.prompt, [t.line() for t in ranked], count)) or {}
    return (picked(final.get("selected_track_indices"), ranked) or ranked)[:count]


async def discover_artists(flow: Workflow, mood: dict[str, Any]) -> list[Artist]:
    """`ArtistDiscovery.discover_mood_artists` (§2.4, §2.5.4), serial searches then LLM validation."""
    found: list[Artist] = []
    for name in strings(mood.get("artist_recommendations"))[:DISCOVERY_ARTISTS]:
        found += [artist_of(a) for a in (await flow.spotify.search_artists(name, ARTIST_SEARCH_LIMIT))[:1]]
    for genre in strings(mood.get("genre_keywords"))[:DISCOVERY_GENRES]:
        found += [artist_of(a) for a in await flow.spotify.search_artists(f"genre:{genre}", GENRE_ARTIST_LIMIT)]
        for obj in await flow.spotify.search_tracks(f"genre:{genre}", GENRE_TRACK_LIMIT):
            t = from_spotify(obj, "genre")
            found.append(Artist(t.artist_id, t.artist))
    unique = list({a.id: a for a in found if a.id}.values())
    if not unique:
        return []
    kept: list[Artist] = []
    for start in range(0, len(unique), VALIDATION_BATCH):
        batch = unique[start : start + VALIDATION_BATCH]
        answer = await ask(flow.run, prompts.validate_artists(flow.prompt, [a.name for a in batch])) or {}
        kept += picked(answer.get("keep_artists"), batch)
    if len(kept) < MIN_KEPT_ARTISTS:
        answer = await ask(flow.run, prompts.filter_artists(flow.prompt, [a.name for a in unique])) or {}
        kept = picked(answer.get("selected_artist_indices"), unique) or unique
    return kept[:MAX_VALIDATED_ARTISTS]


async def build_seed_pool(flow: Workflow, top_tracks: list[Track]) -> list[Track]:
    """`_build_seed_pool` (§1 3a(6)): features for the top tracks, score, then the LLM picks if needed."""
    await with_features(flow, top_tracks)
    scored = sorted((t for t in top_tracks if t.features), key=lambda t: -cohesion(t.features, flow.targets))
    ideal = max(5, min(TARGET_COUNT // 3, 10))
    if len(scored) <= ideal:
        return scored
    answer = await ask(flow.run, prompts.select_seeds(flow.prompt, [t.spotify_id for t in scored], ideal)) or {}
    return (picked(answer.get("selected_indices"), scored) or scored)[:ideal]


async def artist_tracks(flow: Workflow) -> list[Track]:
    """`artist_pipeline._process_all_artists`: ≤20 artists, serially, 0.1 s apart (§2.4).

    When every artist comes back empty the pipeline raises (§5); the engine treats a failed source as
    no tracks and goes on with the seeds (as its later versions do explicitly).
    """
    artists = flow.artists[:PIPELINE_ARTISTS]
    if not artists:
        return []
    per_artist = min(5, max(3, int(TARGET_COUNT * 2.5 // len(artists)) + 2))
    out: list[Track] = []
    for artist in artists:
        tracks = [
            from_spotify(o, "artist_discovery")
            for o in (await flow.spotify.artist_top_tracks(artist.id, "US"))[:per_artist]
        ]
        if tracks:
            await with_features(flow, tracks)
            out += [t for t in tracks if cohesion(t.features, flow.targets) >= MIN_ARTIST_TRACK_COHESION]
        await flow.run.clock.sleep(PIPELINE_SLEEP_S)
    return out


async def seed_tracks(flow: Workflow) -> list[Track]:
    """`SeedBasedGenerator`: chunks of 3 seeds, one recommendation call each, serially (§2.4)."""
    ids = [t.spotify_id for t in flow.seeds]
    chunks = [ids[i : i + SEED_CHUNK] for i in range(0, len(ids), SEED_CHUNK)]
    if not chunks:
        return []
    size = min(10, max(TARGET_COUNT * 2 // len(chunks) + 2, 3))
    negatives = flow.negative_seeds[:MAX_NEGATIVE_SEEDS]
    out: list[Track] = []
    for chunk in chunks:
        out += [from_reccobeats(r, "reccobeat") for r in await flow.recco.recommendations(chunk, size, negatives)]
    # Their IDs are ReccoBeats UUIDs; the feature lookup converts them as if they were Spotify IDs (§2.2 bug).
    features = await flow.recco.audio_features([t.reccobeats_id for t in out])
    for t in out:
        t.features = features.get(t.reccobeats_id)
    return out


async def generate(flow: Workflow) -> list[Track]:
    """`RecommendationGeneratorAgent`: artists, then seeds, then anchors appended; filter and dedupe (§1 3b)."""
    found = await artist_tracks(flow)
    found += await seed_tracks(flow)
    return dedupe(found + flow.anchors)


def outliers(tracks: Sequence[Track], concerns: Any) -> list[str]:
    """Tracks the quality answer names in `specific_concerns` ("<track> by <artist> feels out of place…")."""
    text = " ".join(strings(concerns)).casefold()
    return [t.reccobeats_id or t.spotify_id for t in tracks if t.title and t.title.casefold() in text]


async def improve(flow: Workflow, tracks: list[Track]) -> list[Track]:
    """Quality evaluation, then (below expectations) one strategy decision and its regeneration (§1 3c)."""
    quality = await ask(flow.run, prompts.quality_evaluation(flow.prompt, [t.line() for t in tracks])) or {}
    if quality.get("meets_expectations", True) is True:
        return tracks
    score = score_of(quality.get("quality_score"), 0.5)
    answer = await ask(flow.run, prompts.improvement_strategy(flow.prompt, score, strings(quality.get("issues"))))
    chosen = set(strings((answer or {}).get("strategies")))
    if chosen & NEGATIVE_SEEDING:  # outlier IDs go into state.negative_seeds, last 5 kept (§5)
        flow.negative_seeds = (flow.negative_seeds + outliers(tracks, quality.get("specific_concerns")))[-5:]
    if chosen & REGENERATING:
        tracks = dedupe(tracks + await generate(flow))
    return tracks


async def finalize(flow: Workflow, tracks: list[Track]) -> list[Track]:
    """Final outlier pass (LLM), then `enforce_playlist_targets`: regenerate once if below target (§1 3d)."""
    answer = await ask(flow.run, prompts.quality_evaluation(flow.prompt, [t.line() for t in tracks], "final_quality"))
    dropped = set(outliers(tracks, (answer or {}).get("specific_concerns")))
    tracks = [t for t in tracks if (t.reccobeats_id or t.spotify_id) not in dropped or t.source == "llm_anchor"]
    if len(tracks) < TARGET_COUNT:
        tracks = dedupe(tracks + await generate(flow))
    return tracks[:TARGET_COUNT]


async def order(flow: Workflow, tracks: list[Track]) -> None:
    """`PlaylistOrderingAgent`: energy batches of 8 in parallel, then one strategy call (§2.5.7)."""
    batches = [tracks[i : i + ENERGY_BATCH] for i in range(0, len(tracks), ENERGY_BATCH)]
    await asyncio.gather(*(ask(flow.run, prompts.energy_analysis(flow.prompt, [t.line() for t in b])) for b in batches))
    await ask(flow.run, prompts.ordering_strategy(flow.prompt, len(tracks)))


async def run_workflow(run: RunContext, prompt: str, token: str) -> Outcome:
    """One recommendation, end to end, as the monolith ran it; never raises for upstream trouble."""
    wall = time.monotonic()
    flow = Workflow(run, prompt, SpotifyApi(run, token), ReccoBeatsApi(run))
    clock = run.clock
    start = clock.elapsed()
    tracks: list[Track] = []
    failed = ""
    try:
        with flow.phase("intent"):
            intent = await ask(run, prompts.intent(prompt)) or {}
        with flow.phase("mood"):
            mood = await ask(run, prompts.mood(prompt)) or {}  # None → the rule-based fallback: no artists, no genres
            flow.targets = midpoints(mood)

        with flow.phase("seeds.anchors"):
            mentioned = [m for m in intent.get("user_mentioned_tracks") or [] if isinstance(m, dict)]
            user_tracks: list[Track] = []
            for m in mentioned:
                query = f"track:{m.get('track_name', '')} artist:{m.get('artist_name', '')}"
                user_tracks += [
                    from_spotify(o, "user_mentioned")
                    for o in (await flow.spotify.search_tracks(query, MENTIONED_SEARCH_LIMIT))[:1]
                ]
            flow.anchors = dedupe(
                user_tracks + await select_anchors(flow, mood, strings(intent.get("user_mentioned_artists")))
            )
        with flow.phase("seeds.discover_artists"):
            discovered = await discover_artists(flow, mood)
            anchor_artists = [Artist(a.artist_id, a.artist) for a in flow.anchors if a.artist_id]
            flow.artists = list({a.id: a for a in discovered + anchor_artists}.values())  # ArtistDeduplicator
        with flow.phase("seeds.top_items"):
            top = [from_spotify(o, "user_top") for o in await flow.spotify.top_tracks(TOP_TRACKS_LIMIT)]
            await flow.spotify.top_artists(TOP_ARTISTS_LIMIT)
        with flow.phase("seeds.seed_pool"):
            flow.seeds = await build_seed_pool(flow, top)

        with flow.phase("recommendations"):
            tracks = await generate(flow)
        with flow.phase("orchestrator"):
            tracks = await finalize(flow, await improve(flow, tracks))
        with flow.phase("ordering"):
            await order(flow, tracks)
    except Exception as exc:  # a bug in the model must not hide the rest of the benchmark
        failed = f"{type(exc).__name__}: {exc}"
    return Outcome(tracks, flow.phases, clock.elapsed() - start, time.monotonic() - wall, failed)

"""Artist discovery: the artists a prompt names and artists of its genres, pruned, then their tracks.

    Spotify artist searches (named artists; the genres the prompt names, else the mood's first ones)
    ─▶ prune (pruning.py) ─▶ ReccoBeats IDs (one GetArtists batch) ─▶ each artist's tracks
    (GetArtistTracks, at most `parallelism` at once) ─▶ audio features (one GetAudioFeatures: the gateway
    batches by 40) ─▶ tracks scored by fit.

Nothing here is personal, so the result is cached per mood and shared by every user (and kept warm for
popular moods). It is also filed under what was searched (the artists named, the genres searched, what is
avoided): a lean pass under overload takes any discovery of the same search, made for another mood, and
lean callers missing it together share one discovery.

Without a Spotify token, or when Spotify's search fails, the artists are looked up by name on ReccoBeats
(the named and suggested ones), whose rows carry no genres. Artists ReccoBeats has no tracks
of are remembered as useless for a day, so no later discovery spends a call on them.
"""

from __future__ import annotations

from collections.abc import Awaitable, Sequence
from dataclasses import dataclass
from functools import partial
from typing import TypeVar

from segue.v1 import common_pb2, reccobeat_gateway_pb2, reccobeat_gateway_pb2_grpc, seed_gatherer_pb2

from services.common.cache import Cache, digest, lookup_usage
from services.common.degradation import (
    RECCOBEAT_GATEWAY,
    SEED_GATHERER,
    SPOTIFY,
    absorb,
    ask_peer,
    degraded,
    fallback_used,
)
from services.common.errors import SegueError
from services.common.fanout import failures, gather_tolerant
from services.common.features import fit_score
from services.common.genres import artist_keys, genre_index, same_name, with_genres
from services.common.singleflight import SingleFlight
from services.seed_gatherer.audio_features import attach_features
from services.seed_gatherer.catalog_search import CatalogSearch, Found
from services.seed_gatherer.phases import PhaseClock, PhaseMetrics
from services.seed_gatherer.pruning import Ask, prune
from services.seed_gatherer.pruning import Found as Candidate
from services.seed_gatherer.spotify_client import search_query

T = TypeVar("T")
Response = seed_gatherer_pb2.DiscoverArtistsResponse
DISCOVERY = common_pb2.TRACK_SOURCE_ARTIST_DISCOVERY
VERSION = "discovery-1"  # part of the cache key: change it when what discovery returns changes meaning
MAX_NAMED = 5
# Spotify grants bursts of about 4 calls (SPOTIFY_LIMIT_BURST), and the seeds' searches go out at the same
# moment: one page of artists per genre (10 in Development Mode), two genres at most, one beside named artists.
GENRE_SEARCHES = 2
RESULTS_PER_NAME = 5
_USELESS = b"1"


@dataclass(frozen=True)
class DiscoverySettings:
    # ReccoBeats grants bursts of about 8 calls, then 3 a second: 6 artists (one call each, all at once) and
    # 6 × 6 tracks (one 40-ID batch of features) leave room for the recommendations beside them.
    max_artists: int = 6
    tracks_per_artist: int = 6
    parallelism: int = 6  # GetArtistTracks calls in flight at once
    ttl_s: float = 86_400.0
    useless_ttl_s: float = 86_400.0


async def ask_gateway(pending: Awaitable[T]) -> T:
    """A gateway call whose failure is a SegueError (PeerFailed), so a fan-out can degrade around it."""
    return await ask_peer(RECCOBEAT_GATEWAY, pending)


def cache_key_parts(ask: Ask) -> list[str]:
    """One entry per mood, however it was made (with Spotify or not): a warmed mood serves every user."""
    return [VERSION, *(";".join(part) for part in (ask.named_artists, ask.named_genres, ask.genres, ask.avoid))]


def searched_genres(ask: Ask) -> tuple[str, ...]:
    """The genres whose artists are searched: those the prompt names, else the mood's first ones; one beside
    named artists."""
    return (ask.named_genres or ask.genres)[: 1 if ask.named_artists else GENRE_SEARCHES]


def shared_key_parts(ask: Ask) -> list[str]:
    """One entry per search, whichever mood asked: what a lean pass under overload reuses."""
    named = ask.named_artists[:MAX_NAMED]
    return [VERSION, "shared", *(";".join(part) for part in (named, searched_genres(ask), ask.avoid))]


class ArtistDiscovery:
    def __init__(
        self,
        search: CatalogSearch,
        gateway: reccobeat_gateway_pb2_grpc.ReccoBeatGatewayAsyncStub,
        cache: Cache,
        settings: DiscoverySettings,
        metrics: PhaseMetrics,
        flights: SingleFlight[str, Response] | None = None,
    ) -> None:
        self._search = search
        self._gateway = gateway
        self._cache = cache
        self._settings = settings
        self._metrics = metrics
        self._flights: SingleFlight[str, Response] = flights or SingleFlight("artist-discovery")

    async def discover(
        self, token: str, prompt: str, mood: common_pb2.MoodProfile, *, shared: bool = False
    ) -> Response:
        """`token` may be empty: then only ReccoBeats is asked. `shared`: any discovery of the same search
        answers (a lean pass under overload), and concurrent shared callers missing it make it once."""
        ask = Ask.of(mood, prompt)
        key = self._cache.key("discovery", digest(*cache_key_parts(ask)))
        shared_key = self._cache.key("discovery", digest(*shared_key_parts(ask)))
        for candidate in (shared_key, key) if shared else (key,):
            cached = await self._cache.get_message(candidate, Response)
            if cached is not None:
                cached.cache.CopyFrom(lookup_usage(True))
                return cached
        if not shared:
            return await self._discover(token, prompt, mood, ask, (key, shared_key))
        made = await self._flights.do(shared_key, partial(self._discover, token, prompt, mood, ask, (key, shared_key)))
        answer = Response()
        answer.CopyFrom(made)  # each joiner gets its own copy: callers fill in their own cache usage
        return answer

    async def _discover(
        self, token: str, prompt: str, mood: common_pb2.MoodProfile, ask: Ask, keys: Sequence[str]
    ) -> Response:
        clock = PhaseClock(self._metrics)
        out = Response(cache=lookup_usage(False))
        with clock.phase("discover_artists"):
            candidates, failed = (await self._on_spotify(token, ask, out)) if token else ([], False)
            if not candidates:  # no token, or Spotify failed: ReccoBeats by name still finds the named artists
                why = "Spotify's search failed" if failed else "no Spotify token"
                candidates = await self._on_reccobeats(ask, out, why) if failed or not token else []
        with clock.phase("prune"):
            useless = await self._useless(candidates)
            chosen = [f.artist for f in prune(candidates, ask, useless, self._settings.max_artists)]
        with clock.phase("artist_ids"):
            chosen = await self._with_reccobeats_ids(chosen, out)
        with clock.phase("artist_tracks"):
            tracks = await self._tracks(chosen, out)
        with clock.phase("features"):
            lookup = await attach_features(self._gateway, tracks)
            absorb(out, lookup.cache, lookup.warnings)
        known = genre_index(chosen)
        scored = []
        for track in lookup.tracks:
            with_genres(track, known)
            fit = fit_score(track.audio_features, mood.targets) if track.HasField("audio_features") else 0.0
            scored.append(seed_gatherer_pb2.Seed(track=track, score=fit, source=DISCOVERY))
        scored.sort(key=lambda s: -s.score)
        out.timings.extend(clock.timings)
        fetched = [a for a in chosen if any(_by(t.track, a) for t in scored)]
        out.artists.extend(_distinct([*fetched, *(c.artist for c in candidates)]))
        out.tracks.extend(scored)
        if out.tracks and lookup.answered and not failed:  # a result made around a failure is not kept for a day
            record = Response(artists=out.artists, tracks=out.tracks)
            for key in keys:
                await self._cache.set_message(key, record, self._settings.ttl_s)
        return out

    async def _on_spotify(self, token: str, ask: Ask, out: Response) -> tuple[list[Candidate], bool]:
        """Named artists by name, then artists of the genres, all searched at once; and whether a search failed."""
        size = self._search.page_size
        named = list(ask.named_artists[:MAX_NAMED])
        genres = list(searched_genres(ask))
        steps = [partial(self._search.artists, token, search_query(artist=n), RESULTS_PER_NAME) for n in named]
        steps += [partial(self._search.artists, token, search_query(genre=g), size) for g in genres]
        results = await gather_tolerant(steps)
        found: list[Candidate] = []
        for i, result in enumerate(results):
            if not isinstance(result, Found):
                continue
            if i < len(named):  # the exact name, else nothing: a namesake is not who the prompt names
                match = next((a for a in result.artists if same_name(a.name, named[i])), None)
                found += [Candidate(match, len(found), named=True)] if match else []
            else:
                found += [Candidate(a, len(found) + j) for j, a in enumerate(result.artists)]
        failed = failures(results)
        self._warn_failed(out, SPOTIFY, failed, len(steps), "artist searches")
        return found, bool(failed)

    async def _on_reccobeats(self, ask: Ask, out: Response, why: str) -> list[Candidate]:
        """Without Spotify: the named and suggested artists, by name on ReccoBeats (no genres there)."""
        names = [*ask.named_artists[:MAX_NAMED], *ask.suggested[: self._settings.max_artists]]
        steps = [partial(self._search_reccobeats, n) for n in names]
        results = await gather_tolerant(steps, limit=self._settings.parallelism)
        found: list[Candidate] = []
        for name, result in zip(names, results, strict=True):
            if isinstance(result, reccobeat_gateway_pb2.SearchArtistsResponse):
                absorb(out, result.cache, result.warnings)
                match = next((a for a in result.artists if same_name(a.name, name)), None)
                if match is not None:
                    found.append(Candidate(match, len(found), named=name in ask.named_artists))
        self._warn_failed(out, RECCOBEAT_GATEWAY, failures(results), len(steps), "artist searches")
        out.warnings.append(
            fallback_used(
                SEED_GATHERER,
                f"{why}: artists were found by name on ReccoBeats, without their genres",
            )
        )
        return found

    async def _useless(self, candidates: Sequence[Candidate]) -> set[str]:
        keys = list(dict.fromkeys(k for c in candidates for k in artist_keys(c.artist)))
        values = await self._cache.get_many([self._cache.key("useless-artist", k) for k in keys])
        return {k for k, v in zip(keys, values, strict=True) if v is not None}

    async def _mark_useless(self, artists: Sequence[common_pb2.Artist]) -> None:
        keys = {self._cache.key("useless-artist", k): _USELESS for a in artists for k in artist_keys(a)}
        if keys:
            await self._cache.set_many(keys, self._settings.useless_ttl_s)

    async def _with_reccobeats_ids(self, chosen: list[common_pb2.Artist], out: Response) -> list[common_pb2.Artist]:
        """Spotify's artists, completed with their ReccoBeats IDs in one batch; those ReccoBeats lacks go."""
        lacking = [a.spotify_id for a in chosen if not a.reccobeats_id and a.spotify_id]
        if not lacking:
            return [a for a in chosen if a.reccobeats_id]
        try:
            answer = await ask_gateway(self._gateway.GetArtists(reccobeat_gateway_pb2.GetArtistsRequest(ids=lacking)))
        except SegueError as exc:
            out.warnings.append(degraded(exc, RECCOBEAT_GATEWAY, "discovered artists skipped"))
            return [a for a in chosen if a.reccobeats_id]
        absorb(out, answer.cache, answer.warnings)
        ids = {a.spotify_id: a.reccobeats_id for a in answer.artists}
        for artist in chosen:
            artist.reccobeats_id = artist.reccobeats_id or ids.get(artist.spotify_id, "")
        await self._mark_useless([a for a in chosen if a.spotify_id in answer.missing])
        return [a for a in chosen if a.reccobeats_id]

    async def _tracks(self, artists: Sequence[common_pb2.Artist], out: Response) -> list[common_pb2.Track]:
        steps = [partial(self._artist_tracks, a.reccobeats_id) for a in artists]
        results = await gather_tolerant(steps, limit=self._settings.parallelism)
        tracks: list[common_pb2.Track] = []
        empty: list[common_pb2.Artist] = []
        for artist, result in zip(artists, results, strict=True):
            if isinstance(result, reccobeat_gateway_pb2.GetArtistTracksResponse):
                absorb(out, result.cache, result.warnings)
                tracks.extend(result.tracks)
                if not result.tracks:
                    empty.append(artist)
        await self._mark_useless(empty)
        self._warn_failed(out, RECCOBEAT_GATEWAY, failures(results), len(steps), "artist track lookups")
        return tracks

    # A stub call starts its RPC when made: these make it only when the fan-out's turn comes.
    async def _search_reccobeats(self, name: str) -> reccobeat_gateway_pb2.SearchArtistsResponse:
        request = reccobeat_gateway_pb2.SearchArtistsRequest(query=name, size=RESULTS_PER_NAME)
        return await ask_gateway(self._gateway.SearchArtists(request))

    async def _artist_tracks(self, artist_id: str) -> reccobeat_gateway_pb2.GetArtistTracksResponse:
        request = reccobeat_gateway_pb2.GetArtistTracksRequest(
            artist_id=artist_id, size=self._settings.tracks_per_artist
        )
        return await ask_gateway(self._gateway.GetArtistTracks(request))

    @staticmethod
    def _warn_failed(out: Response, component: str, failed: list[SegueError], total: int, what: str) -> None:
        if failed:
            out.warnings.append(degraded(failed[0], component, f"{len(failed)} of {total} {what} failed"))


def _distinct(artists: Sequence[common_pb2.Artist]) -> list[common_pb2.Artist]:
    seen: set[str] = set()
    out = []
    for artist in artists:
        keys = artist_keys(artist)
        if seen.isdisjoint(keys):
            seen.update(keys)
            out.append(artist)
    return out


def _by(track: common_pb2.Track, artist: common_pb2.Artist) -> bool:
    keys = set(artist_keys(artist))
    return any(keys.intersection(artist_keys(a)) for a in track.artists)

"""The user's context: top tracks and top artists from Spotify, cached per user.

Both lists are fetched concurrently and cached together for USER_CONTEXT_TTL_S under the verified
user's key (a keyed hash of the Spotify user id the token belongs to — see services.common.identity;
never a caller-named id, never the token). A context is cached only when both lists arrived, so a
failed artists call is retried by the next request instead of being remembered as "no artists".
Concurrent loads of one user's context (a Recommend and a Prefetch, or two tabs) share one Spotify
fetch: the flight is keyed by the cache key, so it joins exactly what the cache would have answered.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from segue.cache.v1 import cache_pb2
from segue.v1 import common_pb2

from services.common.cache import Cache, lookup_usage
from services.common.degradation import SPOTIFY, degraded
from services.common.errors import SegueError, Unauthenticated
from services.common.fanout import task_group, tolerant
from services.common.singleflight import SingleFlight
from services.seed_gatherer.spotify_client import SpotifyClient

FATAL = (Unauthenticated,)


@dataclass
class UserContext:
    top_tracks: list[common_pb2.Track]
    top_artists: list[common_pb2.Artist]
    from_cache: bool
    warnings: list[common_pb2.Warning] = field(default_factory=list)

    def genres_by_artist(self) -> dict[str, list[str]]:
        """Spotify artist ID → genres, from the top artists (the only artists Spotify gives genres for here)."""
        return {a.spotify_id: list(a.genres) for a in self.top_artists if a.genres}

    @property
    def cache_usage(self) -> common_pb2.CacheUsage:
        return lookup_usage(self.from_cache)


class UserContextLoader:
    def __init__(
        self,
        spotify: SpotifyClient,
        cache: Cache,
        *,
        ttl_s: float,
        tracks_limit: int,
        artists_limit: int,
        flights: SingleFlight[str, UserContext] | None = None,
    ) -> None:
        self._flights: SingleFlight[str, UserContext] = flights or SingleFlight("user-context")
        self._spotify = spotify
        self._cache = cache
        self._ttl_s = ttl_s
        self._tracks_limit = tracks_limit
        self._artists_limit = artists_limit

    def _key(self, user_key: str) -> str:
        return self._cache.key("user_context", user_key)

    async def load(self, user_key: str, token: str) -> UserContext:
        """The cached context, or a fresh one from Spotify. `user_key` is `Identity.key` of the token's user.

        Raises Unauthenticated for a rejected token, and the upstream's error when the top tracks
        cannot be read (the caller decides how to degrade). Failed top artists only add a warning.
        """
        key = self._key(user_key)
        cached = await self._cache.get_message(key, cache_pb2.UserContext)
        if cached is not None:
            return UserContext(
                top_tracks=list(cached.top_tracks), top_artists=list(cached.top_artists), from_cache=True
            )
        shared = await self._flights.do(key, lambda: self._fetch(key, token))
        # Each caller gets its own lists and warnings: callers may extend them.
        return UserContext(list(shared.top_tracks), list(shared.top_artists), False, list(shared.warnings))

    async def _fetch(self, key: str, token: str) -> UserContext:
        # A bad token outranks any other failure: it cancels the other list and is raised.
        async with task_group() as group:
            asking_tracks = group.create_task(tolerant(self._spotify.top_tracks(token, self._tracks_limit), FATAL))
            asking_artists = group.create_task(tolerant(self._spotify.top_artists(token, self._artists_limit), FATAL))
        tracks, artists = asking_tracks.result(), asking_artists.result()
        if isinstance(tracks, SegueError):
            raise tracks
        if isinstance(artists, SegueError):
            problem = degraded(artists, SPOTIFY, "top artists skipped, so genres do not count in scoring")
            return UserContext(top_tracks=tracks, top_artists=[], from_cache=False, warnings=[problem])
        await self._cache.set_message(key, cache_pb2.UserContext(top_tracks=tracks, top_artists=artists), self._ttl_s)
        return UserContext(top_tracks=tracks, top_artists=artists, from_cache=False)

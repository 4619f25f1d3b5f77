"""The seed gatherer's Spotify calls on the shared scheduler (a real private Redis): one token per call
Spotify actually gets, none for a cached user context."""

from __future__ import annotations

from segue.v1 import seed_gatherer_pb2

from services.common.call_context import SPOTIFY_TOKEN_HEADER
from tests.unit.seed_gatherer.mesh import FakeReccoBeats, running_mesh
from tests.unit.seed_gatherer.spotify_fake import TOKEN, FakeSpotify, artist_json, track_json


async def test_a_cached_user_context_takes_no_spotify_token(redis_url: str) -> None:
    spotify = FakeSpotify(top_tracks=[track_json("t1", ["a"])], top_artists=[artist_json("a", genres=["pop"])])
    env = {"REDIS_URL": redis_url}
    async with running_mesh(spotify.transport(), FakeReccoBeats().transport(), env=env, gateway_env=env) as mesh:
        warm = seed_gatherer_pb2.WarmUserContextRequest(user_id="user-7")
        auth = ((SPOTIFY_TOKEN_HEADER, TOKEN),)
        first = await mesh.stub.WarmUserContext(warm, metadata=auth, timeout=10)
        taken = mesh.tokens_taken("spotify")
        second = await mesh.stub.WarmUserContext(warm, metadata=auth, timeout=10)
        again = mesh.tokens_taken("spotify")
    assert not first.from_cache and second.from_cache
    assert taken == len(spotify.requests) == 3  # who the token is (GET /me), top tracks and top artists
    assert again == taken

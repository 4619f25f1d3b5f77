"""Identity from the token (GET /v1/me against a scripted Spotify), and cache keys that cannot collide."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from services.common.cache import Cache, MemoryStore
from services.common.config import ConfigError, EnvReader
from services.common.errors import PermissionDenied, Unauthenticated, UpstreamError
from services.common.identity import Identities, IdentityConfig, KeyedHash, read_identity_config
from services.common.upstream_http import UpstreamClient
from services.orchestrator.sessions import Session, SessionStore
from tests.unit.seed_gatherer.spotify_fake import spotify_http

KEY = b"k" * 32


class FakeMe:
    """GET /me: `user-<n>-…` tokens are user "u<n>"; `expired-…` → 401; `blocked-…` → 403; `down-…` → 503."""

    def __init__(self) -> None:
        self.calls: list[str] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        token = request.headers["authorization"].removeprefix("Bearer ")
        self.calls.append(token)
        for prefix, status in (("expired-", 401), ("blocked-", 403), ("down-", 503)):
            if token.startswith(prefix):
                return httpx.Response(status, json={"error": {"status": status, "message": "no"}})
        return httpx.Response(200, json={"id": "u" + token.split("-")[1], "type": "user"})


@pytest.fixture
async def spotify() -> AsyncIterator[tuple[UpstreamClient, FakeMe]]:
    fake = FakeMe()
    async with spotify_http(httpx.MockTransport(fake)) as client:
        yield client, fake


def identities(client: UpstreamClient, store: MemoryStore, key: bytes = KEY) -> Identities:
    return Identities(client, Cache(store, "identity"), IdentityConfig(key=key, key_configured=True))


async def test_a_tokens_user_is_learnt_once_and_remembered_under_a_keyed_hash(
    spotify: tuple[UpstreamClient, FakeMe],
) -> None:
    client, fake = spotify
    store = MemoryStore()
    first = await identities(client, store).verify("user-7-secret-token")
    again = await identities(client, store).verify("user-7-secret-token", "u7")  # another replica, same key
    by_uri = await identities(client, store).verify("user-7-secret-token", "spotify:user:u7")
    assert first == again == by_uri and first.user_id == "u7"
    assert first.key == KeyedHash(KEY)("user", "u7") and "u7" not in first.key
    assert fake.calls == ["user-7-secret-token"]
    (key, (_, value)) = next(iter(store._data.items()))
    assert "secret-token" not in key and b"secret-token" not in value
    # Another identity key (another mesh) shares nothing: its replicas must ask Spotify themselves.
    await identities(client, store, b"z" * 32).verify("user-7-secret-token")
    assert len(fake.calls) == 2


async def test_a_claim_naming_someone_else_is_permission_denied(spotify: tuple[UpstreamClient, FakeMe]) -> None:
    client, _ = spotify
    verifier = identities(client, MemoryStore())
    for claimed in ("u8", "u7 ", "U7", "spotify:user:u8"):
        with pytest.raises(PermissionDenied, match="names a different user"):
            await verifier.verify("user-7-token", claimed)


async def test_a_refused_token_is_unauthenticated_and_remembered_as_refused(
    spotify: tuple[UpstreamClient, FakeMe],
) -> None:
    client, fake = spotify
    verifier = identities(client, MemoryStore())
    for _ in range(3):
        with pytest.raises(Unauthenticated, match="refresh it"):
            await verifier.verify("expired-token-1", "u1")
    assert fake.calls == ["expired-token-1"], "a flood of one bad token costs Spotify one call"
    with pytest.raises(PermissionDenied, match="registered users"):
        await verifier.verify("blocked-token-1")
    with pytest.raises(UpstreamError):
        await verifier.verify("down-token-1")  # nobody is let in unverified


async def test_a_token_spotify_refuses_later_is_no_longer_vouched_for(spotify: tuple[UpstreamClient, FakeMe]) -> None:
    client, fake = spotify
    verifier = identities(client, MemoryStore())
    with pytest.raises(Unauthenticated):
        async with verifier.acting_as("user-3-token") as identity:
            assert identity.user_id == "u3"
            raise Unauthenticated("Spotify said 401 to /me/top/tracks")
    with pytest.raises(Unauthenticated):
        await verifier.verify("user-3-token")
    assert fake.calls == ["user-3-token"], "refused from memory, without asking again"


def test_the_identity_key_and_lifetime_are_bounded() -> None:
    env = EnvReader({"IDENTITY_KEY": "too-short", "IDENTITY_TTL_S": "7200"})
    read_identity_config(env)
    with pytest.raises(ConfigError) as bad:
        env.finish()
    assert "IDENTITY_KEY must be at least 32 characters" in str(bad.value)
    assert "IDENTITY_TTL_S must be in 1..3600" in str(bad.value)
    env = EnvReader({})
    unset = read_identity_config(env)
    env.finish()
    assert not unset.key_configured and len(unset.key) == 32 and unset.ttl_s == 3600


def test_key_parts_are_escaped_so_different_parts_never_share_a_key() -> None:
    cache = Cache(MemoryStore(), "orchestrator")
    assert cache.key("session", "kc:b", "c") != cache.key("session", "kc", "b:c")
    assert cache.key("a%3Ab") != cache.key("a:b")
    assert cache.key("plain", "parts") == "segue:orchestrator:plain:parts"


async def test_sessions_of_colliding_ids_stay_apart() -> None:
    store = SessionStore(Cache(MemoryStore(), "orchestrator"), ttl_s=60, repeat_ttl_s=60)
    session = Session("c")
    session.serve(["t1"])
    await store.save("kc:b", session)
    assert (await store.load("kc", "b:c", "p")).served == []
    assert (await store.load("kc:b", "c", "p")).served == ["t1"]

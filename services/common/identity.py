"""Who a request is for: the user its Spotify token belongs to, never the user a caller names.

The mesh learns a token's user once, from Spotify's `GET /v1/me`, and remembers it under a keyed hash
(HMAC-SHA256 with IDENTITY_KEY) of the token — never the token itself — for at most IDENTITY_TTL_S
(an access token lives one hour). A token Spotify refused is remembered as refused for a short while,
so a flood of bad tokens costs Spotify one call each, not one per request.

Every per-user artifact (the user's context, sessions, quotas) is keyed by `Identity.key`, a keyed
hash of the verified Spotify user id: a caller cannot reach another user's data by naming them, and
key names hold no raw user id. The orchestrator and the seed gatherer both verify, through this one
module; with one IDENTITY_KEY and one Redis they share what they learn.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import logging
import re
import secrets
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field

from pydantic import BaseModel, Field, ValidationError

from services.common.cache import Cache
from services.common.config import EnvReader
from services.common.errors import PermissionDenied, Unauthenticated, UpstreamError, UpstreamRejected
from services.common.upstream_http import UpstreamClient

log = logging.getLogger(__name__)

TOKEN_LIFETIME_S = 3600.0  # Spotify access tokens last one hour
NAMESPACE = "identity"
USER_URI_PREFIX = "spotify:user:"
_KNOWN = b"u:"
_REFUSED = b"refused"


@dataclass(frozen=True)
class IdentityConfig:
    key: bytes = field(repr=False)
    key_configured: bool  # False: a random key of this process (nothing learnt is shared with other replicas)
    ttl_s: float = TOKEN_LIFETIME_S
    refused_ttl_s: float = 60.0


def read_identity_config(env: EnvReader) -> IdentityConfig:
    configured = env.secret("IDENTITY_KEY", min_chars=32)
    return IdentityConfig(
        key=configured.encode() if configured else secrets.token_bytes(32),
        key_configured=bool(configured),
        ttl_s=env.number("IDENTITY_TTL_S", TOKEN_LIFETIME_S, minimum=1, maximum=TOKEN_LIFETIME_S),
        refused_ttl_s=env.number("IDENTITY_REFUSED_TTL_S", 60.0, minimum=0, maximum=TOKEN_LIFETIME_S),
    )


class KeyedHash:
    """HMAC-SHA256 under the mesh's identity key; `kind` separates domains (a token never hashes like a user id)."""

    def __init__(self, key: bytes) -> None:
        self._key = key

    def __call__(self, kind: str, value: str) -> str:
        return hmac.new(self._key, f"{kind}\x00{value}".encode(), hashlib.sha256).hexdigest()[:32]


@dataclass(frozen=True)
class Identity:
    user_id: str  # the Spotify user id, as GET /v1/me answers it
    key: str  # keyed hash of user_id: what per-user keys, quotas and logs carry


def token_refused() -> Unauthenticated:
    return Unauthenticated(
        "Spotify rejected the access token (expired or invalid): refresh it and pass the new one in x-spotify-token"
    )


_USER_ID = re.compile(r"[A-Za-z0-9._:@-]{1,128}")


def user_id_problem(field_name: str, user_id: str) -> str | None:
    """What is wrong with a caller's `user_id` (None when fine): it is empty or names the token's owner."""
    if user_id and not _USER_ID.fullmatch(user_id):
        return (
            f"{field_name} must be the Spotify user id of the token's owner (up to 128 letters, digits and "
            ". _ : @ -), or empty"
        )
    return None


def normalise_user_id(claimed: str) -> str:
    """A caller may name the user by id or by Spotify URI (`spotify:user:<id>`)."""
    return claimed.removeprefix(USER_URI_PREFIX)


class _Me(BaseModel):
    id: str = Field(min_length=1)


class Identities:
    def __init__(self, spotify: UpstreamClient, cache: Cache, cfg: IdentityConfig) -> None:
        self._spotify = spotify
        self._cache = cache
        self._hash = KeyedHash(cfg.key)
        self._ttl_s = cfg.ttl_s
        self._refused_ttl_s = cfg.refused_ttl_s
        if not cfg.key_configured:
            log.warning(
                "IDENTITY_KEY is not set: this process hashes tokens and users with a key of its own, so what it "
                "learns (whose token, the user's cached context) is not shared with other replicas or restarts"
            )

    def user_key(self, user_id: str) -> str:
        return self._hash("user", user_id)

    def _token_key(self, token: str) -> str:
        return self._cache.key(self._hash("token", token))

    async def verify(
        self, token: str, claimed_user_id: str = "", *, meanwhile: Callable[[], None] | None = None
    ) -> Identity:
        """The token's user. UNAUTHENTICATED for a refused token, PERMISSION_DENIED when `claimed_user_id`
        (if given) names someone else; Spotify's trouble propagates (nobody is let in unverified).
        `meanwhile` is called when Spotify must be asked (a token not yet known): what may start during it."""
        user_id = await self._user_of(token, meanwhile)
        claimed = normalise_user_id(claimed_user_id)
        if claimed and not hmac.compare_digest(claimed.encode(), user_id.encode()):
            raise PermissionDenied(
                "user_id names a different user than the one the x-spotify-token belongs to: "
                "pass that token's own Spotify user id, or leave user_id empty"
            )
        return Identity(user_id, self.user_key(user_id))

    @contextlib.asynccontextmanager
    async def acting_as(self, token: str, claimed_user_id: str = "") -> AsyncIterator[Identity]:
        """The verified user for a block of work with the token; if Spotify refuses the token during it, the
        token is no longer vouched for (its remembered user is forgotten)."""
        identity = await self.verify(token, claimed_user_id)
        try:
            yield identity
        except Unauthenticated:
            await self.forget(token)
            raise

    async def forget(self, token: str) -> None:
        """Spotify refused this token elsewhere: stop vouching for it (and say so to the next request)."""
        if self._refused_ttl_s > 0:
            await self._cache.set(self._token_key(token), _REFUSED, self._refused_ttl_s)

    async def _user_of(self, token: str, meanwhile: Callable[[], None] | None = None) -> str:
        key = self._token_key(token)
        known = await self._cache.get(key)
        if known == _REFUSED:
            raise token_refused()
        if known is not None and known.startswith(_KNOWN):
            return known[len(_KNOWN) :].decode()
        if meanwhile is not None:
            meanwhile()
        try:
            body = await self._spotify.get_json("GET /me", "me", headers={"authorization": f"Bearer {token}"})
        except UpstreamRejected as exc:
            if exc.status == 401:
                await self.forget(token)
                raise token_refused() from exc
            if exc.status == 403:
                raise PermissionDenied(
                    "Spotify refused this token's user for this app (in Development Mode only registered users "
                    "may use it)"
                ) from exc
            raise
        try:
            user_id = _Me.model_validate(body).id
        except ValidationError as exc:
            raise UpstreamError("spotify", "GET /me answered without a user id") from exc
        await self._cache.set(key, _KNOWN + user_id.encode(), self._ttl_s)
        return user_id

"""Who is calling the orchestrator: a caller that proved it (a bearer token or a JWT), or — auth off — its address.

`authorization: Bearer <credential>` metadata carries either a static caller token from CALLER_TOKENS
(compared by SHA-256 digest in constant time) or a JWT verified by PyJWT against the configured keys:
HS256 with JWT_HS256_SECRET, RS256/ES256 with the PEM public keys in JWT_PUBLIC_KEY_FILES; `exp` and
`sub` are required, `nbf` honoured, `aud` and `iss` checked when JWT_AUDIENCE / JWT_ISSUER are set.
Anything else is UNAUTHENTICATED with a message that says what to fix and never echoes the credential.

With neither configured, callers are not authenticated: the caller is its peer address (for per-caller
quotas), and the service says so at start.
"""

from __future__ import annotations

import contextvars
import hashlib
import hmac
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.serialization import load_pem_public_key
from grpc import aio

from services.common.call_context import AUTHORIZATION_HEADER, metadata_value
from services.common.config import ConfigError, EnvReader
from services.common.errors import Unauthenticated
from services.common.logs import register_secret
from services.common.mesh_security import AdmissionInterceptor

_NAME = re.compile(r"[A-Za-z0-9._@-]{1,64}")
_SCHEME = "bearer "


@dataclass(frozen=True)
class CallerAuthConfig:
    token_digests: tuple[tuple[str, bytes], ...] = field(default=(), repr=False)  # (caller name, SHA-256 of token)
    jwt_hs256_secret: str = field(default="", repr=False)
    jwt_public_key_files: tuple[str, ...] = ()
    jwt_audience: str = ""
    jwt_issuer: str = ""
    jwt_leeway_s: float = 30.0

    @property
    def enabled(self) -> bool:
        return bool(self.token_digests or self.jwt_hs256_secret or self.jwt_public_key_files)

    def describe(self) -> str:
        """For the start-up line; empty when callers are not authenticated."""
        ways = []
        if self.token_digests:
            ways.append(f"{len(self.token_digests)} caller token(s)")
        algorithms = (["HS256"] if self.jwt_hs256_secret else []) + (
            ["RS256/ES256"] if self.jwt_public_key_files else []
        )
        if algorithms:
            ways.append("JWTs (" + ", ".join(algorithms) + ")")
        return "callers must authenticate with " + " or ".join(ways) if ways else ""


def _digest(token: str) -> bytes:
    return hashlib.sha256(token.encode()).digest()


def read_caller_auth(env: EnvReader) -> CallerAuthConfig:
    digests: list[tuple[str, bytes]] = []
    for entry in filter(None, (e.strip() for e in env.text("CALLER_TOKENS", "").split(","))):
        name, _, token = entry.partition("=")
        if not _NAME.fullmatch(name.strip()) or len(token.strip()) < 16:
            env.problem(
                "CALLER_TOKENS must be name=token pairs, comma-separated; names of letters, digits and ._@-, "
                "tokens of at least 16 characters"
            )
            continue
        register_secret(token.strip())
        digests.append((name.strip(), _digest(token.strip())))
    return CallerAuthConfig(
        token_digests=tuple(digests),
        jwt_hs256_secret=env.secret("JWT_HS256_SECRET", min_chars=32),
        jwt_public_key_files=tuple(p.strip() for p in env.text("JWT_PUBLIC_KEY_FILES", "").split(",") if p.strip()),
        jwt_audience=env.text("JWT_AUDIENCE", "").strip(),
        jwt_issuer=env.text("JWT_ISSUER", "").strip(),
        jwt_leeway_s=env.number("JWT_LEEWAY_S", 30.0, minimum=0, maximum=600),
    )


@dataclass(frozen=True)
class Caller:
    name: str  # "token:<name>", "jwt:<sub>" or, auth off, "peer:<address>"
    authenticated: bool


_UNKNOWN = Caller("peer:unknown", authenticated=False)
_caller: contextvars.ContextVar[Caller | None] = contextvars.ContextVar("caller", default=None)


def current_caller() -> Caller:
    return _caller.get() or _UNKNOWN


def _public_keys(files: tuple[str, ...]) -> dict[str, list[Any]]:
    keys: dict[str, list[Any]] = {}
    for path in files:
        try:
            key = load_pem_public_key(Path(path).read_bytes())
        except (OSError, ValueError) as exc:
            raise ConfigError([f"JWT_PUBLIC_KEY_FILES: {path!r} is not a readable PEM public key ({exc})"]) from exc
        if isinstance(key, rsa.RSAPublicKey):
            keys.setdefault("RS256", []).append(key)
        elif isinstance(key, ec.EllipticCurvePublicKey) and isinstance(key.curve, ec.SECP256R1):
            keys.setdefault("ES256", []).append(key)
        else:
            raise ConfigError([f"JWT_PUBLIC_KEY_FILES: {path!r} must be an RSA or P-256 EC public key"])
    return keys


_JWT_PROBLEMS: tuple[tuple[type[jwt.PyJWTError], str], ...] = (
    (jwt.ExpiredSignatureError, "it has expired (exp)"),
    (jwt.ImmatureSignatureError, "it is not valid yet (nbf)"),
    (jwt.InvalidAudienceError, "it is for another audience (aud)"),
    (jwt.InvalidIssuerError, "it is from another issuer (iss)"),
    (jwt.MissingRequiredClaimError, "it lacks a required claim (exp, sub, and aud/iss where configured)"),
    (jwt.InvalidSignatureError, "its signature does not match any configured key"),
)


class CallerAuthenticator:
    def __init__(self, cfg: CallerAuthConfig) -> None:
        self._cfg = cfg
        self._keys = _public_keys(cfg.jwt_public_key_files)
        if cfg.jwt_hs256_secret:
            self._keys["HS256"] = [cfg.jwt_hs256_secret]
        self._required = ["exp", "sub"] + (["aud"] if cfg.jwt_audience else []) + (["iss"] if cfg.jwt_issuer else [])

    @property
    def enabled(self) -> bool:
        return self._cfg.enabled

    def authenticate(self, authorization: str, peer: str) -> Caller:
        if not self.enabled:
            return Caller(f"peer:{peer_host(peer)}", authenticated=False)
        if not authorization.strip():
            raise Unauthenticated(f"missing {AUTHORIZATION_HEADER} metadata: send 'Bearer <caller token or JWT>'")
        if not authorization[: len(_SCHEME)].lower() == _SCHEME:
            raise Unauthenticated(f"{AUTHORIZATION_HEADER} metadata must be 'Bearer <caller token or JWT>'")
        credential = authorization[len(_SCHEME) :].strip()
        name = self._static_token(credential)
        if name:
            return Caller(f"token:{name}", authenticated=True)
        if credential.count(".") == 2 and self._keys:
            return Caller(f"jwt:{self._jwt_subject(credential)}", authenticated=True)
        raise Unauthenticated("the caller credential is not valid: it is no known caller token or acceptable JWT")

    def _static_token(self, credential: str) -> str:
        offered = _digest(credential)
        found = ""
        for name, digest in self._cfg.token_digests:  # every entry compared: the time taken says nothing
            if hmac.compare_digest(offered, digest):
                found = name
        return found

    def _jwt_subject(self, credential: str) -> str:
        try:
            algorithm = str(jwt.get_unverified_header(credential).get("alg", ""))
        except jwt.PyJWTError as exc:
            raise Unauthenticated("the caller JWT cannot be read: it is malformed") from exc
        keys = self._keys.get(algorithm)
        if not keys:
            accepted = ", ".join(sorted(self._keys))
            raise Unauthenticated(f"the caller JWT is signed with {algorithm or 'no algorithm'}; accepted: {accepted}")
        problem = "its signature does not match any configured key"
        for key in keys:
            try:
                claims = jwt.decode(
                    credential,
                    key,
                    algorithms=[algorithm],
                    audience=self._cfg.jwt_audience or None,
                    issuer=self._cfg.jwt_issuer or None,
                    leeway=self._cfg.jwt_leeway_s,
                    options={"require": self._required},
                )
            except jwt.InvalidSignatureError:
                continue  # perhaps the next key (rotation)
            except jwt.PyJWTError as exc:
                problem = next((why for kind, why in _JWT_PROBLEMS if isinstance(exc, kind)), "it is malformed")
                break
            return _subject_name(str(claims["sub"]))
        raise Unauthenticated(f"the caller JWT is not valid: {problem}")


def _subject_name(subject: str) -> str:
    """The subject as it may appear in logs and quota keys: itself when plain, else a digest of it."""
    return subject if _NAME.fullmatch(subject) else "sha256-" + hashlib.sha256(subject.encode()).hexdigest()[:16]


def peer_host(peer: str) -> str:
    """ "ipv4:10.0.0.1:5432" → "10.0.0.1", "ipv6:[::1]:5432" → "::1": one caller per address, whatever its port."""
    _, _, address = peer.partition(":")
    host = address.rsplit(":", 1)[0] if address.count(":") == 1 or address.startswith("[") else address
    return host.strip("[]") or "unknown"


class CallerAuthInterceptor(AdmissionInterceptor):
    """Authenticates every call but health checks, and makes the caller known to the handler."""

    def __init__(self, authenticator: CallerAuthenticator) -> None:
        self._auth = authenticator

    def admit(self, ctx: aio.ServicerContext) -> None:
        _caller.set(self._auth.authenticate(metadata_value(ctx, AUTHORIZATION_HEADER), ctx.peer() or ""))

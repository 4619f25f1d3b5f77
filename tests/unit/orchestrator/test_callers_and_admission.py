"""Caller authentication (tokens, JWTs), quotas and the prefetch bounds, as plain objects."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

from services.common.config import ConfigError, EnvReader
from services.common.errors import ResourceExhausted, Unauthenticated
from services.common.identity import Identity
from services.orchestrator.admission import Quotas, read_quota
from services.orchestrator.callers import CallerAuthConfig, CallerAuthenticator, peer_host, read_caller_auth
from services.orchestrator.prefetch import BackgroundWork

SECRET = "an-hs256-secret-of-at-least-32-characters"
TOKEN = "backend-token-0123456789"


def config(environ: dict[str, str]) -> CallerAuthConfig:
    env = EnvReader(environ)
    cfg = read_caller_auth(env)
    env.finish()
    return cfg


def pem(path: Path, key: Any) -> str:
    path.write_bytes(
        key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    )
    return str(path)


def claims(**extra: Any) -> dict[str, Any]:
    return {"sub": "svc-a", "aud": "segue", "iss": "issuer", "exp": int(time.time()) + 60, **extra}


@pytest.fixture
def keys() -> tuple[rsa.RSAPrivateKey, ec.EllipticCurvePrivateKey]:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048), ec.generate_private_key(ec.SECP256R1())


@pytest.fixture
def auth(tmp_path: Path, keys: tuple[rsa.RSAPrivateKey, ec.EllipticCurvePrivateKey]) -> CallerAuthenticator:
    rsa_key, ec_key = keys
    files = f"{pem(tmp_path / 'rsa.pem', rsa_key)},{pem(tmp_path / 'ec.pem', ec_key)}"
    return CallerAuthenticator(
        config(
            {
                "CALLER_TOKENS": f"backend={TOKEN}",
                "JWT_HS256_SECRET": SECRET,
                "JWT_PUBLIC_KEY_FILES": files,
                "JWT_AUDIENCE": "segue",
                "JWT_ISSUER": "issuer",
                "JWT_LEEWAY_S": "0",
            }
        )
    )


def test_without_configuration_callers_are_known_by_their_address() -> None:
    auth = CallerAuthenticator(config({}))
    assert not auth.enabled
    caller = auth.authenticate("", "ipv4:10.1.2.3:55012")
    assert caller.name == "peer:10.1.2.3" and not caller.authenticated
    assert [peer_host(p) for p in ("ipv6:[::1]:443", "ipv4:127.0.0.1:1", "unix:/tmp/s")] == [
        "::1",
        "127.0.0.1",
        "/tmp/s",
    ]


def test_tokens_and_jwts_of_every_configured_kind_are_accepted(
    auth: CallerAuthenticator, keys: tuple[rsa.RSAPrivateKey, ec.EllipticCurvePrivateKey]
) -> None:
    rsa_key, ec_key = keys
    assert auth.authenticate(f"Bearer {TOKEN}", "ipv4:1.2.3.4:5").name == "token:backend"
    assert auth.authenticate(f"bearer   {TOKEN}", "").name == "token:backend"
    for key, algorithm in ((SECRET, "HS256"), (rsa_key, "RS256"), (ec_key, "ES256")):
        credential = jwt.encode(claims(), key, algorithm=algorithm)  # type: ignore[arg-type]
        caller = auth.authenticate(f"Bearer {credential}", "")
        assert caller.name == "jwt:svc-a" and caller.authenticated
    odd = jwt.encode(claims(sub="a subject with spaces/and slashes"), SECRET, algorithm="HS256")
    assert auth.authenticate(f"Bearer {odd}", "").name.startswith("jwt:sha256-"), "odd subjects are not logged raw"


def hs256(**extra: Any) -> str:
    return "Bearer " + jwt.encode(claims(**extra), SECRET, algorithm="HS256")


# Made when the test runs (tokens made at collection would have expired by then in a long run).
REFUSALS: list[tuple[str, Callable[[], str], str]] = [
    ("none", lambda: "", "missing authorization metadata"),
    ("basic", lambda: f"Basic {TOKEN}", "must be 'Bearer <caller token or JWT>'"),
    ("unknown token", lambda: f"Bearer {TOKEN}x", "no known caller token or acceptable JWT"),
    ("expired", lambda: hs256(exp=int(time.time()) - 5), "expired (exp)"),
    ("not yet valid", lambda: hs256(nbf=int(time.time()) + 600), "not valid yet"),
    ("other audience", lambda: hs256(aud="other"), "another audience (aud)"),
    ("other issuer", lambda: hs256(iss="other"), "another issuer (iss)"),
    ("no exp", lambda: "Bearer " + jwt.encode({"sub": "x", "aud": "segue", "iss": "issuer"}, SECRET), "lacks"),
    ("other key", lambda: "Bearer " + jwt.encode(claims(), "x" * 40), "does not match any configured key"),
    ("unsigned", lambda: "Bearer " + jwt.encode(claims(), None, algorithm="none"), "signed with none"),
    ("HS512", lambda: "Bearer " + jwt.encode(claims(), "y" * 64, algorithm="HS512"), "accepted: ES256, HS256"),
    ("malformed", lambda: "Bearer a.b.c", "cannot be read: it is malformed"),
]


@pytest.mark.parametrize(("make", "message"), [r[1:] for r in REFUSALS], ids=[r[0] for r in REFUSALS])
def test_anything_else_is_unauthenticated_without_echoing_it(
    auth: CallerAuthenticator, make: Callable[[], str], message: str
) -> None:
    authorization = make()
    with pytest.raises(Unauthenticated) as refused:
        auth.authenticate(authorization, "ipv4:1.2.3.4:5")
    assert message in refused.value.message
    credential = authorization.removeprefix("Bearer ").removeprefix("Basic ")
    assert not credential or credential not in refused.value.message


def test_caller_auth_settings_are_checked(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as bad:
        config({"CALLER_TOKENS": "no-equals-sign,ok=short", "JWT_HS256_SECRET": "short"})
    assert "CALLER_TOKENS must be name=token pairs" in str(bad.value)
    assert "JWT_HS256_SECRET must be at least 32 characters" in str(bad.value)
    (tmp_path / "ed.pem").write_bytes(
        ed25519.Ed25519PrivateKey.generate()
        .public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    )
    for path, message in ((tmp_path / "missing.pem", "not a readable PEM public key"), (tmp_path / "ed.pem", "RSA")):
        with pytest.raises(ConfigError, match=message):
            CallerAuthenticator(config({"JWT_PUBLIC_KEY_FILES": str(path)}))
    assert TOKEN not in repr(config({"CALLER_TOKENS": f"backend={TOKEN}"}))


def test_quotas_are_read_in_limits_notation() -> None:
    env = EnvReader({"Q1": "10/second;600/hour", "Q2": "off", "Q3": "lots"})
    assert [str(i) for i in read_quota(env, "Q1", "1/minute")] == ["10 per 1 second", "600 per 1 hour"]
    assert read_quota(env, "Q2", "1/minute") == ()
    read_quota(env, "Q3", "1/minute")
    with pytest.raises(ConfigError, match="Q3 must look like 'N/second'"):
        env.finish()


async def test_a_quota_refuses_with_the_time_to_wait_and_keeps_keys_apart() -> None:
    quotas = Quotas()
    window = read_quota(EnvReader({}), "Q", "2/minute")
    await quotas.hit("caller", "a", window, "this caller's request")
    await quotas.hit("caller", "a", window, "this caller's request")
    with pytest.raises(ResourceExhausted) as refused:
        await quotas.hit("caller", "a", window, "this caller's request")
    assert refused.value.retry_after_s is not None and 0 < refused.value.retry_after_s <= 60
    assert "this caller's request quota (2 per 1 minute) is used up" in refused.value.message
    await quotas.hit("caller", "b", window, "this caller's request")  # another caller
    await quotas.hit("user", "a", window, "this user's request")  # another scope


async def test_background_work_past_its_bounds_is_dropped_not_queued() -> None:
    release = asyncio.Event()
    started: list[str] = []
    verified: list[str] = []

    async def work(identity: Identity) -> None:
        started.append(identity.user_id)
        await release.wait()

    def user(name: str) -> Any:
        async def verify() -> Identity:
            verified.append(name)
            return Identity(name, f"key-{name}")

        return verify

    background = BackgroundWork(Quotas(), max_inflight=2, user_quota=read_quota(EnvReader({}), "Q", "5/minute"))
    assert await background.submit(user("a"), work) == ""
    assert await background.submit(user("a"), work) == "dropped: a prefetch for this user is already running"
    assert await background.submit(user("b"), work) == ""
    full = await background.submit(user("c"), work)
    assert full == "dropped: 2 prefetches are already running; try again later"
    assert verified == ["a", "a", "b"], "a dropped prefetch did not even verify its user"
    await asyncio.sleep(0)
    assert started == ["a", "b"]
    release.set()
    await background.close()
    assert await background.submit(user("c"), work) == ""
    await background.close()

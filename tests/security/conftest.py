"""Two meshes of real processes (simulator, a private redis-server, the four services):

- `open_mesh`: the local mesh as `make demo` runs it — no caller auth, no TLS, no peer checks. What keeps one
  user out of another's data there is identity alone (the Spotify token), which is what it is for.
- `secure_mesh`: everything on — mutual TLS on every port and between peers (certificates made for the
  test), a mesh credential, caller tokens and JWTs (HS256, RS256, ES256) at the orchestrator, small quotas
  and prefetch bounds, reflection off.
"""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import grpc
import httpx
import jwt
import pytest
import pytest_asyncio
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from segue_cli.mesh import SIM_API_KEY, Mesh, MeshOptions, running_mesh
from tests.security.certs import Pki, make_pki

# Spotify tokens: the simulator makes `user-<n>-…` user n ("simuser<n>"), refuses `expired-…`.
VICTIM = 1
VICTIM_ID = f"simuser{VICTIM}"
VICTIM_TOKEN = "user-1-victims-own-token"
ATTACKER_TOKEN = "user-2-attackers-own-token"
EXPIRED_TOKEN = "expired-user-1-token-from-last-week"


@dataclass(frozen=True)
class Secrets:
    """Everything secret the secure mesh is configured with or called with: none may show anywhere."""

    caller_token: str
    quota_caller_token: str
    prefetch_caller_token: str
    jwt_hs256_secret: str
    mesh_credential: str
    rsa_key: rsa.RSAPrivateKey
    ec_key: ec.EllipticCurvePrivateKey

    def jwt(self, algorithm: str = "HS256", **claims: object) -> str:
        key: object = {"HS256": self.jwt_hs256_secret, "RS256": self.rsa_key, "ES256": self.ec_key}[algorithm]
        return jwt.encode(claims, key, algorithm=algorithm)  # type: ignore[arg-type]

    @property
    def plain(self) -> list[str]:
        return [
            self.caller_token,
            self.quota_caller_token,
            self.prefetch_caller_token,
            self.jwt_hs256_secret,
            self.mesh_credential,
        ]


AUDIENCE = "segue-orchestrator"
ISSUER = "https://issuer.example.test"


@pytest.fixture(scope="session")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    return make_pki(tmp_path_factory.mktemp("pki"))


@pytest.fixture(scope="session")
def mesh_secrets() -> Secrets:
    return Secrets(
        caller_token=secrets.token_urlsafe(24),
        quota_caller_token=secrets.token_urlsafe(24),
        prefetch_caller_token=secrets.token_urlsafe(24),
        jwt_hs256_secret=secrets.token_urlsafe(40),
        mesh_credential=secrets.token_urlsafe(32),
        rsa_key=rsa.generate_private_key(public_exponent=65537, key_size=2048),
        ec_key=ec.generate_private_key(ec.SECP256R1()),
    )


def client_credentials(pki: Pki, *, with_cert: bool = True) -> grpc.ChannelCredentials:
    """Trusts the test CA; presents the mesh certificate (mutual TLS) unless `with_cert` is False."""
    cert, key = pki.leaf.read()
    if not with_cert:
        return grpc.ssl_channel_credentials(pki.ca.cert.read_bytes())
    return grpc.ssl_channel_credentials(pki.ca.cert.read_bytes(), private_key=key, certificate_chain=cert)


def _public_pem(key: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey, path: Path) -> str:
    path.write_bytes(
        key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    )
    return str(path)


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def open_mesh(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Mesh]:
    options = MeshOptions(profile="fast", redis="spawn", log_dir=tmp_path_factory.mktemp("open-mesh-logs"))
    async with running_mesh(options) as running:
        yield running


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def secure_mesh(tmp_path_factory: pytest.TempPathFactory, pki: Pki, mesh_secrets: Secrets) -> AsyncIterator[Mesh]:
    keys = tmp_path_factory.mktemp("jwt-keys")
    env = {
        "TLS_CERT_FILE": str(pki.leaf.cert),
        "TLS_KEY_FILE": str(pki.leaf.key),
        "TLS_CLIENT_CA_FILE": str(pki.ca.cert),
        "PEER_TLS_CA_FILE": str(pki.ca.cert),
        "MESH_CREDENTIAL": mesh_secrets.mesh_credential,
        "CALLER_TOKENS": ",".join(
            f"{name}={token}"
            for name, token in (
                ("backend", mesh_secrets.caller_token),
                ("greedy", mesh_secrets.quota_caller_token),
                ("prefetcher", mesh_secrets.prefetch_caller_token),
            )
        ),
        "JWT_HS256_SECRET": mesh_secrets.jwt_hs256_secret,
        "JWT_PUBLIC_KEY_FILES": ",".join(
            (_public_pem(mesh_secrets.rsa_key, keys / "rsa.pem"), _public_pem(mesh_secrets.ec_key, keys / "ec.pem"))
        ),
        "JWT_AUDIENCE": AUDIENCE,
        "JWT_ISSUER": ISSUER,
        "JWT_LEEWAY_S": "0",
        "CALLER_QUOTA": "12/minute",
        "USER_QUOTA": "5/minute",
        "PREFETCH_MAX_INFLIGHT": "2",
        "PREFETCH_USER_QUOTA": "1/minute",
        "REFLECTION": "false",
    }
    options = MeshOptions(
        profile="fast",
        redis="spawn",
        log_dir=tmp_path_factory.mktemp("secure-mesh-logs"),
        service_env=env,
        channel_credentials=client_credentials(pki),
    )
    async with running_mesh(options) as running:
        yield running


@pytest_asyncio.fixture(loop_scope="session")
async def sim_http(open_mesh: Mesh) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=open_mesh.sim_url, timeout=10) as client:
        yield client


def spotify_token_metadata(token: str) -> tuple[tuple[str, str], ...]:
    return (("x-spotify-token", token),)


GEMINI_API_KEY = SIM_API_KEY

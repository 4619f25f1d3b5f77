"""No token, key or credential in any log line, /metrics page or Redis key or value, across the security tests.

Runs last in the directory (after the victim scenario, the bad-input table and the auth tests have sent
every kind of secret through both meshes) and also sends some itself, so it means something run alone.
The secrets looked for are the ones the processes were really given (read from /proc/<pid>/environ) and
every token shape the tests use.
"""

from __future__ import annotations

import re
from pathlib import Path

import httpx
import pytest
import redis.asyncio as aioredis
from grpc import aio
from segue.v1 import orchestrator_pb2

from segue_cli.mesh import SERVICES, Mesh
from services.common import stubs
from tests.security.certs import Pki
from tests.security.conftest import (
    ATTACKER_TOKEN,
    AUDIENCE,
    EXPIRED_TOKEN,
    ISSUER,
    VICTIM_TOKEN,
    Secrets,
    client_credentials,
)

pytestmark = [pytest.mark.integration, pytest.mark.asyncio(loop_scope="session")]

# Every Spotify token the tests send looks like one of these; JWTs start with a base64url JSON header.
TOKEN_SHAPES = [
    re.compile(rb"user-\d+-[A-Za-z0-9-]+"),
    re.compile(rb"expired-[A-Za-z0-9-]+"),
    re.compile(rb"eyJ[\w-]{8,}\."),
]
_SECRET_VARIABLES = re.compile(r"(KEY|TOKEN|SECRET|CREDENTIAL)S?$")


def configured_secrets(mesh: Mesh) -> set[str]:
    """The secret values in the services' own environments (CALLER_TOKENS split into its tokens)."""
    found: set[str] = set()
    for name in SERVICES:
        environ = Path(f"/proc/{mesh.processes[name].pid}/environ").read_bytes().split(b"\0")
        for entry in environ:
            variable, _, value = entry.decode(errors="replace").partition("=")
            if not value or not _SECRET_VARIABLES.search(variable):
                continue
            if variable == "CALLER_TOKENS":
                found.update(pair.partition("=")[2] for pair in value.split(","))
            else:
                found.add(value)
    return {s for s in found if len(s) >= 8}


async def redis_dump(url: str) -> list[bytes]:
    client = aioredis.from_url(url)
    out: list[bytes] = []
    try:
        async for key in client.scan_iter(count=1000):
            out.append(key)
            kind = (await client.type(key)).decode()
            if kind == "string":
                out.append(await client.get(key) or b"")
            elif kind == "hash":
                out.extend(b for pair in (await client.hgetall(key)).items() for b in pair)
            elif kind == "list":
                out.extend(await client.lrange(key, 0, -1))
            elif kind == "set":
                out.extend(await client.smembers(key))
            elif kind == "zset":
                out.extend(await client.zrange(key, 0, -1))
    finally:
        await client.aclose()
    return out


async def places(mesh: Mesh) -> dict[str, bytes]:
    """Everything an operator can read: each log file, each /metrics page, Redis."""
    found = {f"log {p.name}": p.read_bytes() for p in sorted(mesh.log_dir.glob("*.log"))}
    async with httpx.AsyncClient(timeout=10) as http:
        for name, port in mesh.metrics_ports.items():
            found[f"/metrics of {name}"] = (await http.get(f"http://127.0.0.1:{port}/metrics")).content
    found["redis"] = b"\n".join(await redis_dump(mesh.redis_url))
    return found


async def test_no_secret_in_any_log_metric_or_redis_entry(
    open_mesh: Mesh, secure_mesh: Mesh, mesh_secrets: Secrets, pki: Pki
) -> None:
    # Secrets through both meshes: good and bad Spotify tokens, a caller token, a JWT.
    async with aio.insecure_channel(open_mesh.orchestrator) as channel:
        stub = stubs.orchestrator(channel)
        request = orchestrator_pb2.RecommendRequest(mood_prompt="quiet morning coffee", size=3)
        await stub.Recommend(request, metadata=(("x-spotify-token", VICTIM_TOKEN),), timeout=60)
        for token in (EXPIRED_TOKEN, ATTACKER_TOKEN):
            request.user_id = "simuser1"
            with pytest.raises(aio.AioRpcError):
                await stub.Recommend(request, metadata=(("x-spotify-token", token),), timeout=60)
    async with aio.secure_channel(secure_mesh.orchestrator, client_credentials(pki)) as channel:
        stub = stubs.orchestrator(channel)
        jwt = mesh_secrets.jwt("RS256", sub="secret-scan", aud=AUDIENCE, iss=ISSUER, exp=2**31 - 1)
        request = orchestrator_pb2.RecommendRequest(mood_prompt="quiet morning coffee", size=3)
        for caller in (mesh_secrets.caller_token, jwt):
            await stub.Recommend(
                request,
                metadata=(("x-spotify-token", "user-90-scan"), ("authorization", f"Bearer {caller}")),
                timeout=60,
            )

    # The scan sees what it looks for: a token planted in Redis is found, then removed.
    planted = aioredis.from_url(open_mesh.redis_url)
    try:
        await planted.set("segue:test:planted", VICTIM_TOKEN.encode())
        dumped = (await places(open_mesh))["redis"]
        assert any(shape.search(dumped) for shape in TOKEN_SHAPES)
    finally:
        await planted.delete("segue:test:planted")
        await planted.aclose()

    for mesh in (open_mesh, secure_mesh):
        secrets = configured_secrets(mesh) | set(mesh_secrets.plain)
        assert len(secrets) >= 2, "at least the identity key and the Gemini API key were found"
        for place, content in (await places(mesh)).items():
            assert content or place.startswith("log"), place
            for secret in secrets:
                assert secret.encode() not in content, f"a configured secret in {place}"
            for shape in TOKEN_SHAPES:
                match = shape.search(content)
                assert match is None, f"a token in {place}: {match.group()[:12] if match else b''!r}…"

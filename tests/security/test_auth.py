"""The mesh with everything on: mutual TLS everywhere, a mesh credential, caller tokens and JWTs, quotas.

Certificates are made by the test (tests/security/certs.py); the services read them from files, as they
would from a mounted secret.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from collections.abc import AsyncIterator, Awaitable
from typing import Any

import grpc
import httpx
import jwt
import pytest
import pytest_asyncio
from google.rpc.error_details_pb2 import RetryInfo
from grpc import aio
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection_pb2
from grpc_status import rpc_status
from segue.v1 import orchestrator_pb2, orchestrator_pb2_grpc, reccobeat_gateway_pb2

from segue_cli.mesh import ROOT, SERVICES, Mesh
from services.common import stubs
from services.common.mesh_security import MESH_CREDENTIAL_HEADER
from tests.integration.probes import eventually, handled
from tests.security.certs import Pki
from tests.security.conftest import AUDIENCE, ISSUER, Secrets, client_credentials

pytestmark = [pytest.mark.integration, pytest.mark.asyncio(loop_scope="session")]

PROMPT = "late night drive, synthwave, neon"


def spotify(n: int, tag: str = "auth") -> tuple[str, str]:
    return ("x-spotify-token", f"user-{n}-{tag}")


def bearer(credential: str) -> tuple[str, str]:
    return ("authorization", f"Bearer {credential}")


def claims(sub: str, **extra: Any) -> dict[str, Any]:
    now = int(time.time())
    return {"sub": sub, "aud": AUDIENCE, "iss": ISSUER, "iat": now, "exp": now + 300, **extra}


@pytest_asyncio.fixture(loop_scope="session")
async def orchestrator(secure_mesh: Mesh, pki: Pki) -> AsyncIterator[orchestrator_pb2_grpc.OrchestratorAsyncStub]:
    async with aio.secure_channel(secure_mesh.orchestrator, client_credentials(pki)) as channel:
        yield stubs.orchestrator(channel)


async def rpc_error(pending: Awaitable[Any]) -> aio.AioRpcError:
    with pytest.raises(aio.AioRpcError) as caught:
        await pending
    return caught.value


async def test_tls_carries_an_authenticated_request_end_to_end(
    secure_mesh: Mesh, orchestrator: orchestrator_pb2_grpc.OrchestratorAsyncStub, mesh_secrets: Secrets
) -> None:
    request = orchestrator_pb2.RecommendRequest(mood_prompt=PROMPT, size=8)
    answer = await orchestrator.Recommend(
        request, metadata=(spotify(60), bearer(mesh_secrets.caller_token)), timeout=60
    )
    assert len(answer.tracks) == 8, "the orchestrator reached every peer over mutual TLS with the credential"
    assert answer.llm.calls == 1 and answer.mood.targets
    for name in SERVICES:
        lines = (secure_mesh.log_dir / f"{name}.log").read_text().splitlines()
        said = [json.loads(line)["message"] for line in lines if '"auth ' in line]
        assert len(said) == 1 and said[0].startswith("auth on: "), (name, said)
        assert "TLS on the gRPC port" in said[0] and "reflection off" in said[0], (name, said)


@pytest.mark.parametrize("algorithm", ["HS256", "RS256", "ES256"])
async def test_jwts_signed_with_each_configured_key_are_accepted(
    orchestrator: orchestrator_pb2_grpc.OrchestratorAsyncStub, mesh_secrets: Secrets, algorithm: str
) -> None:
    token = mesh_secrets.jwt(algorithm, **claims(f"service-{algorithm.lower()}"))
    reply = await orchestrator.Prefetch(
        orchestrator_pb2.PrefetchRequest(), metadata=(spotify(61, algorithm), bearer(token)), timeout=30
    )
    assert reply.accepted or reply.reason.startswith("dropped: ")


def _unauthenticated_cases(s: Secrets) -> list[tuple[str, tuple[tuple[str, str], ...], str]]:
    now = int(time.time())
    return [
        ("no credential", (), "missing authorization metadata"),
        ("not bearer", (("authorization", f"Basic {s.caller_token}"),), "must be 'Bearer <caller token or JWT>'"),
        ("unknown token", (bearer("a-token-nobody-was-given-0123"),), "no known caller token or acceptable JWT"),
        ("expired JWT", (bearer(s.jwt("HS256", **claims("x", exp=now - 60))),), "it has expired (exp)"),
        ("JWT not valid yet", (bearer(s.jwt("RS256", **claims("x", nbf=now + 600))),), "not valid yet (nbf)"),
        ("JWT for another audience", (bearer(s.jwt("ES256", **claims("x", aud="someone-else"))),), "(aud)"),
        ("JWT from another issuer", (bearer(s.jwt("HS256", **claims("x", iss="https://evil.test"))),), "(iss)"),
        ("JWT without exp", (bearer(s.jwt("HS256", sub="x", aud=AUDIENCE, iss=ISSUER)),), "lacks a required claim"),
        ("JWT without sub", (bearer(s.jwt("HS256", aud=AUDIENCE, iss=ISSUER, exp=now + 60)),), "lacks a required"),
        (
            "JWT signed with another key",
            (bearer(jwt.encode(claims("x"), "another-secret-of-32-characters-at-least", "HS256")),),
            "signature does not match any configured key",
        ),
        (
            "unsigned JWT",
            (bearer(jwt.encode(claims("x"), None, algorithm="none")),),
            "signed with none; accepted: ES256, HS256, RS256",
        ),
        ("malformed JWT", (bearer("not.a.jwt"),), "cannot be read: it is malformed"),
    ]


async def test_unauthenticated_callers_are_refused(
    orchestrator: orchestrator_pb2_grpc.OrchestratorAsyncStub, mesh_secrets: Secrets
) -> None:
    cases = _unauthenticated_cases(mesh_secrets)
    for what, credential, message in cases:
        for pending in (
            orchestrator.Recommend(
                orchestrator_pb2.RecommendRequest(mood_prompt=PROMPT), metadata=(spotify(62), *credential), timeout=10
            ),
            orchestrator.Prefetch(orchestrator_pb2.PrefetchRequest(), metadata=(spotify(62), *credential), timeout=10),
        ):
            error = await rpc_error(pending)
            assert error.code() == grpc.StatusCode.UNAUTHENTICATED, what
            assert message in (error.details() or ""), (what, error.details())


async def test_an_internal_service_refuses_a_non_peer(secure_mesh: Mesh, pki: Pki, mesh_secrets: Secrets) -> None:
    address = secure_mesh.addresses["reccobeat_gateway"]
    request = reccobeat_gateway_pb2.SearchArtistsRequest(query="jazz", size=3)
    stranger_cert, stranger_key = pki.stranger.read()
    not_peers = {
        "plaintext": aio.insecure_channel(address),
        "TLS without a client certificate": aio.secure_channel(address, client_credentials(pki, with_cert=False)),
        "a certificate of another CA": aio.secure_channel(
            address,
            grpc.ssl_channel_credentials(
                pki.ca.cert.read_bytes(), private_key=stranger_key, certificate_chain=stranger_cert
            ),
        ),
    }
    for what, channel in not_peers.items():
        async with channel:
            stub = stubs.reccobeat_gateway(channel)
            error = await rpc_error(stub.SearchArtists(request, timeout=5))
            assert error.code() == grpc.StatusCode.UNAVAILABLE, what  # refused in the TLS handshake

    async with aio.secure_channel(address, client_credentials(pki)) as channel:
        stub = stubs.reccobeat_gateway(channel)
        for credential in ((), ((MESH_CREDENTIAL_HEADER, "a-guess-at-the-mesh-credential"),)):
            error = await rpc_error(stub.SearchArtists(request, metadata=credential, timeout=5))
            assert error.code() == grpc.StatusCode.UNAUTHENTICATED
            assert error.details() == "this is an internal service: only peers of the mesh may call it"
        peer = ((MESH_CREDENTIAL_HEADER, mesh_secrets.mesh_credential),)
        answer = await stub.SearchArtists(request, metadata=peer, timeout=10)
        assert answer.cache.hits + answer.cache.misses == 1, "a peer's call is answered"
        # Health stays open to probes, which send no metadata.
        health = health_pb2_grpc.HealthStub(channel)
        status = await health.Check(health_pb2.HealthCheckRequest(service="segue.v1.ReccoBeatGateway"), timeout=5)
        assert status.status == health_pb2.HealthCheckResponse.SERVING
        # Reflection is turned off in this mesh. Asked as a unary call: on a bidi stream the client's
        # write races the server's early UNIMPLEMENTED and grpc-aio then reports INTERNAL instead.
        reflection = channel.unary_unary(
            "/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo",
            request_serializer=reflection_pb2.ServerReflectionRequest.SerializeToString,
            response_deserializer=reflection_pb2.ServerReflectionResponse.FromString,
        )
        error = await rpc_error(
            reflection(reflection_pb2.ServerReflectionRequest(list_services=""), metadata=peer, timeout=5)
        )
        assert error.code() == grpc.StatusCode.UNIMPLEMENTED


async def test_a_caller_past_its_quota_gets_resource_exhausted_with_retry_after(
    orchestrator: orchestrator_pb2_grpc.OrchestratorAsyncStub, mesh_secrets: Secrets
) -> None:
    greedy = (spotify(63), bearer(mesh_secrets.quota_caller_token))
    codes = []
    for _ in range(12):  # CALLER_QUOTA is 12 a minute; bad requests count too
        error = await rpc_error(orchestrator.Recommend(orchestrator_pb2.RecommendRequest(), metadata=greedy))
        codes.append(error.code())
    assert codes == [grpc.StatusCode.INVALID_ARGUMENT] * 12
    error = await rpc_error(orchestrator.Recommend(orchestrator_pb2.RecommendRequest(), metadata=greedy))
    assert error.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
    assert "this caller's request quota (12 per 1 minute) is used up: retry in" in (error.details() or "")
    retry_ms = dict(error.trailing_metadata() or ())["retry-after-ms"]
    assert 0 < int(retry_ms) <= 60_000
    # The same delay as a google.rpc.RetryInfo detail, for callers that read the standard status details.
    status = rpc_status.from_call(error)
    assert status is not None
    retry = RetryInfo()
    assert status.details[0].Unpack(retry) and retry.retry_delay.ToMilliseconds() == int(retry_ms)
    # Other callers are unaffected.
    other = (spotify(63), bearer(mesh_secrets.jwt("HS256", **claims("not-greedy"))))
    error = await rpc_error(orchestrator.Recommend(orchestrator_pb2.RecommendRequest(), metadata=other))
    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT


async def test_a_user_past_their_quota_gets_resource_exhausted(
    orchestrator: orchestrator_pb2_grpc.OrchestratorAsyncStub, mesh_secrets: Secrets
) -> None:
    caller = bearer(mesh_secrets.jwt("ES256", **claims("user-quota-test")))
    request = orchestrator_pb2.RecommendRequest(mood_prompt=PROMPT, size=3)
    for _ in range(5):  # USER_QUOTA is 5 a minute
        assert len((await orchestrator.Recommend(request, metadata=(spotify(64), caller), timeout=60)).tracks) == 3
    error = await rpc_error(orchestrator.Recommend(request, metadata=(spotify(64), caller), timeout=60))
    assert error.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
    assert "this user's request quota (5 per 1 minute) is used up" in (error.details() or "")
    assert int(dict(error.trailing_metadata() or ())["retry-after-ms"]) > 0


async def spotify_calls(http: httpx.AsyncClient, endpoint: str) -> int:
    stats = (await http.get("/__sim/stats")).json()
    return int(stats["upstreams"]["spotify"]["endpoints"][endpoint]["calls"])


async def test_prefetch_past_its_bounds_is_dropped_not_queued(
    secure_mesh: Mesh, orchestrator: orchestrator_pb2_grpc.OrchestratorAsyncStub, mesh_secrets: Secrets
) -> None:
    async with httpx.AsyncClient(base_url=secure_mesh.sim_url, timeout=10) as http:
        warms_before = await handled(secure_mesh, "seed_gatherer", "WarmUserContext")
        me_before = await spotify_calls(http, "GET /me")
        top_before = await spotify_calls(http, "GET /me/top/tracks")
        # Spotify slows down, so the first prefetches hold their slots while the rest arrive.
        await http.post("/__sim/faults", json={"upstream": "spotify", "extra_latency_s": 3})
        try:
            flood = bearer(mesh_secrets.jwt("HS256", **claims("prefetch-flood")))
            replies = await asyncio.gather(
                *(
                    orchestrator.Prefetch(
                        orchestrator_pb2.PrefetchRequest(), metadata=(spotify(700 + i, "flood"), flood), timeout=30
                    )
                    for i in range(10)
                )
            )
        finally:
            await http.post("/__sim/faults", json={"clear": True})
        accepted = [r for r in replies if r.accepted]
        assert len(accepted) == 2, "PREFETCH_MAX_INFLIGHT is 2"
        assert {r.reason for r in replies if not r.accepted} == {
            "dropped: 2 prefetches are already running; try again later"
        }

        async def warmed() -> bool:
            return await handled(secure_mesh, "seed_gatherer", "WarmUserContext") >= warms_before + 2

        await eventually(warmed, "the two accepted prefetches warmed their users")
        assert await handled(secure_mesh, "seed_gatherer", "WarmUserContext") == warms_before + 2, "no more"
        assert await spotify_calls(http, "GET /me") == me_before + 2, "a dropped prefetch costs Spotify nothing"
        # The two users' top tracks; a call this slow may have had one hedged copy (from the spare budget).
        assert top_before + 2 <= await spotify_calls(http, "GET /me/top/tracks") <= top_before + 4

    # One user: PREFETCH_USER_QUOTA is 1 a minute. (First wait until the flood's two have let go of their slots.)
    one_user = (spotify(720), bearer(mesh_secrets.prefetch_caller_token))
    replies: list[orchestrator_pb2.PrefetchResponse] = []

    async def first_accepted() -> bool:
        reply = await orchestrator.Prefetch(orchestrator_pb2.PrefetchRequest(), metadata=one_user, timeout=30)
        if reply.accepted:
            replies.append(reply)
        return reply.accepted

    await eventually(first_accepted, "a slot is free again")
    for _ in range(2):
        replies.append(await orchestrator.Prefetch(orchestrator_pb2.PrefetchRequest(), metadata=one_user, timeout=30))
    assert [r.accepted for r in replies] == [True, False, False]
    assert all(r.reason.startswith("dropped: ") for r in replies[1:])


async def test_segue_recommend_passes_a_caller_token(secure_mesh: Mesh, pki: Pki, mesh_secrets: Secrets) -> None:
    tls = ["--tls-ca", str(pki.ca.cert), "--tls-cert", str(pki.leaf.cert), "--tls-key", str(pki.leaf.key)]

    async def segue(*extra: str) -> tuple[int, str, str]:
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "segue_cli", "recommend", PROMPT, "--size", "3", "--json",
            "--addr", secure_mesh.orchestrator, "--token", "user-65-cli", *tls, *extra,
            cwd=ROOT, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        )  # fmt: skip
        out, err = await asyncio.wait_for(proc.communicate(), 60)
        return int(proc.returncode or 0), out.decode(), err.decode()

    # One argument with "=": a token_urlsafe value may begin with "-", which argparse would take for an option.
    code, out, _ = await segue(f"--caller-token={mesh_secrets.caller_token}")
    assert code == 0 and len(json.loads(out)["tracks"]) == 3
    code, out, _ = await segue()
    error = json.loads(out)["error"]
    assert code == 1 and error["code"] == "UNAUTHENTICATED"
    assert error["message"].startswith("missing authorization metadata")

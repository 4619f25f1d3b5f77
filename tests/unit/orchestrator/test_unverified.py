"""Which failures of the identity check let a Recommend go on unverified, and which refuse it."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from segue.v1 import common_pb2

from services.common.cache import Cache, MemoryStore
from services.common.config import EnvReader
from services.common.errors import (
    DeadlineExceeded,
    InvalidArgument,
    NotFound,
    PermissionDenied,
    ResourceExhausted,
    SegueError,
    Unauthenticated,
    Unavailable,
    UpstreamError,
    UpstreamRateLimited,
    UpstreamRejected,
)
from services.common.identity import Identities, Identity, IdentityConfig
from services.common.upstream_http import UpstreamClient
from services.orchestrator.admission import Admission, Quotas, Unverified, UnverifiedReason, read_quota, unverified_by
from services.orchestrator.overload import Admit, Plan, Verdict, plan_for
from services.orchestrator.workflow import Tally, no_playlist
from tests.unit.seed_gatherer.spotify_fake import spotify_http


@pytest.mark.parametrize(
    ("error", "reason"),
    [
        (UpstreamRateLimited("spotify", 2.0), UnverifiedReason.RATE_LIMITED),  # 429s, or no slot before the deadline
        (ResourceExhausted("spotify is cooling down", 1.0), UnverifiedReason.RATE_LIMITED),
        (UpstreamError("spotify", "GET /me failed after 3 attempt(s) (503)", 503), UnverifiedReason.UNAVAILABLE),
        (UpstreamError("spotify", "GET /me failed after 3 attempt(s) (timeout)"), UnverifiedReason.UNAVAILABLE),
        (Unavailable("spotify: unreachable"), UnverifiedReason.UNAVAILABLE),
    ],
)
def test_spotifys_transient_trouble_degrades(error: SegueError, reason: UnverifiedReason) -> None:
    unverified = unverified_by(error)
    assert unverified is not None and unverified.reason is reason
    assert error.message in unverified.why_impersonal


@pytest.mark.parametrize(
    "error",
    [
        Unauthenticated("Spotify rejected the access token"),  # 401: refresh the token
        PermissionDenied("user_id names a different user"),  # a claim naming someone else, or a 403
        UpstreamRejected("spotify", 400, "bad request"),  # the request itself is wrong: retrying cannot help
        InvalidArgument("x-spotify-token is missing"),
        DeadlineExceeded("no time left to call spotify"),  # no pass fits a spent deadline either
    ],
)
def test_a_refusal_stays_a_refusal(error: SegueError) -> None:
    assert unverified_by(error) is None


def test_an_unverified_plan_is_the_impersonal_plan_without_the_token() -> None:
    unverified = Unverified(UnverifiedReason.RATE_LIMITED, "spotify is rate limited for 1.00s more")
    plan = unverified.plan(Plan(mood_budget_s=6.0))
    assert plan == Plan(personalised=False, mood_budget_s=6.0, why_impersonal=plan.why_impersonal, verified=False)
    assert "Spotify could not confirm whose token this is" in plan.why_impersonal
    assert "not your taste" in plan.why_impersonal
    # Admitted lean under overload: it stays lean, and the one warning says both.
    lean = plan_for(Admit(Verdict.LEAN, 3.0, bottleneck="reccobeats"), 6.0)
    both = unverified.plan(lean)
    assert not both.recommendations and not both.verified and not both.personalised
    assert "Spotify could not confirm" in both.why_impersonal and "without fresh recommendations" in both.why_impersonal


class ScriptedMe:
    """GET /me: `user-<n>-…` → user "u<n>"; `expired-…` → 401; `blocked-…` → 403; `busy-…` → 429; `down-…` → 503."""

    def __call__(self, request: httpx.Request) -> httpx.Response:
        token = request.headers["authorization"].removeprefix("Bearer ")
        for prefix, status in (("expired-", 401), ("blocked-", 403), ("busy-", 429), ("down-", 503)):
            if token.startswith(prefix):
                headers = {"retry-after": "0"} if status == 429 else {}
                return httpx.Response(status, json={"error": {"status": status, "message": "no"}}, headers=headers)
        return httpx.Response(200, json={"id": "u" + token.split("-")[1], "type": "user"})


@pytest.fixture
async def admission() -> AsyncIterator[Admission]:
    async with spotify_http(httpx.MockTransport(ScriptedMe())) as client:
        yield admission_over(client)


def admission_over(client: UpstreamClient) -> Admission:
    identities = Identities(
        client, Cache(MemoryStore(), "identity"), IdentityConfig(key=b"k" * 32, key_configured=True)
    )
    # One request per user: a second one of the same verified user is refused by the user quota.
    return Admission(identities, Quotas(), (), read_quota(EnvReader({}), "USER_QUOTA", "1/hour"))


async def test_a_token_spotify_could_not_check_goes_on_unverified_and_counts_no_user_quota(
    admission: Admission,
) -> None:
    for _ in range(3):  # no user to count: the user quota (1/hour) never refuses these
        busy = await admission.user("busy-token-1", "u1")
        assert isinstance(busy, Unverified) and busy.reason is UnverifiedReason.RATE_LIMITED
    down = await admission.user("down-token-1", "")
    assert isinstance(down, Unverified) and down.reason is UnverifiedReason.UNAVAILABLE


async def test_refused_tokens_and_claims_of_another_user_stay_refused(admission: Admission) -> None:
    with pytest.raises(Unauthenticated):
        await admission.user("expired-token-1", "u1")
    with pytest.raises(PermissionDenied):
        await admission.user("blocked-token-1", "")
    with pytest.raises(PermissionDenied):
        await admission.user("user-3-token", "u4")
    verified = await admission.user("user-3-token", "u3")
    assert verified == Identity("u3", verified.key)
    with pytest.raises(ResourceExhausted):  # a verified user's own quota still counts
        await admission.user("user-3-token", "")


def test_an_unverified_pass_that_found_nothing_is_upstream_trouble_not_a_prompt_too_narrow() -> None:
    tally = Tally()
    tally.warn(common_pb2.WARNING_CODE_FALLBACK_USED, "orchestrator", "the mood was read by keyword heuristics")
    nothing = no_playlist(tally, verified=False, pool_size=0)
    assert isinstance(nothing, Unavailable) and "Spotify could not confirm whose token this is" in nothing.message
    # Candidates that the prompt's own exclusions ruled out: that is the prompt's doing, verified or not.
    assert isinstance(no_playlist(tally, verified=False, pool_size=30), NotFound)
    assert isinstance(no_playlist(tally, verified=True, pool_size=0), NotFound)

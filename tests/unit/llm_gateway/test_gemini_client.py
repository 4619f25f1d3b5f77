"""The Gemini client against a fake Gemini over real HTTP: request shape, schema checks, the retry layer."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from prometheus_client import CollectorRegistry
from pydantic import BaseModel

from services.common import call_context
from services.common.errors import ResourceExhausted, UpstreamError, UpstreamRateLimited, UpstreamRejected
from services.llm_gateway.gemini import GeminiClient, InvalidAnswer
from services.llm_gateway.gemini_errors import retry_delay_s
from services.llm_gateway.metrics import LlmMetrics
from services.llm_gateway.usage import Usage
from tests.unit.llm_gateway.conftest import API_KEY
from tests.unit.llm_gateway.fake_gemini import FakeGemini, Reply, answer, error, rate_limited


class Seeds(BaseModel):
    seeds: list[str]
    reasoning: str


GOOD = {"seeds": ["a", "b"], "reasoning": "fits"}


class Client:
    def __init__(self, fake: FakeGemini, **kw: object) -> None:
        self.registry = CollectorRegistry()
        options: dict[str, object] = {"timeout_s": 5.0, "max_attempts": 3, **kw}
        self.gemini = GeminiClient(
            api_key=API_KEY,
            base_url=fake.url,
            model="gemini-2.5-flash",
            metrics=LlmMetrics.create(self.registry),
            **options,  # type: ignore[arg-type]
        )
        self.usage = Usage()

    async def ask(self) -> Seeds:
        return await self.gemini.generate(
            task="probe", system="You are a music curator.", prompt="Pick seeds", schema=Seeds, usage=self.usage
        )

    def calls(self, outcome: str) -> float:
        return self.registry.get_sample_value("segue_llm_calls_total", {"task": "probe", "outcome": outcome}) or 0.0


@pytest.fixture
async def client(fake: FakeGemini) -> AsyncIterator[Client]:
    c = Client(fake)
    yield c
    await c.gemini.aclose()


async def test_request_is_a_structured_generate_content_call(fake: FakeGemini, client: Client) -> None:
    fake.script = [answer(GOOD, prompt_tokens=31, output_tokens=12)]
    result = await client.ask()

    assert result == Seeds.model_validate(GOOD)
    [seen] = fake.requests
    # google-genai 3.x defaults to v1 and keeps the base URL's path prefix.
    assert seen.path == "/gemini/v1/models/gemini-2.5-flash:generateContent"
    assert seen.headers["x-goog-api-key"] == API_KEY
    config = seen.body["generationConfig"]
    assert config["responseMimeType"] == "application/json"
    assert set(seen.schema["properties"]) == {"seeds", "reasoning"}
    assert config["temperature"] <= 0.3
    assert config["thinkingConfig"] in ({"thinkingBudget": 0}, {"thinking_budget": 0})
    assert seen.body["systemInstruction"]["parts"][0]["text"] == "You are a music curator."
    assert seen.prompt == "Pick seeds"
    assert (client.usage.calls, client.usage.prompt_tokens, client.usage.output_tokens) == (1, 31, 12)
    assert client.calls("ok") == 1
    assert client.registry.get_sample_value("segue_llm_tokens_total", {"direction": "prompt"}) == 31
    assert client.registry.get_sample_value("segue_llm_tokens_total", {"direction": "output"}) == 12
    assert client.registry.get_sample_value("segue_llm_call_seconds_count", {"task": "probe"}) == 1


async def test_configured_api_version_is_used(fake: FakeGemini) -> None:
    c = Client(fake, api_version="v1beta")
    fake.script = [answer(GOOD)]
    try:
        await c.ask()
    finally:
        await c.gemini.aclose()
    assert fake.requests[0].path == "/gemini/v1beta/models/gemini-2.5-flash:generateContent"


async def test_429_waits_at_least_the_retry_info_delay_then_succeeds(fake: FakeGemini, client: Client) -> None:
    fake.script = [rate_limited("0.4s"), answer(GOOD)]
    assert await client.ask() == Seeds.model_validate(GOOD)
    first, second = fake.requests
    # asyncio.sleep never wakes early, so the gap is a lower bound whatever the machine's load.
    assert second.at - first.at >= 0.4
    assert client.calls("rate_limited") == 1 and client.calls("ok") == 1
    assert client.usage.calls == 2


async def test_429_longer_than_the_deadline_fails_fast_with_the_delay(fake: FakeGemini, client: Client) -> None:
    fake.default = lambda seen: rate_limited("60s")
    call_context.set_deadline_in(2.0)
    with pytest.raises(UpstreamRateLimited) as caught:
        await client.ask()
    assert isinstance(caught.value, ResourceExhausted)
    # What is left of Gemini's pause when the retry was refused: at once, so nearly all of it.
    assert caught.value.retry_after_s == pytest.approx(60, abs=1.0)
    assert len(fake.requests) == 1
    # Every caller in the process now waits out Gemini's pause instead of hitting it again.
    with pytest.raises(UpstreamRateLimited):
        await client.ask()
    assert len(fake.requests) == 1


async def test_server_errors_are_retried_with_backoff(fake: FakeGemini, client: Client) -> None:
    fake.script = [error(503, "UNAVAILABLE"), error(500, "INTERNAL"), answer(GOOD)]
    assert await client.ask() == Seeds.model_validate(GOOD)
    assert len(fake.requests) == 3
    assert client.calls("server_error") == 2


async def test_server_errors_give_up_after_max_attempts(fake: FakeGemini, client: Client) -> None:
    fake.default = lambda seen: error(503, "UNAVAILABLE", "overloaded")
    with pytest.raises(UpstreamError, match="after 3 attempt"):
        await client.ask()
    assert len(fake.requests) == 3


async def test_a_slow_answer_times_out_and_is_retried(fake: FakeGemini) -> None:
    c = Client(fake, timeout_s=0.3)
    fake.script = [Reply(delay_s=3.0, body={}), answer(GOOD)]
    try:
        assert await c.ask() == Seeds.model_validate(GOOD)
    finally:
        await c.gemini.aclose()
    assert len(fake.requests) == 2
    assert c.calls("timeout") == 1


async def test_client_errors_are_not_retried_and_never_echo_the_key(fake: FakeGemini, client: Client) -> None:
    fake.script = [error(400, "INVALID_ARGUMENT", f"API key {API_KEY} not valid. Please pass a valid API key.")]
    with pytest.raises(UpstreamRejected) as caught:
        await client.ask()
    assert len(fake.requests) == 1
    assert "400" in str(caught.value) and "not valid" in caught.value.message
    assert API_KEY not in str(caught.value)


async def test_connection_refused_is_an_upstream_error(fake: FakeGemini) -> None:
    c = Client(fake, max_attempts=2)
    await fake.stop()
    try:
        with pytest.raises(UpstreamError, match="error"):
            await c.ask()
    finally:
        await c.gemini.aclose()
    assert c.calls("error") == 2


async def test_an_answer_outside_the_schema_is_asked_for_once_more(fake: FakeGemini, client: Client) -> None:
    fake.script = [answer('{"seeds": ["a"]'), answer(GOOD)]
    assert await client.ask() == Seeds.model_validate(GOOD)
    assert client.calls("invalid_answer") == 1 and client.usage.calls == 2


async def test_two_answers_outside_the_schema_give_up(fake: FakeGemini, client: Client) -> None:
    fake.script = [answer({"seeds": "not a list"}), answer({"reasoning": "no seeds"})]
    with pytest.raises(InvalidAnswer):
        await client.ask()
    assert len(fake.requests) == 2 and client.usage.calls == 2


@pytest.mark.parametrize(
    ("details", "expected"),
    [
        ({"error": {"details": [{"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": "38s"}]}}, 38.0),
        ({"details": [{"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": "0.15s"}]}, 0.15),
        (
            {
                "error": {
                    "details": [
                        {
                            "@type": "type.googleapis.com/google.rpc.RetryInfo",
                            "retryDelay": {"seconds": 2, "nanos": 500000000},
                        }
                    ]
                }
            },
            2.5,
        ),
        ({"error": {"details": [{"@type": "type.googleapis.com/google.rpc.QuotaFailure"}]}}, None),
        ({"error": {"message": "no details"}}, None),
        ("not json", None),
    ],
)
def test_retry_info_delay_is_read_from_the_error_body(details: object, expected: float | None) -> None:
    assert retry_delay_s(details) == expected

from __future__ import annotations

import logging

import httpx
import pytest

from scalar_ray.core.errors import PayloadError, ProviderAuthError, ProviderHTTPError, RateLimitedError
from scalar_ray.providers.http import ProviderHttp, RequestBudget, RetryPolicy


class Script:
    """A MockTransport handler answering with a scripted list of responses (or exceptions)."""

    def __init__(self, *answers: httpx.Response | Exception) -> None:
        self.answers = list(answers)
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        answer = self.answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer


def client(script: Script, sleeps: list[float], **policy: float) -> ProviderHttp:
    return ProviderHttp(
        "entsoe",
        "http://provider.test/api",
        10_000,
        transport=httpx.MockTransport(script),
        sleep=sleeps.append,
        policy=RetryPolicy(**policy),  # type: ignore[arg-type]
    )


def test_429_with_retry_after_is_waited_out_then_succeeds() -> None:
    script = Script(httpx.Response(429, headers={"Retry-After": "7"}), httpx.Response(200, text="ok"))
    sleeps: list[float] = []
    http = client(script, sleeps)

    response = http.request("GET", "", params={"documentType": "A44"}, dataset="A44")

    assert response.text == "ok"
    assert sleeps == [7.0]
    assert (http.stats.requests, http.stats.retries, http.stats.throttled) == (2, 1, 1)


def test_server_errors_back_off_with_jitter_under_the_cap() -> None:
    script = Script(httpx.Response(503), httpx.Response(502), httpx.Response(500), httpx.Response(200))
    sleeps: list[float] = []

    assert client(script, sleeps, backoff_initial_s=1, backoff_max_s=3).request("GET", "").status_code == 200

    assert len(sleeps) == 3
    assert all(0 <= s <= cap for s, cap in zip(sleeps, [1, 2, 3], strict=True))


def test_persistent_server_errors_raise_after_the_last_attempt() -> None:
    script = Script(*[httpx.Response(503, text="maintenance")] * 3)

    with pytest.raises(ProviderHTTPError) as caught:
        client(script, [], attempts=3).request("GET", "", dataset="A44", window="w")

    assert caught.value.status_code == 503
    assert "entsoe/A44 for w: HTTP 503: maintenance" in str(caught.value)
    assert len(script.requests) == 3


def test_a_long_ban_is_not_waited_out_but_reported() -> None:
    script = Script(httpx.Response(429, headers={"Retry-After": "600"}))
    sleeps: list[float] = []

    with pytest.raises(RateLimitedError) as caught:
        client(script, sleeps).request("GET", "")

    assert caught.value.retry_after_s == 600
    assert sleeps == []


@pytest.mark.parametrize("status", [408, 500, 503])
def test_a_day_long_retry_after_on_a_server_error_is_reported_not_slept(status: int) -> None:
    script = Script(httpx.Response(status, headers={"Retry-After": "86400"}))
    sleeps: list[float] = []

    with pytest.raises(ProviderHTTPError) as caught:
        client(script, sleeps).request("GET", "")

    assert caught.value.status_code == status and caught.value.retry_after_s == 86400
    assert sleeps == [] and len(script.requests) == 1  # it used to sleep a day inside the fetch


@pytest.mark.parametrize("value", ["inf", "nan", "-inf", "soon"])
def test_an_unreadable_retry_after_falls_back_to_our_own_backoff(value: str) -> None:
    script = Script(httpx.Response(503, headers={"Retry-After": value}), httpx.Response(200, text="ok"))
    sleeps: list[float] = []

    assert client(script, sleeps, backoff_initial_s=1, backoff_max_s=1).request("GET", "").text == "ok"

    assert len(sleeps) == 1 and 0 <= sleeps[0] <= 1  # "inf" used to raise OverflowError in the sleep


def test_an_answer_past_the_size_cap_is_refused_while_it_is_read() -> None:
    chunked = httpx.Response(200, content=iter([b"x" * 600, b"x" * 600]))  # no Content-Length: counted as read
    declared = httpx.Response(200, headers={"Content-Length": str(10**12)}, content=b"")
    for answer in (chunked, declared):
        http = ProviderHttp(
            "entsoe", "http://p.test", 10_000, transport=httpx.MockTransport(Script(answer)), max_answer_bytes=1000
        )

        with pytest.raises(PayloadError, match="more than 1,000"):
            http.request("GET", "", dataset="A44", window="w")


def test_a_corrupt_gzip_answer_is_tried_again_then_a_payload_error() -> None:
    corrupt = [
        # A stream, not content: httpx decodes given content at once, a transfer only as it is read.
        httpx.Response(200, headers={"Content-Encoding": "gzip"}, stream=httpx.ByteStream(b"\x1f\x8b not gzip"))
        for _ in range(2)
    ]
    script = Script(*corrupt)

    with pytest.raises(PayloadError, match="undecodable answer body"):
        client(script, [], attempts=2).request("GET", "", dataset="A44", window="w")
    assert len(script.requests) == 2


def test_refused_credentials_fail_at_once() -> None:
    script = Script(httpx.Response(401, text="invalid token"))

    with pytest.raises(ProviderAuthError, match="credentials refused"):
        client(script, []).request("GET", "")
    assert len(script.requests) == 1


def test_transport_errors_are_retried() -> None:
    script = Script(httpx.ConnectError("reset"), httpx.Response(200))

    assert client(script, []).request("GET", "").status_code == 200


def test_accepted_statuses_are_returned_not_raised() -> None:
    script = Script(httpx.Response(400, json={"message": "No Data found"}))

    assert client(script, []).request("GET", "", accept=frozenset({400})).status_code == 400


def test_tokens_in_the_query_never_reach_the_log(caplog: pytest.LogCaptureFixture) -> None:
    script = Script(httpx.Response(200))
    caplog.set_level(logging.DEBUG)

    client(script, []).request("GET", "", params={"securityToken": "sekret-token-123"})

    assert "sekret-token-123" in str(script.requests[0].url)
    assert "sekret-token-123" not in caplog.text
    assert "entsoe GET /api -> 200" in caplog.text


def test_budget_spaces_requests_beyond_the_burst() -> None:
    now = [0.0]
    slept: list[float] = []

    def sleep(seconds: float) -> None:
        slept.append(seconds)
        now[0] += seconds

    budget = RequestBudget(per_minute=60, clock=lambda: now[0], sleep=sleep)
    waits = [budget.acquire() for _ in range(62)]

    assert waits[:60] == [0.0] * 60  # a full minute's budget is available at once
    assert waits[60] == pytest.approx(1.0) and waits[61] == pytest.approx(1.0)
    assert now[0] == pytest.approx(2.0)

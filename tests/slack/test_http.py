"""HTTP mode: bolt serves signed requests; a bad signature or an old timestamp gets 401."""

from __future__ import annotations

import json
import time
from urllib.parse import urlencode

import aiohttp
import pytest

from tests.conftest import dump_store
from tests.slack.conftest import ANA, Slack, texts_sent
from tests.slack_standin import signed_headers
from tests.slack_standin.server import SIGNING_SECRET


async def post(slack: Slack, body: str, headers: dict[str, str]) -> tuple[int, str]:
    assert slack.runtime.url is not None and slack.runtime.url.startswith("http://127.0.0.1:")
    async with aiohttp.ClientSession() as session, session.post(
            slack.runtime.url, data=body.encode(), headers=headers) as response:
        return response.status, await response.text()


async def test_a_signed_command_is_acknowledged_at_once_and_answered_later(
        slack_http: Slack) -> None:
    slack_http.standin.delays["users.info"] = 3.5  # slow work after the acknowledgement
    payload = slack_http.standin.slash_payload("start", ANA)
    body = urlencode(payload)
    started = time.monotonic()
    status, _ = await post(slack_http, body, signed_headers(body))
    assert status == 200 and time.monotonic() - started < 3.0
    [response] = await slack_http.standin.wait_for(
        lambda: [r for r in slack_http.standin.responses if r["url"] == payload["response_url"]])
    assert "Welcome aboard" in texts_sent(response)


@pytest.mark.parametrize("forgery", ["wrong secret", "old timestamp", "future timestamp",
                                     "no signature", "body changed", "replayed"])
async def test_a_forged_or_replayed_request_is_refused_and_does_nothing(
        slack_http: Slack, forgery: str) -> None:
    payload = slack_http.standin.slash_payload("start Europe/Berlin", ANA)
    body = urlencode(payload)
    now = int(time.time())
    headers = {
        "wrong secret": signed_headers(body, "not-the-secret-at-all"),
        "old timestamp": signed_headers(body, SIGNING_SECRET, now - 6 * 60),
        "future timestamp": signed_headers(body, SIGNING_SECRET, now + 6 * 60),
        "no signature": {"Content-Type": "application/x-www-form-urlencoded"},
        "body changed": signed_headers(body.replace("start", "stop")),
        "replayed": signed_headers(body, SIGNING_SECRET, now - 301),
    }[forgery]
    before = await dump_store(slack_http.core.store)
    status, _ = await post(slack_http, body, headers)
    assert status == 401
    await slack_http.standin.settle(0.3)
    assert slack_http.standin.responses == [] and slack_http.standin.views == []
    assert await dump_store(slack_http.core.store) == before


async def test_a_button_press_is_served_over_http(slack_http: Slack) -> None:
    start = urlencode(slack_http.standin.slash_payload("start", ANA))
    assert (await post(slack_http, start, signed_headers(start)))[0] == 200
    await slack_http.standin.wait_for(lambda: slack_http.standin.views)
    press = slack_http.standin.button_payload("log:30m", ANA, channel="CGENERAL")
    body = urlencode({"payload": json.dumps(press)})
    assert (await post(slack_http, body, signed_headers(body)))[0] == 200
    [response] = await slack_http.standin.wait_for(
        lambda: [r for r in slack_http.standin.responses if r["url"] == press["response_url"]])
    assert "Logged 0.5h" in texts_sent(response) and response["response_type"] == "ephemeral"


async def test_the_request_url_check_is_answered(slack_http: Slack) -> None:
    body = json.dumps({"token": "x", "challenge": "pacer-challenge", "type": "url_verification"})
    headers = signed_headers(body) | {"Content-Type": "application/json"}
    status, text = await post(slack_http, body, headers)
    assert status == 200 and "pacer-challenge" in text


async def test_an_app_home_event_is_served_over_http(slack_http: Slack) -> None:
    body = json.dumps(slack_http.standin.home_opened_payload(ANA))
    headers = signed_headers(body) | {"Content-Type": "application/json"}
    assert (await post(slack_http, body, headers))[0] == 200
    [view] = await slack_http.standin.wait_for(lambda: slack_http.standin.views)
    assert view["user_id"] == ANA

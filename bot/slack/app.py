"""Build the Slack Web API client and the bolt app with Pacer's listeners."""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_sdk.http_retry.async_handler import AsyncRetryHandler
from slack_sdk.http_retry.builtin_async_handlers import AsyncRateLimitErrorRetryHandler
from slack_sdk.web.async_client import AsyncWebClient

from bot.app import Core
from bot.config import SlackSettings
from bot.metrics import NO_METRICS, Metrics
from bot.slack.front import SlackFront
from bot.slack.listeners import register_listeners
from bot.slack.sender import ChannelPacer

log = logging.getLogger(__name__)

RATE_LIMIT_RETRIES = 10


class CountedRequests(AsyncRetryHandler):
    """Count every Web API request (each attempt) and every 429; never asks for a retry.

    slack_sdk consults its retry handlers after every attempt, answered or not, so the first
    handler of the list sees each request exactly once.
    """

    def __init__(self, metrics: Metrics) -> None:
        super().__init__(max_retry_count=0)
        self.metrics = metrics

    async def can_retry_async(self, *, state: Any, request: Any, response: Any = None,
                              error: Exception | None = None) -> bool:
        self.metrics.rest_request("slack")
        if response is not None and response.status_code == 429:
            self.metrics.rate_limited("slack")
        return False


def web_client(settings: SlackSettings, metrics: Metrics = NO_METRICS) -> AsyncWebClient:
    """Build the Web API client on the configured base URL; 429s wait for Retry-After.

    Only rate-limit answers are retried: Slack acted on nothing it refused with 429, so a
    retried post is never shown twice (a dropped connection is left to the dispatcher).
    """
    base = settings.api_base_url.rstrip("/") + "/"
    return AsyncWebClient(token=settings.bot_token, base_url=base, retry_handlers=[
        CountedRequests(metrics),
        AsyncRateLimitErrorRetryHandler(max_retry_count=RATE_LIMIT_RETRIES)])


def create_app(front: SlackFront, settings: SlackSettings) -> AsyncApp:
    """Build the bolt app on FRONT's client; HTTP requests must carry a valid signature."""
    app = AsyncApp(client=front.client, signing_secret=settings.signing_secret or "",
                   logger=logging.getLogger("slack_bolt"))
    register_listeners(app, front)
    return app


def create_front(core: Core, settings: SlackSettings,
                 pacer: ChannelPacer | None = None) -> tuple[SlackFront, AsyncApp]:
    """Build the front and its bolt app as ``python -m bot`` does."""
    front = SlackFront(core, web_client(settings, core.metrics), pacer=pacer)
    return front, create_app(front, settings)

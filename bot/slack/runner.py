"""Run the Slack front: Socket Mode (the default, no public URL) or an HTTP endpoint.

Socket Mode asks ``apps.connections.open`` (with the ``xapp-`` app token, on the configured
API base) for a websocket URL and receives every request over it. HTTP mode serves
``POST /slack/events`` (commands, interactivity and events) on ``http_host:http_port``; bolt
checks each request's signature (``v0:timestamp:body``, HMAC-SHA256 with the signing secret)
and refuses a bad one, or one more than five minutes old, with 401 before any listener runs.

Slack has no shards: exactly one process holds the connection (``slack.connect = true``, the
default). Every other process of the bot sets ``connect = false``: it checks the bot token
and sends the dispatcher's DMs and posts through the Web API, which needs no connection, so
the outbox's claims spread Slack deliveries over every process as they do Discord's.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler
from slack_bolt.async_app import AsyncApp
from slack_sdk.errors import SlackApiError

from bot.app import Core
from bot.config import ConfigError, SlackSettings
from bot.slack.app import create_front
from bot.slack.front import SlackFront
from bot.slack.sender import ChannelPacer, SlackSender

log = logging.getLogger(__name__)

EVENTS_PATH = "/slack/events"


def http_app(app: AsyncApp, path: str = EVENTS_PATH) -> web.Application:
    """Serve the bolt app's requests on PATH (aiohttp)."""
    async def handle(request: web.Request) -> web.Response:
        return await to_aiohttp_response(await app.async_dispatch(await to_bolt_request(request)))

    web_app = web.Application()
    web_app.router.add_post(path, handle)
    return web_app


@dataclass
class SlackRuntime:
    """A running Slack front: the front (and its sender), and how to stop it."""

    front: SlackFront
    app: AsyncApp
    close: Callable[[], Awaitable[None]]
    url: str | None = None  # the HTTP endpoint, in HTTP mode

    @property
    def sender(self) -> SlackSender:
        return self.front.sender

    async def stop(self) -> None:
        """Disconnect (Socket Mode) or stop serving (HTTP), then close the client's session."""
        await self.close()
        log.info("Slack front stopped")


async def _nothing_to_close() -> None:
    """Stop a sending-only front: it holds no connection (each request has its own)."""


async def start_slack(core: Core, settings: SlackSettings,
                      pacer: ChannelPacer | None = None) -> SlackRuntime:
    """Check the token, then start receiving requests in the configured mode (if connecting)."""
    missing = settings.missing()
    if missing:
        raise ConfigError(f"the Slack front ({settings.mode} mode) needs {', '.join(missing)} "
                          "in the environment (or NAME_FILE naming a file holding it)")
    front, app = create_front(core, settings, pacer)
    try:
        me = await front.client.auth_test()
    except SlackApiError as exc:
        raise ConfigError(f"Slack refused SLACK_BOT_TOKEN: {exc.response.get('error')}") from None
    if not settings.connect:
        log.info("Slack front: bot %s in workspace %s, sending only (slack.connect = false: "
                 "another process receives Slack's requests)", me.get("user_id"),
                 me.get("team_id"))
        return SlackRuntime(front, app, _nothing_to_close)
    log.info("Slack front: bot %s in workspace %s, %s mode", me.get("user_id"),
             me.get("team_id"), settings.mode)
    if settings.mode == "socket":
        handler = AsyncSocketModeHandler(app, settings.app_token, web_client=front.client)
        await handler.connect_async()
        return SlackRuntime(front, app, handler.close_async)
    runner = web.AppRunner(http_app(app), access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, settings.http_host, settings.http_port)
    await site.start()
    host, port = runner.addresses[0][:2]
    url = f"http://{host}:{port}{EVENTS_PATH}"
    log.info("Slack front listening on %s", url)
    return SlackRuntime(front, app, runner.cleanup, url)

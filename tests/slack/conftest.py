"""The Slack harness: the loopback stand-in, a core on a real store, the real bolt app."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, replace
from typing import Any

import pytest

from bot.app import Core, build_services
from bot.config import Settings, SlackSettings
from bot.grammar import Grammar
from bot.plan import PlanRegistry
from bot.slack.runner import SlackRuntime, start_slack
from bot.slack.sender import ChannelPacer
from bot.store import Store
from tests.conftest import FakeClock
from tests.slack_standin import SlackStandIn
from tests.slack_standin.server import APP_TOKEN, BOT_TOKEN, SIGNING_SECRET

ANA, BEN, EVE = "UANA", "UBEN", "UEVE"
GENERAL = "CGENERAL"


def block_texts(blocks: list[dict[str, Any]] | None) -> str:
    """Join every text of a list of blocks (sections, contexts, buttons)."""
    out: list[str] = []
    for block in blocks or []:
        if "text" in block and isinstance(block["text"], dict):
            out.append(block["text"]["text"])
        for element in block.get("elements", []):
            text = element.get("text")
            out.append(text["text"] if isinstance(text, dict) else str(text or ""))
    return "\n".join(out)


def texts_sent(message: dict[str, Any]) -> str:
    """Return every text a message (or response) carried: its text and its blocks."""
    return str(message.get("text") or "") + "\n" + block_texts(message.get("blocks"))


@dataclass
class Slack:
    """A running Slack front against the stand-in, for one test."""

    standin: SlackStandIn
    runtime: SlackRuntime
    core: Core
    clock: FakeClock

    async def command(self, text: str, user: str = ANA, *, channel: str = GENERAL,
                      channel_name: str = "general") -> list[dict[str, Any]]:
        """Type ``/pacer TEXT`` over Socket Mode; return the responses it got (acked < 3 s)."""
        payload = self.standin.slash_payload(text, user, channel=channel,
                                             channel_name=channel_name)
        env = await self.standin.send_envelope("slash_commands", payload)
        assert env.acked_at is not None and env.acked_at - env.sent_at < 3.0
        url = payload["response_url"]
        return await self.standin.wait_for(
            lambda: [r for r in self.standin.responses if r["url"] == url])

    async def reply(self, text: str, user: str = ANA, **kw: Any) -> tuple[str, str]:
        """Type a command; return (response_type, all text of the first response)."""
        first = (await self.command(text, user, **kw))[0]
        return first.get("response_type", ""), texts_sent(first)

    async def press(self, action: str, user: str = ANA, *, channel: str | None = None,
                    message_ts: str | None = None,
                    message: dict[str, Any] | None = None) -> list[dict[str, Any]]:
        """Press a message button over Socket Mode; return the responses it got."""
        payload = self.standin.button_payload(action, user, channel=channel,
                                              message_ts=message_ts, message=message)
        await self.standin.send_envelope("interactive", payload)
        url = payload["response_url"]
        return await self.standin.wait_for(
            lambda: [r for r in self.standin.responses if r["url"] == url])

    async def press_home(self, action: str, user: str = ANA) -> dict[str, Any]:
        """Press a button of the App Home; return the view published next."""
        before = len(self.standin.views)
        await self.standin.send_envelope("interactive",
                                         self.standin.button_payload(action, user, home=True))
        return await self.standin.wait_for(
            lambda: len(self.standin.views) > before and self.standin.views[-1])

    async def dm_channel(self, user: str) -> str:
        return await self.runtime.front.dms.channel_for(user)


def slack_settings(standin: SlackStandIn, **kw: Any) -> SlackSettings:
    return SlackSettings(enabled=True, api_base_url=standin.api_url, bot_token=BOT_TOKEN,
                         app_token=APP_TOKEN, signing_secret=SIGNING_SECRET, **kw)


@pytest.fixture
async def standin() -> AsyncIterator[SlackStandIn]:
    server = SlackStandIn()
    server.add_user(ANA, "ana", "Europe/Berlin")
    server.add_user(BEN, "ben", "America/New_York")
    server.add_user(EVE, "eve", None)
    server.add_channel(GENERAL)
    await server.start()
    yield server
    await server.stop()


def make_core(store: Store, plans: PlanRegistry, clock: FakeClock,
              settings: SlackSettings) -> Core:
    services = build_services(store, plans, clock=clock)
    return Core(replace(Settings(), slack=settings), store, plans, services, Grammar(services))


async def running(standin: SlackStandIn, store: Store, plans: PlanRegistry,
                  clock: FakeClock, **kw: Any) -> AsyncIterator[Slack]:
    settings = slack_settings(standin, **kw)
    core = make_core(store, plans, clock, settings)
    runtime = await start_slack(core, settings, pacer=ChannelPacer(1.0))
    if settings.mode == "socket":
        await standin.connected()
    try:
        yield Slack(standin, runtime, core, clock)
    finally:
        await runtime.stop()


@pytest.fixture
async def slack(standin: SlackStandIn, sqlite_store: Store, plans: PlanRegistry,
                clock: FakeClock) -> AsyncIterator[Slack]:
    """The Slack front in Socket Mode over a SQLite store."""
    async for harness in running(standin, sqlite_store, plans, clock):
        yield harness


@pytest.fixture
async def slack_any_store(standin: SlackStandIn, store: Store, plans: PlanRegistry,
                          clock: FakeClock) -> AsyncIterator[Slack]:
    """The Slack front in Socket Mode over SQLite, then PostgreSQL."""
    async for harness in running(standin, store, plans, clock):
        yield harness


@pytest.fixture
async def slack_http(standin: SlackStandIn, sqlite_store: Store, plans: PlanRegistry,
                     clock: FakeClock) -> AsyncIterator[Slack]:
    """The Slack front in HTTP mode on a free port of 127.0.0.1."""
    async for harness in running(standin, sqlite_store, plans, clock, mode="http",
                                 http_port=0):
        yield harness

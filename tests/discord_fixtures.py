"""Run the real PacerBot (built by create_bot, as `python -m bot run` does) against the stand-in."""

from __future__ import annotations

import contextlib
import itertools
from collections.abc import AsyncIterator, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import discord.http
from discord.gateway import DiscordWebSocket

from bot.actors import Actor
from bot.app import Core, build_core
from bot.config import DatabaseSettings, DiscordSettings, Settings
from bot.discord.client import PacerBot, create_bot
from bot.discord.sync import sync_commands
from bot.services import Onboarding
from tests.conftest import FakeClock
from tests.standin import DiscordStandin, InteractionCallback, InteractionHandle, SentMessage

START = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)  # a Monday, 13:00 in Berlin
FLAG_EPHEMERAL = 64


def standin_settings(standin: DiscordStandin, db_url: str, **discord_options: Any) -> Settings:
    """Settings a user would write, pointing the REST base and gateway at the stand-in."""
    return Settings(
        database=DatabaseSettings(url=db_url),
        discord=DiscordSettings(rest_base_url=standin.rest_base, gateway_url=standin.gateway_url,
                                **discord_options),
    )


@contextlib.contextmanager
def discord_globals_restored() -> Iterator[None]:
    """Restore discord.py's REST base and gateway URL that create_bot sets."""
    base, gateway = discord.http.Route.BASE, DiscordWebSocket.DEFAULT_GATEWAY
    try:
        yield
    finally:
        discord.http.Route.BASE, DiscordWebSocket.DEFAULT_GATEWAY = base, gateway


def copy_database(template: Path, folder: Path) -> str:
    """Copy the migrated SQLite template into FOLDER and return its URL."""
    path = folder / "pacer.sqlite3"
    path.write_bytes(template.read_bytes())
    return f"sqlite+aiosqlite:///{path}"


@contextlib.asynccontextmanager
async def running_bot(standin: DiscordStandin, settings: Settings,
                      clock: FakeClock) -> AsyncIterator[tuple[PacerBot, Core]]:
    """Build a Core on the settings' database and a connected PacerBot; close both after."""
    core = await build_core(settings, clock=clock, migrate=False)
    try:
        bot = create_bot(core, settings, guild_ready_timeout=0.01)
        async with standin.run_client(bot):
            yield bot, core
    finally:
        await core.close()


def text_of(message: SentMessage | InteractionCallback | Mapping[str, Any]) -> str:
    """Join a message's content and its embeds' authors, titles and descriptions."""
    if isinstance(message, SentMessage):
        body: Mapping[str, Any] = message.message
    elif isinstance(message, InteractionCallback):
        body = message.data
    else:
        body = message
    parts = [str(body.get("content") or "")]
    for embed in body.get("embeds") or []:
        parts += [str((embed.get("author") or {}).get("name") or ""),
                  str(embed.get("title") or ""), str(embed.get("description") or "")]
    return "\n".join(p for p in parts if p)


@dataclass
class Answer:
    """What the bot answered to one interaction: the callback, the messages, their text."""

    handle: InteractionHandle
    callback: InteractionCallback
    messages: list[SentMessage]

    @property
    def first(self) -> SentMessage:
        return self.messages[0]

    @property
    def ephemeral(self) -> bool:
        return self.first.ephemeral

    @property
    def flags(self) -> int:
        return self.first.flags & FLAG_EPHEMERAL

    @property
    def text(self) -> str:
        return "\n".join(text_of(m) for m in self.messages)

    @property
    def embeds(self) -> list[dict[str, Any]]:
        return [e for m in self.messages for e in m.embeds]


@dataclass
class World:
    """One stand-in, one connected PacerBot and its Core, shared by a test module."""

    standin: DiscordStandin
    bot: PacerBot
    core: Core
    settings: Settings
    clock: FakeClock
    _names: Iterator[int] = field(default_factory=lambda: itertools.count(1))

    def new_user(self, name: str = "learner") -> dict[str, Any]:
        """Create a fresh guild member (each test gets learners of its own)."""
        n = next(self._names)
        return self.standin.make_user(f"{name}{n}", global_name=f"{name.capitalize()} {n}")

    def actor(self, user: Mapping[str, Any], *, dm: bool = False) -> Actor:
        """Return the Actor the cogs build for this user and place."""
        channel = self.standin.dm_channel_id(int(user["id"])) if dm else self.standin.channel_id
        return Actor("discord", str(user["id"]), user.get("global_name") or user["username"],
                     space_id=None if dm else str(self.standin.guild_id),
                     channel_id=str(channel))

    async def onboard(self, user: Mapping[str, Any], *, dm: bool = False) -> None:
        """Start the plan for USER through the core (set-up, not the scenario)."""
        await self.core.services.onboarding.start(self.actor(user, dm=dm),
                                                 Onboarding(timezone="Europe/Berlin"))

    async def ask(self, name: str, options: Mapping[str, Any] | None = None, *,
                  user: Mapping[str, Any], dm: bool = False, followups: int = 0) -> Answer:
        """Invoke a slash command as USER and collect the answer (and FOLLOWUPS more)."""
        handle = await self.standin.send_command(name, options, user=user, dm=dm)
        return await collect(handle, followups)


async def collect(handle: InteractionHandle, followups: int = 0) -> Answer:
    """Wait for the callback (and, after a deferral, the message that completes it)."""
    callback = await handle.response()
    if callback.type == 5:
        await handle.followups(1 + followups)
        messages = []
        for m in [handle.original, *handle.followup_messages]:
            if m is not None and all(m is not seen for seen in messages):
                messages.append(m)  # the first followup completes (is) the original
    else:
        if followups:
            await handle.followups(followups)
        messages = [m for m in [callback.message, *handle.followup_messages] if m is not None]
    return Answer(handle, callback, messages)


async def start_world(standin: DiscordStandin, db_url: str) -> AsyncIterator[World]:
    """Connect a PacerBot to STANDIN, sync its commands to the guild, and yield the World."""
    settings = standin_settings(standin, db_url)
    clock = FakeClock(START)
    async with running_bot(standin, settings, clock) as (bot, core):
        await sync_commands(bot, standin.guild_id)
        standin.requests.clear()
        yield World(standin, bot, core, settings, clock)

"""Persistent buttons: a custom id ``pacer:ACTION`` is parsed once into a typed action.

The dispatcher puts neutral buttons on its messages (``bot.messages``: ``snooze:1h``,
``snooze:evening``, ``log:30m`` ...). Their custom ids are ``"pacer:" + action`` and the
buttons are ``DynamicItem``s, so a press after a restart still reaches the bot. A press parses
the action into a ``ButtonAction`` (never trusting the text beyond that parse) and calls the
core with typed values; the text command line grammar is never involved. Both spellings of
an amount are accepted: ``log:30m`` / ``log:1h`` (ids sent so far) and a bare number of
minutes (``log:60``).
"""

from __future__ import annotations

import re
from collections.abc import Awaitable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import discord

from bot.actors import Actor
from bot.discord.errors import UnknownButton, report_error
from bot.discord.replies import actor_of, core_of, respond
from bot.messages import OutMessage
from bot.outcomes import Snoozed, TimeLogged
from bot.values import SnoozeSpec

if TYPE_CHECKING:
    from bot.app import Core

BUTTON_PREFIX = "pacer:"
MAX_LOG_MINUTES = 24 * 60
MAX_SNOOZE_MINUTES = 24 * 60
_AMOUNT = re.compile(r"(?P<n>[0-9]{1,4})(?P<unit>[mh]?)")
STALE = "This button no longer does anything; use the slash commands."


@dataclass(frozen=True)
class LogTime:
    """Log MINUTES of study today."""

    minutes: int

    def run(self, core: Core, actor: Actor) -> Awaitable[TimeLogged]:
        return core.services.timelog.log_time(actor, self.minutes)


@dataclass(frozen=True)
class Snooze:
    """Snooze today's reminder for MINUTES, or until the evening (MINUTES None)."""

    minutes: int | None

    def run(self, core: Core, actor: Actor) -> Awaitable[Snoozed]:
        spec = (SnoozeSpec("evening") if self.minutes is None
                else SnoozeSpec("minutes", self.minutes))
        return core.services.pauses.snooze(actor, spec)


ButtonAction = LogTime | Snooze


def _minutes(text: str, most: int) -> int | None:
    found = _AMOUNT.fullmatch(text)
    if found is None:
        return None
    minutes = int(found["n"]) * (60 if found["unit"] == "h" else 1)
    return minutes if 1 <= minutes <= most else None


def parse_action(action: str) -> ButtonAction | None:
    """Parse a button's action (the custom id without ``pacer:``); None when unknown."""
    verb, _, arg = action.partition(":")
    if verb == "log" and (minutes := _minutes(arg, MAX_LOG_MINUTES)) is not None:
        return LogTime(minutes)
    if verb == "snooze":
        if arg == "evening":
            return Snooze(None)
        if (minutes := _minutes(arg, MAX_SNOOZE_MINUTES)) is not None:
            return Snooze(minutes)
    return None


class ActionButton(discord.ui.DynamicItem[discord.ui.Button[Any]],
                   template=r"pacer:(?P<action>[a-z0-9][a-z0-9:_-]{0,90})"):
    """A button whose custom id ``pacer:ACTION`` survives restarts; a press runs its action."""

    def __init__(self, action: str, label: str | None = None) -> None:
        style = (discord.ButtonStyle.primary if action.startswith("log:")
                 else discord.ButtonStyle.secondary)
        super().__init__(discord.ui.Button(label=(label or action)[:80], style=style,
                                           custom_id=f"{BUTTON_PREFIX}{action}"))
        self.action = action

    @classmethod
    async def from_custom_id(cls, interaction: discord.Interaction,
                             item: discord.ui.Button[Any], match: re.Match[str]) -> ActionButton:
        return cls(match["action"], item.label)

    async def callback(self, interaction: discord.Interaction) -> None:
        try:
            await run_button_action(interaction, self.action)
        except Exception as exc:
            await report_error(interaction, exc)


async def run_button_action(interaction: discord.Interaction, action: str) -> None:
    """Run the typed action behind a button for the user who pressed it."""
    parsed = parse_action(action)
    if parsed is None:
        raise UnknownButton(STALE)
    await respond(interaction, parsed.run(core_of(interaction), actor_of(interaction)))


def button_view(message: OutMessage) -> discord.ui.View | None:
    """Build the persistent view showing the message's neutral buttons."""
    if not message.buttons:
        return None
    view = discord.ui.View(timeout=None)
    for button in message.buttons[:25]:
        view.add_item(ActionButton(button.action, button.label))
    return view

"""Persistent buttons: a custom id ``pacer:ACTION`` is parsed once into a typed action.

The dispatcher puts neutral buttons on its messages (``bot.messages``). Their custom ids are
``"pacer:" + action`` and the buttons are ``DynamicItem``s, so a press after a restart still
reaches the bot (ids sent by older versions included). A press parses the action with
``bot.actions.parse_action`` and runs it against the typed services; the line grammar is
never involved.
"""

from __future__ import annotations

import re
from typing import Any

import discord

from bot.actions import STALE as STALE_BUTTON
from bot.actions import parse_action
from bot.discord.errors import UnknownButton, report_error
from bot.discord.replies import actor_of, respond, services_of
from bot.messages import OutMessage

BUTTON_PREFIX = "pacer:"


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
        raise UnknownButton(STALE_BUTTON)
    await respond(interaction, parsed.run(services_of(interaction), actor_of(interaction)))


def button_view(message: OutMessage) -> discord.ui.View | None:
    """Build the persistent view showing the message's neutral buttons."""
    if not message.buttons:
        return None
    view = discord.ui.View(timeout=None)
    for button in message.buttons[:25]:
        view.add_item(ActionButton(button.action, button.label))
    return view

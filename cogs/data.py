"""Your data: /export, /import (with a confirm button) and /forget-me (with a confirm button).

The confirm buttons carry the pending request's token in their custom id and are dynamic
items, so a press after a restart (or after the request expired) still gets an answer.
"""

from __future__ import annotations

import re
from typing import Any

import discord
from discord import app_commands
from discord.ext import commands

from bot.catalogue import CATALOGUE
from bot.discord.client import PacerBot
from bot.discord.errors import report_error
from bot.discord.replies import actor_of, core_of, paced, respond, show
from bot.presenting import present
from bot.replies import Reply
from bot.services.data import DataService
from bot.trackerfile import MAX_BYTES

FORMAT_CHOICES = [app_commands.Choice(name="Markdown tracker (.md)", value="markdown"),
                  app_commands.Choice(name="Everything, as JSON", value="json"),
                  app_commands.Choice(name="Everything, as CSV files (.zip)", value="csv")]


def _data(interaction: discord.Interaction) -> DataService:
    return core_of(interaction).services.data


def confirm_view(kind: str, token: str, confirm_label: str) -> discord.ui.View:
    """Build the Confirm / Cancel buttons of a pending import or deletion."""
    view = discord.ui.View(timeout=None)
    view.add_item(ConfirmButton(kind, "confirm", token, confirm_label))
    view.add_item(ConfirmButton(kind, "cancel", token, "Cancel"))
    return view


class ConfirmButton(discord.ui.DynamicItem[discord.ui.Button[Any]],
                    template=r"(?P<kind>import|forget):(?P<op>confirm|cancel):(?P<token>[0-9a-f]{1,32})"):
    """Confirm or cancel the pending import or deletion named by the token."""

    def __init__(self, kind: str, op: str, token: str, label: str | None = None) -> None:
        danger = kind == "forget" and op == "confirm"
        style = (discord.ButtonStyle.danger if danger else discord.ButtonStyle.success
                 if op == "confirm" else discord.ButtonStyle.secondary)
        super().__init__(discord.ui.Button(label=label or op.capitalize(), style=style,
                                           custom_id=f"{kind}:{op}:{token}"))
        self.kind, self.op, self.token = kind, op, token

    @classmethod
    async def from_custom_id(cls, interaction: discord.Interaction,
                             item: discord.ui.Button[Any], match: re.Match[str]) -> ConfirmButton:
        return cls(match["kind"], match["op"], match["token"], item.label)

    async def callback(self, interaction: discord.Interaction) -> None:
        try:
            await respond(interaction, self.run(interaction))
        except Exception as exc:
            await report_error(interaction, exc)

    async def run(self, interaction: discord.Interaction) -> Reply:
        """Apply or drop the pending request of the person who pressed."""
        dc, actor = _data(interaction), actor_of(interaction)
        if self.kind == "import":
            if self.op == "confirm":
                return present(await dc.confirm_import(actor, self.token))
            return await dc.cancel_import(actor)
        if self.op == "confirm":
            return await dc.forget_me_confirm(actor, self.token)
        return Reply("Nothing was deleted.", title="Forget me")


class Data(commands.Cog):
    """Take your tracker out, bring it in, or have it deleted."""

    def __init__(self, bot: PacerBot) -> None:
        self.bot = bot

    @app_commands.command(name="export", description=CATALOGUE["export"].summary)
    @app_commands.describe(format="Markdown tracker (default), or everything as JSON or CSV")
    @app_commands.choices(format=FORMAT_CHOICES)
    async def export(self, interaction: discord.Interaction,
                     format: app_commands.Choice[str] | None = None) -> None:
        await respond(interaction, _data(interaction).export(
            actor_of(interaction), format.value if format is not None else "markdown"))

    @app_commands.command(name="import", description=CATALOGUE["import"].summary)
    @app_commands.describe(file="Your tracker as Markdown (.md), e.g. from /export")
    async def import_(self, interaction: discord.Interaction, file: discord.Attachment) -> None:
        actor = actor_of(interaction)

        async def preview() -> tuple[Reply, str | None]:
            # Too large: do not download it; the importer words the refusal.
            data = (b"\0" * (MAX_BYTES + 1) if file.size > MAX_BYTES else await file.read())
            return await _data(interaction).preview_import(actor, data, file.filename)

        reply, token = await paced(interaction, preview())
        view = confirm_view("import", token, "Import") if token else None
        await show(interaction, reply, view=view)

    @app_commands.command(name="forget-me",
                          description=CATALOGUE["forget-me"].summary)
    async def forget_me(self, interaction: discord.Interaction) -> None:
        reply, token = await paced(interaction, _data(interaction).forget_me(
            actor_of(interaction)))
        await show(interaction, reply, view=confirm_view("forget", token, "Delete everything"))


async def setup(bot: PacerBot) -> None:
    """Add the data commands and their confirm buttons."""
    bot.add_dynamic_items(ConfirmButton)
    await bot.add_cog(Data(bot))

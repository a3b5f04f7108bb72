"""Deadlines: /deadline add, /deadline list and /deadline remove."""

from __future__ import annotations

import discord
from discord import app_commands
from discord.ext import commands

from bot.catalogue import CATALOGUE
from bot.discord.client import PacerBot
from bot.discord.replies import actor_of, choices, respond
from bot.discord.transformers import DateOption
from bot.limits import TITLE_MAX
from bot.services import suggestions

Choices = list[app_commands.Choice[str]]


class Deadlines(commands.Cog):
    """Dated goals: interviews, applications, reviews."""

    deadline = app_commands.Group(name="deadline", description=CATALOGUE["deadline"].summary)

    def __init__(self, bot: PacerBot) -> None:
        self.bot = bot
        self.services = bot.core.services

    @deadline.command(name="add", description="Add a deadline")
    @app_commands.describe(title="What is due, e.g. NVIDIA interview",
                           when="The date: YYYY-MM-DD, 15 Jan 2027 or tomorrow")
    async def add(self, interaction: discord.Interaction,
                  title: app_commands.Range[str, 1, TITLE_MAX], when: DateOption) -> None:
        await respond(interaction, self.services.deadlines.add_deadline(
            actor_of(interaction), title, when))

    @deadline.command(name="list", description="List your deadlines, soonest first")
    async def list(self, interaction: discord.Interaction) -> None:
        await respond(interaction, self.services.views.deadlines(actor_of(interaction)))

    @deadline.command(name="remove", description="Remove a deadline")
    @app_commands.describe(deadline="The deadline's number or title")
    async def remove(self, interaction: discord.Interaction,
                     deadline: app_commands.Range[str, 1, 100]) -> None:
        await respond(interaction, self.services.deadlines.remove_deadline(
            actor_of(interaction), deadline))

    @remove.autocomplete("deadline")
    async def _deadlines(self, interaction: discord.Interaction, current: str) -> Choices:
        return choices(await suggestions.deadlines(self.services.ctx, actor_of(interaction),
                                                   current))


async def setup(bot: PacerBot) -> None:
    """Add the deadline commands."""
    await bot.add_cog(Deadlines(bot))

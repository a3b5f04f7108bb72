"""Milestones: /milestones, the reached ones with their dates and what the open ones need."""

from __future__ import annotations

import discord
from discord import app_commands
from discord.ext import commands

from bot.catalogue import CATALOGUE
from bot.discord.client import PacerBot
from bot.discord.replies import actor_of, respond


class Milestones(commands.Cog):
    """Show the plan's milestones."""

    def __init__(self, bot: PacerBot) -> None:
        self.bot = bot
        self.services = bot.core.services

    @app_commands.command(name="milestones", description=CATALOGUE["milestones"].summary)
    async def milestones(self, interaction: discord.Interaction) -> None:
        await respond(interaction, self.services.views.milestones(actor_of(interaction)))


async def setup(bot: PacerBot) -> None:
    """Add the milestones command."""
    await bot.add_cog(Milestones(bot))

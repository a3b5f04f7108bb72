"""Reminders: /digest preview and /snooze (the reminder's buttons make the same calls)."""

from __future__ import annotations

import discord
from discord import app_commands
from discord.ext import commands

from bot.catalogue import CATALOGUE
from bot.discord.client import PacerBot
from bot.discord.replies import actor_of, respond
from bot.discord.transformers import Snooze

Choices = list[app_commands.Choice[str]]
SNOOZE_CHOICES = ("1h", "30m", "2h", "evening", "off")


class Reminders(commands.Cog):
    """Preview the weekly digest; snooze the daily reminder."""

    digest = app_commands.Group(name="digest", description=CATALOGUE["digest"].summary)

    def __init__(self, bot: PacerBot) -> None:
        self.bot = bot
        self.services = bot.core.services

    @digest.command(name="preview",
                    description="Show what you and your partner would get in the digest now")
    async def preview(self, interaction: discord.Interaction) -> None:
        await respond(interaction, self.services.reminders.digest_preview(actor_of(interaction)))

    @app_commands.command(name="snooze", description=CATALOGUE["snooze"].summary)
    @app_commands.describe(until="For how long: 1h, 30m, evening (20:00 your time), or off")
    async def snooze(self, interaction: discord.Interaction, until: Snooze) -> None:
        await respond(interaction, self.services.pauses.snooze(actor_of(interaction), until))

    @snooze.autocomplete("until")
    async def _spans(self, interaction: discord.Interaction, current: str) -> Choices:
        key = current.strip().lower()
        found = [c for c in SNOOZE_CHOICES if c.startswith(key)] or ([key] if key else [])
        return [app_commands.Choice(name=c, value=c) for c in found[:25]]


async def setup(bot: PacerBot) -> None:
    """Add the reminder commands."""
    await bot.add_cog(Reminders(bot))

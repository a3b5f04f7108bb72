"""Administration: /pacer sync and /pacer status (the bot's owner), /pacer channel and /pacer
plan (managers)."""

from __future__ import annotations

import logging

import discord
from discord import app_commands
from discord.ext import commands

from bot.catalogue import CATALOGUE
from bot.discord.client import PacerBot
from bot.discord.errors import owner_only
from bot.discord.pacing import defer
from bot.discord.replies import actor_of, choices, respond, show
from bot.discord.sync import sync_commands
from bot.errors import InputError
from bot.replies import Reply
from bot.services import suggestions

log = logging.getLogger(__name__)


@app_commands.default_permissions(manage_guild=True)
class Admin(commands.GroupCog, group_name="pacer",
            group_description="Administer Pacer on this server"):
    """Owner and server-manager commands."""

    def __init__(self, bot: PacerBot) -> None:
        self.bot = bot
        super().__init__()

    @app_commands.command(name="sync", description="Sync the slash commands (bot owner only)")
    @app_commands.describe(scope="This server only (instant) or every server (up to an hour)")
    @app_commands.choices(scope=[app_commands.Choice(name="this server", value="guild"),
                                 app_commands.Choice(name="global", value="global")])
    @app_commands.check(owner_only)
    async def sync(self, interaction: discord.Interaction,
                   scope: app_commands.Choice[str]) -> None:
        if scope.value == "guild" and interaction.guild_id is None:
            raise InputError("Syncing to this server needs a server channel; in a direct "
                             "message choose global.")
        await defer(interaction)
        synced = await sync_commands(
            self.bot, interaction.guild_id if scope.value == "guild" else None)
        where = "this server" if scope.value == "guild" else "every server"
        await show(interaction, Reply(f"Synced {len(synced)} commands to {where}.",
                                      title="Commands synced"))

    @app_commands.command(name="status",
                          description="Show Pacer's version, database, dispatcher lag, outbox "
                                      "and processes (bot owner only)")
    @app_commands.check(owner_only)
    async def status(self, interaction: discord.Interaction) -> None:
        await respond(interaction, self.bot.core.services.status.report())  # private

    @app_commands.command(name="channel",
                          description="Set the channel for reminders that cannot be sent by DM")
    @app_commands.describe(channel="The channel (default: this one)",
                           clear="Remove the fallback channel instead")
    async def channel(self, interaction: discord.Interaction,
                      channel: discord.TextChannel | None = None,
                      clear: bool = False) -> None:
        target = None if clear else str(channel.id if channel else interaction.channel_id)
        await respond(interaction, self.bot.core.services.spaces.set_fallback_channel(
            actor_of(interaction), target))

    @app_commands.command(name="plan", description=CATALOGUE["plan"].summary)
    @app_commands.describe(plan="The plan id")
    async def plan(self, interaction: discord.Interaction,
                   plan: app_commands.Range[str, 1, 64]) -> None:
        await respond(interaction, self.bot.core.services.spaces.use_plan(
            actor_of(interaction), plan))

    @plan.autocomplete("plan")
    async def _plans(self, interaction: discord.Interaction,
                     current: str) -> list[app_commands.Choice[str]]:
        return choices(suggestions.plans(self.bot.core.services.ctx, current))


async def setup(bot: PacerBot) -> None:
    """Add the administration commands."""
    await bot.add_cog(Admin(bot))

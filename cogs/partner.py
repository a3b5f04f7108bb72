"""Accountability partner: /partner invite, accept, end and share."""

from __future__ import annotations

import re

import discord
from discord import app_commands
from discord.ext import commands

from bot.catalogue import CATALOGUE
from bot.discord.client import PacerBot
from bot.discord.replies import actor_of, actor_of_user, choices, respond
from bot.errors import InputError
from bot.services import suggestions

Choices = list[app_commands.Choice[str]]


def share_parts(text: str) -> list[str]:
    """Split the comma-separated parts to share; "none" shares nothing."""
    items = [x for x in re.split(r"[,\s]+", text.strip()) if x]
    return [] if items == ["none"] else items


class Partner(commands.Cog):
    """Invite someone who receives your weekly digest."""

    partner = app_commands.Group(name="partner",
                                 description=CATALOGUE["partner"].summary)

    def __init__(self, bot: PacerBot) -> None:
        self.bot = bot
        self.services = bot.core.services

    @partner.command(name="invite", description="Invite someone as your accountability partner")
    @app_commands.describe(member="The person to invite")
    async def invite(self, interaction: discord.Interaction,
                     member: discord.Member | discord.User) -> None:
        if member.bot:
            raise InputError(f"{member.display_name} is a bot; invite a person as your partner.")
        await respond(interaction, self.services.partners.invite(
            actor_of(interaction), actor_of_user(member, interaction)))

    @partner.command(name="accept", description="Accept an invitation to be someone's partner")
    @app_commands.describe(learner="Who invited you (only needed when several did)")
    async def accept(self, interaction: discord.Interaction,
                     learner: app_commands.Range[str, 1, 100] | None = None) -> None:
        await respond(interaction, self.services.partners.accept(actor_of(interaction), learner))

    @partner.command(name="end", description="End your partnership (from either side)")
    @app_commands.describe(learner="The learner to stop partnering (only when several)")
    async def end(self, interaction: discord.Interaction,
                  learner: app_commands.Range[str, 1, 100] | None = None) -> None:
        await respond(interaction, self.services.partners.end(actor_of(interaction), learner))

    @partner.command(name="share", description="Choose what your partner sees in the digest")
    @app_commands.describe(parts="Comma-separated: hours, days, streak, scores, notes (or none)")
    async def share(self, interaction: discord.Interaction,
                    parts: app_commands.Range[str, 1, 100]) -> None:
        await respond(interaction, self.services.partners.share(actor_of(interaction),
                                                                share_parts(parts)))

    @share.autocomplete("parts")
    async def _parts(self, interaction: discord.Interaction, current: str) -> Choices:
        return choices(suggestions.share_parts(current))


async def setup(bot: PacerBot) -> None:
    """Add the partner commands."""
    await bot.add_cog(Partner(bot))

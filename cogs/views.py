"""Views: /progress, /week, /skills, /summary, /next and /help."""

from __future__ import annotations

import discord
from discord import app_commands
from discord.ext import commands

from bot.commands import Reply
from bot.discord.client import PacerBot
from bot.discord.replies import actor_of, respond, show


class Views(commands.Cog):
    """Show the tracker: overall progress, a week, the skills matrix, the summary."""

    def __init__(self, bot: PacerBot) -> None:
        self.bot = bot

    @app_commands.command(name="progress", description="Your overall progress with the plan's bars")
    async def progress(self, interaction: discord.Interaction) -> None:
        await respond(interaction, self.bot.core.commands.progress(actor_of(interaction)))

    @app_commands.command(name="week", description="One plan week's time log, day by day")
    @app_commands.describe(week="Plan week number (default: the current week)")
    async def week(self, interaction: discord.Interaction,
                   week: app_commands.Range[int, 1, 52] | None = None) -> None:
        await respond(interaction, self.bot.core.commands.week(
            actor_of(interaction), str(week) if week is not None else None))

    @app_commands.command(name="skills", description="Your self-assessment matrix, week by week")
    async def skills(self, interaction: discord.Interaction) -> None:
        await respond(interaction, self.bot.core.commands.skills(actor_of(interaction)))

    @app_commands.command(name="summary", description="The final summary of your plan")
    async def summary(self, interaction: discord.Interaction) -> None:
        await respond(interaction, self.bot.core.commands.summary(actor_of(interaction)))

    @app_commands.command(name="next", description="What is next on your plan")
    async def next(self, interaction: discord.Interaction) -> None:
        await respond(interaction, self.bot.core.commands.next(actor_of(interaction)))

    @app_commands.command(name="help", description="List Pacer's commands")
    async def help(self, interaction: discord.Interaction) -> None:
        lines = []
        for command in sorted(self.bot.tree.walk_commands(), key=lambda c: c.qualified_name):
            if isinstance(command, app_commands.Command):
                lines.append(f"`/{command.qualified_name}` — {command.description}")
        await show(interaction, Reply("\n".join(lines), title="Pacer commands"))


async def setup(bot: PacerBot) -> None:
    """Add the view commands."""
    await bot.add_cog(Views(bot))

"""Views: /progress, /week, /skills, /summary, /next and /help."""

from __future__ import annotations

import discord
from discord import app_commands
from discord.ext import commands

from bot.discord.client import PacerBot
from bot.discord.replies import actor_of, respond, show, week_choices
from bot.replies import Reply

IntChoices = list[app_commands.Choice[int]]
MAX_WEEK = 104  # bot.parsing.MAX_WEEKS: the service checks the learner's own weeks


class Views(commands.Cog):
    """Show the tracker: overall progress, a week, the skills matrix, the summary."""

    def __init__(self, bot: PacerBot) -> None:
        self.bot = bot
        self.services = bot.core.services

    @app_commands.command(name="progress", description="Your overall progress with the plan's bars")
    async def progress(self, interaction: discord.Interaction) -> None:
        await respond(interaction, self.services.views.progress(actor_of(interaction)))

    @app_commands.command(name="week", description="One plan week's time log, day by day")
    @app_commands.describe(week="Plan week number (default: the current week)")
    async def week(self, interaction: discord.Interaction,
                   week: app_commands.Range[int, 1, MAX_WEEK] | None = None) -> None:
        await respond(interaction, self.services.views.week(actor_of(interaction), week))

    @week.autocomplete("week")
    async def _weeks(self, interaction: discord.Interaction, current: str) -> IntChoices:
        return await week_choices(interaction, current)

    @app_commands.command(name="skills", description="Your self-assessment matrix, week by week")
    async def skills(self, interaction: discord.Interaction) -> None:
        await respond(interaction, self.services.views.skills(actor_of(interaction)))

    @app_commands.command(name="summary", description="The final summary of your plan")
    async def summary(self, interaction: discord.Interaction) -> None:
        await respond(interaction, self.services.views.summary(actor_of(interaction)))

    @app_commands.command(name="next", description="What is next on your plan")
    async def next(self, interaction: discord.Interaction) -> None:
        await respond(interaction, self.services.views.next_items(actor_of(interaction)))

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

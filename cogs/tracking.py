"""Tracking: /log study time, /done and /undone plan items, /undo the last change."""

from __future__ import annotations

import discord
from discord import app_commands
from discord.ext import commands

from bot.catalogue import CATALOGUE
from bot.discord.client import PacerBot
from bot.discord.replies import actor_of, choices, respond
from bot.discord.transformers import Duration, StudyDayOption, Topic
from bot.services import suggestions
from bot.values import TODAY

Choices = list[app_commands.Choice[str]]
WHEN = "Study day: today (default), yesterday, a weekday or YYYY-MM-DD"


class Tracking(commands.Cog):
    """Log time and tick plan items."""

    def __init__(self, bot: PacerBot) -> None:
        self.bot = bot
        self.services = bot.core.services

    @app_commands.command(name="log", description=CATALOGUE["log"].summary)
    @app_commands.describe(
        duration="How long: 2h, 90m, 1h30 or 1.5",
        topic="What you studied (your recent topics are suggested)",
        when=WHEN,
    )
    async def log(self, interaction: discord.Interaction, duration: Duration,
                  topic: Topic | None = None,
                  when: StudyDayOption | None = None) -> None:
        await respond(interaction, self.services.timelog.log_time(
            actor_of(interaction), duration, topic, when or TODAY))

    @log.autocomplete("topic")
    async def _topics(self, interaction: discord.Interaction, current: str) -> Choices:
        return choices(await suggestions.recent_topics(
            self.services.ctx, actor_of(interaction), current))

    @app_commands.command(name="done", description=CATALOGUE["done"].summary)
    @app_commands.describe(item="The plan item: id, day number (Day 5) or title", when=WHEN)
    async def done(self, interaction: discord.Interaction,
                   item: app_commands.Range[str, 1, 100],
                   when: StudyDayOption | None = None) -> None:
        await respond(interaction, self.services.checklist.mark_done(
            actor_of(interaction), item, when or TODAY))

    @done.autocomplete("item")
    async def _open_items(self, interaction: discord.Interaction, current: str) -> Choices:
        return choices(await suggestions.plan_items(
            self.services.ctx, actor_of(interaction), current))

    @app_commands.command(name="undone", description=CATALOGUE["undone"].summary)
    @app_commands.describe(item="The plan item to open again")
    async def undone(self, interaction: discord.Interaction,
                     item: app_commands.Range[str, 1, 100]) -> None:
        await respond(interaction, self.services.checklist.mark_undone(actor_of(interaction),
                                                                       item))

    @undone.autocomplete("item")
    async def _done_items(self, interaction: discord.Interaction, current: str) -> Choices:
        return choices(await suggestions.plan_items(
            self.services.ctx, actor_of(interaction), current, done=True))

    @app_commands.command(name="undo", description=CATALOGUE["undo"].summary)
    async def undo(self, interaction: discord.Interaction) -> None:
        await respond(interaction, self.services.history.undo(actor_of(interaction)))


async def setup(bot: PacerBot) -> None:
    """Add the tracking commands."""
    await bot.add_cog(Tracking(bot))

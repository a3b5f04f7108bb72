"""Onboarding and settings: /start, /settings show|set, /pause and /resume."""

from __future__ import annotations

import discord
from discord import app_commands
from discord.ext import commands

from bot import suggestions
from bot.commands import SETTINGS
from bot.discord.client import PacerBot
from bot.discord.replies import actor_of, choices, respond

Choices = list[app_commands.Choice[str]]
SETTING_CHOICES = [app_commands.Choice(name=f"{name}: {s.help}"[:100], value=name)
                   for name, s in SETTINGS.items()][:25]


class Settings(commands.Cog):
    """Start a plan and change how Pacer works for you."""

    settings = app_commands.Group(name="settings", description="See or change your settings")

    def __init__(self, bot: PacerBot) -> None:
        self.bot = bot

    @app_commands.command(name="start", description="Start your plan: timezone, dates, commitment")
    @app_commands.describe(
        timezone="Your IANA time zone, e.g. Europe/Berlin",
        start="Start date, YYYY-MM-DD (default: today)",
        target="Target completion date, YYYY-MM-DD",
        hours="Hours a day you commit to, e.g. 4 or 2.5 (default 4)",
        weeks="Number of weeks you commit to",
        reminder="Daily reminder time, e.g. 19:00 or 7pm, or off (default 19:00)",
        daystart="Hour (0-12) before which late study counts for the previous day (default 3)",
        goal="Your goal, in your words",
    )
    async def start(self, interaction: discord.Interaction,
                    timezone: app_commands.Range[str, 1, 64],
                    start: app_commands.Range[str, 1, 40] | None = None,
                    target: app_commands.Range[str, 1, 40] | None = None,
                    hours: app_commands.Range[str, 1, 10] | None = None,
                    weeks: app_commands.Range[int, 1, 104] | None = None,
                    reminder: app_commands.Range[str, 1, 20] | None = None,
                    daystart: app_commands.Range[int, 0, 12] | None = None,
                    goal: app_commands.Range[str, 1, 500] | None = None) -> None:
        await respond(interaction, self.bot.core.commands.start(
            actor_of(interaction), timezone, start=start, target=target, hours=hours,
            weeks=str(weeks) if weeks is not None else None, reminder=reminder,
            daystart=str(daystart) if daystart is not None else None, goal=goal))

    @start.autocomplete("timezone")
    async def _zones(self, interaction: discord.Interaction, current: str) -> Choices:
        return choices(suggestions.timezones(current))

    @settings.command(name="show", description="Show your settings")
    async def show(self, interaction: discord.Interaction) -> None:
        await respond(interaction, self.bot.core.commands.settings_show(actor_of(interaction)))

    @settings.command(name="set", description="Change one setting")
    @app_commands.describe(name="The setting to change", value="Its new value")
    @app_commands.choices(name=SETTING_CHOICES)
    async def set(self, interaction: discord.Interaction, name: app_commands.Choice[str],
                  value: app_commands.Range[str, 1, 500]) -> None:
        await respond(interaction, self.bot.core.commands.settings_set(
            actor_of(interaction), {name.value: value}))

    @set.autocomplete("value")
    async def _values(self, interaction: discord.Interaction, current: str) -> Choices:
        name = getattr(interaction.namespace, "name", None)
        if not isinstance(name, str):
            return []
        return choices(await suggestions.setting_values(self.bot.core.tracker, name, current))

    @app_commands.command(name="pause", description="Pause reminders and freeze your streak")
    @app_commands.describe(until="Last day of the pause: YYYY-MM-DD, a weekday or tomorrow")
    async def pause(self, interaction: discord.Interaction,
                    until: app_commands.Range[str, 1, 40]) -> None:
        await respond(interaction, self.bot.core.commands.pause(actor_of(interaction), until))

    @app_commands.command(name="resume", description="End a pause early")
    async def resume(self, interaction: discord.Interaction) -> None:
        await respond(interaction, self.bot.core.commands.resume(actor_of(interaction)))


async def setup(bot: PacerBot) -> None:
    """Add the settings commands."""
    await bot.add_cog(Settings(bot))

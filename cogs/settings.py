"""Onboarding and settings: /start, /settings show|set, /pause and /resume."""

from __future__ import annotations

import discord
from discord import app_commands
from discord.ext import commands

from bot.catalogue import CATALOGUE
from bot.discord.client import PacerBot
from bot.discord.replies import actor_of, choices, respond
from bot.discord.transformers import DateOption, HoursPerDay, ReminderTime, TimeZone
from bot.limits import GOAL_MAX
from bot.parsing import MAX_WEEKS, check_text
from bot.services import Onboarding, suggestions
from bot.services.onboarding import DEFAULT_DAY_START, DEFAULT_REMINDER
from bot.settings_input import SETTINGS, parse_settings

Choices = list[app_commands.Choice[str]]
SETTING_CHOICES = [app_commands.Choice(name=f"{name}: {s.help}"[:100], value=name)
                   for name, s in SETTINGS.items()][:25]


class Settings(commands.Cog):
    """Start a plan and change how Pacer works for you."""

    settings = app_commands.Group(name="settings", description=CATALOGUE["settings"].summary)

    def __init__(self, bot: PacerBot) -> None:
        self.bot = bot
        self.services = bot.core.services

    @app_commands.command(name="start", description=CATALOGUE["start"].summary)
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
    async def start(self, interaction: discord.Interaction, timezone: TimeZone,
                    start: DateOption | None = None, target: DateOption | None = None,
                    hours: HoursPerDay | None = None,
                    weeks: app_commands.Range[int, 1, MAX_WEEKS] | None = None,
                    reminder: ReminderTime | None = None,
                    daystart: app_commands.Range[int, 0, 12] | None = None,
                    goal: app_commands.Range[str, 1, GOAL_MAX] | None = None) -> None:
        options = {"start": start, "target": target, "hours": hours, "weeks": weeks,
                   "reminder": reminder, "daystart": daystart, "goal": goal}
        spec = Onboarding(
            timezone=timezone, start_date=start, target_date=target,
            commitment_minutes=hours if hours is not None else Onboarding.commitment_minutes,
            commitment_weeks=weeks,
            goal=check_text(goal, "The goal", GOAL_MAX) if goal else None,
            reminder_time=reminder.at if reminder is not None else DEFAULT_REMINDER,
            day_start_hour=daystart if daystart is not None else DEFAULT_DAY_START,
            given=tuple(name for name, value in options.items() if value is not None))
        await respond(interaction, self.services.onboarding.start(actor_of(interaction), spec))

    @start.autocomplete("timezone")
    async def _zones(self, interaction: discord.Interaction, current: str) -> Choices:
        return choices(suggestions.timezones(current))

    @settings.command(name="show", description="Show your settings")
    async def show(self, interaction: discord.Interaction) -> None:
        await respond(interaction, self.services.views.settings(actor_of(interaction)))

    @settings.command(name="set", description="Change one setting")
    @app_commands.describe(name="The setting to change", value="Its new value")
    @app_commands.choices(name=SETTING_CHOICES)
    async def set(self, interaction: discord.Interaction, name: app_commands.Choice[str],
                  value: app_commands.Range[str, 1, 500]) -> None:
        values, _names = parse_settings({name.value: value})  # each setting's own parser
        await respond(interaction, self.services.onboarding.update_settings(
            actor_of(interaction), values))

    @set.autocomplete("value")
    async def _values(self, interaction: discord.Interaction, current: str) -> Choices:
        name = getattr(interaction.namespace, "name", None)
        if not isinstance(name, str):
            return []
        return choices(await suggestions.setting_values(self.services.ctx, name, current))

    @app_commands.command(name="pause", description=CATALOGUE["pause"].summary)
    @app_commands.describe(until="Last day of the pause: YYYY-MM-DD, a weekday or tomorrow")
    async def pause(self, interaction: discord.Interaction, until: DateOption) -> None:
        await respond(interaction, self.services.pauses.pause(actor_of(interaction), until))

    @app_commands.command(name="resume", description=CATALOGUE["resume"].summary)
    async def resume(self, interaction: discord.Interaction) -> None:
        await respond(interaction, self.services.pauses.resume(actor_of(interaction)))


async def setup(bot: PacerBot) -> None:
    """Add the settings commands."""
    await bot.add_cog(Settings(bot))

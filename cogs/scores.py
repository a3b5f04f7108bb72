"""Scores: /quiz, /mock, /readiness, /score, /rate, /confidence, /count and /set."""

from __future__ import annotations

import discord
from discord import app_commands
from discord.ext import commands

from bot import suggestions
from bot.discord.client import PacerBot
from bot.discord.replies import actor_of, choices, respond

Choices = list[app_commands.Choice[str]]
# The vLLM plan has four weeks with a quiz each, five mock interviews, ratings 1-5.
WEEK_CHOICES = [app_commands.Choice(name=f"Week {n}", value=n) for n in range(1, 5)]
MOCK_SLOTS = 5


class Scores(commands.Cog):
    """Record quizzes, mock interviews, ratings, confidence, counters and fields."""

    def __init__(self, bot: PacerBot) -> None:
        self.bot = bot

    @app_commands.command(name="quiz", description="Record a weekly quiz score (out of 20)")
    @app_commands.describe(week="Which week's quiz", score="Your score, e.g. 17 or 17/20")
    @app_commands.choices(week=WEEK_CHOICES)
    async def quiz(self, interaction: discord.Interaction, week: app_commands.Choice[int],
                   score: app_commands.Range[str, 1, 20]) -> None:
        await respond(interaction, self.bot.core.commands.quiz(
            actor_of(interaction), str(week.value), score))

    @app_commands.command(name="mock", description="Record a mock interview (score out of 10)")
    @app_commands.describe(
        score="Your score, e.g. 7 or 7/10",
        feedback="What the interviewer said",
        when="When it was held: today (default), yesterday or YYYY-MM-DD",
        slot="Which of the mock interviews to fill or replace (default: the next free one)",
    )
    async def mock(self, interaction: discord.Interaction,
                   score: app_commands.Range[str, 1, 20],
                   feedback: app_commands.Range[str, 1, 500] | None = None,
                   when: app_commands.Range[str, 1, 40] | None = None,
                   slot: app_commands.Range[int, 1, MOCK_SLOTS] | None = None) -> None:
        await respond(interaction, self.bot.core.commands.mock(
            actor_of(interaction), score, feedback, when,
            str(slot) if slot is not None else None))

    @app_commands.command(name="readiness", description="Record your readiness score (out of 60)")
    @app_commands.describe(score="Your readiness self-assessment, e.g. 42 or 42/60")
    async def readiness(self, interaction: discord.Interaction,
                        score: app_commands.Range[str, 1, 20]) -> None:
        await respond(interaction, self.bot.core.commands.readiness(actor_of(interaction), score))

    @app_commands.command(name="score", description="Record any scored check of the plan")
    @app_commands.describe(what="The score (readiness, a quiz...)", value="e.g. 3 or 3/3")
    async def score(self, interaction: discord.Interaction,
                    what: app_commands.Range[str, 1, 100],
                    value: app_commands.Range[str, 1, 20]) -> None:
        await respond(interaction, self.bot.core.commands.score(actor_of(interaction), what, value))

    @score.autocomplete("what")
    async def _scores(self, interaction: discord.Interaction, current: str) -> Choices:
        return choices(await suggestions.scores(self.bot.core.tracker, actor_of(interaction),
                                                current))

    @app_commands.command(name="rate", description="Rate a skill of the self-assessment matrix")
    @app_commands.describe(skill="The skill", rating="1 (novice) to 5 (expert)",
                           week="Plan week of the rating (default: the current week)")
    @app_commands.choices(week=WEEK_CHOICES)
    async def rate(self, interaction: discord.Interaction,
                   skill: app_commands.Range[str, 1, 100],
                   rating: app_commands.Range[int, 1, 5],
                   week: app_commands.Choice[int] | None = None) -> None:
        await respond(interaction, self.bot.core.commands.rate(
            actor_of(interaction), skill, str(rating),
            str(week.value) if week is not None else None))

    @rate.autocomplete("skill")
    async def _skills(self, interaction: discord.Interaction, current: str) -> Choices:
        return choices(await suggestions.skills(self.bot.core.tracker, actor_of(interaction),
                                                current))

    @app_commands.command(name="confidence", description="Set a confidence level (1-5)")
    @app_commands.describe(area="The area: pa, coding, design, optimization...",
                           level="1 (not at all) to 5 (fully confident)")
    async def confidence(self, interaction: discord.Interaction,
                         area: app_commands.Range[str, 1, 100],
                         level: app_commands.Range[int, 1, 5]) -> None:
        await respond(interaction, self.bot.core.commands.confidence(
            actor_of(interaction), area, str(level)))

    @confidence.autocomplete("area")
    async def _areas(self, interaction: discord.Interaction, current: str) -> Choices:
        return choices(await suggestions.fields(self.bot.core.tracker, actor_of(interaction),
                                                current, confidence=True))

    @app_commands.command(name="count", description="Add to a counter (problems solved...)")
    @app_commands.describe(counter="The counter", change="+N to add (default +1), -N, or =N")
    async def count(self, interaction: discord.Interaction,
                    counter: app_commands.Range[str, 1, 100],
                    change: app_commands.Range[str, 1, 12] | None = None) -> None:
        await respond(interaction, self.bot.core.commands.count(
            actor_of(interaction), counter, change))

    @count.autocomplete("counter")
    async def _counters(self, interaction: discord.Interaction, current: str) -> Choices:
        return choices(await suggestions.counters(self.bot.core.tracker, actor_of(interaction),
                                                  current))

    @app_commands.command(name="set", description="Set a field of your tracker")
    @app_commands.describe(field="The field (status, next steps, goal...)",
                           value="The value: a choice, a number or text")
    async def set(self, interaction: discord.Interaction,
                  field: app_commands.Range[str, 1, 100],
                  value: app_commands.Range[str, 1, 1000]) -> None:
        await respond(interaction, self.bot.core.commands.set_field(
            actor_of(interaction), field, value))

    @set.autocomplete("field")
    async def _fields(self, interaction: discord.Interaction, current: str) -> Choices:
        return choices(await suggestions.fields(self.bot.core.tracker, actor_of(interaction),
                                                current))


async def setup(bot: PacerBot) -> None:
    """Add the score commands."""
    await bot.add_cog(Scores(bot))

"""Scores: /quiz, /mock, /readiness, /score, /rate, /confidence, /count and /set.

No plan fact is written here: how many weeks, quizzes and mock slots a plan has, and what a
score is out of, come from the learner's plan (autocomplete offers them; the service checks
them). The ranges below only bound what can be typed.
"""

from __future__ import annotations

import discord
from discord import app_commands
from discord.ext import commands

from bot.catalogue import CATALOGUE
from bot.discord.client import PacerBot
from bot.discord.replies import actor_of, choices, respond, week_choices
from bot.discord.transformers import Change, Score, StudyDayOption
from bot.limits import FEEDBACK_MAX
from bot.services import suggestions
from bot.values import ADD_ONE, TODAY

Choices = list[app_commands.Choice[str]]
IntChoices = list[app_commands.Choice[int]]
MAX_WEEK = 104  # bot.parsing.MAX_WEEKS: the longest commitment a plan can have
MAX_SLOT = 99
MAX_RATING = 100


class Scores(commands.Cog):
    """Record quizzes, mock interviews, ratings, confidence, counters and fields."""

    def __init__(self, bot: PacerBot) -> None:
        self.bot = bot
        self.services = bot.core.services

    @app_commands.command(name="quiz", description=CATALOGUE["quiz"].summary)
    @app_commands.describe(week="Which week's quiz",
                           score="Your points, or points/maximum of the quiz")
    async def quiz(self, interaction: discord.Interaction,
                   week: app_commands.Range[int, 1, MAX_WEEK], score: Score) -> None:
        await respond(interaction, self.services.scores.record_quiz(
            actor_of(interaction), week, score))

    @quiz.autocomplete("week")
    async def _quiz_weeks(self, interaction: discord.Interaction,
                          current: str) -> IntChoices:
        return await week_choices(interaction, current)

    @app_commands.command(name="mock", description=CATALOGUE["mock"].summary)
    @app_commands.describe(
        score="Your points, or points/maximum of the interview",
        feedback="What the interviewer said",
        when="When it was held: today (default), yesterday or YYYY-MM-DD",
        slot="Which of the mock interviews to fill or replace (default: the next free one)",
    )
    async def mock(self, interaction: discord.Interaction, score: Score,
                   feedback: app_commands.Range[str, 1, FEEDBACK_MAX] | None = None,
                   when: StudyDayOption | None = None,
                   slot: app_commands.Range[int, 1, MAX_SLOT] | None = None) -> None:
        await respond(interaction, self.services.scores.record_mock(
            actor_of(interaction), score, feedback, when or TODAY, slot))

    @mock.autocomplete("slot")
    async def _slots(self, interaction: discord.Interaction, current: str) -> IntChoices:
        plan = await suggestions.plan_of(self.services.ctx, actor_of(interaction))
        slots = [n for n in range(1, plan.mock_interviews + 1)
                 if str(n).startswith(current.strip())]
        return [app_commands.Choice(name=f"Mock interview {n}", value=n) for n in slots][:25]

    @app_commands.command(name="readiness", description=CATALOGUE["readiness"].summary)
    @app_commands.describe(score="Your readiness self-assessment, in points")
    async def readiness(self, interaction: discord.Interaction, score: Score) -> None:
        await respond(interaction, self.services.scores.record_readiness(
            actor_of(interaction), score))

    @app_commands.command(name="score", description=CATALOGUE["score"].summary)
    @app_commands.describe(what="The score (readiness, a quiz...)",
                           value="Your points, or points/maximum")
    async def score(self, interaction: discord.Interaction,
                    what: app_commands.Range[str, 1, 100], value: Score) -> None:
        await respond(interaction, self.services.scores.record_score(
            actor_of(interaction), what, value))

    @score.autocomplete("what")
    async def _scores(self, interaction: discord.Interaction, current: str) -> Choices:
        return choices(await suggestions.scores(self.services.ctx, actor_of(interaction),
                                                current))

    @app_commands.command(name="rate", description=CATALOGUE["rate"].summary)
    @app_commands.describe(skill="The skill", rating="On your plan's scale, e.g. 1 to 5",
                           week="Plan week of the rating (default: the current week)")
    async def rate(self, interaction: discord.Interaction,
                   skill: app_commands.Range[str, 1, 100],
                   rating: app_commands.Range[int, 0, MAX_RATING],
                   week: app_commands.Range[int, 1, MAX_WEEK] | None = None) -> None:
        await respond(interaction, self.services.scores.rate_skill(
            actor_of(interaction), skill, rating, week))

    @rate.autocomplete("skill")
    async def _skills(self, interaction: discord.Interaction, current: str) -> Choices:
        return choices(await suggestions.skills(self.services.ctx, actor_of(interaction),
                                                current))

    @rate.autocomplete("week")
    async def _rate_weeks(self, interaction: discord.Interaction,
                          current: str) -> IntChoices:
        return await week_choices(interaction, current)

    @app_commands.command(name="confidence", description=CATALOGUE["confidence"].summary)
    @app_commands.describe(area="The area: pa, coding, design, optimization...",
                           level="1 (not at all) to 5 (fully confident)")
    async def confidence(self, interaction: discord.Interaction,
                         area: app_commands.Range[str, 1, 100],
                         level: app_commands.Range[int, 0, MAX_RATING]) -> None:
        await respond(interaction, self.services.scores.set_confidence(
            actor_of(interaction), area, level))

    @confidence.autocomplete("area")
    async def _areas(self, interaction: discord.Interaction, current: str) -> Choices:
        return choices(await suggestions.fields(self.services.ctx, actor_of(interaction),
                                                current, confidence=True))

    @app_commands.command(name="count", description=CATALOGUE["count"].summary)
    @app_commands.describe(counter="The counter", change="+N to add (default +1), -N, or =N")
    async def count(self, interaction: discord.Interaction,
                    counter: app_commands.Range[str, 1, 100],
                    change: Change | None = None) -> None:
        await respond(interaction, self.services.scores.bump_counter(
            actor_of(interaction), counter, change or ADD_ONE))

    @count.autocomplete("counter")
    async def _counters(self, interaction: discord.Interaction, current: str) -> Choices:
        return choices(await suggestions.counters(self.services.ctx, actor_of(interaction),
                                                  current))

    @app_commands.command(name="set", description=CATALOGUE["set"].summary)
    @app_commands.describe(field="The field (status, next steps, goal...)",
                           value="The value: a choice, a number or text")
    async def set(self, interaction: discord.Interaction,
                  field: app_commands.Range[str, 1, 100],
                  value: app_commands.Range[str, 1, 1000]) -> None:
        await respond(interaction, self.services.scores.set_field(
            actor_of(interaction), field, value))

    @set.autocomplete("field")
    async def _fields(self, interaction: discord.Interaction, current: str) -> Choices:
        return choices(await suggestions.fields(self.services.ctx, actor_of(interaction),
                                                current))


async def setup(bot: PacerBot) -> None:
    """Add the score commands."""
    await bot.add_cog(Scores(bot))

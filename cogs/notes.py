"""Reflections: /insight, /challenge, /question and /notes."""

from __future__ import annotations

import discord
from discord import app_commands
from discord.ext import commands

from bot.catalogue import CATALOGUE
from bot.discord.client import PacerBot
from bot.discord.replies import actor_of, respond, week_choices
from bot.limits import NOTE_MAX
from bot.services import suggestions

Choices = list[app_commands.Choice[str]]
IntChoices = list[app_commands.Choice[int]]
MAX_WEEK = 104  # bot.parsing.MAX_WEEKS: the longest commitment a plan can have
NOTE_ID_MAX = 2**31 - 1


class Notes(commands.Cog):
    """Keep insights, challenges and questions."""

    def __init__(self, bot: PacerBot) -> None:
        self.bot = bot
        self.services = bot.core.services

    @app_commands.command(name="insight", description=CATALOGUE["insight"].summary)
    @app_commands.describe(text="The insight", week="Plan week (default: the current week)")
    async def insight(self, interaction: discord.Interaction,
                      text: app_commands.Range[str, 1, NOTE_MAX],
                      week: app_commands.Range[int, 1, MAX_WEEK] | None = None) -> None:
        await respond(interaction, self.services.notes.add_insight(
            actor_of(interaction), text, week))

    @insight.autocomplete("week")
    async def _weeks(self, interaction: discord.Interaction, current: str) -> IntChoices:
        return await week_choices(interaction, current)

    @app_commands.command(name="challenge", description=CATALOGUE["challenge"].summary)
    @app_commands.describe(challenge="What was hard", solution="How you solved it",
                           learning="What you learned")
    async def challenge(self, interaction: discord.Interaction,
                        challenge: app_commands.Range[str, 1, NOTE_MAX],
                        solution: app_commands.Range[str, 1, NOTE_MAX] | None = None,
                        learning: app_commands.Range[str, 1, NOTE_MAX] | None = None) -> None:
        await respond(interaction, self.services.notes.add_challenge(
            actor_of(interaction), challenge, solution, learning))

    @app_commands.command(name="question", description=CATALOGUE["question"].summary)
    @app_commands.describe(text="The question")
    async def question(self, interaction: discord.Interaction,
                       text: app_commands.Range[str, 1, NOTE_MAX]) -> None:
        await respond(interaction, self.services.notes.add_question(actor_of(interaction), text))

    @app_commands.command(name="notes", description=CATALOGUE["notes"].summary)
    @app_commands.describe(remove="Number of a note to remove (leave empty to list them)")
    async def notes(self, interaction: discord.Interaction,
                    remove: app_commands.Range[int, 1, NOTE_ID_MAX] | None = None) -> None:
        actor = actor_of(interaction)
        if remove is not None:
            await respond(interaction, self.services.notes.remove_note(actor, remove))
        else:
            await respond(interaction, self.services.views.notes(actor))

    @notes.autocomplete("remove")
    async def _notes(self, interaction: discord.Interaction, current: str) -> IntChoices:
        found = await suggestions.notes(self.services.ctx, actor_of(interaction), current)
        return [app_commands.Choice(name=s.label, value=int(s.value)) for s in found
                if s.value.isdigit()][:25]


async def setup(bot: PacerBot) -> None:
    """Add the note commands."""
    await bot.add_cog(Notes(bot))

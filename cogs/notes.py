"""Reflections: /insight, /challenge, /question and /notes."""

from __future__ import annotations

import discord
from discord import app_commands
from discord.ext import commands

from bot import suggestions
from bot.discord.client import PacerBot
from bot.discord.replies import actor_of, choices, respond

Choices = list[app_commands.Choice[str]]
WEEK_CHOICES = [app_commands.Choice(name=f"Week {n}", value=n) for n in range(1, 5)]


class Notes(commands.Cog):
    """Keep insights, challenges and questions."""

    def __init__(self, bot: PacerBot) -> None:
        self.bot = bot

    @app_commands.command(name="insight", description="Write down an insight of the week")
    @app_commands.describe(text="The insight", week="Plan week (default: the current week)")
    @app_commands.choices(week=WEEK_CHOICES)
    async def insight(self, interaction: discord.Interaction,
                      text: app_commands.Range[str, 1, 1000],
                      week: app_commands.Choice[int] | None = None) -> None:
        await respond(interaction, self.bot.core.commands.insight(
            actor_of(interaction), text, str(week.value) if week is not None else None))

    @app_commands.command(name="challenge", description="Record a challenge you met")
    @app_commands.describe(challenge="What was hard", solution="How you solved it",
                           learning="What you learned")
    async def challenge(self, interaction: discord.Interaction,
                        challenge: app_commands.Range[str, 1, 1000],
                        solution: app_commands.Range[str, 1, 1000] | None = None,
                        learning: app_commands.Range[str, 1, 1000] | None = None) -> None:
        await respond(interaction, self.bot.core.commands.challenge(
            actor_of(interaction), challenge, solution, learning))

    @app_commands.command(name="question", description="Note a question to explore later")
    @app_commands.describe(text="The question")
    async def question(self, interaction: discord.Interaction,
                       text: app_commands.Range[str, 1, 1000]) -> None:
        await respond(interaction, self.bot.core.commands.question(actor_of(interaction), text))

    @app_commands.command(name="notes", description="List your notes, or remove one")
    @app_commands.describe(remove="Number of a note to remove (leave empty to list them)")
    async def notes(self, interaction: discord.Interaction,
                    remove: app_commands.Range[str, 1, 12] | None = None) -> None:
        actor = actor_of(interaction)
        if remove:
            await respond(interaction, self.bot.core.commands.note_remove(actor, remove))
        else:
            await respond(interaction, self.bot.core.commands.notes(actor))

    @notes.autocomplete("remove")
    async def _notes(self, interaction: discord.Interaction, current: str) -> Choices:
        return choices(await suggestions.notes(self.bot.core.tracker, actor_of(interaction),
                                               current))


async def setup(bot: PacerBot) -> None:
    """Add the note commands."""
    await bot.add_cog(Notes(bot))

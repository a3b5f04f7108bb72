"""The one error path of the Discord front.

In this order: a domain error (``PacerError``, also when a transformer raised it and
discord.py wrapped it in ``TransformerError``) shows its own message; an unknown command, a
failed check or an option Discord could not convert gets a specific sentence; an interaction
that expired before Pacer could acknowledge it is only logged (no answer can reach the user);
anything else is logged with its traceback and the user gets a short apology with an error id.
Every answer of this module is ephemeral and red.
"""

from __future__ import annotations

import logging
import uuid

import discord
from discord import app_commands
from discord.ext import commands

from bot.discord.observed import note_outcome
from bot.discord.pacing import InteractionExpired
from bot.discord.replies import error_embed, send
from bot.errors import PacerError

log = logging.getLogger(__name__)


class OwnerOnly(app_commands.CheckFailure):
    """Only the bot's owner may run this command."""


class UnknownButton(PacerError):
    """A pressed button carries an action this version does not know."""


async def owner_only(interaction: discord.Interaction) -> bool:
    """Let only the bot's owner (discord.owner_ids, else the application owner) through."""
    bot: commands.Bot = interaction.client  # type: ignore[assignment]
    if await bot.is_owner(interaction.user):
        return True
    raise OwnerOnly("Only the owner of this Pacer bot can use this command.")


def unwrap(error: BaseException) -> BaseException:
    """Return the error a command or transformer raised, out of discord.py's wrappers."""
    while True:
        if isinstance(error, app_commands.CommandInvokeError):
            error = error.original
        elif isinstance(error, app_commands.TransformerError) and isinstance(
                error.__cause__, PacerError):
            error = error.__cause__
        else:
            return error


def error_text(interaction: discord.Interaction, error: BaseException) -> str:
    """Say what went wrong: the domain message, or an apology with a logged error id."""
    original = unwrap(error)
    if isinstance(original, PacerError):
        return original.message
    if isinstance(original, app_commands.CommandNotFound):
        return (f"/{original.name} is not a command of this Pacer (it may have been renamed "
                "or removed). Type / to see the commands, or /help.")
    if isinstance(original, app_commands.CheckFailure):
        return str(original) or "You cannot use this command here."
    if isinstance(original, app_commands.TransformerError):
        shown = f"{str(original.value)[:40]!r}"
        offered: list[str] = []
        if isinstance(interaction.command, app_commands.Command):
            for param in interaction.command.parameters:
                values = [str(c.value) for c in param.choices]
                if values and str(original.value) not in values:
                    offered = values
                    break
        if offered:
            return f"{shown} is not one of the choices here: {', '.join(offered)}."
        return f"{shown} is not a valid {original.type.name.lower().replace('_', ' ')} here."
    error_id = uuid.uuid4().hex[:8]
    command = interaction.command.qualified_name if interaction.command else interaction.data
    log.error("unexpected error %s in %s (user %s, guild %s)", error_id, command,
              interaction.user.id, interaction.guild_id, exc_info=original)
    return (f"Sorry, something went wrong on Pacer's side. It has been logged as error "
            f"`{error_id}`; please try again, and mention that id if it keeps happening.")


INPUT_ERRORS = (PacerError, app_commands.CommandNotFound, app_commands.CheckFailure,
                app_commands.TransformerError)


async def report_error(interaction: discord.Interaction, error: BaseException) -> None:
    """Answer an interaction that failed: always ephemeral, never silent."""
    note_outcome(interaction, failed=not isinstance(unwrap(error), INPUT_ERRORS))
    if isinstance(unwrap(error), InteractionExpired):
        log.warning("interaction %s (%s) came too late to be acknowledged; it was not run",
                    interaction.id,
                    interaction.command.qualified_name if interaction.command else "a button")
        return
    text = error_text(interaction, error)
    try:
        await send(interaction, [error_embed(text)], ephemeral=True)
    except discord.HTTPException:
        log.exception("could not tell user %s about an error", interaction.user.id)

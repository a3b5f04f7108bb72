"""The Discord front's operator glue: one observation per slash command, and the shards' latency.

``ObservedTree`` is the command tree of ``PacerBot``: every application command passes its
``_call``, so that is the one place where a command's log line and metric are recorded
(``bot.metrics.observe``). discord.py handles a command's errors inside ``_call`` (the
error path, ``bot.discord.errors.report_error``), which notes the outcome on the
interaction's ``extras``; autocomplete and button interactions are not commands and are not
counted.

``shard_latencies(bot)`` adapts discord.py's two shapes to the core's ``(shard id, seconds)``
list: ``AutoShardedBot.latencies``, or ``Bot.latency`` for the one shard of a plain bot (None
before the first heartbeat acknowledgement, when discord.py reports infinity or NaN).
"""

from __future__ import annotations

import math
from typing import Any

import discord
from discord import app_commands

from bot.metrics import FAILED, INPUT_ERROR, NO_METRICS, UNKNOWN, observe

OUTCOME_KEY = "pacer_outcome"
PLATFORM = "discord"


def note_outcome(interaction: discord.Interaction, failed: bool) -> None:
    """Note on the interaction how its command ended (read by ``ObservedTree``)."""
    interaction.extras[OUTCOME_KEY] = FAILED if failed else INPUT_ERROR


def command_name(interaction: discord.Interaction) -> str:
    """Return the command's qualified name (``pacer status``), else ``unknown``."""
    command = interaction.command
    return command.qualified_name if command is not None else UNKNOWN


class ObservedTree(app_commands.CommandTree):
    """A command tree that observes every application command once."""

    async def _call(self, interaction: discord.Interaction) -> None:
        if interaction.type is not discord.InteractionType.application_command:
            await super()._call(interaction)
            return
        core = getattr(self.client, "core", None)
        metrics = core.metrics if core is not None else NO_METRICS
        with observe(UNKNOWN, PLATFORM, metrics) as seen:
            try:
                await super()._call(interaction)
            finally:
                seen.command = command_name(interaction)
            outcome = interaction.extras.get(OUTCOME_KEY)
            if outcome == FAILED:
                seen.failed()
            elif outcome == INPUT_ERROR:
                seen.input_error()


def _seconds(value: Any) -> float | None:
    try:
        seconds = float(value)
    except (TypeError, ValueError):
        return None
    return seconds if math.isfinite(seconds) else None


def shard_latencies(bot: discord.Client) -> list[tuple[int, float | None]]:
    """Return each shard's id and gateway latency in seconds (None: not measured yet)."""
    latencies = getattr(bot, "latencies", None)
    if isinstance(bot, discord.AutoShardedClient) and latencies:
        return [(int(i), _seconds(s)) for i, s in latencies]
    if bot.ws is None:
        return []
    return [(int(bot.shard_id or 0), _seconds(bot.latency))]

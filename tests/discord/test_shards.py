"""Sharding from configuration: each process connects its own shards; DMs reach shard 0 only.

Two real PacerBots (``discord.shard_count = 2`` and ``shard_ids`` [0] and [1], as two
processes would be configured) against a stand-in that routes guild events by
``(guild_id >> 22) % shard_count`` and DMs to shard 0, as Discord does.
"""

from __future__ import annotations

import contextlib
from pathlib import Path

import discord

from bot.discord.client import PacerBot, ShardedPacerBot
from tests.conftest import FakeClock
from tests.discord_fixtures import (
    START,
    collect,
    copy_database,
    discord_globals_restored,
    running_bot,
    standin_settings,
    text_of,
)
from tests.standin import DiscordStandin
from tests.standin.server import shard_of


async def test_each_shard_process_answers_its_own_guilds_and_shard_0_the_dms(
        tmp_path: Path, sqlite_template: Path) -> None:
    url = copy_database(sqlite_template, tmp_path)
    clock = FakeClock(START)
    with discord_globals_restored():
        async with DiscordStandin(shards=2) as standin, contextlib.AsyncExitStack() as stack:
            extra = {shard: standin.add_guild(f"Shard {shard}", shard=shard) for shard in (0, 1)}
            bots: dict[int, PacerBot] = {}
            seen: dict[int, list[int]] = {0: [], 1: []}
            for shard in (0, 1):
                settings = standin_settings(standin, url, shard_count=2, shard_ids=(shard,))
                bot, _core = await stack.enter_async_context(
                    running_bot(standin, settings, clock))

                async def on_interaction(interaction: discord.Interaction,
                                         shard: int = shard) -> None:
                    seen[shard].append(interaction.id)

                bot.add_listener(on_interaction)
                bots[shard] = bot
            assert standin.connected_shards == [(0, 2), (1, 2)]
            for shard, bot in bots.items():
                assert isinstance(bot, ShardedPacerBot) and bot.shard_ids == [shard]
                assert bot.shard_count == 2
                assert {g.id for g in bot.guilds} == {
                    gid for gid in standin.guilds if shard_of(gid, 2) == shard}
                assert extra[shard] in {g.id for g in bot.guilds}

            for shard, gid in extra.items():
                handle = await standin.send_command("help", guild_id=gid)
                answer = await collect(handle)
                assert "/log" in answer.text
                assert handle.id in seen[shard] and handle.id not in seen[1 - shard]
            dm = await standin.send_command("help", dm=True)
            answer = await collect(dm)
            assert "/log" in answer.text, text_of(answer.callback)
            assert dm.id in seen[0] and dm.id not in seen[1]  # DMs: shard 0 only
            assert len(seen[0]) == 2 and len(seen[1]) == 1
            standin.assert_clean()

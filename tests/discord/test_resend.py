"""A resent outbox row reaches the user once: the Discord sender's enforced nonce."""

from __future__ import annotations

from pathlib import Path

from bot.messages import OutMessage
from tests.conftest import FakeClock
from tests.discord_fixtures import (
    START,
    copy_database,
    discord_globals_restored,
    running_bot,
    standin_settings,
)
from tests.standin import DiscordStandin


async def test_a_row_sent_twice_is_one_dm_and_a_new_row_is_another(
        tmp_path: Path, sqlite_template: Path) -> None:
    with discord_globals_restored():
        async with DiscordStandin() as standin:
            settings = standin_settings(standin, copy_database(sqlite_template, tmp_path))
            async with running_bot(standin, settings, FakeClock(START)) as (bot, _core):
                user = str(standin.user_id)
                first = OutMessage("reminder", "Reminder", "Study today.", dedupe_key="o41")
                await bot.sender.send("discord", user, first)
                await bot.sender.send("discord", user, first)  # a crash before its mark
                assert len(standin.dm_messages(standin.user_id)) == 1
                assert standin.nonce_repeats == 1
                await bot.sender.send("discord", user, OutMessage(
                    "reminder", "Reminder", "Study tomorrow.", dedupe_key="o42"))
                messages = standin.dm_messages(standin.user_id)
                assert [m.message["nonce"] for m in messages] == ["o41.0", "o42.0"]
            standin.assert_clean()

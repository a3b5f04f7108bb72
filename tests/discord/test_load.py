"""The Discord front under load: the real PacerBot and dispatcher against a stand-in that
enforces Discord's limits (50 requests/s per token, per-route buckets, the 3 s deadline).
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections import Counter
from collections.abc import AsyncIterator, Sequence
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, insert, select

from bot import models as m
from bot.app import Core
from bot.config import MetricsSettings
from bot.discord.client import PacerBot
from bot.prometheus import PrometheusMetrics
from bot.scheduling import Dispatcher
from tests.conftest import FakeClock
from tests.discord_fixtures import (
    START,
    World,
    collect,
    copy_database,
    discord_globals_restored,
    running_bot,
    standin_settings,
    text_of,
)
from tests.standin import DiscordStandin, InteractionHandle, RecordedRequest

T = datetime(2027, 1, 4, 18, 0, tzinfo=UTC)  # everyone's reminder is due within this minute
DUE = T + timedelta(seconds=59)
SEND_ROUTE = "/channels/{channel_id}/messages"


def _posts(requests: Sequence[RecordedRequest]) -> list[RecordedRequest]:
    return [r for r in requests if r.method == "POST" and r.route == SEND_ROUTE]


async def add_learners(core: Core, standin: DiscordStandin, count: int) -> list[str]:
    """Create COUNT Discord users and learners whose daily reminder is due within minute T."""
    users = [str(standin.make_user(f"load{n}", member=False)["id"]) for n in range(count)]
    now = T - timedelta(days=1)
    rows = [{
        "platform": "discord", "external_id": uid, "display_name": f"Load {n}",
        "plan_id": "vllm", "timezone": "UTC", "day_start_hour": 3,
        "start_date": date(2026, 12, 1), "commitment_minutes": 240, "commitment_weeks": 6,
        "reminder_minute": 18 * 60, "digest_weekday": 6, "digest_minute": 18 * 60,
        "digest_every_weeks": 1, "public_posts": True, "created_at": now, "updated_at": now,
        "next_reminder_at": T + timedelta(seconds=n % 60),
        "next_digest_at": T + timedelta(days=3),
    } for n, uid in enumerate(users)]
    async with core.store.write() as session:
        await session.execute(insert(m.Learner), rows)
    return users


def dispatcher_for(bot: PacerBot, core: Core, now: datetime) -> Dispatcher:
    """Build the dispatcher exactly as the bot does, on a fixed clock."""
    return Dispatcher(core.store, core.plans, {"discord": bot.sender},
                      settings=core.settings.scheduler, clock=lambda: now, tick_budget=0)


def delivered(standin: DiscordStandin, users: Sequence[str]) -> Counter[str]:
    """Count the messages each user received in their DM channel."""
    return Counter({uid: len(standin.dm_messages(int(uid))) for uid in users})


@pytest.fixture
async def standin() -> AsyncIterator[DiscordStandin]:
    with discord_globals_restored():
        async with DiscordStandin() as s:
            yield s


async def test_500_reminders_due_in_one_minute_arrive_once_within_the_global_limit(
        standin: DiscordStandin, tmp_path: Path, sqlite_template: Path) -> None:
    settings = standin_settings(standin, copy_database(sqlite_template, tmp_path))
    clock = FakeClock(T)
    async with running_bot(standin, settings, clock) as (bot, core):
        users = await add_learners(core, standin, 500)
        standin.requests.clear()
        report = await dispatcher_for(bot, core, DUE).tick()
        first_day = list(standin.requests)
    assert report.sent == 500 and report.failed == 0
    assert set(delivered(standin, users).values()) == {1}
    assert standin.rate_limited == []
    assert standin.busiest_second(first_day) <= 50
    routes = Counter(r.route for r in first_day)
    assert routes["/users/{user_id}"] == 0  # no user is fetched to send a message
    assert routes["/users/@me/channels"] == 500 and len(_posts(first_day)) == 500

    # The next day, in a new process: the stored DM channels are reused, one request a DM.
    async with running_bot(standin, settings, clock) as (bot, core):
        standin.requests.clear()
        report = await dispatcher_for(bot, core, DUE + timedelta(days=1)).tick()
        second_day = list(standin.requests)
        async with core.store.read() as session:
            stored = await session.scalar(select(func.count()).select_from(m.DmChannel))
    assert report.sent == 500 and stored == 500
    assert set(delivered(standin, users).values()) == {2}
    assert len(second_day) == len(_posts(second_day)) == 500
    assert standin.rate_limited == [] and standin.busiest_second(second_day) <= 50
    standin.assert_clean()


async def test_a_dm_channel_is_opened_once_per_process_and_reused(
        standin: DiscordStandin, tmp_path: Path, sqlite_template: Path) -> None:
    from bot.messages import REMINDER_BUTTONS, OutMessage

    settings = standin_settings(standin, copy_database(sqlite_template, tmp_path))
    message = OutMessage("reminder", "Daily reminder", "Study", REMINDER_BUTTONS)
    async with running_bot(standin, settings, FakeClock(START)) as (bot, _core):
        standin.requests.clear()
        for _ in range(3):
            await bot.sender.send("discord", str(standin.user_id), message)
        routes = [r.route for r in standin.requests]
    assert routes == ["/users/@me/channels", SEND_ROUTE, SEND_ROUTE, SEND_ROUTE]
    assert len(standin.dm_messages(standin.user_id)) == 3


async def test_a_stale_stored_dm_channel_is_opened_again(
        standin: DiscordStandin, tmp_path: Path, sqlite_template: Path) -> None:
    from bot import dm_channels
    from bot.messages import OutMessage

    settings = standin_settings(standin, copy_database(sqlite_template, tmp_path))
    async with running_bot(standin, settings, FakeClock(START)) as (bot, core):
        await dm_channels.remember_channel(core.store, "discord", str(standin.user_id),
                                           "4242", START)
        await bot.sender.send("discord", str(standin.user_id),
                              OutMessage("reminder", "Daily reminder", "Study"))
        known = await dm_channels.known_channels(core.store, "discord")
    assert len(standin.dm_messages(standin.user_id)) == 1
    assert known[str(standin.user_id)] == str(standin.dm_channel_id(standin.user_id))


@pytest.mark.parametrize("scope", ["global", "user"])
async def test_a_429_is_honoured_and_nothing_is_lost_or_sent_twice(
        standin: DiscordStandin, tmp_path: Path, sqlite_template: Path, scope: str) -> None:
    settings = standin_settings(standin, copy_database(sqlite_template, tmp_path))
    async with running_bot(standin, settings, FakeClock(T)) as (bot, core):
        users = await add_learners(core, standin, 30)
        standin.requests.clear()
        rule = standin.fail_rate_limited("POST", SEND_ROUTE, retry_after=0.5, scope=scope,
                                         times=2)
        report = await dispatcher_for(bot, core, DUE).tick()
        requests = list(standin.requests)
    assert rule.hits == 2 and len(standin.rate_limited) == 2
    assert report.sent == 30 and report.failed == 0
    assert set(delivered(standin, users).values()) == {1}
    first_429 = standin.rate_limited[0]
    if scope == "global":  # nothing new goes out while the global limit holds
        in_flight = first_429.received_at + 0.05  # sent before the 429 reached the bot
        held = [r for r in requests if in_flight < r.received_at < first_429.received_at + 0.45]
        assert held == []
        assert any(r.received_at >= first_429.received_at + 0.45 for r in requests)
    refused = [r for r in requests if r.status == 429]
    for r in refused:  # the refused message itself is retried after retry_after
        retry = [x for x in requests if x.path == r.path and x.received_at > r.received_at
                 and x.status == 200]
        assert retry and retry[0].received_at >= r.received_at + 0.45


async def test_a_burst_of_400_log_commands_is_answered_within_the_deadline(
        standin: DiscordStandin, tmp_path: Path, sqlite_template: Path) -> None:
    settings = standin_settings(standin, copy_database(sqlite_template, tmp_path))
    async with running_bot(standin, settings, FakeClock(START)) as (bot, core):
        world = World(standin, bot, core, settings, FakeClock(START))
        users = [world.new_user("burst") for _ in range(400)]
        for user in users:
            await world.onboard(user)
        await asyncio.sleep(1.0)  # the on-boarding requests leave the global window
        standin.requests.clear()
        handles = await asyncio.gather(*(standin.send_command("log", {"duration": "1h"},
                                                              user=u) for u in users))
        await asyncio.gather(*(h.response(timeout=30) for h in handles))

        def answered(handle: InteractionHandle) -> bool:
            shown = [handle.callback.message if handle.callback else None,
                     *handle.followup_messages]
            return any(m is not None and "Logged 1h" in text_of(m) for m in shown)

        await standin.wait_for(lambda: all(answered(h) for h in handles), timeout=120,
                               what="every /log to be answered")
        logged: dict[str, Any] = {}
        async with core.store.read() as session:
            rows = await session.execute(
                select(m.Learner.external_id, m.TimeLog.minutes)
                .join(m.TimeLog, m.TimeLog.learner_id == m.Learner.id))
            for external_id, minutes in rows:
                logged.setdefault(external_id, []).append(minutes)
    delays = [h.response_delay for h in handles]
    assert all(d is not None and d < 3.0 for d in delays), max(d or 99 for d in delays)
    assert sum(h.late_responses for h in handles) == 0
    assert logged == {str(u["id"]): [60] for u in users}  # each logged exactly once
    assert bot.pacing.deferred_early > 0  # the queue was long enough to defer at once
    standin.assert_clean()


async def test_a_command_that_can_no_longer_be_acknowledged_is_not_run(
        tmp_path: Path, sqlite_template: Path, caplog: pytest.LogCaptureFixture) -> None:
    import logging

    with discord_globals_restored():
        async with DiscordStandin(interaction_deadline=0.0) as s:  # every answer is too late
            settings = standin_settings(s, copy_database(sqlite_template, tmp_path))
            async with running_bot(s, settings, FakeClock(START)) as (bot, core):
                world = World(s, bot, core, settings, FakeClock(START))
                user = world.new_user()
                await world.onboard(user)
                bot.pacing.window = bot.pacing.margin  # no time left: defer before running
                with caplog.at_level(logging.WARNING, logger="bot.discord.errors"):
                    handle = await s.send_command("log", {"duration": "1h"}, user=user)
                    await s.wait_for(lambda: handle.late_responses >= 1, timeout=5,
                                     what="the refused deferral")
                    await asyncio.sleep(0.2)
                async with core.store.read() as session:
                    logs = await session.scalar(select(func.count()).select_from(m.TimeLog))
    assert handle.callback is None and logs == 0  # nothing changed behind the user's back
    assert any("came too late to be acknowledged" in r.getMessage() for r in caplog.records)


async def test_rest_requests_and_429s_are_counted_in_the_metrics(
        standin: DiscordStandin, tmp_path: Path, sqlite_template: Path) -> None:
    settings = replace(standin_settings(standin, copy_database(sqlite_template, tmp_path)),
                       metrics=MetricsSettings(enabled=True, port=0))
    async with running_bot(standin, settings, FakeClock(T)) as (bot, core):
        assert isinstance(core.metrics, PrometheusMetrics)
        users = await add_learners(core, standin, 5)
        standin.requests.clear()
        standin.fail_rate_limited("POST", SEND_ROUTE, retry_after=0.2, scope="user", times=1)
        dispatcher = Dispatcher(core.store, core.plans, {"discord": bot.sender},
                                settings=core.settings.scheduler, clock=lambda: DUE,
                                tick_budget=0, metrics=core.metrics)
        before = _sample(core.metrics, 'pacer_rest_requests_total{platform="discord"}')
        report = await dispatcher.tick()
        after = _sample(core.metrics, 'pacer_rest_requests_total{platform="discord"}')
        requests = list(standin.requests)
    assert report.sent == 5 and set(delivered(standin, users).values()) == {1}
    assert after - before == len(requests) >= 6  # five sends and the refused one, at least
    assert _sample(core.metrics, 'pacer_rest_rate_limited_total{platform="discord"}') == 1
    assert _sample(core.metrics,
                   'pacer_deliveries_total{kind="reminder",result="sent"}') == 5


def _sample(metrics: PrometheusMetrics, head: str) -> float:
    for line in metrics.render().decode().splitlines():
        if line.startswith(head + " "):
            return float(line.rsplit(" ", 1)[1])
    return 0.0


async def test_a_command_still_being_answered_when_the_bot_closes_gets_its_answer(
        standin: DiscordStandin, tmp_path: Path, sqlite_template: Path) -> None:
    # Another process holds the database while the bot is told to close: the command waits
    # for the lock, and the close waits for its answer instead of cutting the HTTP session.
    url = copy_database(sqlite_template, tmp_path)
    settings = standin_settings(standin, url)
    async with running_bot(standin, settings, FakeClock(START)) as (bot, core):
        world = World(standin, bot, core, settings, FakeClock(START))
        user = world.new_user()
        await world.onboard(user)
        other = sqlite3.connect(url.split(":///", 1)[1], timeout=0)
        other.execute("BEGIN EXCLUSIVE")
        try:
            handle = await standin.send_command("log", {"duration": "1h"}, user=user)
            await standin.wait_for(lambda: bot.pacing.in_flight == 1, timeout=5,
                                   what="the command to start")
            closing = asyncio.create_task(bot.close())
            await asyncio.sleep(0.3)
            assert not closing.done()  # it waits for the answer
        finally:
            other.rollback()
            other.close()
        await asyncio.wait_for(closing, 10)
        answer = await asyncio.wait_for(collect(handle), 5)
    assert "Logged 1h" in answer.text
    standin.assert_clean()

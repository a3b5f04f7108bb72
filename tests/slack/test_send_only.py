"""A process with ``slack.connect = false`` sends Slack DMs without holding the connection."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

from bot.scheduling import Dispatcher
from bot.slack.runner import start_slack
from tests.slack.conftest import ANA, Slack, make_core, slack_settings

REMINDER_AT = datetime(2026, 11, 30, 18, 1, tzinfo=UTC)  # 19:01 in Berlin


async def test_a_sending_only_process_delivers_what_the_connected_one_onboarded(
        slack: Slack) -> None:
    await slack.reply("start")  # through the process that holds the Socket Mode connection
    settings = replace(slack_settings(slack.standin, connect=False), app_token=None,
                       signing_secret=None)
    assert settings.missing() == []  # the bot token is all it needs
    core = make_core(slack.core.store, slack.core.plans, slack.clock, settings)
    runtime = await start_slack(core, settings)
    try:
        slack.clock.set(REMINDER_AT)
        report = await Dispatcher(core.store, core.plans, {"slack": runtime.sender},
                                  settings=core.settings.scheduler, clock=slack.clock).tick()
        assert report.sent == 1
        dm = await slack.dm_channel(ANA)
        [reminder] = [m for m in slack.standin.messages if m["channel"] == dm]
        assert reminder["text"]
    finally:
        await runtime.stop()
    opens = [c for c in slack.standin.calls if c.method == "apps.connections.open"]
    assert len(opens) == 1  # only the connected process asked for a Socket Mode URL
    assert len(slack.standin._sockets) == 1

"""The App Home: published when opened, after every change, and by its own buttons."""

from __future__ import annotations

from tests.slack.conftest import ANA, BEN, Slack, block_texts


def home_text(view: dict) -> str:
    return block_texts(view["view"]["blocks"])


def home_buttons(view: dict) -> list[str]:
    return [e["value"] for b in view["view"]["blocks"] if b["type"] == "actions"
            for e in b["elements"]]


async def test_opening_the_home_publishes_the_tracker(slack: Slack) -> None:
    await slack.standin.send_envelope("events_api", slack.standin.home_opened_payload(BEN))
    [view] = await slack.standin.wait_for(lambda: slack.standin.views)
    assert view["user_id"] == BEN and "/pacer start" in home_text(view)
    await slack.reply("start", BEN)
    await slack.standin.wait_for(lambda: len(slack.standin.views) == 2)
    await slack.standin.send_envelope("events_api", slack.standin.home_opened_payload(BEN))
    view = (await slack.standin.wait_for(lambda: len(slack.standin.views) == 3
                                         and slack.standin.views))[-1]
    text = home_text(view)
    for part in ("] 0%", "Week 1:", "Hours Invested",
                 "Current Streak", "*Today*: 0h of 4h committed", "*Next up*", "`day01`"):
        assert part in text
    assert home_buttons(view) == ["log:1h", "done:day01", "snooze:evening"]


async def test_the_home_is_republished_after_a_change(slack: Slack) -> None:
    await slack.reply("start")
    await slack.standin.wait_for(lambda: slack.standin.views)
    await slack.reply('deadline add "NVIDIA Interview" 2027-01-15')
    await slack.reply("log 2h paging")
    view = await slack.standin.wait_for(
        lambda: "Hours Invested*: 2 /" in home_text(slack.standin.views[-1])
        and slack.standin.views[-1])
    text = home_text(view)
    assert "*Today*: 2h of 4h committed" in text and "NVIDIA Interview" in text
    published = len(slack.standin.views)
    await slack.reply("progress")  # a read: nothing to republish
    await slack.standin.settle(0.2)
    assert len(slack.standin.views) == published


async def test_home_buttons_log_tick_and_snooze(slack: Slack) -> None:
    await slack.reply("start")
    await slack.standin.wait_for(lambda: slack.standin.views)
    view = await slack.press_home("log:1h")
    assert "✓ Logged 1h" in home_text(view) and "Hours Invested*: 1 /" in home_text(view)
    view = await slack.press_home("done:day01")
    assert "day01" in home_text(view) and home_buttons(view)[1] == "done:day02"
    view = await slack.press_home("snooze:evening")
    assert "Snoozed until 20:00" in home_text(view)
    view = await slack.press_home("done:nothing-like-this")
    assert "⚠️ No item matches" in home_text(view)
    assert not [r for r in slack.standin.responses if r.get("user") == ANA]

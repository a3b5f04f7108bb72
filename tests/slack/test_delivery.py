"""Reminders, digests and their buttons reach Slack learners as DMs, within Slack's limits."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from bot import models as m
from bot.messages import Button, OutMessage
from bot.replies import Attachment
from bot.scheduling import Dispatcher
from bot.senders import DeliveryError
from bot.slack.sender import SlackDeliveryError
from tests.slack.conftest import ANA, BEN, EVE, GENERAL, Slack, block_texts, texts_sent
from tests.slack_standin.server import BOT_USER

REMINDER_AT = datetime(2026, 11, 30, 18, 1, tzinfo=UTC)  # 19:01 in Berlin


def dispatcher(slack: Slack) -> Dispatcher:
    return Dispatcher(slack.core.store, slack.core.plans, {"slack": slack.runtime.sender},
                      settings=slack.core.settings.scheduler, clock=slack.clock)


def buttons_of(message: dict) -> list[str]:
    return [e["value"] for b in message["blocks"] if b["type"] == "actions"
            for e in b["elements"]]


async def test_a_reminder_is_a_dm_with_buttons_and_a_press_logs_time(
        slack_any_store: Slack) -> None:
    slack = slack_any_store
    await slack.reply("start")
    slack.clock.set(REMINDER_AT)
    report = await dispatcher(slack).tick()
    assert report.sent == 1
    dm = await slack.dm_channel(ANA)
    [reminder] = [msg for msg in slack.standin.messages if msg["channel"] == dm]
    assert "link_names" not in reminder and reminder["text"]
    assert buttons_of(reminder) == ["snooze:1h", "snooze:evening", "log:30m", "log:1h", "log:2h"]
    opened = [c for c in slack.standin.calls if c.method == "conversations.open"]
    assert len(opened) == 1  # the DM channel was opened once and is cached in dm_channels
    async with slack.core.store.read() as session:
        row = await session.get(m.DmChannel, ("slack", ANA))
        assert row is not None and row.channel_id == dm

    views_before = len(slack.standin.views)
    response = await slack.press("log:1h", channel=dm, message=reminder)
    assert "Logged 1h" in texts_sent(response[0])
    assert response[0]["response_type"] == "in_channel"  # the DM with Pacer: a normal message
    await slack.standin.wait_for(lambda: len(slack.standin.views) > views_before)
    assert "Hours Invested*: 1 /" in block_texts(slack.standin.views[-1]["view"]["blocks"])
    async with slack.core.store.read() as session:
        assert [r.minutes for r in (await session.scalars(select(m.TimeLog))).all()] == [60]
    # The reminder notes what its button did and keeps its buttons.
    [update] = await slack.standin.wait_for(lambda: slack.standin.updates)
    assert update["ts"] == reminder["ts"] and "✓ Logged 1h" in block_texts(update["blocks"])
    assert buttons_of(update) == buttons_of(reminder)


async def test_a_stale_button_changes_nothing(slack: Slack) -> None:
    await slack.reply("start")
    dm = await slack.dm_channel(ANA)
    [response] = await slack.press("log:9999h", channel=dm)
    assert "no longer does anything" in texts_sent(response)
    async with slack.core.store.read() as session:
        assert (await session.scalars(select(m.TimeLog))).all() == []


async def test_the_digest_arrives_with_its_chart_uploaded_the_new_way(slack: Slack) -> None:
    await slack.reply("start")
    await slack.reply("settings digest=tuesday digest_time=09:00 reminder=off")
    await slack.reply('log 3h "<!channel> paging"')
    await slack.reply("insight week1 &lt;@UBEN&gt; blocks are pages &lt;!subteam^S1&gt;")
    slack.clock.set(datetime(2026, 12, 1, 8, 5, tzinfo=UTC))  # Tuesday 09:05 in Berlin
    report = await dispatcher(slack).tick()
    assert report.sent == 1, report
    dm = await slack.dm_channel(ANA)
    sent = [msg for msg in slack.standin.messages if msg["channel"] == dm]
    assert sent and "digest" in sent[0]["text"].lower()
    text = "\n".join(texts_sent(msg) for msg in sent)
    assert "&lt;@UBEN&gt;" in text and "<@" not in text and "<!" not in text
    [chart] = slack.standin.files
    assert chart["channel"] == dm and chart["data"].startswith(b"\x89PNG")
    methods = [c.method for c in slack.standin.calls if c.method.startswith("files.")]
    assert methods == ["files.getUploadURLExternal", "files.completeUploadExternal"]
    assert "files.upload" not in {c.method for c in slack.standin.calls}


async def test_a_429_storm_loses_nothing_and_doubles_nothing(slack: Slack) -> None:
    for user in (ANA, BEN):
        await slack.reply("start Europe/Berlin", user)
    slack.standin.throttle("chat.postMessage", 4, retry_after=1)
    slack.standin.throttle("conversations.open", 2, retry_after=1)
    slack.clock.set(REMINDER_AT)
    report = await dispatcher(slack).tick()
    assert report.sent == 2 and report.failed == 0 and report.retried == 0
    refused = [c for c in slack.standin.calls if c.status == 429]
    assert len(refused) == 6
    by_channel: dict[str, int] = {}
    for msg in slack.standin.messages:
        by_channel[msg["channel"]] = by_channel.get(msg["channel"], 0) + 1
    assert by_channel == {"DANA": 1, "DBEN": 1}


async def test_posts_to_one_channel_are_paced_to_one_per_second(slack: Slack) -> None:
    sender = slack.runtime.sender
    for n in range(3):
        await sender.send("slack", ANA, OutMessage("reminder", f"Reminder {n}", f"text {n}"))
    texts = [msg["text"] for msg in slack.standin.messages]
    assert texts == ["Reminder 0", "Reminder 1", "Reminder 2"]
    assert not [c for c in slack.standin.calls if c.status == 429]  # never over Slack's pace


@pytest.mark.parametrize(("recipient", "error"), [("UNOBODY", "user_not_found"),
                                                  (BOT_USER, "cannot_dm_bot")])
async def test_undeliverable_dms_are_permanent_errors(slack: Slack, recipient: str,
                                                      error: str) -> None:
    with pytest.raises(SlackDeliveryError) as caught:
        await slack.runtime.sender.send("slack", recipient, OutMessage("reminder", "t", "x"))
    assert caught.value.permanent and caught.value.slack_error == error
    assert error in str(caught.value)


async def test_a_post_in_an_unknown_channel_is_a_permanent_error(slack: Slack) -> None:
    with pytest.raises(DeliveryError) as caught:
        await slack.runtime.sender.post("slack", "CGONE", OutMessage("reminder", "t", "x"), ANA)
    assert caught.value.permanent and "channel_not_found" in str(caught.value)


async def test_the_dispatcher_records_a_permanent_failure(slack: Slack) -> None:
    await slack.reply("start", EVE)  # eve has no time zone in her profile: start names one
    await slack.reply("start Europe/Berlin", EVE)
    del slack.standin.users[EVE]  # eve left the workspace
    slack.clock.set(REMINDER_AT)
    report = await dispatcher(slack).tick()
    assert report.failed == 1 and report.sent == 0
    async with slack.core.store.read() as session:
        row = await session.scalar(select(m.Outbox))
        assert row is not None and row.status == "failed" and "user_not_found" in row.error


async def test_a_fallback_post_mentions_only_the_learner(slack: Slack) -> None:
    message = OutMessage("reminder", "Reminder <!here>", "Study <@UBEN> & <!everyone>",
                         buttons=(Button("log:1h", "Log 1 h"),))
    await slack.runtime.sender.post("slack", GENERAL, message, ANA)
    [posted] = slack.standin.messages
    text = texts_sent(posted)
    assert "<@UANA>" in text
    assert text.replace("<@UANA>", "").count("<") == 0
    assert "&lt;!everyone&gt;" in text and "&amp;" in text


async def test_an_attachment_reaches_the_dm(slack: Slack) -> None:
    message = OutMessage("digest", "Digest", "text",
                         attachment=Attachment("chart.png", b"\x89PNG fake", "Chart"))
    await slack.runtime.sender.send("slack", BEN, message)
    [file] = slack.standin.files
    assert file["name"] == "chart.png" and file["data"] == b"\x89PNG fake"


async def test_a_partner_in_the_workspace_gets_the_digest_as_a_dm(slack: Slack) -> None:
    await slack.reply("start")
    await slack.reply("settings digest=tuesday digest_time=09:00 reminder=off")
    _kind, invited = await slack.reply("partner invite <@UBEN|ben>")
    assert "notes" not in invited.split("They will see:")[1]
    _kind, accepted = await slack.reply("partner accept", BEN)
    assert "ana's accountability partner" in accepted
    await slack.reply("log 2h paging")
    await slack.reply("insight week1 my private thought")
    slack.clock.set(datetime(2026, 12, 1, 8, 5, tzinfo=UTC))
    report = await dispatcher(slack).tick()
    assert report.sent == 2, report
    ben_dm, ana_dm = await slack.dm_channel(BEN), await slack.dm_channel(ANA)
    ben = "\n".join(texts_sent(msg) for msg in slack.standin.messages
                    if msg["channel"] == ben_dm)
    ana = "\n".join(texts_sent(msg) for msg in slack.standin.messages
                    if msg["channel"] == ana_dm)
    assert "ana" in ben.lower() and "my private thought" not in ben
    assert "my private thought" in ana


async def test_a_closed_dm_falls_back_to_the_channel_with_a_mention(slack: Slack) -> None:
    await slack.reply("start")  # typed in #general: the learner's home channel
    slack.standin.users[ANA].messages_tab = False
    slack.clock.set(REMINDER_AT)
    report = await dispatcher(slack).tick()
    assert report.sent == 1 and report.fallback == 1, report
    [posted] = slack.standin.messages
    assert posted["channel"] == GENERAL and "<@UANA>" in texts_sent(posted)
    assert [c.error for c in slack.standin.calls if c.method == "chat.postMessage"] == [
        "messages_tab_disabled", None]


async def test_a_stale_dm_channel_is_dropped_and_opened_again(slack: Slack) -> None:
    sender = slack.runtime.sender
    await sender.send("slack", ANA, OutMessage("reminder", "One", "x"))
    del slack.standin.channels["DANA"]  # Slack no longer knows the stored channel
    with pytest.raises(SlackDeliveryError) as caught:
        await sender.send("slack", ANA, OutMessage("reminder", "Two", "x"))
    assert caught.value.permanent and caught.value.slack_error == "channel_not_found"
    async with slack.core.store.read() as session:
        assert await session.get(m.DmChannel, ("slack", ANA)) is None
    await sender.send("slack", ANA, OutMessage("reminder", "Three", "x"))
    assert [msg["text"] for msg in slack.standin.messages] == ["One", "Three"]
    assert len([c for c in slack.standin.calls if c.method == "conversations.open"]) == 2

"""Every /pacer subcommand over Socket Mode: replies, visibility, bad input, mention baits."""

from __future__ import annotations

import asyncio
import logging
import re

import pytest
from sqlalchemy import select, text

from bot import models as m
from bot.grammar import COMMANDS
from bot.prometheus import PrometheusMetrics
from bot.slack.runner import start_slack
from bot.slack.sender import ChannelPacer
from tests.conftest import dump_store
from tests.slack.conftest import (
    ANA,
    BEN,
    EVE,
    Slack,
    make_core,
    running,
    slack_settings,
    texts_sent,
)

EPH, PUB = "ephemeral", "in_channel"

# (who, line, a fragment of the reply, where it goes), run in this order by one learner.
EVERY_COMMAND = [
    (ANA, "start", "Welcome aboard", EPH),
    (ANA, "settings", "*Timezone*: Europe/Berlin", EPH),
    (ANA, "settings reminder=20:00", "Updated reminder", EPH),
    (ANA, "log 2h paging", "Logged 2h on 2026-11-30 (paging)", PUB),
    (ANA, "done day01", "day01", PUB),
    (ANA, "undone day01", "is open again", EPH),
    (ANA, "undo", "Undone", EPH),
    (ANA, "quiz week1 17/20", "17/20", EPH),
    (ANA, "score pa-quiz 3/3", "3/3", EPH),
    (ANA, "readiness 42", "42/60", EPH),
    (ANA, 'mock 8 "clear on paging"', "Mock interview 1", EPH),
    (ANA, "rate scheduler 4", "4/5", EPH),
    (ANA, "confidence coding 4", "4", EPH),
    (ANA, "set track Standard", "Standard", EPH),
    (ANA, "count cuda-basic +1", "1/10", EPH),
    (ANA, "insight week1 blocks are pages", "Insight #", EPH),
    (ANA, "challenge OOM | smaller batch | measure first", "Challenge #", EPH),
    (ANA, "question why 16-token blocks?", "Question #", EPH),
    (ANA, "notes", "blocks are pages", EPH),
    (ANA, "notes remove 3", "Removed note #3", EPH),
    (ANA, 'deadline add "NVIDIA Interview" 2027-01-15', "Deadline #1", EPH),
    (ANA, "deadline list", "NVIDIA Interview", EPH),
    (ANA, "deadline remove 1", "Removed deadline", EPH),
    (ANA, "progress", "Hours Invested*: 2 /", EPH),
    (ANA, "week", "Week 1", EPH),
    (ANA, "skills", "Scheduler", EPH),
    (ANA, "summary", "Summary", EPH),
    (ANA, "next", "Next 7 Days Plan", EPH),
    (ANA, "milestones", "Milestones", EPH),
    (ANA, "chart road", "the road is at", EPH),
    (ANA, "pause until 2026-12-10", "Paused through 2026-12-10", EPH),
    (ANA, "resume", "Resumed", EPH),
    (ANA, "snooze 1h", "Snoozed until", EPH),
    (ANA, "digest preview", "", EPH),
    (ANA, "partner invite <@UBEN|ben>", "Invited ben", EPH),
    (ANA, "partner share hours,days", "Your partner now sees: hours, days", EPH),
    (BEN, "partner accept", "accountability partner", EPH),
    (ANA, "partner end", "The partnership has ended", EPH),
    (ANA, "plan", "`vllm`", EPH),
    (ANA, "plan use vllm", "New learners here will follow", EPH),
    (ANA, "link", "Your link code", EPH),
    (ANA, "link here", "already come here (Slack)", EPH),
    (ANA, "export json", "Here is your export", EPH),
    (ANA, "help", "`/pacer log` — Log study time", EPH),
    (ANA, "help log", "Usage: `/pacer log DURATION", EPH),
    (ANA, "forget-me", "Confirm within", EPH),
    (ANA, "forget-me confirm", "stored rows about you were deleted", EPH),
]


async def test_every_command_answers_in_its_place(slack_any_store: Slack) -> None:
    slack = slack_any_store
    wrong = []
    for who, line, fragment, where in EVERY_COMMAND:
        kind, text = await slack.reply(line, who)
        if fragment not in text or kind != where or "⚠️" in text:
            wrong.append((line, kind, text[:300]))
    assert wrong == []
    typed = {line.split()[0] for _who, line, _f, _w in EVERY_COMMAND}
    assert set(COMMANDS) - typed == {"import"}  # refused on Slack: see the bad inputs
    async with slack.core.store.read() as session:
        assert (await session.scalars(select(m.Learner))).all() == []  # forgotten at the end


async def test_the_export_file_goes_to_the_dm(slack: Slack) -> None:
    await slack.reply("start")
    kind, text = await slack.reply("export markdown")
    assert kind == EPH and "is in your DM with Pacer" in text
    [file] = slack.standin.files
    assert file["channel"] == await slack.dm_channel(ANA) and file["name"].endswith(".md")


async def test_bare_pacer_lists_every_command_with_a_line_each(slack: Slack) -> None:
    kind, text = await slack.reply("")
    assert kind == EPH
    for name, info in COMMANDS.items():
        assert f"`/pacer {name}` — {info.summary}" in text.replace("&amp;", "&")


async def test_start_takes_the_slack_time_zone_and_says_so(slack: Slack) -> None:
    _kind, text = await slack.reply("start hours=3", BEN)
    assert "America/New_York" in text and "taken from your Slack profile" in text
    async with slack.core.store.read() as session:
        row = await session.scalar(select(m.Learner))
        assert row is not None and row.timezone == "America/New_York"
        assert row.commitment_minutes == 180


async def test_a_named_zone_overrides_the_profile(slack: Slack) -> None:
    _kind, text = await slack.reply("start Asia/Tokyo", BEN)
    assert "Asia/Tokyo" in text and "Slack profile" not in text


async def test_without_a_profile_zone_start_asks_for_one(slack: Slack) -> None:
    kind, text = await slack.reply("start", EVE)
    assert kind == EPH and "Missing argument" in text and "/pacer start ZONE" in text


async def test_log_is_private_when_the_learner_says_so(slack: Slack) -> None:
    await slack.reply("start")
    await slack.reply("settings public=off")
    kind, text = await slack.reply("log 1h")
    assert kind == EPH and "Logged 1h" in text


async def test_in_the_dm_with_pacer_replies_are_normal_messages(slack: Slack) -> None:
    dm = await slack.dm_channel(ANA)
    await slack.reply("start", channel=dm, channel_name="directmessage")
    kind, text = await slack.reply("progress", channel=dm, channel_name="directmessage")
    assert kind == PUB and "Hours Invested" in text
    # A DM between two people is not Pacer's DM: private views stay ephemeral there.
    kind, _text = await slack.reply("progress", channel="DANABEN", channel_name="directmessage")
    assert kind == EPH


async def test_link_codes_are_ephemeral_even_in_the_dm(slack: Slack) -> None:
    dm = await slack.dm_channel(ANA)
    await slack.reply("start")
    for channel, name in ((dm, "directmessage"), ("CGENERAL", "general")):
        kind, text = await slack.reply("link", channel=channel, channel_name=name)
        assert kind == EPH and re.search(r"`[A-Z2-9]{5}-[A-Z2-9]{5}`", text)


# What Slack sends when a learner types the baits literally (escaped) …
TYPED_BAITS = "&lt;!everyone&gt; &lt;@UBEN&gt; &lt;!subteam^S1&gt; &lt;!here&gt; @here"
# … and when they pick real mentions (live references).
LIVE_BAITS = "<!everyone> <!channel> <@UBEN|ben> <!subteam^S1|@leads> <#CGENERAL|general>"


async def test_mention_baits_never_notify_anyone(slack: Slack) -> None:
    await slack.reply("start")
    for baits in (TYPED_BAITS, LIVE_BAITS):
        kind, _ = await slack.reply(f'log 1h "{baits}"')
        assert kind == PUB  # posted in the channel: where a live mention would notify
        await slack.reply(f"question {baits}")
        await slack.reply(f"insight {baits}")
    _kind, notes = await slack.reply("notes")
    everything = [texts_sent(r) for r in slack.standin.responses]
    everything += [str(v["view"]) for v in slack.standin.views]
    sent = "\n".join(everything)
    assert "<!" not in sent and "<@" not in sent and "<#" not in sent
    assert "&lt;!everyone&gt;" in notes and "&lt;@UBEN&gt;" in notes  # typed: shown, escaped
    assert "&lt;!subteam^S1&gt;" in notes and "@here" in notes
    assert "@everyone @channel @ben @leads #general" in notes  # live: plain words
    assert not any("link_names" in r for r in slack.standin.responses)


# (line, a fragment of the specific message): each refused, ephemeral, nothing stored.
BAD_INPUTS = [
    ("log", "Usage: `/pacer log DURATION [TOPIC] [DATE]`"),
    ("log 0h", "a duration must be more than zero"),
    ("log 25h", "is more than 24 hours"),
    ("log abc", '"abc" is not a duration I understand'),
    ("log 2h topic 2026-13-45", "the month must be 1 to 12"),
    ("log 2h " + "x" * 201, "The topic is 201 characters long; the limit is 200"),
    ('log 2h "unclosed', "A quote is not closed"),
    ("done", "Usage: `/pacer done ITEM [DATE]`"),
    ("done day99", "There is no day 99"),
    ("done nonsense-item", 'No item matches "nonsense-item"'),
    ("undone day05", "is not marked done"),
    ("quiz week1", "Usage: `/pacer quiz WEEK SCORE`"),
    ("quiz week1 25/20", "is more than the maximum of 20"),
    ("readiness 99", "is more than the maximum of 60"),
    ("readiness abc", '"abc" is not a score I understand'),
    ("score nothing 3", 'No score matches "nothing"'),
    ("mock 11", "is more than the maximum of 10"),
    ("rate scheduler 9", "A skill rating must be a whole number from 1 to 5"),
    ("rate nothing 3", 'No skill matches "nothing"'),
    ("confidence coding 7", "A confidence level must be a whole number from 1 to 5"),
    ("set nothing x", 'No field matches "nothing"'),
    ("count nothing", 'No counter matches "nothing"'),
    ("count cuda-basic =99", "is counted out of 10"),
    ("challenge a|b|c|d", "A challenge has at most three parts"),
    ("notes remove x", '"x" is not a note number'),
    ("notes remove 99", "You have no note #99"),
    ('deadline add "X" notadate', '"notadate" is not a date I understand'),
    ("deadline remove 99", "No deadline of yours has that number or title"),
    ("week 99", "week 99 is outside them"),
    ("pause until nope", '"nope" is not a date I understand'),
    ("resume", "You are not paused"),
    ("snooze forever", "Snooze for a duration such as `1h`"),
    ("digest now", "takes one word, preview"),
    ("partner invite ana", "Name your partner with a mention"),
    ("partner invite <!everyone>", "Name your partner with a mention"),
    ("partner accept", "No invitation to be a partner is waiting for you"),
    ("plan use nope", 'No plan called "nope"'),
    ("link ABC", "A link code has 10 letters and digits"),
    ("link ABCDE-23456", "That code is not valid"),
    ("export pdf", '"pdf" is not an export format'),
    ("import tracker.md", "cannot be imported on Slack yet"),
    ("forget-me now", "Usage: `/pacer forget-me | /pacer forget-me confirm"),
    ("help frob", "`/pacer help` lists them"),
    ("frobnicate", "Unknown command"),
    ("settings reminder=25:00", "the hour must be 0 to 23"),
    ("settings bogus=1", 'There is no setting "bogus"'),
    ("start Europe/Berlin", "You are already set up"),
    ("progress extra", "/pacer progress takes no arguments"),
]


@pytest.mark.parametrize(("line", "fragment"), BAD_INPUTS, ids=[b[0][:30] for b in BAD_INPUTS])
async def test_bad_input_is_refused_privately_and_changes_nothing(
        slack: Slack, line: str, fragment: str) -> None:
    await slack.reply("start")
    views = len(await slack.standin.wait_for(lambda: slack.standin.views))  # start's Home
    before = await dump_store(slack.core.store)
    kind, text = await slack.reply(line)
    assert kind == EPH and "⚠️" in text and fragment in text.replace("&amp;", "&"), text
    assert await dump_store(slack.core.store) == before
    await slack.standin.settle(0.1)
    assert len(slack.standin.views) == views  # nothing changed: the Home is not republished


async def test_before_start_a_command_says_how_to_begin(slack: Slack) -> None:
    before = await dump_store(slack.core.store)
    kind, text = await slack.reply("log 2h")
    assert kind == EPH and "/pacer start" in text
    assert await dump_store(slack.core.store) == before


async def test_an_unexpected_error_gets_an_apology_with_an_id(
        slack: Slack, caplog: pytest.LogCaptureFixture) -> None:
    await slack.reply("start")
    async with slack.core.store.write() as session:  # a broken database, not a mock
        await session.execute(text("DROP TABLE time_logs"))
    kind, reply = await slack.reply("log 2h")
    assert kind == EPH and "Sorry, something went wrong on Pacer's side" in reply
    error_id = re.search(r"error `([0-9a-f]{8})`", reply)
    assert error_id and any(error_id.group(1) in r.getMessage() and r.exc_info
                            for r in caplog.records)


async def test_a_partner_mentioned_without_a_name_is_named_from_the_profile(
        slack: Slack) -> None:
    await slack.reply("start")
    _kind, text = await slack.reply("partner invite <@UBEN>")
    assert "Invited Ben as your accountability partner" in text
    _kind, text = await slack.reply("partner accept", BEN)
    assert "ana's accountability partner" in text


async def test_slow_work_is_acknowledged_within_3_seconds(slack: Slack) -> None:
    slack.standin.delays["users.info"] = 3.5
    payload = slack.standin.slash_payload("start", ANA)
    env = await slack.standin.send_envelope("slash_commands", payload)
    assert env.acked_at is not None and env.acked_at - env.sent_at < 3.0
    assert slack.standin.responses == []  # the answer is still being worked out
    [response] = await slack.standin.wait_for(
        lambda: [r for r in slack.standin.responses if r["url"] == payload["response_url"]])
    assert "Welcome aboard" in texts_sent(response)


@pytest.fixture
async def slack_with_owner(standin, sqlite_store, plans, clock):  # type: ignore[no-untyped-def]
    """The Slack front with ANA as the one configured owner (``slack.owner_ids``)."""
    async for harness in running(standin, sqlite_store, plans, clock, owner_ids=(ANA,)):
        yield harness


async def command_lines(caplog: pytest.LogCaptureFixture,
                        count: int) -> list[logging.LogRecord]:
    """Wait for COUNT command lines (each is written once its answer went out)."""
    for _ in range(100):
        lines = [r for r in caplog.records if r.name == "bot.commands"]
        if len(lines) >= count:
            return lines
        await asyncio.sleep(0.05)
    return lines


async def test_status_is_for_the_configured_owners_only(
        slack_with_owner: Slack, caplog: pytest.LogCaptureFixture) -> None:
    slack = slack_with_owner
    caplog.set_level(logging.INFO, logger="bot.commands")
    await slack.reply("start")
    kind, text = await slack.reply("status")
    refused_kind, refused = await slack.reply("status", BEN)
    assert kind == EPH and "Pacer status" in text and "Learners: 1" in text
    assert "Schema: 0006 (current)" in text
    assert refused_kind == EPH and "Only the owners of this Pacer" in refused
    assert "Learners" not in refused
    lines = await command_lines(caplog, 3)
    assert [(r.command, r.front, r.outcome) for r in lines] == [  # type: ignore[attr-defined]
        ("start", "slack", "ok"), ("status", "slack", "ok"),
        ("status", "slack", "input error")]


async def test_each_slack_command_logs_one_line_without_what_was_typed(
        slack: Slack, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO)
    await slack.reply("start")
    await slack.reply('log 1h "secret stuff" <!everyone>')
    await slack.reply("teleport my diary")
    lines = await command_lines(caplog, 3)
    assert [(r.command, r.outcome) for r in lines] == [  # type: ignore[attr-defined]
        ("start", "ok"), ("log", "ok"), ("unknown", "input error")]
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert "secret stuff" not in logged and "diary" not in logged and "teleport" not in logged


async def test_web_api_requests_and_429s_are_counted_in_the_metrics(
        standin, sqlite_store, plans, clock) -> None:  # type: ignore[no-untyped-def]
    settings = slack_settings(standin)
    core = make_core(sqlite_store, plans, clock, settings)
    metrics = core.metrics = PrometheusMetrics()
    runtime = await start_slack(core, settings, pacer=ChannelPacer(1.0))
    await standin.connected()
    try:
        harness = Slack(standin, runtime, core, clock)
        standin.throttle("users.info", times=1, retry_after=1)
        kind, text = await harness.reply("start")  # users.info: the profile's time zone
        assert kind == EPH and "Europe/Berlin" in text
    finally:
        await runtime.stop()
    rendered = metrics.render().decode()
    counted = [line for line in rendered.splitlines()
               if line.startswith(('pacer_rest_requests_total{platform="slack"}',
                                   'pacer_rest_rate_limited_total{platform="slack"}'))]
    requests, limited = (float(line.rsplit(" ", 1)[1]) for line in counted)
    # auth.test, apps.connections.open, users.info refused then retried, ...
    assert limited == 1 and requests == len(standin.calls) >= 4
    assert 'pacer_commands_total{command="start",front="slack",outcome="ok"} 1.0' in rendered

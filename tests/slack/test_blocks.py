"""Block Kit rendering: escaping, Slack's size limits, command spelling, visibility rules."""

from __future__ import annotations

import pytest

from bot.messages import Button, OutMessage
from bot.replies import Reply
from bot.slack.blocks import (
    BLOCKS_PER_MESSAGE,
    SECTION_LIMIT,
    chunks,
    escape,
    message_messages,
    mrkdwn,
    reply_messages,
)
from bot.slack.rules import (
    changes_tracker,
    plain_references,
    response_type,
    slack_commands,
    unescape,
)


@pytest.mark.parametrize(("typed", "sent"), [
    ("<!everyone>", "&lt;!everyone&gt;"),
    ("<@U1>", "&lt;@U1&gt;"),
    ("<!subteam^S1|@team>", "&lt;!subteam^S1|@team&gt;"),
    ("a & b", "a &amp; b"),
    ("&lt;", "&amp;lt;"),
    ("@here", "@here"),
])
def test_escape_defuses_every_mention(typed: str, sent: str) -> None:
    assert escape(typed) == sent
    assert unescape(sent) == typed


def test_markdown_becomes_mrkdwn_outside_code() -> None:
    assert mrkdwn("**Hours**: 2 `**x**`\n# Title") == "*Hours*: 2 `**x**`\n*Title*"
    assert mrkdwn("```\n**kept** <b>\n```") == "```\n**kept** &lt;b&gt;\n```"


def test_long_text_is_cut_within_the_section_limit_and_keeps_fences_balanced() -> None:
    text = mrkdwn("intro\n```\n" + "\n".join("a" * 120 for _ in range(60)) + "\n```\n"
                  + "&" * 5000)
    pieces = chunks(text)
    assert len(pieces) > 3
    assert all(len(p) <= SECTION_LIMIT for p in pieces)
    assert all(p.count("```") % 2 == 0 for p in pieces)
    assert all(not p.startswith(("amp;", "mp;", "p;", ";")) for p in pieces)  # no cut entity
    assert "".join(pieces).count("a" * 120) == 60


def test_a_huge_reply_is_split_into_messages_of_at_most_50_blocks() -> None:
    reply = Reply("\n".join(f"line {n} " + "x" * 2900 for n in range(120)), title="Big")
    messages = reply_messages(reply)
    assert len(messages) == 3
    assert all(len(blocks) <= BLOCKS_PER_MESSAGE for blocks in messages)
    assert all(len(b["text"]["text"]) <= SECTION_LIMIT for m in messages for b in m)


def test_buttons_go_on_the_last_message_with_stable_action_ids() -> None:
    message = OutMessage("reminder", "Reminder", "text " * 10,
                         buttons=(Button("log:1h", "Log 1 h"), Button("snooze:evening", "Later")))
    [blocks] = message_messages(message)
    actions = blocks[-1]
    assert actions["type"] == "actions"
    assert [(e["action_id"], e["value"]) for e in actions["elements"]] == [
        ("pacer:log:1h", "log:1h"), ("pacer:snooze:evening", "snooze:evening")]


@pytest.mark.parametrize(("mention", "expected"), [("UANA", "<@UANA>"), ("<!here>", None),
                                                   (None, None)])
def test_only_a_real_user_id_is_mentioned_in_a_fallback_post(mention: str | None,
                                                              expected: str | None) -> None:
    [blocks] = message_messages(OutMessage("reminder", "R", "t"), mention)
    first = blocks[0]["text"]["text"]
    assert (expected in first) if expected else ("<" not in first)


def test_command_references_are_spelled_the_slack_way() -> None:
    assert slack_commands("Run /start first, e.g. `/start Europe/Berlin`; /forget-me too.") == (
        "Run /pacer start first, e.g. `/pacer start Europe/Berlin`; /pacer forget-me too.")
    assert slack_commands("15/20 and docs/export-format.md and /nothing") == (
        "15/20 and docs/export-format.md and /nothing")


@pytest.mark.parametrize(("command", "reply", "in_dm", "where"), [
    ("log", Reply("x", shareable=True, public=True), False, "in_channel"),
    ("log", Reply("x", shareable=True, public=False), False, "ephemeral"),
    ("done", Reply("x", shareable=True, public=True, error=True), False, "ephemeral"),
    ("progress", Reply("x"), False, "ephemeral"),
    ("progress", Reply("x"), True, "in_channel"),
    ("log", Reply("x", error=True), True, "in_channel"),
    ("link", Reply("x"), True, "ephemeral"),
    ("link", Reply("x", shareable=True, public=True), False, "ephemeral"),
])
def test_where_a_reply_goes(command: str, reply: Reply, in_dm: bool, where: str) -> None:
    assert response_type(command, reply, in_dm) == where


@pytest.mark.parametrize(("line", "writes"), [
    ("log 2h", True), ("progress", False), ("notes", False), ("notes remove 1", True),
    ("deadline list", False), ("deadline add x 2027-01-01", True), ("settings", False),
    ("settings public=off", True), ("link", False), ("link here", True), ("help", False),
    ("forget-me", False), ("forget-me confirm", True), ("export json", False),
])
def test_which_commands_republish_the_home(line: str, writes: bool) -> None:
    name, *args = line.split()
    assert changes_tracker(name, args) is writes


@pytest.mark.parametrize(("live", "plain"), [
    ("<@U1|ana>", "@ana"), ("<@U1>", "@U1"), ("<!here>", "@here"),
    ("<!subteam^S1|@leads>", "@leads"), ("<!subteam^S1>", "@group"),
    ("<#C1|general>", "#general"), ("<https://x.org|docs>", "docs"),
    ("<https://x.org>", "https://x.org"), ("a &lt;b&gt;", "a &lt;b&gt;"),
])
def test_live_references_become_plain_text(live: str, plain: str) -> None:
    assert plain_references(live) == plain

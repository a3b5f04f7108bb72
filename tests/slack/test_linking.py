"""One learner across fronts: a Discord learner links Slack, logs there, sees it on Discord."""

from __future__ import annotations

import re

from sqlalchemy import select

from bot import models as m
from bot.actors import Actor
from tests.slack.conftest import ANA, Slack

DISCORD = Actor("discord", "111", "Ana", space_id="g1", channel_id="c1")


def code_in(text: str) -> str:
    found = re.search(r"`([A-Z2-9]{5}-[A-Z2-9]{5})`", text)
    assert found, text
    return found.group(1)


async def test_a_linked_learner_logs_on_slack_and_sees_it_on_discord(
        slack_any_store: Slack) -> None:
    slack, grammar = slack_any_store, slack_any_store.core.grammar
    assert not (await grammar.dispatch(DISCORD, "/start Europe/Berlin")).error
    code = code_in((await grammar.dispatch(DISCORD, "/link")).text)
    kind, text = await slack.reply(f"link {code}")
    assert kind == "ephemeral" and "Linked" in text and "Discord" in text
    kind, text = await slack.reply("log 2h paging")
    assert kind == "in_channel" and "Logged 2h" in text
    progress = await grammar.dispatch(DISCORD, "/progress")
    assert "**Hours Invested**: 2 /" in progress.text

    kind, text = await slack.reply("link here")
    assert kind == "ephemeral" and "now come here (Slack)" in text
    async with slack.core.store.read() as session:
        row = await session.scalar(select(m.Learner))
        assert row is not None and (row.platform, row.external_id) == ("slack", ANA)


async def test_a_slack_code_is_never_shown_in_the_channel(slack: Slack) -> None:
    await slack.reply("start")
    kind, text = await slack.reply("link")
    assert kind == "ephemeral"
    code = code_in(text)
    assert not any(code in str(msg) for msg in slack.standin.messages)
    linked = await slack.core.grammar.dispatch(DISCORD, f"/link {code}")
    assert not linked.error and "Slack" in linked.text


async def test_forget_me_on_slack_forgets_every_identity(slack: Slack) -> None:
    grammar = slack.core.grammar
    await grammar.dispatch(DISCORD, "/start Europe/Berlin")
    await slack.reply(f"link {code_in((await grammar.dispatch(DISCORD, '/link')).text)}")
    await slack.dm_channel(ANA)  # a DM channel is cached for the Slack identity
    kind, text = await slack.reply("forget-me")
    assert kind == "ephemeral" and "/pacer forget-me confirm" in text
    _kind, text = await slack.reply("forget-me confirm")
    assert "deleted" in text
    async with slack.core.store.read() as session:
        assert (await session.scalars(select(m.Learner))).all() == []
        assert (await session.scalars(select(m.LinkedIdentity))).all() == []
        assert (await session.scalars(select(m.DmChannel))).all() == []
    assert (await grammar.dispatch(DISCORD, "/progress")).error

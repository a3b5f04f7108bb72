"""One learner across fronts: a one-time code links a second identity to the same tracker."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from bot import models as m
from bot.actors import Actor
from bot.grammar import Grammar
from bot.services import Services
from bot.store import Store
from tests.conftest import FakeClock, dump_store

DISCORD = Actor("discord", "111", "Ana", space_id="g1", channel_id="c1")
SLACK = Actor("slack", "U222", "ana", space_id="T1", channel_id="C1")
EVE = Actor("slack", "U666", "eve", space_id="T1", channel_id="C1")


async def ok(grammar: Grammar, actor: Actor, line: str) -> str:
    reply = await grammar.dispatch(actor, line)
    assert not reply.error, (line, reply.text)
    return reply.text


def code_in(text: str) -> str:
    found = re.search(r"`([A-Z2-9]{5}-[A-Z2-9]{5})`", text)
    assert found, text
    return found.group(1)


async def test_a_linked_identity_reads_and_writes_the_same_tracker(
        grammar: Grammar, services: Services) -> None:
    await ok(grammar, DISCORD, "/start Europe/Berlin")
    code = code_in(await ok(grammar, DISCORD, "/link"))
    linked = await ok(grammar, SLACK, f"/link {code.lower()}")
    assert "Linked" in linked and "Discord" in linked
    await ok(grammar, SLACK, "/log 2h paging")
    assert "**Hours Invested**: 2 /" in await ok(grammar, DISCORD, "/progress")
    # The code worked once.
    again = await grammar.dispatch(EVE, f"/link {code}")
    assert again.error and "not valid" in again.text


async def test_reminders_follow_the_chosen_front(grammar: Grammar, services: Services,
                                                 store: Store) -> None:
    await ok(grammar, DISCORD, "/start Europe/Berlin")
    await ok(grammar, SLACK, f"/link {code_in(await ok(grammar, DISCORD, '/link'))}")
    assert "now come here (Slack)" in await ok(grammar, SLACK, "/link here")
    async with store.read() as session:
        row = await session.scalar(select(m.Learner))
        assert (row.platform, row.external_id) == ("slack", "U222")
        ident = await session.scalar(select(m.LinkedIdentity))
        assert (ident.platform, ident.external_id) == ("discord", "111")
    # Both identities still reach the tracker.
    await ok(grammar, DISCORD, "/log 1h")
    assert "**Hours Invested**: 1 /" in await ok(grammar, SLACK, "/progress")
    assert "already come here" in await ok(grammar, SLACK, "/link here")


@pytest.mark.parametrize("typed", ["ABCDE-23456", "abc", "", "ABCDE-2345O", "<@123>"])
async def test_a_wrong_code_links_nothing(grammar: Grammar, store: Store, typed: str) -> None:
    await ok(grammar, DISCORD, "/start Europe/Berlin")
    await ok(grammar, DISCORD, "/link")
    before = await dump_store(store)
    reply = await grammar.dispatch(EVE, f"/link {typed}" if typed else "/link x")
    assert reply.error and ("not valid" in reply.text or "letters and digits" in reply.text)
    assert await dump_store(store) == before
    assert "<@" not in reply.text


async def test_an_expired_code_links_nothing(grammar: Grammar, clock: FakeClock) -> None:
    await ok(grammar, DISCORD, "/start Europe/Berlin")
    code = code_in(await ok(grammar, DISCORD, "/link"))
    clock.advance(minutes=11)
    reply = await grammar.dispatch(SLACK, f"/link {code}")
    assert reply.error and "older than 10 minutes" in reply.text


async def test_someone_with_a_tracker_cannot_join_another(grammar: Grammar,
                                                          store: Store) -> None:
    await ok(grammar, DISCORD, "/start Europe/Berlin")
    await ok(grammar, SLACK, "/start Europe/Berlin")
    code = code_in(await ok(grammar, DISCORD, "/link"))
    before = await dump_store(store)
    reply = await grammar.dispatch(SLACK, f"/link {code}")
    assert reply.error and "already have a tracker" in reply.text
    assert await dump_store(store) == before


async def test_a_new_code_replaces_the_old_one(grammar: Grammar, clock: FakeClock) -> None:
    await ok(grammar, DISCORD, "/start Europe/Berlin")
    first = code_in(await ok(grammar, DISCORD, "/link"))
    clock.advance(minutes=1)
    second = code_in(await ok(grammar, DISCORD, "/link"))
    assert first != second
    assert (await grammar.dispatch(SLACK, f"/link {first}")).error
    await ok(grammar, SLACK, f"/link {second}")


async def test_forget_me_on_either_front_forgets_both(grammar: Grammar, services: Services,
                                                      store: Store) -> None:
    await ok(grammar, DISCORD, "/start Europe/Berlin")
    await ok(grammar, SLACK, f"/link {code_in(await ok(grammar, DISCORD, '/link'))}")
    await ok(grammar, SLACK, "/log 1h")
    await ok(grammar, SLACK, "/forget-me")
    await ok(grammar, SLACK, "/forget-me confirm")
    async with store.read() as session:
        for model in (m.Learner, m.LinkedIdentity, m.TimeLog, m.LinkCode):
            assert await session.scalar(select(func.count()).select_from(model)) == 0
    assert (await grammar.dispatch(DISCORD, "/progress")).error

"""Milestones are dated by when their condition became true; /milestones shows them."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select

from bot import models as m
from bot.actors import Actor
from bot.grammar import Grammar
from bot.store import Store
from tests.conftest import FakeClock, dump_store


async def ok(grammar: Grammar, actor: Actor, line: str):  # type: ignore[no-untyped-def]
    reply = await grammar.dispatch(actor, line)
    assert not reply.error, (line, reply.text)
    return reply


async def reached(store: Store) -> dict[str, date]:
    async with store.read() as session:
        rows = (await session.execute(select(m.MilestoneReached.milestone_id,
                                             m.MilestoneReached.reached_on))).all()
    return dict(rows)


async def test_backdated_entries_date_the_milestones_they_reach(
        grammar: Grammar, store: Store, alice: Actor) -> None:
    # Today is Monday 30 Nov; everything below is logged late, for earlier days.
    await ok(grammar, alice, "/start Europe/Berlin start=2026-11-20")
    first = await ok(grammar, alice, "/log 20h 2026-11-21")
    assert [(c.milestone_id, c.reached_on) for c in first.celebrations] == [
        ("first-log", date(2026, 11, 21))]
    await ok(grammar, alice, "/log 20h 2026-11-22")
    fifty = await ok(grammar, alice, "/log 12h 2026-11-23")  # 52 h: 50 h crossed on 23 Nov
    assert [(c.title, c.reached_on) for c in fifty.celebrations] == [
        ("50 hours of study", date(2026, 11, 23))]
    await ok(grammar, alice, "/done day01 2026-11-24")
    await ok(grammar, alice, "/mock 8 2026-11-25")
    got = await reached(store)
    assert got["first-log"] == date(2026, 11, 21)
    assert got["first-day"] == date(2026, 11, 24)
    assert {got[k] for k in got if "mock" in k or k in ("m6", "c6")} == {date(2026, 11, 25)}


async def test_a_log_filling_an_earlier_day_dates_the_crossing_by_study_day(
        grammar: Grammar, store: Store, alice: Actor) -> None:
    await ok(grammar, alice, "/start Europe/Berlin start=2026-11-20")
    await ok(grammar, alice, "/log 24h 2026-11-27")
    await ok(grammar, alice, "/log 24h 2026-11-28")
    # 48 h so far; 3 h more for 21 Nov reach 51 h. Counted by study day the total is 3 h on
    # the 21st, 27 h on the 27th and 51 h on the 28th: 50 h were passed on 28 Nov.
    await ok(grammar, alice, "/log 3h 2026-11-21")
    assert (await reached(store))["hours-50"] == date(2026, 11, 28)


async def test_milestones_lists_reached_with_dates_and_what_is_left(
        grammar: Grammar, alice: Actor) -> None:
    await ok(grammar, alice, "/start Europe/Berlin start=2026-11-20")
    await ok(grammar, alice, "/log 2h 2026-11-21")
    text = (await ok(grammar, alice, "/milestones")).text
    lines = text.splitlines()
    assert lines[0] == "**Reached** (1 of 19)"
    assert "🏅 First study session logged — 2026-11-21" in lines
    assert "☐ Minimum plan hours reached (150 h): 148h to go of 150h" in lines
    assert "☐ First CUDA kernel compiled: 1 more on `cuda-basic`" in lines
    assert any(line.startswith("☐ Complete all daily plans: 14 items left: `day01`")
               for line in lines)


async def test_milestones_refuses_arguments_and_changes_nothing(
        grammar: Grammar, store: Store, alice: Actor, clock: FakeClock) -> None:
    await ok(grammar, alice, "/start Europe/Berlin")
    before = await dump_store(store)
    reply = await grammar.dispatch(alice, "/milestones everything")
    assert reply.error and "no arguments" in reply.text
    assert await dump_store(store) == before
    reply = await grammar.dispatch(Actor("console", "zoe", "Zoe"), "/milestones")
    assert reply.error and "/start" in reply.text


async def test_a_milestone_reached_by_changing_an_existing_row_is_seen(
        grammar: Grammar, store: Store, alice: Actor) -> None:
    # The counter's row exists at 0, so +1 changes it (an update, not an insert): the check
    # that follows must read the new value, not the row as it was.
    await ok(grammar, alice, "/start Europe/Berlin")
    first = await ok(grammar, alice, "/count cuda-basic 0")
    assert "c-first-kernel" not in [c.milestone_id for c in first.celebrations]
    reply = await ok(grammar, alice, "/count cuda-basic +1")
    assert [c.milestone_id for c in reply.celebrations] == ["c-first-kernel"]
    assert "c-first-kernel" in await reached(store)

"""The partner's road alert, day by day with an injected clock, on SQLite and PostgreSQL.

Alice starts Mon 30 Nov 2026 with 4 h a day and a 19:00 (Berlin) reminder; Bob is her
accepted partner. The road is 4 h at the end of Monday, 8 h at the end of Tuesday, and so on.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from bot import models as m
from bot.plan import PlanRegistry
from bot.services import Services
from bot.store import Store
from tests.conftest import FakeClock
from tests.test_scheduling import (
    BERLIN_19,
    RecordingSender,
    actor,
    dispatcher,
    onboard,
    outbox,
    tick_at,
)

MON = BERLIN_19  # Monday 30 Nov, 19:00 in Berlin


def day(n: int) -> datetime:
    """Return 19:00 Berlin on the Nth day after Monday 30 Nov."""
    return MON + timedelta(days=n)


async def partnered(services: Services, share: list[str]) -> None:
    alice = await onboard(services, "alice", start=date(2026, 11, 30))
    bob = actor("bob")
    await services.partners.invite(alice, bob)
    await services.partners.accept(bob)
    await services.partners.share(alice, share)


async def alerts(store: Store) -> list[m.Outbox]:
    return await outbox(store, "road-alert")


async def test_one_notice_per_zero_buffer_episode(
        store: Store, services: Services, plans: PlanRegistry, clock: FakeClock) -> None:
    await partnered(services, ["hours"])
    sender = RecordingSender(clock)
    d = dispatcher(store, plans, clock, sender)
    await tick_at(d, clock, day(0))  # Monday: today's 4h needed, one day only
    assert sender.to("bob") == [] and len(sender.to("alice", "reminder")) == 1
    await tick_at(d, clock, day(1))  # Tuesday: Monday ended behind, Tuesday short: notify
    (notice,) = sender.to("bob", "road-alert")
    assert notice.message.text == (
        "⚠️ Alice has had no slack on the road for 2 study days (since Mon 30 Nov): Alice is "
        "4h behind the road. A word from you may help.")
    await tick_at(d, clock, day(2))  # Wednesday: the same episode, no second notice
    assert len(sender.to("bob", "road-alert")) == 1
    # Thursday: Alice logs 16h, the road's 16h at the end of Thursday: back on the road.
    clock.set(day(3) - timedelta(hours=2))
    await services.timelog.log_time(actor("alice"), 16 * 60)
    await tick_at(d, clock, day(3))
    await tick_at(d, clock, day(4))  # Friday short again: one day only
    assert len(sender.to("bob", "road-alert")) == 1
    await tick_at(d, clock, day(5))  # Saturday: Friday ended behind: a new episode
    assert len(sender.to("bob", "road-alert")) == 2
    assert sender.to("bob", "road-alert")[1].message.text.startswith(
        "⚠️ Alice has had no slack on the road for 2 study days (since Fri 04 Dec): Alice is "
        "4h behind the road.")
    assert sorted(r.key.split(":")[3] for r in await alerts(store)) == [
        "2026-11-30", "2026-12-04"]
    assert sender.to("alice", "road-alert") == []


async def test_no_notice_when_hours_are_not_shared(
        store: Store, services: Services, plans: PlanRegistry, clock: FakeClock) -> None:
    await partnered(services, ["days", "streak"])
    sender = RecordingSender(clock)
    d = dispatcher(store, plans, clock, sender)
    for n in range(4):
        await tick_at(d, clock, day(n))
    assert sender.to("bob") == [] and await alerts(store) == []


async def test_no_notice_while_paused_and_the_episode_resumes_after(
        store: Store, services: Services, plans: PlanRegistry, clock: FakeClock) -> None:
    await partnered(services, ["hours"])
    sender = RecordingSender(clock)
    d = dispatcher(store, plans, clock, sender)
    await tick_at(d, clock, day(0))  # Monday ends behind
    clock.set(day(1) - timedelta(hours=3))
    await services.pauses.pause(actor("alice"), date(2026, 12, 3))  # Tue - Thu paused
    for n in (1, 2, 3):
        await tick_at(d, clock, day(n))
    assert sender.to("bob") == [] and await alerts(store) == []
    # Friday: the road resumes flat after the pause; Monday's episode goes on: one notice.
    await tick_at(d, clock, day(4))
    (notice,) = sender.to("bob", "road-alert")
    assert "(since Mon 30 Nov): Alice is 4h behind the road" in notice.message.text


async def test_no_notice_once_the_partnership_ends(
        store: Store, services: Services, plans: PlanRegistry, clock: FakeClock) -> None:
    await partnered(services, ["hours"])
    await services.partners.end(actor("alice"))
    sender = RecordingSender(clock)
    d = dispatcher(store, plans, clock, sender)
    for n in range(3):
        await tick_at(d, clock, day(n))
    assert sender.to("bob") == [] and await alerts(store) == []

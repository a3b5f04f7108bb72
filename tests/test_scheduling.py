"""The dispatcher end to end on real stores: DST, grace, restarts, crashes, fallbacks, partners.

Every test drives time by hand (tests/conftest.FakeClock) and calls ``Dispatcher.tick()``
directly; nothing waits for real time except the one test of the APScheduler wiring, which
waits on events.
"""

from __future__ import annotations

import asyncio
import io
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select, update

from bot import models as m
from bot import progress
from bot.actors import Actor
from bot.app import build_services
from bot.config import SchedulerSettings
from bot.dispatch import (
    KINDS,
    CelebrationPayload,
    DeadlinePayload,
    DigestPayload,
    Due,
    KindRegistry,
    Letter,
    PartnerDigestPayload,
    Payload,
    ReminderPayload,
    RoadAlertPayload,
    Skip,
)
from bot.errors import InputError
from bot.grammar import Grammar
from bot.messages import OutMessage, build_digest
from bot.outbox import LATE_AFTER, load_dispatch_data, outbox_key
from bot.parsing import parse_snooze
from bot.plan import PlanRegistry
from bot.scheduling import JOB_ID, Dispatcher, RateLimiter
from bot.senders import CLOSED_DM, ConsoleSender, DeliveryError
from bot.services import Onboarding, Services
from bot.snapshot import DayTotal, DispatchData, load_one
from bot.store import Store
from bot.values import ScoreInput, SnoozeSpec
from tests.conftest import FakeClock

BERLIN_19 = datetime(2026, 11, 30, 18, 0, tzinfo=UTC)  # Monday 19:00 in Berlin
SUNDAY_18 = datetime(2026, 12, 6, 17, 0, tzinfo=UTC)  # the first digest, 18:00 Berlin


@dataclass
class Delivery:
    at: datetime
    platform: str
    recipient: str
    message: OutMessage
    channel: str | None = None


class RecordingSender:
    """Record deliveries; fail for chosen recipients the way a platform would."""

    def __init__(self, clock: FakeClock, *, closed: set[str] | None = None,
                 broken: set[str] | None = None, transient: set[str] | None = None,
                 post_fails: bool = False) -> None:
        self.clock = clock
        self.closed = closed or set()
        self.broken = broken or set()
        self.transient = transient or set()
        self.post_fails = post_fails
        self.sent: list[Delivery] = []
        self.posts: list[Delivery] = []
        self.attempts: list[str] = []  # every recipient send() was called for
        self.in_flight = 0
        self.max_in_flight = 0

    async def send(self, recipient_platform: str, recipient_id: str,
                   message: OutMessage) -> None:
        self.attempts.append(recipient_id)
        self.in_flight += 1
        self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            await asyncio.sleep(0)
            if recipient_id in self.closed:
                raise DeliveryError("Cannot send messages to this user", permanent=True,
                                    code=CLOSED_DM)
            if recipient_id in self.broken:
                raise RuntimeError("the sender has a bug")
            if recipient_id in self.transient:
                raise DeliveryError("503 Service Unavailable", permanent=False, code=503)
            self.sent.append(Delivery(self.clock(), recipient_platform, recipient_id, message))
        finally:
            self.in_flight -= 1

    async def post(self, platform: str, channel_id: str, message: OutMessage,
                   mention_id: str | None) -> None:
        if self.post_fails:
            raise DeliveryError("Missing Access", permanent=True, code=50001)
        self.posts.append(Delivery(self.clock(), platform, mention_id or "", message, channel_id))

    def to(self, recipient: str, kind: str | None = None) -> list[Delivery]:
        return [d for d in self.sent
                if d.recipient == recipient and (kind is None or d.message.kind == kind)]


def actor(name: str, platform: str = "console") -> Actor:
    return Actor(platform, name, name.capitalize(), space_id="console")


async def onboard(services: Services, name: str, *, tz: str = "Europe/Berlin",
                  reminder: time | None = time(19, 0), start: date | None = None,
                  day_start: int = 3, commitment: int = 240, platform: str = "console") -> Actor:
    who = actor(name, platform)
    await services.onboarding.start(who, Onboarding(
        timezone=tz, start_date=start, reminder_time=reminder, day_start_hour=day_start,
        commitment_minutes=commitment))
    return who


def dispatcher(store: Store, plans: PlanRegistry, clock: FakeClock, sender: RecordingSender,
               **settings: object) -> Dispatcher:
    values: dict[str, object] = {"rate_per_second": 0.0}
    values.update(settings)
    return Dispatcher(store, plans, {"console": sender},
                      settings=SchedulerSettings(**values),  # type: ignore[arg-type]
                      clock=clock)


async def tick_at(d: Dispatcher, clock: FakeClock, when: datetime) -> None:
    clock.set(when)
    await d.tick()


async def run_between(d: Dispatcher, clock: FakeClock, start: datetime, end: datetime,
                      step: timedelta = timedelta(minutes=5)) -> None:
    t = start
    while t <= end:
        await tick_at(d, clock, t)
        t += step


async def outbox(store: Store, kind: str | None = None) -> list[m.Outbox]:
    async with store.read() as session:
        stmt = select(m.Outbox).order_by(m.Outbox.id)
        if kind is not None:
            stmt = stmt.where(m.Outbox.kind == kind)
        return list((await session.scalars(stmt)).all())


async def learner_row(store: Store, name: str) -> m.Learner:
    async with store.read() as session:
        row = await session.scalar(select(m.Learner).where(m.Learner.external_id == name))
        assert row is not None
        return row


# --- DST ---------------------------------------------------------------------------------------

DST_CASES = [
    # zone, local date, reminder time, documented instant (bot/timing: gap -> its end,
    # fold -> first occurrence)
    ("Europe/Berlin", date(2027, 3, 28), time(2, 30), datetime(2027, 3, 28, 1, 0, tzinfo=UTC)),
    ("Europe/Berlin", date(2027, 10, 31), time(2, 30), datetime(2027, 10, 31, 0, 30, tzinfo=UTC)),
    ("America/New_York", date(2027, 3, 14), time(2, 30), datetime(2027, 3, 14, 7, 0, tzinfo=UTC)),
    ("America/New_York", date(2027, 11, 7), time(2, 30), datetime(2027, 11, 7, 7, 30, tzinfo=UTC)),
    ("America/New_York", date(2027, 11, 7), time(1, 30), datetime(2027, 11, 7, 5, 30, tzinfo=UTC)),
    ("Asia/Kolkata", date(2027, 3, 28), time(2, 30), datetime(2027, 3, 27, 21, 0, tzinfo=UTC)),
    ("Asia/Kolkata", date(2027, 10, 31), time(2, 30), datetime(2027, 10, 30, 21, 0, tzinfo=UTC)),
    ("Australia/Lord_Howe", date(2027, 10, 3), time(2, 30),
     datetime(2027, 10, 2, 15, 30, tzinfo=UTC)),
    ("Australia/Lord_Howe", date(2027, 10, 3), time(2, 15),
     datetime(2027, 10, 2, 15, 30, tzinfo=UTC)),
    ("Australia/Lord_Howe", date(2027, 4, 4), time(2, 30), datetime(2027, 4, 3, 16, 0, tzinfo=UTC)),
    ("Australia/Lord_Howe", date(2027, 4, 4), time(1, 45),
     datetime(2027, 4, 3, 14, 45, tzinfo=UTC)),
]


@pytest.mark.parametrize(("tz", "day", "at", "expected"), DST_CASES,
                         ids=[f"{c[0]}-{c[1]}-{c[2]:%H%M}" for c in DST_CASES])
async def test_dst_reminder_fires_once_at_the_documented_instant(
        store: Store, plans: PlanRegistry, clock: FakeClock, tz: str, day: date, at: time,
        expected: datetime) -> None:
    clock.set(expected - timedelta(hours=4))
    services = build_services(store, plans, clock=clock)
    await onboard(services, "alice", tz=tz, reminder=at, start=day - timedelta(days=7),
                  day_start=0)
    sender = RecordingSender(clock)
    d = dispatcher(store, plans, clock, sender)
    # Tick every 5 minutes through the transition, the repeated hour included.
    await run_between(d, clock, expected - timedelta(hours=3), expected + timedelta(hours=3))
    assert [x.at for x in sender.to("alice", "reminder")] == [expected]
    rows = await outbox(store, "reminder")
    assert [(r.status, r.key) for r in rows] == [
        ("sent", f"reminder:console:alice:{day.isoformat()}:1")]
    assert (await learner_row(store, "alice")).next_reminder_at > expected + timedelta(hours=20)


# --- grace, restarts and crashes -------------------------------------------------------------


@pytest.mark.parametrize(("down_for", "sent", "late"), [
    (timedelta(0), True, False),
    (timedelta(hours=2), True, True),
    (timedelta(hours=5, minutes=59), True, True),
    (timedelta(hours=6, minutes=1), False, True),
])
async def test_restart_in_the_due_window_loses_nothing_within_grace_and_never_duplicates(
        store: Store, services: Services, plans: PlanRegistry, clock: FakeClock,
        down_for: timedelta, sent: bool, late: bool) -> None:
    await onboard(services, "alice")
    sender = RecordingSender(clock)
    before = dispatcher(store, plans, clock, sender)
    await run_between(before, clock, BERLIN_19 - timedelta(minutes=20),
                      BERLIN_19 - timedelta(minutes=5))
    # The process dies at 18:55 and a new one starts DOWN_FOR after the reminder was due.
    after = dispatcher(store, plans, clock, sender)
    await run_between(after, clock, BERLIN_19 + down_for, BERLIN_19 + down_for + timedelta(hours=1))
    again = dispatcher(store, plans, clock, sender)
    await tick_at(again, clock, BERLIN_19 + down_for + timedelta(hours=2))
    got = sender.to("alice", "reminder")
    assert len(got) == (1 if sent else 0)
    rows = await outbox(store, "reminder")
    assert len(rows) == 1 and rows[0].status == ("sent" if sent else "missed")
    assert rows[0].late is late
    if sent:
        assert got[0].message.text.startswith("⏰ Sent late") is late
        assert got[0].at == BERLIN_19 + down_for


@pytest.mark.parametrize(("down_for", "status"), [
    (timedelta(hours=30), "sent"),
    (timedelta(hours=49), "missed"),
])
async def test_digest_grace_window(store: Store, services: Services, plans: PlanRegistry,
                                   clock: FakeClock, down_for: timedelta, status: str) -> None:
    await onboard(services, "alice", reminder=None)
    sender = RecordingSender(clock)
    await tick_at(dispatcher(store, plans, clock, sender), clock, SUNDAY_18 + down_for)
    await tick_at(dispatcher(store, plans, clock, sender), clock,
                  SUNDAY_18 + down_for + timedelta(minutes=1))
    rows = await outbox(store, "digest")
    assert [r.status for r in rows] == [status]
    digests = sender.to("alice", "digest")
    assert len(digests) == (status == "sent")
    if digests:
        assert digests[0].message.text.startswith(
            "⏰ Sent late: this was due Sun 06 Dec 18:00 (Europe/Berlin).")
        assert digests[0].message.attachment is not None


async def test_downtime_over_several_days_sends_only_the_latest_within_grace(
        store: Store, services: Services, plans: PlanRegistry, clock: FakeClock) -> None:
    await onboard(services, "alice")
    sender = RecordingSender(clock)
    await tick_at(dispatcher(store, plans, clock, sender), clock,
                  BERLIN_19 + timedelta(days=3, hours=1))
    assert len(sender.to("alice", "reminder")) == 1
    rows = await outbox(store, "reminder")
    assert [(r.key.split(":")[3], r.status) for r in rows] == [
        ("2026-11-30", "missed"), ("2026-12-01", "missed"), ("2026-12-02", "missed"),
        ("2026-12-03", "sent")]


async def test_crash_between_claim_and_send_resends_once_on_start(
        store: Store, services: Services, plans: PlanRegistry, clock: FakeClock) -> None:
    await onboard(services, "alice")
    sender = RecordingSender(clock)
    crashed = dispatcher(store, plans, clock, sender)
    clock.set(BERLIN_19)
    batch = await crashed.claim(BERLIN_19)  # claimed and committed, then the process dies
    assert [r.kind for r in batch.to_send] == ["reminder"] and sender.sent == []
    assert [r.status for r in await outbox(store)] == ["pending"]
    restarted = dispatcher(store, plans, clock, sender)
    await tick_at(restarted, clock, BERLIN_19 + timedelta(minutes=11))
    await tick_at(restarted, clock, BERLIN_19 + timedelta(minutes=30))
    await tick_at(dispatcher(store, plans, clock, sender), clock, BERLIN_19 + timedelta(hours=1))
    got = sender.to("alice", "reminder")
    assert len(got) == 1 and got[0].at == BERLIN_19 + timedelta(minutes=11)
    assert got[0].message.text.startswith("⏰ Sent late")  # 11 min > LATE_AFTER
    assert LATE_AFTER < timedelta(minutes=11)
    assert [(r.status, r.attempts) for r in await outbox(store)] == [("sent", 1)]


async def test_pending_rows_are_recovered_by_lease(store: Store, services: Services,
                                                   plans: PlanRegistry, clock: FakeClock) -> None:
    """SQLite (one process) recovers at start; PostgreSQL peers wait for the lease."""
    await onboard(services, "alice")
    sender = RecordingSender(clock)
    clock.set(BERLIN_19)
    await dispatcher(store, plans, clock, sender).claim(BERLIN_19)
    peer = dispatcher(store, plans, clock, sender)
    await tick_at(peer, clock, BERLIN_19 + timedelta(minutes=1))
    if store.dialect == "sqlite":
        assert len(sender.sent) == 1
    else:
        assert sender.sent == []  # another process may still be sending it
        await tick_at(peer, clock, BERLIN_19 + timedelta(minutes=10))
        assert len(sender.sent) == 1
    await tick_at(peer, clock, BERLIN_19 + timedelta(minutes=30))
    assert len(sender.sent) == 1


async def test_transient_failure_is_retried_after_the_lease_then_sent_once(
        store: Store, services: Services, plans: PlanRegistry, clock: FakeClock) -> None:
    await onboard(services, "alice")
    sender = RecordingSender(clock, transient={"alice"})
    d = dispatcher(store, plans, clock, sender)
    await tick_at(d, clock, BERLIN_19)
    rows = await outbox(store, "reminder")
    assert [(r.status, r.attempts) for r in rows] == [("pending", 1)]
    assert "503" in (rows[0].error or "")
    await tick_at(d, clock, BERLIN_19 + timedelta(minutes=5))  # within the lease: no retry
    sender.transient.clear()
    await tick_at(d, clock, BERLIN_19 + timedelta(minutes=11))
    await tick_at(d, clock, BERLIN_19 + timedelta(minutes=30))
    assert len(sender.to("alice")) == 1
    assert [(r.status, r.attempts) for r in await outbox(store, "reminder")] == [("sent", 2)]


async def test_transient_failures_give_up_after_max_attempts(
        store: Store, services: Services, plans: PlanRegistry, clock: FakeClock) -> None:
    await onboard(services, "alice")
    sender = RecordingSender(clock, transient={"alice"})
    d = Dispatcher(store, plans, {"console": sender}, clock=clock, max_attempts=3,
                   settings=SchedulerSettings(rate_per_second=0))
    for minutes in (0, 11, 22, 33, 44):
        await tick_at(d, clock, BERLIN_19 + timedelta(minutes=minutes))
    assert [(r.status, r.attempts) for r in await outbox(store, "reminder")] == [("failed", 3)]


# --- what a reminder skips -----------------------------------------------------------------


async def test_reminder_skipped_when_commitment_met_but_schedule_advances(
        store: Store, services: Services, plans: PlanRegistry, clock: FakeClock) -> None:
    alice = await onboard(services, "alice")
    await onboard(services, "bob")
    await services.timelog.log_time(alice, 240)
    sender = RecordingSender(clock)
    d = dispatcher(store, plans, clock, sender)
    await tick_at(d, clock, BERLIN_19)
    assert sender.to("alice", "reminder") == [] and len(sender.to("bob", "reminder")) == 1
    rows = {r.recipient_id: r for r in await outbox(store, "reminder")}
    assert rows["alice"].status == "skipped"
    assert rows["alice"].error == "today's commitment is already met"
    assert (await learner_row(store, "alice")).next_reminder_at == BERLIN_19 + timedelta(days=1)
    await tick_at(d, clock, BERLIN_19 + timedelta(days=1))
    assert len(sender.to("alice", "reminder")) == 1  # tomorrow is a new day


async def test_paused_learner_gets_no_reminder_streak_frozen_digest_still_sent(
        store: Store, services: Services, plans: PlanRegistry, clock: FakeClock) -> None:
    alice = await onboard(services, "alice", start=date(2026, 11, 28))
    await services.timelog.log_time(alice, 60, day=date(2026, 11, 29))
    await services.pauses.pause(alice, date(2026, 12, 6))
    sender = RecordingSender(clock)
    d = dispatcher(store, plans, clock, sender)
    for n in range(8):
        await tick_at(d, clock, BERLIN_19 + timedelta(days=n))
    await tick_at(d, clock, SUNDAY_18)
    reminders = sender.to("alice", "reminder")
    assert [x.at for x in reminders] == [BERLIN_19 + timedelta(days=7)]  # Monday 7 Dec
    assert {r.error for r in await outbox(store, "reminder") if r.status == "skipped"} == {"paused"}
    assert len(sender.to("alice", "digest")) == 1
    data, _plan, _today = await services.views.snapshot(alice)
    assert progress.streak(data, date(2026, 12, 6)).days == 1  # frozen, not broken


async def test_reminder_before_the_plan_starts_is_skipped(
        store: Store, services: Services, plans: PlanRegistry, clock: FakeClock) -> None:
    await onboard(services, "alice", start=date(2026, 12, 2))
    sender = RecordingSender(clock)
    d = dispatcher(store, plans, clock, sender)
    for n in range(3):
        await tick_at(d, clock, BERLIN_19 + timedelta(days=n))
    assert [x.at.date() for x in sender.to("alice", "reminder")] == [date(2026, 12, 2)]


async def test_changed_reminder_time_takes_effect_next_occurrence_once_a_day(
        store: Store, services: Services, plans: PlanRegistry, clock: FakeClock) -> None:
    alice = await onboard(services, "alice")
    sender = RecordingSender(clock)
    d = dispatcher(store, plans, clock, sender)
    await tick_at(d, clock, BERLIN_19)
    clock.set(BERLIN_19 + timedelta(minutes=10))
    # Later the same evening.
    await services.onboarding.update_settings(alice, {"reminder_minute": 21 * 60})
    await run_between(d, clock, BERLIN_19 + timedelta(minutes=30),
                      BERLIN_19 + timedelta(days=1, hours=3), step=timedelta(minutes=30))
    assert [x.at for x in sender.to("alice", "reminder")] == [
        BERLIN_19, datetime(2026, 12, 1, 20, 0, tzinfo=UTC)]  # not twice on 30 Nov
    clock.set(datetime(2026, 12, 1, 21, 0, tzinfo=UTC))
    await services.onboarding.update_settings(alice, {"timezone": "America/New_York"})
    await run_between(d, clock, datetime(2026, 12, 1, 21, 30, tzinfo=UTC),
                      datetime(2026, 12, 3, 3, 0, tzinfo=UTC), step=timedelta(minutes=30))
    # 21:00 in New York on 1 Dec (02:00 UTC on 2 Dec) is still 1 Dec there, a date that had
    # its reminder already (in Berlin): the outbox key keeps it to one. The next is 2 Dec.
    assert [x.at for x in sender.to("alice", "reminder")][2:] == [
        datetime(2026, 12, 3, 2, 0, tzinfo=UTC)]


async def test_learners_of_other_platforms_are_left_to_their_dispatcher(
        store: Store, services: Services, plans: PlanRegistry, clock: FakeClock) -> None:
    await onboard(services, "alice")
    await onboard(services, "dora", platform="discord")
    sender = RecordingSender(clock)
    await tick_at(dispatcher(store, plans, clock, sender), clock, BERLIN_19)
    assert [x.recipient for x in sender.sent] == ["alice"]
    assert (await learner_row(store, "dora")).next_reminder_at == BERLIN_19


# --- snooze ----------------------------------------------------------------------------------


async def test_snooze_after_the_reminder_reminds_once_more(
        store: Store, services: Services, plans: PlanRegistry, clock: FakeClock) -> None:
    alice = await onboard(services, "alice")
    sender = RecordingSender(clock)
    d = dispatcher(store, plans, clock, sender)
    await tick_at(d, clock, BERLIN_19)
    clock.set(BERLIN_19 + timedelta(minutes=3))
    await services.pauses.snooze(alice, SnoozeSpec("minutes", 60))
    await run_between(d, clock, BERLIN_19 + timedelta(minutes=5), BERLIN_19 + timedelta(hours=3))
    snoozed = sender.to("alice", "snooze")
    assert [x.at for x in snoozed] == [BERLIN_19 + timedelta(hours=1, minutes=5)]
    assert snoozed[0].message.title == "Snoozed reminder"
    assert (await learner_row(store, "alice")).snoozed_until is None


async def test_snooze_before_the_reminder_holds_it_until_the_snooze_ends(
        store: Store, services: Services, plans: PlanRegistry, clock: FakeClock) -> None:
    alice = await onboard(services, "alice")
    sender = RecordingSender(clock)
    d = dispatcher(store, plans, clock, sender)
    await services.pauses.snooze(alice, SnoozeSpec("evening"))
    until = (await learner_row(store, "alice")).snoozed_until
    assert until == datetime(2026, 11, 30, 19, 0, tzinfo=UTC)  # 20:00 Berlin
    await run_between(d, clock, BERLIN_19 - timedelta(minutes=30), BERLIN_19 + timedelta(hours=2))
    assert sender.to("alice", "reminder") == []
    assert [x.at for x in sender.to("alice", "snooze")] == [until]
    rows = await outbox(store, "reminder")
    assert [(r.status, r.error) for r in rows] == [
        ("skipped", "snoozed; the snoozed reminder replaces it")]


async def test_snoozed_reminder_skipped_once_the_commitment_is_met(
        store: Store, services: Services, plans: PlanRegistry, clock: FakeClock) -> None:
    alice = await onboard(services, "alice")
    sender = RecordingSender(clock)
    d = dispatcher(store, plans, clock, sender)
    await tick_at(d, clock, BERLIN_19)
    await services.pauses.snooze(alice, SnoozeSpec("minutes", 60))
    await services.timelog.log_time(alice, 240)
    await tick_at(d, clock, BERLIN_19 + timedelta(hours=1))
    assert sender.to("alice", "snooze") == []
    assert [r.status for r in await outbox(store, "snooze")] == ["skipped"]


@pytest.mark.parametrize(("text", "now", "expected"), [
    ("1h", datetime(2026, 11, 30, 12, 0, tzinfo=UTC), datetime(2026, 11, 30, 13, 0, tzinfo=UTC)),
    ("30m", datetime(2026, 11, 30, 12, 0, tzinfo=UTC),
     datetime(2026, 11, 30, 12, 30, tzinfo=UTC)),
    ("evening", datetime(2026, 11, 30, 12, 0, tzinfo=UTC),
     datetime(2026, 11, 30, 19, 0, tzinfo=UTC)),
    ("off", datetime(2026, 11, 30, 12, 0, tzinfo=UTC), None),
])
async def test_snooze_ends_when_the_learner_said(
        store: Store, services: Services, clock: FakeClock, text: str, now: datetime,
        expected: datetime | None) -> None:
    alice = await onboard(services, "alice")
    clock.set(now)
    if text == "off":  # cancelling needs a snooze to cancel
        await services.pauses.snooze(alice, parse_snooze("1h"))
    await services.pauses.snooze(alice, parse_snooze(text))
    assert (await learner_row(store, "alice")).snoozed_until == expected


@pytest.mark.parametrize(("text", "message"), [
    ("evening", "It is already past 20:00 where you are (Europe/Berlin)"),
    ("soonish", "Snooze for a duration such as `1h` or `30m`"),
    ("25h", "Snooze for a duration such as `1h` or `30m`"),
])
async def test_snooze_refuses(services: Services, clock: FakeClock, text: str,
                              message: str) -> None:
    alice = await onboard(services, "alice")
    clock.set(datetime(2026, 11, 30, 19, 30, tzinfo=UTC))  # 20:30 in Berlin
    with pytest.raises(InputError) as err:
        await services.pauses.snooze(alice, parse_snooze(text))
    assert message in err.value.message


# --- deadlines and celebrations -------------------------------------------------------------


async def test_deadline_reminders_seven_days_and_one_day_before_once_each(
        store: Store, services: Services, plans: PlanRegistry, clock: FakeClock) -> None:
    alice = await onboard(services, "alice")
    await services.deadlines.add_deadline(alice, "NVIDIA Interview", date(2026, 12, 10))
    sender = RecordingSender(clock)
    d = dispatcher(store, plans, clock, sender)
    clock.set(datetime(2026, 12, 9, 12, 0, tzinfo=UTC))
    # The daily reminder of 9 Dec is skipped, not the deadline reminder.
    await services.timelog.log_time(alice, 240)
    for n in range(12):
        await tick_at(d, clock, BERLIN_19 + timedelta(days=n))
        await tick_at(d, clock, BERLIN_19 + timedelta(days=n, minutes=5))
    got = sender.to("alice", "deadline")
    assert [(x.at.date(), x.message.text.splitlines()[0]) for x in got] == [
        (date(2026, 12, 3), "📅 **NVIDIA Interview** is in 7 days (Thu 10 Dec 2026)."),
        (date(2026, 12, 9), "📅 **NVIDIA Interview** is tomorrow (Thu 10 Dec 2026)."),
    ]
    assert date(2026, 12, 9) not in {x.at.date() for x in sender.to("alice", "reminder")}


@pytest.mark.parametrize(("share", "partner_told"), [(("days",), True), (("hours",), False)])
async def test_celebration_announced_in_the_reply_and_once_to_a_sharing_partner(
        store: Store, services: Services, plans: PlanRegistry, clock: FakeClock,
        share: tuple[str, ...], partner_told: bool) -> None:
    alice = await onboard(services, "alice")
    bob = actor("bob")
    await services.partners.invite(alice, bob)
    await services.partners.accept(bob)
    await services.partners.share(alice, share)
    outcome = await services.timelog.log_time(alice, 30)
    assert [c.milestone_id for c in outcome.celebrations] == ["first-log"]
    sender = RecordingSender(clock)
    d = dispatcher(store, plans, clock, sender)
    await tick_at(d, clock, clock() + timedelta(minutes=1))
    await tick_at(d, clock, clock() + timedelta(minutes=1))
    assert sender.to("alice") == []  # the reply announced it: no second message
    theirs = sender.to("bob", "celebration")
    assert len(theirs) == (1 if partner_told else 0)
    if theirs:
        assert theirs[0].message.text.startswith("🏅 Alice reached")
    async with store.read() as session:
        assert (await session.scalars(select(m.MilestoneReached.announced))).all() == [True]


async def test_a_celebration_row_already_sent_is_not_sent_again_and_the_partner_gets_theirs(
        store: Store, services: Services, plans: PlanRegistry, clock: FakeClock) -> None:
    alice = await onboard(services, "alice")
    bob = actor("bob")
    await services.partners.invite(alice, bob)
    await services.partners.accept(bob)
    await services.partners.share(alice, ["days"])
    # What a write does when its reply announces the milestone, in one transaction: the
    # milestone recorded with ``announced`` false and the learner's celebration as sent.
    row = await learner_row(store, "alice")
    async with store.write() as session:
        session.add(m.MilestoneReached(learner_id=row.id, milestone_id="first-log",
                                       reached_on=date(2026, 11, 30), reached_at=clock(),
                                       announced=False))
        session.add(m.Outbox(
            key=outbox_key("celebration", "console", "alice", "first-log", row.id),
            kind="celebration", learner_id=row.id, recipient_platform="console",
            recipient_id="alice", due_at=clock(), status="sent", late=False,
            payload={"milestone_id": "first-log", "reached_on": "2026-11-30"}, attempts=1,
            claimed_at=clock(), sent_at=clock()))
    sender = RecordingSender(clock)
    d = dispatcher(store, plans, clock, sender)
    first = await d.tick(clock() + timedelta(minutes=1))
    await tick_at(d, clock, clock() + timedelta(minutes=2))
    assert sender.to("alice") == []
    assert [x.message.text for x in sender.to("bob", "celebration")] == [
        "🏅 Alice reached an achievement: **First study session logged** (30 Nov 2026)."]
    assert (first.claimed, first.sent, first.failed) == (1, 1, 0)
    rows = await outbox(store, "celebration")
    assert sorted((r.recipient_id, r.status, r.attempts) for r in rows) == [
        ("alice", "sent", 1), ("bob", "sent", 1)]
    async with store.read() as session:
        assert (await session.scalars(select(m.MilestoneReached.announced))).all() == [True]


# --- partners and digests --------------------------------------------------------------------


async def test_partner_digest_only_while_accepted_and_only_shared_parts(
        store: Store, services: Services, plans: PlanRegistry, clock: FakeClock) -> None:
    alice = await onboard(services, "alice", reminder=None, start=date(2026, 11, 30))
    bob = actor("bob")
    await services.timelog.log_time(alice, 150, "block manager")
    await services.notes.add_insight(alice, "secret insight")
    await services.deadlines.add_deadline(alice, "Private deadline", date(2026, 12, 20))
    await services.partners.invite(alice, bob)
    sender = RecordingSender(clock)
    d = dispatcher(store, plans, clock, sender)
    await tick_at(d, clock, SUNDAY_18)  # invited, not accepted: no partner digest
    assert len(sender.to("alice", "digest")) == 1 and sender.to("bob") == []
    await services.partners.accept(bob)
    await services.partners.share(alice, ["hours"])
    await tick_at(d, clock, SUNDAY_18 + timedelta(days=7))
    theirs = sender.to("bob", "digest-partner")
    assert len(theirs) == 1
    text = theirs[0].message.text
    assert "**Hours per day**" in text and "2.5h of 150–200h" in text
    for secret in ("secret insight", "Private deadline", "**Streak**", "**Days studied**"):
        assert secret not in text
    assert theirs[0].message.attachment is not None
    assert "secret insight" in sender.to("alice", "digest")[0].message.text


async def test_ending_the_partnership_stops_a_claimed_digest(
        store: Store, services: Services, plans: PlanRegistry, clock: FakeClock) -> None:
    alice = await onboard(services, "alice", reminder=None)
    bob = actor("bob")
    await services.partners.invite(alice, bob)
    await services.partners.accept(bob)
    sender = RecordingSender(clock)
    d = dispatcher(store, plans, clock, sender)
    clock.set(SUNDAY_18)
    batch = await d.claim(SUNDAY_18)
    assert sorted(r.kind for r in batch.to_send) == ["digest", "digest-partner"]
    await services.partners.end(alice)
    await d.deliver(batch.to_send)
    assert sender.to("bob") == [] and len(sender.to("alice", "digest")) == 1
    rows = {r.kind: r for r in await outbox(store)}
    assert (rows["digest-partner"].status, rows["digest-partner"].error) == (
        "skipped", "the partnership is not accepted")


async def test_fortnightly_digest_every_other_week(
        store: Store, services: Services, plans: PlanRegistry, clock: FakeClock) -> None:
    alice = await onboard(services, "alice", reminder=None, start=date(2026, 11, 30))
    await services.onboarding.update_settings(alice, {"digest_every_weeks": 2})
    sender = RecordingSender(clock)
    d = dispatcher(store, plans, clock, sender)
    for week in range(4):
        await tick_at(d, clock, SUNDAY_18 + timedelta(days=7 * week))
    got = sender.to("alice", "digest")
    # Fortnights count from the start date (Monday 30 Nov): Sundays 6 and 20 December.
    assert [x.at for x in got] == [SUNDAY_18, SUNDAY_18 + timedelta(days=14)]
    assert got[0].message.title == "Your fortnightly digest"


async def test_dispatch_data_gives_the_same_digest_as_the_full_snapshot(
        store: Store, services: Services, plans: PlanRegistry, clock: FakeClock) -> None:
    alice = await onboard(services, "alice", start=date(2026, 11, 23))
    for day, minutes, topic in [(date(2026, 11, 23), 60, "a"), (date(2026, 11, 30), 90, "b"),
                                (date(2026, 11, 30), 150, "c"), (date(2026, 11, 29), 30, None)]:
        await services.timelog.log_time(alice, minutes, topic, day=day)
    await services.checklist.mark_done(alice, "day01")
    await services.scores.rate_skill(alice, "scheduler", 2, week=1)
    await services.scores.rate_skill(alice, "scheduler", 4, week=2)
    await services.scores.record_score(alice, "quiz-week1", ScoreInput.of(17))
    await services.notes.add_challenge(alice, "build broke", solution="gcc 12")
    await services.pauses.pause(alice, date(2026, 12, 1))
    row = await learner_row(store, "alice")
    plan = plans.get(row.plan_id)
    async with store.read() as session:
        full = await load_one(session, row.id)
        lean = (await load_dispatch_data(session, [row.id]))[row.id]
    today = date(2026, 12, 6)  # plan week 2, whose digest compares with week 1
    expected = build_digest(full, plan, today, score_dates={"quiz-week1": date(2026, 11, 30)})
    got = build_digest(lean, plan, today, score_dates=lean.score_dates)
    assert got.text == expected.text and got.chart == expected.chart
    assert lean.score_dates == {"quiz-week1": date(2026, 11, 30)}
    # The lean read says what it holds: one total per study day, no topics, no counters.
    assert isinstance(lean, DispatchData) and not hasattr(lean, "counters")
    assert lean.logs == [DayTotal(date(2026, 11, 23), 60), DayTotal(date(2026, 11, 29), 30),
                         DayTotal(date(2026, 11, 30), 240)]
    assert lean.minutes_by_day() == full.minutes_by_day()
    assert lean.profile == full.profile and lean.partners == full.partners
    assert "Scheduler 2 → 4" in got.text and "Week 1 Quiz 17/20" in got.text


# --- closed DMs and broken senders ----------------------------------------------------------


@pytest.mark.parametrize("fallback", ["space", "home", None])
async def test_closed_dms_fall_back_or_record_a_notice_and_the_dispatcher_keeps_going(
        store: Store, services: Services, grammar: Grammar, plans: PlanRegistry,
        clock: FakeClock, fallback: str | None) -> None:
    alice = await onboard(services, "alice")
    await onboard(services, "bob")
    await onboard(services, "carol")
    async with store.write() as session:
        if fallback == "space":
            await session.execute(update(m.Space).values(fallback_channel_id="555"))
        if fallback == "home":
            await session.execute(update(m.Learner).where(m.Learner.external_id == "alice")
                                  .values(home_channel_id="777"))
    sender = RecordingSender(clock, closed={"alice"}, broken={"carol"})
    d = dispatcher(store, plans, clock, sender)
    clock.set(BERLIN_19)
    report = await d.tick()
    assert [x.recipient for x in sender.sent] == ["bob"]  # carol's bug did not stop bob
    rows = {r.recipient_id: r for r in await outbox(store, "reminder")}
    assert rows["bob"].status == "sent"
    assert rows["carol"].status == "failed" and "RuntimeError" in (rows["carol"].error or "")
    reply = await grammar.dispatch(alice, "/progress")
    if fallback is None:
        assert sender.posts == []
        assert rows["alice"].status == "failed" and "50007" in (rows["alice"].error or "")
        assert report.failed == 2 and report.fallback == 0
        assert reply.notices == ["Pacer could not DM you your daily reminder: your DMs are "
                                 "closed. Allow direct messages from server members, or ask "
                                 "an admin to set a fallback channel."]
    else:
        channel = "555" if fallback == "space" else "777"
        assert [(p.channel, p.recipient, p.message.kind) for p in sender.posts] == [
            (channel, "alice", "reminder")]
        assert rows["alice"].status == "sent"
        assert rows["alice"].error == "DM closed; posted in the fallback channel"
        assert report.fallback == 1 and reply.notices == []


@pytest.mark.parametrize("space_fallback", [None, "555"])
async def test_closed_dm_of_a_learner_who_onboarded_in_a_dm_never_falls_back_to_that_dm(
        store: Store, services: Services, grammar: Grammar, plans: PlanRegistry,
        clock: FakeClock, space_fallback: str | None) -> None:
    # Onboarded in a DM: no home space. Onboarding now keeps only server channels as the
    # home channel, but learners onboarded before that have the DM recorded as their home.
    alice = Actor("console", "alice", "Alice", space_id=None, channel_id="dm-alice")
    await services.onboarding.start(alice, Onboarding(
        timezone="Europe/Berlin", reminder_time=time(19, 0), day_start_hour=3,
        commitment_minutes=240))
    await onboard(services, "bob")  # bob's server space, with its fallback channel
    async with store.write() as session:
        await session.execute(update(m.Space).values(fallback_channel_id=space_fallback))
        await session.execute(update(m.Learner).where(m.Learner.external_id == "alice")
                              .values(home_channel_id="dm-alice"))
    row = await learner_row(store, "alice")
    assert (row.home_channel_id, row.home_space_id) == ("dm-alice", None)
    sender = RecordingSender(clock, closed={"alice"})
    await tick_at(dispatcher(store, plans, clock, sender), clock, BERLIN_19)
    assert sender.posts == []  # neither the DM again nor another learner's server
    rows = {r.recipient_id: r for r in await outbox(store, "reminder")}
    assert rows["alice"].status == "failed" and "50007" in (rows["alice"].error or "")
    reply = await grammar.dispatch(alice, "/progress")
    assert reply.notices and reply.notices[0].startswith("Pacer could not DM you your daily")


async def test_a_closed_dm_is_tried_once_per_batch_then_its_messages_go_to_the_fallback(
        store: Store, services: Services, plans: PlanRegistry, clock: FakeClock) -> None:
    alice = await onboard(services, "alice")
    # Seven days ahead: a deadline reminder rides on the daily one.
    await services.deadlines.add_deadline(alice, "NVIDIA Interview", date(2026, 12, 7))
    async with store.write() as session:
        await session.execute(update(m.Space).values(fallback_channel_id="555"))
    sender = RecordingSender(clock, closed={"alice"})
    report = await dispatcher(store, plans, clock, sender).tick(BERLIN_19)
    assert sender.attempts == ["alice"]  # the deadline reminder did not knock again
    assert sorted((p.channel, p.message.kind) for p in sender.posts) == [
        ("555", "deadline"), ("555", "reminder")]
    assert (report.sent, report.fallback, report.failed) == (2, 2, 0)


async def test_closed_dm_notices_do_not_pile_up(store: Store, services: Services,
                                                plans: PlanRegistry, clock: FakeClock) -> None:
    await onboard(services, "alice")
    sender = RecordingSender(clock, closed={"alice"}, post_fails=True)
    d = dispatcher(store, plans, clock, sender)
    for n in range(3):
        await tick_at(d, clock, BERLIN_19 + timedelta(days=n))
    async with store.read() as session:
        notices = (await session.scalars(select(m.Notice.text))).all()
    assert len(notices) == 1
    assert [r.status for r in await outbox(store, "reminder")] == ["failed"] * 3


async def test_closed_partner_dm_tells_the_learner(store: Store, services: Services,
                                                   plans: PlanRegistry, clock: FakeClock) -> None:
    alice = await onboard(services, "alice", reminder=None)
    bob = actor("bob")
    await services.partners.invite(alice, bob)
    await services.partners.accept(bob)
    sender = RecordingSender(clock, closed={"bob"})
    await tick_at(dispatcher(store, plans, clock, sender), clock, SUNDAY_18)
    assert sender.posts == []  # a digest never goes to a channel
    data, _plan, _today = await services.views.snapshot(alice)
    assert data.notices == ["Your accountability partner could not receive your digest: their "
                            "DMs are closed to Pacer."]


# --- the kind registry ---------------------------------------------------------------------


@dataclass(frozen=True)
class NudgePayload(Payload):
    word: str

    @classmethod
    def from_json(cls, raw: Mapping[str, Any]) -> NudgePayload:
        return cls(str(raw["word"]))

    def to_json(self) -> dict[str, Any]:
        return {"word": self.word}


def nudge_kinds() -> KindRegistry:
    kinds = KINDS.copy()

    @kinds.register("nudge", NudgePayload, label="nudge")
    def nudge(due: Due[NudgePayload]) -> OutMessage | Skip:
        if due.payload.word == "hush":
            return Skip("hushed")
        return OutMessage("nudge", "Nudge", f"{due.payload.word}, {due.data.profile.display_name}")

    return kinds


async def add_pending(store: Store, learner: m.Learner, kind: str, payload: dict[str, Any],
                      claimed_at: datetime) -> None:
    """Insert a pending row as a claimer that died would leave it (found after the lease)."""
    async with store.write() as session:
        session.add(m.Outbox(
            key=f"{kind}:console:{learner.external_id}:{payload}:{learner.id}", kind=kind,
            learner_id=learner.id, recipient_platform="console",
            recipient_id=learner.external_id, due_at=claimed_at, status="pending", late=False,
            payload=payload, attempts=0, claimed_at=claimed_at))


async def test_the_machinery_sends_a_kind_it_has_never_heard_of_through_its_registry(
        store: Store, services: Services, plans: PlanRegistry, clock: FakeClock) -> None:
    await onboard(services, "alice", reminder=None)
    await onboard(services, "bob", reminder=None)
    async with store.write() as session:  # a fallback channel a nudge must not use
        await session.execute(update(m.Space).values(fallback_channel_id="555"))
    alice, bob = await learner_row(store, "alice"), await learner_row(store, "bob")
    for who, word in ((alice, "psst"), (alice, "hush"), (bob, "hey")):
        await add_pending(store, who, "nudge", {"word": word}, clock())
    await add_pending(store, alice, "mystery", {}, clock())
    sender = RecordingSender(clock, closed={"bob"})
    d = Dispatcher(store, plans, {"console": sender}, kinds=nudge_kinds(), clock=clock,
                   settings=SchedulerSettings(rate_per_second=0))
    report = await d.tick(clock() + timedelta(minutes=11))
    assert [(x.recipient, x.message.text) for x in sender.sent] == [("alice", "psst, Alice")]
    assert sender.posts == []
    rows = {(r.kind, r.payload.get("word")): (r.status, r.error) for r in await outbox(store)}
    assert rows == {
        ("nudge", "psst"): ("sent", None), ("nudge", "hush"): ("skipped", "hushed"),
        ("nudge", "hey"): ("failed", "Cannot send messages to this user (code 50007)"),
        ("mystery", None): ("skipped", "unknown kind mystery")}
    assert (report.sent, report.skipped, report.failed) == (1, 2, 1)
    async with store.read() as session:
        notices = (await session.scalars(select(m.Notice.text))).all()
    assert notices == ["Pacer could not DM you your nudge: your DMs are closed. Allow direct "
                       "messages from server members, or ask an admin to set a fallback channel."]


@pytest.mark.parametrize(("grace", "status"), [("reminder", "missed"), ("digest", "sent")])
async def test_a_kind_says_which_grace_window_a_late_row_gets(
        store: Store, services: Services, plans: PlanRegistry, clock: FakeClock, grace: str,
        status: str) -> None:
    await onboard(services, "alice", reminder=None)
    alice = await learner_row(store, "alice")
    kinds = KINDS.copy()

    @kinds.register("nudge", NudgePayload, label="nudge", grace=grace)  # type: ignore[arg-type]
    def nudge(due: Due[NudgePayload]) -> OutMessage:
        return OutMessage("nudge", "Nudge", due.payload.word)

    # Claimed 30 hours ago by a process that died: past the reminder window (6 h), within
    # the digest window (48 h).
    await add_pending(store, alice, "nudge", {"word": "psst"}, clock() - timedelta(hours=30))
    sender = RecordingSender(clock)
    d = Dispatcher(store, plans, {"console": sender}, kinds=kinds, clock=clock,
                   settings=SchedulerSettings(rate_per_second=0))
    await d.tick(clock())
    assert [r.status for r in await outbox(store)] == [status]
    assert len(sender.sent) == (status == "sent")


async def test_a_malformed_payload_fails_its_row_alone(
        store: Store, services: Services, plans: PlanRegistry, clock: FakeClock) -> None:
    await onboard(services, "alice", reminder=None)
    alice = await learner_row(store, "alice")
    await add_pending(store, alice, "nudge", {"wrong": "key"}, clock())
    await add_pending(store, alice, "nudge", {"word": "psst"}, clock())
    sender = RecordingSender(clock)
    d = Dispatcher(store, plans, {"console": sender}, kinds=nudge_kinds(), clock=clock,
                   settings=SchedulerSettings(rate_per_second=0))
    await d.tick(clock() + timedelta(minutes=11))
    assert [x.message.text for x in sender.sent] == ["psst, Alice"]
    assert sorted((r.status, r.error) for r in await outbox(store)) == [
        ("failed", "could not build: KeyError"), ("sent", None)]


def test_every_kind_the_claims_write_is_registered_with_a_typed_payload() -> None:
    samples = {
        "reminder": ReminderPayload(date(2026, 12, 1)),
        "snooze": ReminderPayload(date(2026, 12, 1)),
        "deadline": DeadlinePayload(3, "Interview", date(2026, 12, 8), 7, date(2026, 12, 1)),
        "celebration": CelebrationPayload("first-log", date(2026, 12, 1), partner=True),
        "digest": DigestPayload(date(2026, 12, 6), 2),
        "digest-partner": PartnerDigestPayload(date(2026, 12, 6), 2),
        "road-alert": RoadAlertPayload(date(2026, 12, 2), date(2026, 11, 30)),
    }
    assert sorted(KINDS) == sorted(samples)
    assert KINDS.named(grace="digest") == {"digest", "digest-partner"}
    for name, payload in samples.items():
        kind = KINDS.get(name)
        assert kind is not None and kind.payload is type(payload)
        assert kind.payload.from_json(payload.to_json()) == payload
    labels = {n: (KINDS.get(n).label, KINDS.get(n).channel_fallback) for n in samples}
    assert labels == {"reminder": ("daily reminder", True), "snooze": ("snoozed reminder", True),
                      "deadline": ("deadline reminder", True),
                      "celebration": ("celebration", True), "digest": ("digest", False),
                      "digest-partner": ("digest", False),
                      "road-alert": ("behind-the-plan notice", False)}
    # The JSON the outbox has always stored (rows claimed before this version) still parses.
    assert KINDS.get("deadline").payload.from_json(
        {"deadline_id": 3, "title": "Interview", "due_date": "2026-12-08", "days": 7,
         "study_date": "2026-12-01"}) == samples["deadline"]
    assert CelebrationPayload.from_json({"milestone_id": "m", "reached_on": "2026-12-01"}) \
        == CelebrationPayload("m", date(2026, 12, 1), partner=False)
    assert DigestPayload.from_json({"study_date": "2026-12-06"}).weeks == 1
    assert [p.to_partner for p in samples.values()] == [False, False, False, True, False, True,
                                                        True]
    with pytest.raises(ValueError, match="registered twice"):
        KINDS.copy().register("digest", DigestPayload, label="digest")(lambda due: Skip("x"))


async def test_a_skip_is_a_value_with_its_reason(
        store: Store, services: Services, plans: PlanRegistry, clock: FakeClock) -> None:
    await onboard(services, "alice", start=date(2026, 12, 7))
    row = await learner_row(store, "alice")
    async with store.read() as session:
        data = (await load_dispatch_data(session, [row.id]))[row.id]
    kw = {"recipient_platform": "console", "recipient_id": "alice"}
    early = KINDS.prepare("reminder", {"study_date": "2026-12-01"}, data, plans, **kw)
    assert early == Skip("the plan has not started")
    assert KINDS.prepare("digest-partner", {"study_date": "2026-12-13"}, data, plans,
                         recipient_platform="console", recipient_id="bob") == Skip(
        "the partnership is not accepted")
    assert KINDS.prepare("reminder", {"study_date": "2026-12-07"}, None, plans, **kw) == Skip(
        "the learner no longer exists")
    letter = KINDS.prepare("reminder", {"study_date": "2026-12-07"}, data, plans, **kw)
    assert isinstance(letter, Letter) and letter.message.kind == "reminder"
    assert (letter.label, letter.to_partner, letter.channel_fallback) == (
        "daily reminder", False, True)


# --- the pool, the rate, the scheduler --------------------------------------------------------


async def test_sends_are_bounded_by_the_pool(sqlite_store: Store, plans: PlanRegistry,
                                             clock: FakeClock) -> None:
    services = build_services(sqlite_store, plans, clock=clock)
    for i in range(20):
        await onboard(services, f"learner{i}")
    sender = RecordingSender(clock)
    d = dispatcher(sqlite_store, plans, clock, sender, send_concurrency=3, claim_batch=7)
    clock.set(BERLIN_19)
    report = await d.tick()
    assert len(sender.sent) == 20 and report.batches == 3 and report.sent == 20
    assert 1 < sender.max_in_flight <= 3


async def test_rate_limiter_spaces_requests_without_real_waiting() -> None:
    now = [0.0]
    slept: list[float] = []

    async def fake_sleep(seconds: float) -> None:
        slept.append(seconds)
        now[0] += seconds

    limiter = RateLimiter(5.0, burst=2, monotonic=lambda: now[0], sleep=fake_sleep)
    for _ in range(12):
        await limiter.acquire()
    assert len(slept) == 10  # a burst of 2, then one every 0.2 s
    assert now[0] == pytest.approx(2.0)
    unlimited = RateLimiter(0, monotonic=lambda: now[0], sleep=fake_sleep)
    for _ in range(100):
        await unlimited.acquire()
    assert len(slept) == 10


class BlockingSender(RecordingSender):
    def __init__(self, clock: FakeClock) -> None:
        super().__init__(clock)
        self.started = asyncio.Event()
        self.release = asyncio.Event()

    async def send(self, recipient_platform: str, recipient_id: str,
                   message: OutMessage) -> None:
        self.started.set()
        await self.release.wait()
        await super().send(recipient_platform, recipient_id, message)


async def test_start_runs_one_coalescing_tick_job_and_stop_drains_in_flight_sends(
        sqlite_store: Store, plans: PlanRegistry, clock: FakeClock) -> None:
    services = build_services(sqlite_store, plans, clock=clock)
    for i in range(5):
        await onboard(services, f"learner{i}")
    clock.set(BERLIN_19)
    sender = BlockingSender(clock)
    d = Dispatcher(sqlite_store, plans, {"console": sender}, clock=clock,
                   settings=SchedulerSettings(tick_seconds=3600, claim_batch=2,
                                              send_concurrency=2, rate_per_second=0))
    await d.start()
    scheduler = d.scheduler
    job = scheduler.get_job(JOB_ID)
    assert (job.coalesce, job.max_instances, str(scheduler.timezone)) == (True, 1, "UTC")
    assert len(scheduler.get_jobs()) == 1
    await asyncio.wait_for(sender.started.wait(), 10)  # the first tick runs at start
    stopping = asyncio.create_task(d.stop())
    for _ in range(5):
        await asyncio.sleep(0)
    assert not stopping.done()  # waits for the two sends in flight
    sender.release.set()
    await asyncio.wait_for(stopping, 10)
    assert len(sender.sent) == 2
    rows = await outbox(sqlite_store)
    assert [r.status for r in rows] == ["sent", "sent"]  # no batch claimed after stop
    assert d.scheduler is None and not scheduler.running


# --- commands and the console -----------------------------------------------------------------


async def test_digest_preview_and_snooze_commands(
        store: Store, grammar: Grammar, services: Services, clock: FakeClock) -> None:
    alice = actor("alice")
    await grammar.dispatch(alice, "/start Europe/Berlin")
    await grammar.dispatch(alice, "/log 2h paging")
    await grammar.dispatch(alice, "/insight private thought")
    reply = await grammar.dispatch(alice, "/digest preview")
    assert not reply.error and reply.title == "Digest preview"
    assert "2h of 150–200h" in reply.text and "private thought" in reply.text
    assert "You have no accountability partner" in reply.text
    assert reply.attachment is not None and reply.attachment.data.startswith(b"\x89PNG")
    await grammar.dispatch(alice, "/partner invite bob", resolve_user=actor)
    await grammar.dispatch(actor("bob"), "/partner accept")
    reply = await grammar.dispatch(alice, "/digest")
    head, partner_part = reply.text.split("__Your partner gets (hours, days, streak)__")
    assert "private thought" in head and "private thought" not in partner_part
    assert "**Hours per day**" in partner_part
    reply = await grammar.dispatch(alice, "/snooze 1h")
    assert reply.text == ("😴 Snoozed until 14:00 (Europe/Berlin): I will remind you then. "
                          "`/snooze off` cancels.")
    assert (await learner_row(store, "alice")).snoozed_until == clock() + timedelta(hours=1)
    assert (await grammar.dispatch(alice, "/snooze off")).text.startswith("Snooze cancelled")
    bad = await grammar.dispatch(alice, "/snooze whenever")
    assert bad.error and "`evening`" in bad.text
    assert (await grammar.dispatch(alice, "/snooze off")).error
    assert (await grammar.dispatch(alice, "/digest now")).error
    assert "/snooze" in (await grammar.dispatch(alice, "/help")).text


async def test_console_sender_prints_pings(sqlite_store: Store, plans: PlanRegistry,
                                           clock: FakeClock) -> None:
    services = build_services(sqlite_store, plans, clock=clock)
    await onboard(services, "alice")
    out = io.StringIO()
    d = Dispatcher(sqlite_store, plans, {"console": ConsoleSender(out)}, clock=clock,
                   settings=SchedulerSettings(rate_per_second=0))
    await tick_at(d, clock, BERLIN_19)
    await tick_at(d, clock, SUNDAY_18)
    text = out.getvalue()
    assert "📬 for alice\n== Daily reminder ==\n**Today**: 0h of 4h logged" in text
    assert "[Snooze 1 h: /snooze 1h · Snooze until evening: /snooze evening" in text
    assert "== Your weekly digest ==" in text
    assert re.search(r"\[attachment digest\.png: \d+ bytes\]", text)


MODULES = ["bot/scheduling.py", "bot/outbox.py", "bot/messages.py", "bot/senders.py",
           "bot/snapshot.py", "bot/wording.py", "bot/dispatch/__init__.py",
           "bot/dispatch/_payloads.py", "bot/dispatch/_registry.py", "bot/dispatch/_kinds.py"]


@pytest.mark.parametrize("path", MODULES)
def test_dispatcher_modules_import_no_chat_platform(path: str) -> None:
    source = (Path(__file__).parent.parent / path).read_text(encoding="utf-8")
    assert not re.search(r"^\s*(import|from)\s+(discord|slack\w*)\b", source, re.MULTILINE)

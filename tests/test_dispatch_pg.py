"""Several dispatchers on one PostgreSQL database: thousands due in one minute, each sent once.

Claims use ``FOR UPDATE SKIP LOCKED``; the outbox key makes a repeated claim a no-op. Two
dispatcher instances with their own connection pools share the work in one event loop, and
two real processes do the same; both must deliver every message exactly once.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
from collections import Counter
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event, insert, select, text

from bot import models as m
from bot.config import SchedulerSettings
from bot.messages import OutMessage
from bot.outbox import outbox_key
from bot.plan import PlanRegistry
from bot.scheduling import Dispatcher
from bot.store import Store, create_engine
from tests.conftest import PgDatabase, _truncate_pg

T = datetime(2027, 1, 4, 18, 0, tzinfo=UTC)  # everyone is due within this minute
ROOT = Path(__file__).resolve().parent.parent
ZONES = ("Europe/Berlin", "America/New_York", "Asia/Kolkata", "Australia/Lord_Howe")


@pytest.fixture
async def pg_store(pg_database: PgDatabase) -> AsyncIterator[Store]:
    store = Store(create_engine(pg_database.url))
    await _truncate_pg(store)
    yield store
    await store.close()


class Collect:
    """Record (kind, recipient, key-free subject) for every message sent."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, str]] = []

    async def send(self, recipient_platform: str, recipient_id: str,
                   message: OutMessage) -> None:
        await asyncio.sleep(0)  # let the other dispatcher run between sends
        self.sent.append((message.kind, recipient_id))

    async def post(self, platform: str, channel_id: str, message: OutMessage,
                   mention_id: str | None) -> None:
        raise AssertionError("no DM is closed in this test")


async def populate(store: Store, learners: int, *, digests_every: int = 100,
                   partners_every: int = 5, milestones_every: int = 7,
                   only_reminders: bool = False, announced_every: int = 0) -> Counter[str]:
    """Insert LEARNERS due within minute T; return how many messages of each kind are owed.

    With ANNOUNCED_EVERY, every such learner's own celebration is recorded as sent already,
    the way a command's reply that announced it records it (counted in ``owed["announced"]``).
    """
    if only_reminders:
        digests_every = partners_every = milestones_every = learners + 1
    now = T - timedelta(days=1)
    owed: Counter[str] = Counter()
    rows = []
    for i in range(learners):
        rows.append({
            "platform": "console", "external_id": f"u{i}", "display_name": f"U{i}",
            "plan_id": "vllm", "timezone": ZONES[i % len(ZONES)], "day_start_hour": 3,
            "start_date": date(2026, 12, 1), "commitment_minutes": 240, "commitment_weeks": 6,
            "reminder_minute": 19 * 60, "digest_weekday": 6, "digest_minute": 18 * 60,
            "digest_every_weeks": 1, "public_posts": True, "created_at": now, "updated_at": now,
            "next_reminder_at": T + timedelta(seconds=i % 60),
            "next_digest_at": (T if i % digests_every == digests_every - 1
                               else T + timedelta(days=3)),
        })
        owed["reminder"] += 1
        owed["digest"] += i % digests_every == digests_every - 1
    async with store.write() as session:
        for start in range(0, len(rows), 1000):
            await session.execute(insert(m.Learner), rows[start:start + 1000])
        ids = (await session.scalars(select(m.Learner.id).order_by(m.Learner.id))).all()
        ships, wins, announced = [], [], []
        for n, learner_id in enumerate(ids):
            if n % partners_every == partners_every - 1:
                ships.append({"learner_id": learner_id, "partner_platform": "console",
                              "partner_external_id": f"p{n}", "partner_name": f"P{n}",
                              "status": "accepted", "share": ["hours", "days"],
                              "created_at": now, "accepted_at": now})
                owed["digest-partner"] += n % digests_every == digests_every - 1
                # Nobody has logged since 1 Dec: behind the road, so the partner shown hours
                # gets the one road alert of the episode with the reminder.
                owed["road-alert"] += 1
            if n % milestones_every == milestones_every - 1:
                wins.append({"learner_id": learner_id, "milestone_id": "first-log",
                             "reached_on": date(2027, 1, 4), "reached_at": T,
                             "announced": False})
                owed["celebration"] += 1 + (n % partners_every == partners_every - 1)
                if announced_every and n % announced_every == 0:
                    announced.append({
                        "key": outbox_key("celebration", "console", f"u{n}", "first-log",
                                          learner_id),
                        "kind": "celebration", "learner_id": learner_id,
                        "recipient_platform": "console", "recipient_id": f"u{n}", "due_at": T,
                        "status": "sent", "late": False,
                        "payload": {"milestone_id": "first-log", "reached_on": "2027-01-04"},
                        "attempts": 1, "claimed_at": T, "sent_at": T})
                    owed["celebration"] -= 1
        if ships:
            await session.execute(insert(m.Partnership), ships)
        if wins:
            await session.execute(insert(m.MilestoneReached), wins)
        if announced:
            await session.execute(insert(m.Outbox), announced)
    owed["announced"] = len(announced)
    return owed


def dispatcher(url: str, sender: Collect, batch: int = 100) -> tuple[Dispatcher, Store]:
    store = Store(create_engine(url))
    d = Dispatcher(store, PlanRegistry.load(), {"console": sender}, clock=lambda: T,
                   settings=SchedulerSettings(rate_per_second=0, claim_batch=batch,
                                              send_concurrency=16), tick_budget=0)
    return d, store


async def assert_all_sent_once(store: Store, sent: list[tuple[str, str]],
                               owed: Counter[str]) -> None:
    owed = owed.copy()
    announced = owed.pop("announced", 0)  # sent by a reply, not by a dispatcher
    async with store.read() as session:
        rows = (await session.execute(select(m.Outbox.kind, m.Outbox.recipient_id,
                                             m.Outbox.status, m.Outbox.key))).all()
    assert Counter(r.status for r in rows) == Counter({"sent": sum(owed.values()) + announced})
    assert len({r.key for r in rows}) == len(rows)
    assert Counter(kind for kind, _ in sent) == owed
    # Each (kind, recipient) pair is owed once here: a repeat is a duplicate send.
    assert [pair for pair, n in Counter(sent).items() if n > 1] == []


async def test_two_dispatchers_share_thousands_due_in_one_minute_exactly_once(
        pg_store: Store, pg_database: PgDatabase) -> None:
    owed = await populate(pg_store, 3000)
    assert owed["reminder"] == 3000 and owed["digest-partner"] > 0 and owed["celebration"] > 0
    a_sender, b_sender = Collect(), Collect()
    a, a_store = dispatcher(pg_database.url, a_sender)
    b, b_store = dispatcher(pg_database.url, b_sender)
    try:
        reports = await asyncio.gather(a.tick(T + timedelta(seconds=59)),
                                       b.tick(T + timedelta(seconds=59)))
        assert all(r.sent > 0 for r in reports), reports  # the work was shared
        again = await asyncio.gather(a.tick(T + timedelta(minutes=1)),
                                     b.tick(T + timedelta(minutes=1)))
        assert [r.claimed for r in again] == [0, 0]
    finally:
        await a_store.close()
        await b_store.close()
    await assert_all_sent_once(pg_store, a_sender.sent + b_sender.sent, owed)


async def test_celebrations_a_reply_announced_go_only_to_partners_under_two_dispatchers(
        pg_store: Store, pg_database: PgDatabase) -> None:
    owed = await populate(pg_store, 600, digests_every=601, partners_every=2,
                          milestones_every=1, announced_every=3)
    assert owed["announced"] == 200 and owed["celebration"] == 600 + 300 - 200
    a_sender, b_sender = Collect(), Collect()
    a, a_store = dispatcher(pg_database.url, a_sender, batch=50)
    b, b_store = dispatcher(pg_database.url, b_sender, batch=50)
    try:
        reports = await asyncio.gather(a.tick(T + timedelta(seconds=59)),
                                       b.tick(T + timedelta(seconds=59)))
        assert [r.failed for r in reports] == [0, 0]
    finally:
        await a_store.close()
        await b_store.close()
    sent = a_sender.sent + b_sender.sent
    await assert_all_sent_once(pg_store, sent, owed)
    told = {who for kind, who in sent if kind == "celebration"}
    assert not any(f"u{n}" in told for n in range(0, 600, 3))  # the reply told them
    assert {f"p{n}" for n in range(1, 600, 2)} <= told  # every partner still hears


CHILD = r"""
import asyncio, json, sys
from datetime import datetime, timedelta
from tests.test_dispatch_pg import Collect, dispatcher

async def main(url: str, now: str) -> None:
    sender = Collect()
    d, store = dispatcher(url, sender, batch=50)
    await d.tick(datetime.fromisoformat(now) - timedelta(days=1))  # connect; nothing is due
    print("ready", flush=True)
    sys.stdin.readline()
    report = await d.tick(datetime.fromisoformat(now))
    await store.close()
    print(json.dumps({"sent": sender.sent, "claimed": report.claimed}), flush=True)

asyncio.run(main(sys.argv[1], sys.argv[2]))
"""


async def test_two_processes_share_the_work_exactly_once(
        pg_store: Store, pg_database: PgDatabase) -> None:
    owed = await populate(pg_store, 3000)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    children = [await asyncio.create_subprocess_exec(
        sys.executable, "-c", CHILD, pg_database.url, (T + timedelta(seconds=59)).isoformat(),
        stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE, cwd=ROOT, env=env)
        for _ in range(2)]
    results: list[dict[str, Any]] = []
    try:
        for child in children:  # both connected and warmed up: start them together
            assert child.stdout is not None
            line = await asyncio.wait_for(child.stdout.readline(), 60)
            assert line.strip() == b"ready", line
        for child in children:
            assert child.stdin is not None
            child.stdin.write(b"go\n")
            await child.stdin.drain()
        for child in children:
            out, _ = await asyncio.wait_for(child.communicate(), 120)
            assert child.returncode == 0
            results.append(json.loads(out.decode().strip().splitlines()[-1]))
    finally:
        for child in children:
            if child.returncode is None:
                child.kill()
                await child.wait()
    sent = [tuple(x) for r in results for x in r["sent"]]
    assert all(r["claimed"] > 0 for r in results), [r["claimed"] for r in results]
    await assert_all_sent_once(pg_store, sent, owed)  # type: ignore[arg-type]


async def test_claims_skip_rows_another_transaction_holds(
        pg_store: Store, pg_database: PgDatabase) -> None:
    owed = await populate(pg_store, 10, only_reminders=True)
    assert owed == Counter({"reminder": 10})
    statements: list[str] = []
    sender = Collect()
    d, store = dispatcher(pg_database.url, sender)

    @event.listens_for(store.engine.sync_engine, "before_cursor_execute")
    def _record(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        statements.append(statement)

    try:
        async with pg_store.engine.connect() as holder:
            tx = await holder.begin()
            await holder.execute(text(
                "SELECT id FROM learners WHERE external_id IN ('u0', 'u1', 'u2') FOR UPDATE"))
            report = await d.tick(T + timedelta(minutes=1))  # must not wait for the holder
            assert report.claimed == 7
            await tx.rollback()
        report = await d.tick(T + timedelta(minutes=2))
        assert report.claimed == 3
    finally:
        await store.close()
    assert sorted(r for _, r in sender.sent) == sorted(f"u{i}" for i in range(10))
    claims = [s for s in statements if "FROM learners" in s and "next_reminder_at <=" in s]
    assert claims and all(s.rstrip().endswith("FOR UPDATE SKIP LOCKED") for s in claims)


async def test_a_crashed_processs_claims_wait_for_its_lease_then_go_once(
        pg_store: Store, pg_database: PgDatabase) -> None:
    owed = await populate(pg_store, 40, only_reminders=True)
    lease = timedelta(seconds=30)
    crashed_sender, survivor_sender = Collect(), Collect()
    crashed, crashed_store = dispatcher(pg_database.url, crashed_sender)
    survivor, survivor_store = dispatcher(pg_database.url, survivor_sender)
    survivor.lease = crashed.lease = lease
    claimed_at = T + timedelta(minutes=1)
    try:
        batch = await crashed.claim(claimed_at)  # claimed, then the process died: never sent
        assert len(batch.to_send) == 40
        early = await survivor.tick(claimed_at + lease - timedelta(seconds=1))
        assert early.claimed == 0  # the rows still belong to the dead process
        late = await survivor.tick(claimed_at + lease)
        assert late.claimed == late.sent == 40
        again = await survivor.tick(claimed_at + 3 * lease)
        assert again.claimed == 0
    finally:
        await crashed_store.close()
        await survivor_store.close()
    assert crashed_sender.sent == []
    await assert_all_sent_once(pg_store, survivor_sender.sent, owed)


def test_the_lease_comes_from_the_settings() -> None:
    store = Store(create_engine("postgresql+asyncpg://unused@127.0.0.1/unused"))
    d = Dispatcher(store, PlanRegistry.load(), {}, settings=SchedulerSettings(lease_seconds=42))
    assert d.lease == timedelta(seconds=42)

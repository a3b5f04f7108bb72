"""The write path: how many SQL statements each command takes, and no command lost under load.

The budgets below are the numbers the README gives; a change that makes a command read more
(the learner's whole history, say) fails here. Statements are counted by SQLite itself (its
trace callback on every connection the store uses), for a learner with some history, on a real
SQLite file: the statements SQLAlchemy runs and those ``bot.prepared`` runs on the connection
alike. Each command's transaction adds its ``BEGIN`` and ``COMMIT``, which are not counted.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from sqlalchemy import event, func, select

from bot import models as m
from bot.actors import Actor
from bot.app import build_services
from bot.grammar import Grammar
from bot.prepared import inline_driver
from bot.services import Services
from bot.sqlite_driver import InlineConnection
from bot.store import Store, create_engine
from tests.conftest import FakeClock

# Command -> the most statements it may take (steady state: a learner a few days in).
BUDGET = {
    "/log 1h": 4,  # the learner, the day's total with the milestone facts, the entry, undo
    "/log 30m yesterday": 4,
    "/done day03": 7,
    "/undone day03": 4,
    "/quiz week1 17/20": 4,
    "/mock 7": 10,  # the first mock reaches an achievement: the dates to date it, its row and
    # its outbox row
    "/rate scheduler 4": 4,
    "/confidence coding 4": 4,
    "/set track Standard": 4,
    "/count cuda-basic +1": 10,  # the first problem solved reaches a celebration
    "/insight week1 pages are blocks": 4,
    "/question why 16?": 4,
    '/deadline add "Interview" 2027-01-15': 4,
    "/pause until 2026-12-24": 4,
    "/resume": 4,
    "/snooze 1h": 3,
    "/settings reminder=20:00": 4,  # changes read the learner's row as plain columns; a
    # settings change loads it as an object to change it
    "/undo": 5,
}


@contextmanager
def counting(store: Store) -> Iterator[list[str]]:
    """Collect the statements SQLite runs on the store's connections (without BEGIN/COMMIT)."""
    seen: list[str] = []
    traced: list[sqlite3.Connection] = []

    def record(statement: str) -> None:
        if statement.split(None, 1)[0].upper() not in ("BEGIN", "COMMIT", "ROLLBACK"):
            seen.append(statement)

    def trace(driver: InlineConnection | None) -> None:
        assert driver is not None
        raw = driver.connection()
        raw.set_trace_callback(record)
        traced.append(raw)

    def on_checkout(dbapi_conn, _record, _proxy) -> None:  # type: ignore[no-untyped-def]
        trace(dbapi_conn.driver_connection)

    pool = store.engine.sync_engine.pool
    event.listen(pool, "checkout", on_checkout)
    if store._writer is not None:  # the one writer stays checked out: trace it where it is
        trace(inline_driver(store._writer))
    try:
        yield seen
    finally:
        event.remove(pool, "checkout", on_checkout)
        for raw in traced:
            raw.set_trace_callback(None)


@pytest.mark.parametrize("line", list(BUDGET))
async def test_each_command_stays_within_its_statement_budget(
        sqlite_store: Store, plans, clock: FakeClock, alice: Actor,  # type: ignore[no-untyped-def]
        line: str) -> None:
    grammar = Grammar(build_services(sqlite_store, plans, clock=clock))
    for setup in ("/start Europe/Berlin start=2026-11-28", "/log 2h paging yesterday",
                  "/log 3h 2026-11-28", "/done day01", "/done day02", "/question first?",
                  "/log 1h", "/done day03"):
        assert not (await grammar.dispatch(alice, setup)).error, setup
    if line.startswith("/done"):
        await grammar.dispatch(alice, "/undone day03")
    if line == "/resume":
        await grammar.dispatch(alice, "/pause until 2026-12-24")
    with counting(sqlite_store) as seen:
        reply = await grammar.dispatch(alice, line)
    assert not reply.error, reply.text
    assert len(seen) <= BUDGET[line], "\n".join(seen)


async def test_undo_keeps_at_least_the_last_fifty_changes(
        grammar: Grammar, store: Store, alice: Actor) -> None:
    await grammar.dispatch(alice, "/start UTC")
    for n in range(1, 61):
        assert not (await grammar.dispatch(alice, f"/question q{n}")).error
    async with store.read() as session:
        kept = await session.scalar(select(func.count()).select_from(m.UndoEntry))
    assert 50 <= kept < 60
    for _ in range(50):
        assert not (await grammar.dispatch(alice, "/undo")).error
    async with store.read() as session:
        assert await session.scalar(select(func.count()).select_from(m.Note)) == 10


async def test_a_write_reads_no_table_its_rule_does_not_need(
        sqlite_store: Store, plans, clock: FakeClock, alice: Actor) -> None:  # type: ignore[no-untyped-def]
    grammar = Grammar(build_services(sqlite_store, plans, clock=clock))
    for setup in ("/start Europe/Berlin", "/log 1h", "/question q", "/rate scheduler 3"):
        await grammar.dispatch(alice, setup)
    with counting(sqlite_store) as seen:
        await grammar.dispatch(alice, "/log 1h")
    text = "\n".join(seen).lower()
    for table in ("notes", "skill_ratings", "field_values", "deadlines", "partnerships",
                  "pauses", "scores", "mock_interviews"):
        assert f"from {table}" not in text, table


async def test_concurrent_logs_are_all_kept(services: Services, grammar: Grammar,
                                            store: Store) -> None:
    """Run 600 /log from 120 tasks at once: no command fails, every total is right."""
    actors = [Actor("console", f"u{i}", f"U{i}", space_id="load") for i in range(40)]
    for a in actors:
        assert not (await grammar.dispatch(a, "/start UTC")).error

    async def worker(k: int) -> list[bool]:
        a = actors[k % len(actors)]
        return [not (await grammar.dispatch(a, "/log 10m")).error for _ in range(5)]

    results = await asyncio.gather(*(worker(k) for k in range(120)))
    assert all(all(r) for r in results)
    async with store.read() as session:
        totals = dict((await session.execute(
            select(m.TimeLog.learner_id, func.sum(m.TimeLog.minutes))
            .group_by(m.TimeLog.learner_id))).all())
    assert sorted(totals.values()) == [150] * len(actors)  # 120 * 5 * 10 min / 40 learners


async def test_concurrent_starts_in_one_new_space_all_succeed(grammar: Grammar,
                                                              store: Store) -> None:
    """Onboard 300 learners of one new server at once: the server row is made exactly once."""
    actors = [Actor("discord", str(10_000 + i), f"N{i}", space_id="9001", channel_id="42")
              for i in range(300)]
    replies = await asyncio.gather(*(grammar.dispatch(a, "/start Europe/Berlin")
                                     for a in actors))
    assert [r.text for r in replies if r.error] == []
    async with store.read() as session:
        assert await session.scalar(select(func.count()).select_from(m.Space)) == 1
        assert await session.scalar(select(func.count()).select_from(m.Learner)) == 300


async def test_a_transient_lock_is_retried_inside_the_service(
        tmp_path, sqlite_template, plans, clock: FakeClock, alice: Actor) -> None:  # type: ignore[no-untyped-def]
    """Another process holds the database briefly: the command waits, retries and succeeds."""
    import sqlite3
    import threading

    path = tmp_path / "locked.sqlite3"
    path.write_bytes(sqlite_template.read_bytes())
    store = Store(create_engine(f"sqlite+aiosqlite:///{path}", busy_timeout_ms=60))
    services = build_services(store, plans, clock=clock)
    grammar = Grammar(services)
    assert not (await grammar.dispatch(alice, "/start UTC")).error
    held = threading.Event()

    def hold_the_lock() -> None:
        other = sqlite3.connect(path, isolation_level=None)
        other.execute("BEGIN EXCLUSIVE")
        held.set()
        threading.Event().wait(0.12)  # longer than the busy timeout, shorter than 3 tries
        other.execute("COMMIT")
        other.close()

    thread = threading.Thread(target=hold_the_lock)
    thread.start()
    await asyncio.to_thread(held.wait)
    reply = await grammar.dispatch(alice, "/log 1h")
    thread.join()
    assert not reply.error, reply.text
    async with store.read() as session:
        assert await session.scalar(select(func.sum(m.TimeLog.minutes))) == 60
    await store.close()


async def test_a_lost_postgresql_connection_is_retried_inside_the_service(
        pg_database, plans, clock: FakeClock, alice: Actor) -> None:  # type: ignore[no-untyped-def]
    """The server drops our pooled connections between two commands: the next one succeeds.

    The pool does not ping before each checkout (a round trip per command); a connection found
    dead is invalidated and the unit runs again on a fresh one.
    """
    import asyncpg

    from tests.conftest import PG_ADMIN_URL, _truncate_pg

    store = Store(create_engine(pg_database.url))
    await _truncate_pg(store)
    grammar = Grammar(build_services(store, plans, clock=clock))
    assert not (await grammar.dispatch(alice, "/start UTC")).error
    assert not (await grammar.dispatch(alice, "/log 1h")).error
    admin = await asyncpg.connect(PG_ADMIN_URL.replace("postgresql+asyncpg://", "postgresql://"))
    try:
        killed = await admin.fetchval(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
            "WHERE datname = $1 AND pid <> pg_backend_pid()", pg_database.name)
    finally:
        await admin.close()
    assert killed >= 1
    reply = await grammar.dispatch(alice, "/log 30m")
    assert not reply.error, reply.text
    async with store.read() as session:
        assert await session.scalar(select(func.sum(m.TimeLog.minutes))) == 90
    await store.close()


async def test_a_pooled_connection_dropped_while_idle_is_replaced_before_a_read(
        pg_database, plans, clock: FakeClock, alice: Actor) -> None:  # type: ignore[no-untyped-def]
    """A view after the server dropped an idle connection: pinged at checkout, replaced."""
    import asyncpg

    from tests.conftest import PG_ADMIN_URL, _truncate_pg

    store = Store(create_engine(pg_database.url, idle_ping_seconds=0))
    await _truncate_pg(store)
    grammar = Grammar(build_services(store, plans, clock=clock))
    assert not (await grammar.dispatch(alice, "/start UTC")).error
    admin = await asyncpg.connect(PG_ADMIN_URL.replace("postgresql+asyncpg://", "postgresql://"))
    try:
        await admin.fetchval(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
            "WHERE datname = $1 AND pid <> pg_backend_pid()", pg_database.name)
    finally:
        await admin.close()
    reply = await grammar.dispatch(alice, "/progress")
    assert not reply.error, reply.text
    await store.close()

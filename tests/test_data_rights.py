"""Owning the data: /forget-me leaves no row behind; the SQLite backup is consistent live."""

from __future__ import annotations

import asyncio
import json
import sqlite3
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import select

from bot import models as m
from bot.actors import Actor
from bot.data_rights import BackupError, backup_sqlite, forget_me
from bot.errors import StateError
from bot.grammar import Grammar
from bot.models import Base
from bot.services import Services
from bot.services.data import DataService
from bot.store import Store
from tests.conftest import dump_store
from tests.tracker_histories import build_rich, run

MARK = "zq-alice-7"  # appears only in rows about the forgotten person


@pytest.fixture
def dc(services: Services) -> DataService:
    return services.data


@pytest.fixture
def marked() -> Actor:
    return Actor("console", MARK, "Alice", space_id="console")


async def _outbox(store: Store, key: str, learner_id: int | None, recipient: str) -> None:
    now = datetime(2026, 11, 30, 12, tzinfo=UTC)
    async with store.write() as s:
        s.add(m.Outbox(key=key, kind="digest", learner_id=learner_id,
                       recipient_platform="console", recipient_id=recipient, due_at=now,
                       status="sent", payload={"to": recipient}, claimed_at=now))


async def _rows_about(store: Store, actor: Actor, learner_id: int) -> list[tuple[str, tuple]]:
    """Walk every table of the metadata for rows that belong to or mention ACTOR."""
    found = []
    async with store.read() as session:
        for table in Base.metadata.sorted_tables:
            cols = table.c
            for row in (await session.execute(select(table))).all():
                values = row._mapping
                pairs = [("learner_id", None), ("platform", "external_id"),
                         ("partner_platform", "partner_external_id"),
                         ("recipient_platform", "recipient_id")]
                for a, b in pairs:
                    if a == "learner_id" and "learner_id" in cols and\
                            values["learner_id"] == learner_id:
                        found.append((table.name, tuple(row)))
                    elif b is not None and a in cols and b in cols and\
                            (values[a], values[b]) == (actor.platform, actor.external_id):
                        found.append((table.name, tuple(row)))
                if any(MARK in json.dumps(v, default=str) for v in values.values()):
                    found.append((table.name, tuple(row)))
    return found


async def test_forget_me_deletes_every_row_about_the_person_and_nothing_else(
        store: Store, grammar: Grammar, services: Services, dc: DataService, clock: object,
        marked: Actor, bob: Actor) -> None:
    from bot.console import console_actor

    await build_rich(grammar, services, clock, marked, bob)  # Alice invites bob as partner
    await run(grammar, bob, "/start Europe/Berlin", "/log 1h mine", "/done hello-world",
              f"/partner invite {MARK}", resolve=console_actor)  # and bob invites Alice
    alice_row = await services.ctx.find_learner(marked)
    bob_row = await services.ctx.find_learner(bob)
    assert alice_row is not None and bob_row is not None
    await _outbox(store, "a-subject", alice_row.id, "bob")
    await _outbox(store, "a-recipient", bob_row.id, MARK)
    await _outbox(store, "b-only", bob_row.id, "bob")
    assert len(await _rows_about(store, marked, alice_row.id)) > 50
    bob_before = await _own_rows(store, bob_row.id)

    ask = await grammar.dispatch(marked, "/forget-me")
    assert not ask.error and "cannot be undone" in ask.text
    assert "partnerships as partner" in ask.text
    assert await services.ctx.find_learner(marked) is not None  # nothing deleted before confirming
    done = await grammar.dispatch(marked, "/forget-me confirm")
    assert not done.error, done.text

    assert await _rows_about(store, marked, alice_row.id) == []
    assert await _own_rows(store, bob_row.id) == bob_before  # bob keeps all of his
    assert bob_before["time_logs"] and bob_before["outbox"] and bob_before["learners"]


async def _own_rows(store: Store, learner_id: int) -> dict[str, list[tuple]]:
    """Return the rows of one learner, by table, except his partnership with the forgotten."""
    out: dict[str, list[tuple]] = {}
    async with store.read() as session:
        for table in Base.metadata.sorted_tables:
            if table.name == "learners":
                stmt = select(table).where(table.c.id == learner_id)
            elif "learner_id" in table.c:
                stmt = select(table).where(table.c.learner_id == learner_id)
            else:
                continue
            rows = [tuple(r) for r in (await session.execute(stmt.order_by(table.c.id))).all()]
            out[table.name] = [r for r in rows if MARK not in json.dumps(r, default=str)]
    return out


async def test_forget_me_needs_its_confirmation_in_time(
        store: Store, grammar: Grammar, dc: DataService, clock: object, alice: Actor) -> None:
    await run(grammar, alice, "/start Europe/Berlin", "/log 2h")
    before = await dump_store(store)
    early = await grammar.dispatch(alice, "/forget-me confirm")
    assert early.error and "Run /forget-me first" in early.text
    _reply, token = await dc.forget_me(alice)
    with pytest.raises(StateError, match="replaced by a newer one"):
        await dc.forget_me_confirm(alice, "not-" + token)
    clock.advance(minutes=11)  # type: ignore[attr-defined]
    late = await grammar.dispatch(alice, "/forget-me confirm")
    assert late.error and "waiting for your confirmation" in late.text
    assert await dump_store(store) == before


async def test_forget_me_when_nothing_is_stored(store: Store, grammar: Grammar,
                                                dc: DataService, alice: Actor) -> None:
    reply = await grammar.dispatch(alice, "/forget-me")
    assert reply.error and "stores nothing about you" in reply.text
    assert await forget_me(store, alice) == {}


# --- backups -----------------------------------------------------------------------------------


async def test_backup_is_consistent_while_the_bot_writes(sqlite_store: Store,
                                                          tmp_path: Path) -> None:
    url = str(sqlite_store.engine.url)
    now = datetime(2026, 11, 30, 12, tzinfo=UTC)
    async with sqlite_store.write() as s:
        learner = m.Learner(platform="console", external_id="w", display_name="W",
                            plan_id="vllm", timezone="UTC", day_start_hour=0,
                            start_date=now.date(), commitment_minutes=60, commitment_weeks=4,
                            created_at=now, updated_at=now)
        s.add(learner)
        await s.flush()
        s.add_all([m.TimeLog(learner_id=learner.id, study_date=now.date(), minutes=1,
                             topic="x" * 150, created_at=now) for _ in range(20_000)])
    lid = learner.id
    stop, progressed = asyncio.Event(), asyncio.Event()
    written = 0

    async def writer() -> None:
        nonlocal written
        while not stop.is_set():
            async with sqlite_store.write() as s:
                s.add_all([m.TimeLog(learner_id=lid, study_date=now.date(), minutes=2,
                                     topic="live", created_at=now) for _ in range(50)])
            written += 50
            progressed.set()
            await asyncio.sleep(0)

    task = asyncio.create_task(writer())
    counts = []
    try:
        for n in range(3):
            progressed.clear()
            await progressed.wait()  # a write has just committed: the writer is running
            dest = tmp_path / "backups" / f"copy{n}.sqlite3"
            await asyncio.to_thread(backup_sqlite, url, dest)
            with sqlite3.connect(dest) as copy:
                assert copy.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
                assert copy.execute("PRAGMA journal_mode").fetchone()[0] == "delete"
                (rows,) = copy.execute("SELECT count(*) FROM time_logs").fetchone()
                (live,) = copy.execute(
                    "SELECT count(*) FROM time_logs WHERE topic = 'live'").fetchone()
            assert rows == 20_000 + live and live % 50 == 0  # whole transactions only
            assert not dest.with_name(dest.name + "-wal").exists()
            counts.append(rows)
    finally:
        stop.set()
        await task
    assert counts == sorted(counts) and counts[-1] > 20_000
    assert written > 0


@pytest.mark.parametrize(("url", "message"), [
    ("postgresql+asyncpg://u@127.0.0.1/db", "use|Back PostgreSQL up with pg_dump"),
    ("sqlite+aiosqlite:///:memory:", "in memory"),
    ("sqlite+aiosqlite:////nonexistent/dir/pacer.sqlite3", "no database file"),
])
def test_backup_refuses_what_it_cannot_copy(url: str, message: str, tmp_path: Path) -> None:
    with pytest.raises(BackupError, match=message):
        backup_sqlite(url, tmp_path / "b.sqlite3")


def test_backup_refuses_to_overwrite_the_database(tmp_path: Path) -> None:
    db = tmp_path / "pacer.sqlite3"
    sqlite3.connect(db).close()
    with pytest.raises(BackupError, match="another file"):
        backup_sqlite(f"sqlite+aiosqlite:///{db}", db)


def test_backup_command_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                             capsys: pytest.CaptureFixture[str]) -> None:
    from bot.__main__ import main
    from bot.store import migrate

    db = tmp_path / "pacer.sqlite3"
    url = f"sqlite+aiosqlite:///{db}"
    migrate(url)
    monkeypatch.setenv("PACER_DATABASE_URL", url)
    monkeypatch.chdir(tmp_path)
    assert main(["backup", str(tmp_path / "out" / "b.sqlite3")]) == 0
    assert "backed up the database" in capsys.readouterr().out
    with sqlite3.connect(tmp_path / "out" / "b.sqlite3") as copy:
        assert copy.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    monkeypatch.setenv("PACER_DATABASE_URL", "postgresql+asyncpg://u@127.0.0.1/x")
    assert main(["backup", str(tmp_path / "b2")]) == 2
    assert "pg_dump" in capsys.readouterr().err

"""Prepared statements: what ``conn.execute`` gives, in the same transaction, the same errors."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from sqlalchemy import bindparam, event, func, insert, select
from sqlalchemy.exc import ArgumentError, IntegrityError

from bot import models as m
from bot.prepared import Prepared
from bot.store import Store, create_engine, migrate

NOW = datetime(2026, 12, 1, 9, 30, tzinfo=UTC)
_L = m.Learner.__table__
_LEARNER = select(_L.c.id, _L.c.start_date, _L.c.target_date, _L.c.public_posts,
                  _L.c.snoozed_until, _L.c.goal,
                  func.coalesce(_L.c.reminder_minute, 7).label("reminder")).where(
    _L.c.external_id == bindparam("who"))
_UNDO = insert(m.UndoEntry.__table__).returning(m.UndoEntry.__table__.c.id)
_UNDO_KEYS = ("learner_id", "description", "ops", "created_at")
_UNDO_ROW = select(m.UndoEntry.__table__.c.ops, m.UndoEntry.__table__.c.created_at).where(
    m.UndoEntry.__table__.c.id == bindparam("id"))


async def _add_learner(store: Store, who: str, **values: object) -> int:
    async with store.write() as session:
        row = m.Learner(platform="console", external_id=who, display_name=who,
                        plan_id="vllm-14day", timezone="Asia/Kolkata", day_start_hour=4,
                        start_date=date(2026, 11, 28), commitment_minutes=120,
                        commitment_weeks=2, digest_weekday=6, digest_minute=1080,
                        digest_every_weeks=1, public_posts=False, created_at=NOW,
                        updated_at=NOW, **values)
        session.add(row)
        await session.flush()
        return row.id


async def test_rows_read_back_typed_as_sqlalchemy_reads_them(store: Store) -> None:
    await _add_learner(store, "ana", target_date=date(2027, 1, 15),
                       snoozed_until=datetime(2026, 12, 2, 3, 0, tzinfo=UTC), goal="a job")
    await _add_learner(store, "bo")  # NULLs where ana has values
    prepared = Prepared(_LEARNER)
    async with store.write_connection() as conn:
        for who in ("ana", "bo", "nobody"):
            expected = (await conn.execute(_LEARNER, {"who": who})).all()
            got = await prepared.rows(conn, {"who": who})
            assert [tuple(r) for r in got] == [tuple(r) for r in expected], who
    async with store.write_connection() as conn:
        ana = await prepared.first(conn, {"who": "ana"})
        assert ana.start_date == date(2026, 11, 28) and ana.public_posts is False
        assert ana.snoozed_until == datetime(2026, 12, 2, 3, 0, tzinfo=UTC)
        assert ana.reminder == 7  # a value the statement holds (the 7) needs no argument
        assert await prepared.first(conn, {"who": "nobody"}) is None


async def test_json_and_times_written_come_back_equal(store: Store) -> None:
    learner_id = await _add_learner(store, "ana")
    ops = [{"op": "delete", "table": "time_logs", "id": 3}, {"op": "update", "values": {}}]
    async with store.write_connection() as conn:
        entry_id = await Prepared(_UNDO, keys=_UNDO_KEYS).scalar(conn, {
            "learner_id": learner_id, "description": "log 1h", "ops": ops, "created_at": NOW})
    async with store.write_connection() as conn:
        row = (await conn.execute(_UNDO_ROW, {"id": entry_id})).one()
    assert row.ops == ops and row.created_at == NOW


async def test_a_prepared_write_is_in_the_open_transaction(store: Store) -> None:
    learner_id = await _add_learner(store, "ana")
    values = {"learner_id": learner_id, "description": "x", "ops": [], "created_at": NOW}
    prepared = Prepared(_UNDO, keys=_UNDO_KEYS)
    count = select(func.count()).select_from(m.UndoEntry)
    async with store.write_connection() as conn:
        await prepared.scalar(conn, values)  # the transaction's first statement
        await conn.rollback()
    async with store.write_connection() as conn:
        assert await conn.scalar(count) == 0
        await prepared.scalar(conn, values)
    async with store.write_connection() as conn:
        assert await conn.scalar(count) == 1


async def test_errors_are_sqlalchemys_and_leave_no_row(store: Store) -> None:
    values = {"learner_id": 999_999, "description": "x", "ops": [], "created_at": NOW}
    with pytest.raises(IntegrityError):  # no such learner: the foreign key refuses it
        async with store.write_connection() as conn:
            await Prepared(_UNDO, keys=_UNDO_KEYS).scalar(conn, values)
    async with store.write_connection() as conn:
        assert await conn.scalar(select(func.count()).select_from(m.UndoEntry)) == 0


async def test_on_sqlite_it_skips_sqlalchemys_execution_and_elsewhere_uses_it(
        store: Store) -> None:
    seen: list[str] = []

    def record(_conn, _cursor, statement, *_args) -> None:  # type: ignore[no-untyped-def]
        seen.append(statement)

    event.listen(store.engine.sync_engine, "before_cursor_execute", record)
    try:
        async with store.write_connection() as conn:
            assert await Prepared(_LEARNER).rows(conn, {"who": "nobody"}) == []
    finally:
        event.remove(store.engine.sync_engine, "before_cursor_execute", record)
    ran_through_sqlalchemy = any("FROM learners" in s for s in seen)
    assert ran_through_sqlalchemy == (store.dialect != "sqlite")


async def test_a_missing_value_is_refused(sqlite_store: Store) -> None:
    async with sqlite_store.write_connection() as conn:
        with pytest.raises(ArgumentError, match="who"):
            await Prepared(_LEARNER).rows(conn, {})


async def test_a_statement_rendered_at_execution_cannot_be_prepared(sqlite_store: Store) -> None:
    expanding = select(_L.c.id).where(_L.c.id.in_(bindparam("ids", expanding=True)))
    async with sqlite_store.write_connection() as conn:
        with pytest.raises(ValueError, match="rendered at execution"):
            await Prepared(expanding).rows(conn, {"ids": [1, 2]})


async def test_a_statement_leaving_column_defaults_to_sqlalchemy_cannot_be_prepared(
        sqlite_store: Store) -> None:
    # learners.day_start_hour has a Python-side default: this INSERT would need it filled in
    some = ("platform", "external_id", "display_name", "plan_id", "timezone", "start_date")
    stmt = Prepared(insert(_L).returning(_L.c.id), keys=some)
    async with sqlite_store.write_connection() as conn:
        with pytest.raises(ValueError, match="column defaults"):
            await stmt.scalar(conn, dict.fromkeys(some, "x"))


async def test_with_echo_on_every_statement_is_logged(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'echo.sqlite3'}"
    await asyncio.to_thread(migrate, url)
    store = Store(create_engine(url, echo=True))
    try:
        caplog.set_level("INFO", logger="sqlalchemy.engine")
        async with store.write_connection() as conn:
            await Prepared(_LEARNER).rows(conn, {"who": "ana"})
        assert any("FROM learners" in r.getMessage() for r in caplog.records)
    finally:
        await store.close()

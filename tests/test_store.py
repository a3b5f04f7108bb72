"""The store: SQLite pragmas, UTC-only timestamps, and migrations that match the models."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
import time
from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import OperationalError

from bot import models as m
from bot.store import Store, create_engine, migrate
from tests.conftest import in_thread


async def test_sqlite_runs_in_wal_with_foreign_keys_and_never_blocks_on_a_lock(
        sqlite_store: Store) -> None:
    async with sqlite_store.read() as s:
        assert (await s.execute(text("PRAGMA journal_mode"))).scalar() == "wal"
        assert (await s.execute(text("PRAGMA foreign_keys"))).scalar() == 1
        # SQLite itself never waits (that would stop the event loop): the driver does.
        assert (await s.execute(text("PRAGMA busy_timeout"))).scalar() == 0


async def _hold_lock(path: Path, seconds: float) -> threading.Thread:
    held = threading.Event()

    def hold() -> None:
        other = sqlite3.connect(path, isolation_level=None)
        other.execute("BEGIN IMMEDIATE")
        held.set()
        time.sleep(seconds)
        other.execute("COMMIT")
        other.close()

    thread = threading.Thread(target=hold)
    thread.start()
    await asyncio.to_thread(held.wait)
    return thread


async def test_a_writer_waits_for_another_process_without_stopping_the_loop(
        tmp_path: Path) -> None:
    path = tmp_path / "w.db"
    url = f"sqlite+aiosqlite:///{path}"
    in_thread(migrate, url)
    store = Store(create_engine(url, busy_timeout_ms=3000))
    ticks = 0

    async def ticker() -> None:
        nonlocal ticks
        while True:
            ticks += 1
            await asyncio.sleep(0.01)

    beat = asyncio.create_task(ticker())
    thread = await _hold_lock(path, 0.3)
    started = time.monotonic()
    async with store.write() as s:
        s.add(_learner())
    waited = time.monotonic() - started
    beat.cancel()
    thread.join()
    assert waited >= 0.2  # it did wait for the other writer ...
    assert ticks >= 10  # ... while the loop kept running other work
    async with store.read() as s:
        assert await s.scalar(select(func.count()).select_from(m.Learner)) == 1
    await store.close()


async def test_a_writer_gives_up_after_the_busy_timeout(tmp_path: Path) -> None:
    path = tmp_path / "w.db"
    url = f"sqlite+aiosqlite:///{path}"
    in_thread(migrate, url)
    store = Store(create_engine(url, busy_timeout_ms=100))
    thread = await _hold_lock(path, 0.5)
    with pytest.raises(OperationalError, match="database is locked"):
        async with store.write() as s:
            s.add(_learner())
    thread.join()
    await store.close()


def _learner(**kw: object) -> m.Learner:
    now = datetime(2026, 11, 30, 12, tzinfo=UTC)
    values = dict(platform="console", external_id="x", display_name="X", plan_id="vllm",
                  timezone="Europe/Berlin", day_start_hour=0, start_date=date(2026, 11, 30),
                  commitment_minutes=240, commitment_weeks=6, digest_weekday=6,
                  digest_minute=1080, digest_every_weeks=1, public_posts=True,
                  created_at=now, updated_at=now)
    values.update(kw)
    return m.Learner(**values)


async def test_timestamps_come_back_as_aware_utc(store: Store) -> None:
    berlin_noon = datetime(2026, 11, 30, 12, tzinfo=timezone(timedelta(hours=1)))
    async with store.write() as s:
        s.add(_learner(next_reminder_at=berlin_noon))
    async with store.read() as s:
        got = await s.scalar(select(m.Learner.next_reminder_at))
    assert got == berlin_noon and got.tzinfo is not None
    assert got.utcoffset() == timedelta(0)


async def test_naive_timestamps_are_refused(store: Store) -> None:
    with pytest.raises(Exception, match="naive datetime refused"):
        async with store.write() as s:
            s.add(_learner(next_reminder_at=datetime(2026, 11, 30, 12)))
    async with store.read() as s:
        assert (await s.scalars(select(m.Learner))).all() == []


async def test_deleting_a_learner_cascades_to_their_rows(store: Store) -> None:
    async with store.write() as s:
        row = _learner()
        s.add(row)
        await s.flush()
        s.add(m.TimeLog(learner_id=row.id, study_date=date(2026, 11, 30), minutes=30,
                        created_at=datetime.now(UTC)))
    async with store.write() as s:
        await s.delete(await s.scalar(select(m.Learner)))
    async with store.read() as s:
        assert (await s.scalars(select(m.TimeLog))).all() == []


def _diff(url: str) -> list:
    import asyncio

    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext
    from sqlalchemy.ext.asyncio import create_async_engine

    async def run() -> list:
        engine = create_async_engine(url)
        async with engine.connect() as conn:
            diff = await conn.run_sync(lambda c: compare_metadata(
                MigrationContext.configure(c, opts={"compare_type": True}), m.Base.metadata))
        await engine.dispose()
        return diff

    return asyncio.run(run())


def test_migrations_build_exactly_the_models_on_sqlite(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path}/m.db"
    migrate(url)
    assert _diff(url) == []


def test_migrations_build_exactly_the_models_on_postgres(pg_database) -> None:  # type: ignore[no-untyped-def]
    assert in_thread(_diff, pg_database.url) == []


def test_migrations_downgrade_to_base_and_back(tmp_path: Path) -> None:
    from alembic import command

    from bot.store import alembic_config

    url = f"sqlite+aiosqlite:///{tmp_path}/m.db"
    migrate(url)
    command.downgrade(alembic_config(url), "base")
    migrate(url)
    assert _diff(url) == []


async def test_engine_creates_the_sqlite_folder(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path}/nested/dir/p.db"
    engine = create_engine(url)
    async with engine.connect() as conn:
        await conn.execute(text("select 1"))
    await engine.dispose()
    assert (tmp_path / "nested" / "dir" / "p.db").exists()

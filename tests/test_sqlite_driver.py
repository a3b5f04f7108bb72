"""The SQLite driver on the loop's thread: checkpoints on their own thread, writes counted."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from bot.sqlite_driver import Checkpointer, inline_connector
from bot.store import Store, create_engine


def _main_file_rows(path: Path) -> int:
    # immutable=1 reads the database file alone, ignoring the WAL: what checkpoints copied.
    conn = sqlite3.connect(f"file:{path}?immutable=1", uri=True)
    try:
        return conn.execute("SELECT count(*) FROM t").fetchone()[0]
    finally:
        conn.close()


async def test_writes_reach_the_database_file_through_checkpoints_every_n_writes(
        tmp_path: Path) -> None:
    path = tmp_path / "c.db"
    checkpointer = Checkpointer(str(path), every=5)
    engine = create_async_engine(f"sqlite+aiosqlite:///{path}", async_creator=inline_connector(
        str(path), checkpointer=checkpointer))
    async with engine.begin() as conn:
        await conn.execute(text("CREATE TABLE t (id INTEGER PRIMARY KEY)"))
    for i in range(12):  # 12 committed row writes (DDL changes no row): two checkpoints
        async with engine.begin() as conn:
            await conn.execute(text("INSERT INTO t (id) VALUES (:i)"), {"i": i})
        await asyncio.to_thread(checkpointer.wait)  # one at a time, for a fixed count
    for _ in range(3):  # read transactions write nothing and count nothing
        async with engine.begin() as conn:
            await conn.execute(text("SELECT count(*) FROM t"))
    checkpointer.close()
    assert checkpointer.checkpoints == 2
    assert checkpointer.writes == 2
    assert _main_file_rows(path) == 10  # the second checkpoint ran after the tenth write
    await engine.dispose()


async def test_without_checkpoints_the_file_stays_behind_the_wal(tmp_path: Path) -> None:
    path = tmp_path / "n.db"
    engine = create_async_engine(f"sqlite+aiosqlite:///{path}",
                                 async_creator=inline_connector(str(path)))
    async with engine.begin() as conn:
        await conn.execute(text("CREATE TABLE t (id INTEGER PRIMARY KEY, blob BLOB)"))
        # ~1,200 pages: past SQLite's automatic checkpoint (1,000), had it been left on
        await conn.execute(text("INSERT INTO t (id, blob) VALUES (:i, randomblob(4000))"),
                           [{"i": i} for i in range(1200)])
    async with engine.begin() as conn:
        assert (await conn.execute(text("PRAGMA wal_autocheckpoint"))).scalar() == 0
        assert (await conn.execute(text("SELECT count(*) FROM t"))).scalar() == 1200
    # Committed, readable through the WAL, but not yet in the file: the loop never checkpoints
    # (the commit would have, and waited for the disk, with SQLite's default).
    checker = sqlite3.connect(f"file:{path}?immutable=1", uri=True)
    tables = checker.execute("SELECT count(*) FROM sqlite_master").fetchone()[0]
    checker.close()
    assert tables == 0
    await engine.dispose()


async def test_every_transaction_begins_reads_keep_their_snapshot_and_the_writer_locks(
        tmp_path: Path) -> None:
    # The driver opens each transaction itself (SQLAlchemy's BEGIN is a no-op for SQLite):
    # a read session keeps one snapshot while a write commits beside it, and a write takes
    # the lock at its start, so another process cannot write until it commits.
    path = tmp_path / "s.db"
    store = Store(create_engine(f"sqlite+aiosqlite:///{path}"))
    async with store.write_connection() as conn:
        await conn.execute(text("CREATE TABLE t (x INTEGER)"))
    async with store.read() as session:
        before = await session.scalar(text("SELECT count(*) FROM t"))
        async with store.write_connection() as conn:
            await conn.execute(text("INSERT INTO t VALUES (1)"))
        assert await session.scalar(text("SELECT count(*) FROM t")) == before == 0
    async with store.read() as session:
        assert await session.scalar(text("SELECT count(*) FROM t")) == 1
    other = sqlite3.connect(path, timeout=0)
    try:
        async with store.write_connection() as conn:
            await conn.execute(text("SELECT count(*) FROM t"))  # a read, but the lock is held
            with pytest.raises(sqlite3.OperationalError, match="locked"):
                other.execute("INSERT INTO t VALUES (2)")
        other.execute("INSERT INTO t VALUES (2)")
        other.commit()
    finally:
        other.close()
        await store.close()

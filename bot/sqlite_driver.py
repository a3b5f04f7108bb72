"""SQLite on the event loop's own thread: an aiosqlite-shaped connection without thread hops.

SQLAlchemy's ``sqlite+aiosqlite`` dialect talks to an object with aiosqlite's interface.
aiosqlite runs every call in a worker thread, and each statement costs four round trips
to it (open a cursor, execute, fetch, close): on this project's machine about 250 µs per
statement, more than the statement itself (tens of µs for our indexed one-learner queries,
which read pages SQLite or the OS already holds in memory). This class offers the same
interface but runs each statement directly, so a unit of work costs its statements only
(measured in ``bench/bench_latency.py`` and ``bench_core.py``).

The disk stays off the loop: in WAL mode with ``synchronous=NORMAL`` a commit appends its
pages to the WAL file and does not wait for the disk (no fsync); the one step that does, the
checkpoint that copies the WAL back into the database file, is taken off the commit
(``wal_autocheckpoint=0``) and run by ``Checkpointer`` on its own thread and connection every
``CHECKPOINT_EVERY`` committed writes. (A commit on a worker thread instead cost 2 to 4 ms on
a loaded machine, waiting for the thread and then the loop to be scheduled, against 0.1 ms.)

Waiting for a lock is the one thing that must not block the loop: the connection's own
``busy_timeout`` is 0, and a statement that starts outside a transaction (``BEGIN
IMMEDIATE`` above all) and finds the database locked by another process is retried here with
``asyncio.sleep`` between attempts, until ``busy_timeout_ms`` has passed. Inside a
transaction SQLite's busy answers are not worth waiting for (a read snapshot that cannot be
upgraded stays so), so they are raised at once, as SQLite itself would.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
import time
from collections.abc import Awaitable, Callable, Generator, Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

log = logging.getLogger(__name__)

PRAGMAS = ("PRAGMA journal_mode=WAL", "PRAGMA foreign_keys=ON", "PRAGMA synchronous=NORMAL",
           "PRAGMA busy_timeout=0", "PRAGMA wal_autocheckpoint=0")
CHECKPOINT_EVERY = 200  # committed write transactions between two checkpoints
FIRST_WAIT = 0.002  # seconds; doubled after each busy answer up to LONGEST_WAIT
LONGEST_WAIT = 0.05




class Checkpointer:
    """Copy the WAL back into the database file on a thread, every so many writes."""

    def __init__(self, database: str, *, uri: bool = False,
                 every: int = CHECKPOINT_EVERY) -> None:
        self.database, self.uri, self.every = database, uri, every
        self.writes = 0
        self.checkpoints = 0
        self._running: Future[None] | None = None
        self._conn: sqlite3.Connection | None = None
        self._thread: ThreadPoolExecutor | None = None

    def wrote(self) -> None:
        """Count one committed write; start a checkpoint when enough have piled up."""
        self.writes += 1
        if self.writes >= self.every and (self._running is None or self._running.done()):
            self.writes = 0
            if self._thread is None:
                self._thread = ThreadPoolExecutor(max_workers=1,
                                                  thread_name_prefix="sqlite-checkpoint")
            self._running = self._thread.submit(self.checkpoint)

    def checkpoint(self) -> None:
        """Run a PASSIVE checkpoint (it waits for no reader or writer)."""
        if self._conn is None:
            self._conn = sqlite3.connect(self.database, timeout=5, uri=self.uri,
                                         check_same_thread=False)
        try:
            self._conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
            self.checkpoints += 1
        except sqlite3.Error as exc:  # the next one will catch up
            log.warning("SQLite checkpoint failed: %s", exc)

    def wait(self) -> None:
        """Wait for the running checkpoint, if any (blocking)."""
        if self._running is not None:
            self._running.result()

    def close(self) -> None:
        """Wait for a running checkpoint and stop the thread (SQLite checkpoints on its own
        when the last connection closes; the engine may open new ones and start it again)."""
        if self._thread is not None:
            self._thread.shutdown(wait=True)
            self._thread = None
        self._running = None
        if self._conn is not None:
            self._conn.close()
            self._conn = None


def is_busy(exc: sqlite3.OperationalError) -> bool:
    """Tell whether SQLite refused because another connection holds the lock."""
    text = str(exc)
    return "database is locked" in text or "database is busy" in text


class InlineCursor:
    """An aiosqlite-shaped cursor whose calls run at once on the caller's thread."""

    arraysize = 1

    def __init__(self, connection: InlineConnection, cursor: sqlite3.Cursor) -> None:
        self._connection = connection
        self._cursor = cursor

    async def __aenter__(self) -> InlineCursor:
        return self

    async def __aexit__(self, *_exc: object) -> None:
        self._cursor.close()

    async def execute(self, sql: str, parameters: Any = None) -> InlineCursor:
        await self._connection.begin_if_idle()
        args = (sql,) if parameters is None else (sql, parameters)
        await self._connection.run(self._cursor.execute, *args)
        return self

    async def executemany(self, sql: str, parameters: Iterable[Any]) -> InlineCursor:
        await self._connection.begin_if_idle()
        await self._connection.run(self._cursor.executemany, sql, parameters)
        return self

    async def fetchone(self) -> Any:
        return self._cursor.fetchone()

    async def fetchmany(self, size: int | None = None) -> list[Any]:
        return self._cursor.fetchmany(size) if size else self._cursor.fetchmany()

    async def fetchall(self) -> list[Any]:
        return self._cursor.fetchall()

    async def close(self) -> None:
        self._cursor.close()

    async def nextset(self) -> None:
        return None

    @property
    def description(self) -> Any:
        return self._cursor.description

    @property
    def rowcount(self) -> int:
        return self._cursor.rowcount

    @property
    def lastrowid(self) -> int | None:
        return self._cursor.lastrowid


class InlineConnection:
    """An aiosqlite-shaped connection over one ``sqlite3`` connection, used from the loop.

    Every statement runs in a transaction: the first one after a commit or rollback opens it
    with ``BEGIN <begin_mode>`` (DEFERRED: a read snapshot; IMMEDIATE, for the writer: the
    write lock at once, so a read cannot fail to upgrade). SQLAlchemy's own BEGIN for SQLite
    is a no-op; issuing it here costs no statement of SQLAlchemy's and needs no event hook
    (any hook turns on SQLAlchemy's event dispatch for every statement).
    """

    def __init__(self, conn: sqlite3.Connection, busy_timeout_ms: int,
                 checkpointer: Checkpointer | None = None) -> None:
        self._conn: sqlite3.Connection | None = conn
        self.busy_timeout = busy_timeout_ms / 1000
        self.checkpointer = checkpointer
        self.begin_mode = "DEFERRED"
        self._committed_changes = conn.total_changes

    async def begin_if_idle(self) -> None:
        """Open a transaction unless one is open (waiting for the lock if it must)."""
        conn = self._open()
        if not conn.in_transaction:
            await self.run(conn.execute, f"BEGIN {self.begin_mode}")

    def connection(self) -> sqlite3.Connection:
        """Return the ``sqlite3`` connection itself (``bot.prepared`` runs statements on it)."""
        return self._open()

    @property
    def total_changes(self) -> int:
        """Rows inserted, changed or deleted on this connection since it opened."""
        return self._open().total_changes

    @property
    def _connection(self) -> sqlite3.Connection | None:  # what SQLAlchemy checks for "open"
        return self._conn

    def _open(self) -> sqlite3.Connection:
        if self._conn is None:
            raise ValueError("no active connection")
        return self._conn

    async def run(self, call: Callable[..., Any], *args: Any) -> Any:
        """Run CALL; outside a transaction, wait (without blocking) while the file is locked."""
        conn = self._open()
        if conn.in_transaction:
            return call(*args)
        deadline = time.monotonic() + self.busy_timeout
        wait = FIRST_WAIT
        while True:
            try:
                return call(*args)
            except sqlite3.OperationalError as exc:
                left = deadline - time.monotonic()
                if not is_busy(exc) or left <= 0:
                    raise
                await asyncio.sleep(min(wait, left))
                wait = min(wait * 2, LONGEST_WAIT)

    def cursor(self) -> InlineCursor:
        return InlineCursor(self, self._open().cursor())

    async def execute(self, sql: str, parameters: Any = None) -> InlineCursor:
        cursor = self.cursor()
        return await cursor.execute(sql, parameters)

    async def execute_fetchall(self, sql: str, parameters: Any = None) -> list[Any]:
        cursor = await self.execute(sql, parameters)
        try:
            return await cursor.fetchall()
        finally:
            await cursor.close()

    async def commit(self) -> None:
        conn = self._open()
        try:
            conn.commit()
        except sqlite3.Error:
            # A COMMIT refused (a deferred foreign key, say) leaves SQLite's transaction open;
            # end it, as a server does, so the connection's next transaction starts clean.
            conn.rollback()
            self._committed_changes = conn.total_changes
            raise
        if conn.total_changes != self._committed_changes:
            self._committed_changes = conn.total_changes
            if self.checkpointer is not None:
                self.checkpointer.wrote()

    async def rollback(self) -> None:
        conn = self._open()
        conn.rollback()  # discards pages in memory: no disk write
        self._committed_changes = conn.total_changes

    async def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def stop(self) -> None:
        """Close at once (SQLAlchemy's forced terminate)."""
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    async def create_function(self, *args: Any, **kwargs: Any) -> None:
        self._open().create_function(*args, **kwargs)

    @property
    def isolation_level(self) -> str | None:
        return self._open().isolation_level

    @property
    def in_transaction(self) -> bool:
        return self._open().in_transaction

    def __await__(self) -> Generator[Any, None, InlineConnection]:
        async def ready() -> InlineConnection:
            return self

        return ready().__await__()


def inline_connector(database: str, *, uri: bool = False, busy_timeout_ms: int = 5000,
                     checkpointer: Checkpointer | None = None,
                     ) -> Callable[[], Awaitable[InlineConnection]]:
    """Return SQLAlchemy's ``async_creator``: open DATABASE in autocommit mode, WAL, pragmas set.

    Its connections count their writes on CHECKPOINTER (one per database file).
    """
    async def connect() -> InlineConnection:
        # isolation_level=None: we issue BEGIN ourselves (pysqlite's implicit one is DEFERRED);
        # check_same_thread=False only lets the pool close it from a finaliser.
        conn = sqlite3.connect(database, timeout=0, isolation_level=None, uri=uri,
                               check_same_thread=False)
        inline = InlineConnection(conn, busy_timeout_ms, checkpointer)
        for pragma in PRAGMAS:  # switching to WAL takes the lock: wait for it like any write
            await inline.run(conn.execute, pragma)
        return inline

    return connect

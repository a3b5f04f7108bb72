"""Engine, sessions and transactions for the SQLite default and the PostgreSQL scale-out path."""

from __future__ import annotations

import asyncio
import functools
import logging
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import event, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, DisconnectionError, SQLAlchemyError
from sqlalchemy.ext.asyncio import (
    AsyncConnection,
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from bot.groupcommit import GroupCommit, count_writes
from bot.sqlite_driver import Checkpointer, inline_connector

log = logging.getLogger(__name__)

MIGRATIONS_DIR = Path(__file__).with_name("migrations")


def _prepare_sqlite(url: str) -> None:
    database = make_url(url).database
    if database and database != ":memory:":
        Path(database).expanduser().parent.mkdir(parents=True, exist_ok=True)


IDLE_PING_SECONDS = 30.0  # PostgreSQL: ping a pooled connection that idled this long
# Group commit lanes: SQLite has one writer; on a server, lanes run side by side (each holds one
# pooled connection while it commits a batch, out of the default pool of 5 + 10 overflow).
SERVER_WRITE_LANES = 8


def create_engine(url: str, *, busy_timeout_ms: int = 5000, echo: bool = False,
                  idle_ping_seconds: float = IDLE_PING_SECONDS) -> AsyncEngine:
    """Create the async engine; SQLite runs on the loop's thread, WAL, explicit BEGINs."""
    if url.startswith("sqlite"):
        _prepare_sqlite(url)
        parsed = make_url(url)
        database, uri = parsed.database or ":memory:", parsed.query.get("uri") in ("true", "1")
        checkpointer = None if database == ":memory:" else Checkpointer(database, uri=uri)
        connect = inline_connector(database, uri=uri, busy_timeout_ms=busy_timeout_ms,
                                   checkpointer=checkpointer)
        engine = create_async_engine(url, echo=echo, async_creator=connect)

        if checkpointer is not None:
            @event.listens_for(engine.sync_engine, "engine_disposed")
            def _on_dispose(_engine: Any) -> None:
                checkpointer.close()

        @event.listens_for(engine.sync_engine, "begin")
        def _on_begin(conn: Any) -> None:
            # A deferred read lock upgraded to a write fails at once with "database is
            # locked"; transactions that will write take the lock up front.
            mode = conn.get_execution_options().get("sqlite_begin", "DEFERRED")
            conn.exec_driver_sql(f"BEGIN {mode}")

        return engine
    engine = create_async_engine(url, echo=echo)
    _ping_when_idle(engine, idle_ping_seconds)
    return engine


def _ping_when_idle(engine: AsyncEngine, idle_seconds: float) -> None:
    """Ping a pooled connection on checkout only when it sat unused for IDLE_SECONDS.

    Pinging on every checkout (``pool_pre_ping``) costs a round trip per command; a busy pool's
    connections are known alive. One that idled may have been dropped (a server restart, a
    proxy's timeout): it is pinged, and a dead one is replaced before anyone uses it. A
    connection that dies while in use fails its statement, is invalidated, and the unit of work
    runs again (``services.units.retry_transient``).
    """
    @event.listens_for(engine.sync_engine, "checkin")
    def _checked_in(_dbapi_connection: Any, record: Any) -> None:
        record.info["pacer_idle_since"] = time.monotonic()

    @event.listens_for(engine.sync_engine, "checkout")
    def _checked_out(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        since = record.info.get("pacer_idle_since")
        if since is None or time.monotonic() - since < idle_seconds:
            return
        try:
            cursor = dbapi_connection.cursor()
            cursor.execute("SELECT 1")
            cursor.close()
        except Exception as exc:  # the pool reconnects on DisconnectionError
            raise DisconnectionError(f"pooled connection was dropped: {exc}") from exc


class Store:
    """Hand out sessions: ``write()`` for read-then-write work, ``read()`` for queries."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        self.sessions = async_sessionmaker(engine, expire_on_commit=False)
        # SQLite has one writer at a time: writers of this process queue here instead of
        # racing for the file lock (which fails with "database is locked" past busy_timeout).
        self._write_lock = asyncio.Lock()
        self._writer: AsyncConnection | None = None  # SQLite: ``write_connection``'s, kept open
        # Commands that arrive together share a transaction (``bot.groupcommit``).
        count_writes(engine)
        inline = self.dialect == "sqlite"  # bot.sqlite_driver: statements never suspend
        self.group = GroupCommit(self.write_connection,
                                 lanes=1 if inline else SERVER_WRITE_LANES,
                                 inline=inline)

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @asynccontextmanager
    async def _session(self) -> AsyncIterator[AsyncSession]:
        session = self.sessions()
        if self.dialect != "sqlite":
            # SQLAlchemy closes in a task of its own: on a server the close awaits the network
            # and must not be cut short by a cancellation.
            async with session:
                yield session
            return
        try:
            yield session
        finally:
            # SQLite runs on the loop (``bot.sqlite_driver``): the close never suspends, so it
            # cannot be cut short, and the task SQLAlchemy would start for it (two more turns
            # of the loop per transaction) is not needed.
            await session.close()

    @asynccontextmanager
    async def write(self) -> AsyncIterator[AsyncSession]:
        """Open a session in a transaction that holds the write lock from its start."""
        if self.dialect != "sqlite":
            async with self._session() as session, session.begin():
                yield session
            return
        async with self._write_lock, self._session() as session, session.begin():
            await session.connection(execution_options={"sqlite_begin": "IMMEDIATE"})
            yield session

    @asynccontextmanager
    async def write_connection(self) -> AsyncIterator[AsyncConnection]:
        """Open a connection in a write transaction (the write lock held from its start).

        Cheaper than ``write()`` when most statements are plain ones: the units of work run
        on it, each making an ORM session of its own only if it needs one. On SQLite it is the
        one writer connection, kept open (the pool's checkout and reset are not needed).
        """
        if self.dialect != "sqlite":
            async with self.engine.connect() as conn, conn.begin():
                yield conn
            return
        async with self._write_lock:
            conn = await self._sqlite_writer()
            try:
                async with conn.begin():
                    yield conn
            finally:
                if conn.invalidated or conn.closed:
                    self._writer = None

    @asynccontextmanager
    async def read(self) -> AsyncIterator[AsyncSession]:
        """Open a session for queries only."""
        async with self._session() as session, session.begin():
            yield session

    async def _sqlite_writer(self) -> AsyncConnection:
        if self._writer is None:
            conn = await self.engine.connect()
            self._writer = await conn.execution_options(sqlite_begin="IMMEDIATE")
        return self._writer

    async def close(self) -> None:
        async with self._write_lock:
            if self._writer is not None:
                writer, self._writer = self._writer, None
                await writer.close()
        await self.engine.dispose()


def alembic_config(url: str) -> Any:
    """Build the Alembic configuration pointing at our migrations and URL."""
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


@functools.cache
def code_revision() -> str | None:
    """Return the newest migration of this code (Alembic's head)."""
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(alembic_config("sqlite://")).get_current_head()


async def database_revision(store: Store) -> str | None:
    """Return the migration the database is at (None: not migrated, or unreadable)."""
    try:
        async with store.read() as session:
            return (await session.execute(
                text("SELECT version_num FROM alembic_version"))).scalar_one_or_none()
    except SQLAlchemyError:
        return None


def safe_url(url: str) -> str:
    """Return URL with its password hidden (it may be shown to an operator or logged)."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return "(unparsable URL)"


def migrate(url: str, revision: str = "head") -> None:
    """Apply Alembic migrations up to REVISION (blocking: call it outside the event loop)."""
    from alembic import command

    if url.startswith("sqlite"):
        _prepare_sqlite(url)
    command.upgrade(alembic_config(url), revision)
    log.info("database migrated to %s", revision)


async def open_store(url: str, *, busy_timeout_ms: int = 5000,
                     run_migrations: bool = True) -> Store:
    """Migrate (in a worker thread) and return a ready Store."""
    if run_migrations:
        await asyncio.to_thread(migrate, url)
    return Store(create_engine(url, busy_timeout_ms=busy_timeout_ms))

"""Engine, sessions and transactions for the SQLite default and the PostgreSQL scale-out path."""

from __future__ import annotations

import asyncio
import functools
import logging
import time
import weakref
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
from bot.prepared import inline_driver
from bot.sqlite_driver import Checkpointer, InlineConnection, inline_connector

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
_CHECKPOINTERS: weakref.WeakKeyDictionary[Any, Checkpointer] = weakref.WeakKeyDictionary()


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
        # No event hooks on this engine: any one turns on SQLAlchemy's event dispatch for
        # every statement. The driver issues BEGIN itself (``InlineConnection``), and
        # ``Store.close`` stops the checkpointer.
        if checkpointer is not None:
            _CHECKPOINTERS[engine.sync_engine] = checkpointer
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
        # SQLite: the one connection every write goes through, kept open; its transactions
        # begin IMMEDIATE (the write lock at once). Reads use the pool's other connections.
        self._writer: AsyncConnection | None = None
        # Commands that arrive together share a transaction (``bot.groupcommit``).
        inline = self.dialect == "sqlite"  # bot.sqlite_driver: statements never suspend
        self.group = GroupCommit(self.write_connection,
                                 _total_changes if inline else count_writes(engine),
                                 lanes=1 if inline else SERVER_WRITE_LANES, inline=inline)

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @asynccontextmanager
    async def _session(self, bind: AsyncConnection | None = None) -> AsyncIterator[AsyncSession]:
        session = self.sessions() if bind is None else self.sessions(bind=bind)
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
        async with self._sqlite_writer() as writer, self._session(writer) as session, \
                session.begin():
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
        async with self._sqlite_writer() as conn, conn.begin():
            yield conn

    @asynccontextmanager
    async def read(self) -> AsyncIterator[AsyncSession]:
        """Open a session for queries only."""
        async with self._session() as session, session.begin():
            yield session

    @asynccontextmanager
    async def _sqlite_writer(self) -> AsyncIterator[AsyncConnection]:
        """Hold the write lock and yield the one writer connection (opened on first use)."""
        async with self._write_lock:
            if self._writer is None:
                conn = await self.engine.connect()
                _driver(conn).begin_mode = "IMMEDIATE"
                self._writer = conn
            writer = self._writer
            try:
                yield writer
            finally:
                if writer.invalidated or writer.closed:  # lost: the next write opens another
                    self._writer = None

    async def close(self) -> None:
        async with self._write_lock:
            if self._writer is not None:
                writer, self._writer = self._writer, None
                await writer.close()
        await self.engine.dispose()
        checkpointer = _CHECKPOINTERS.pop(self.engine.sync_engine, None)
        if checkpointer is not None:
            checkpointer.close()


def _driver(conn: AsyncConnection) -> InlineConnection:
    """Return the ``bot.sqlite_driver`` connection under a SQLite connection of ours."""
    driver = inline_driver(conn)
    assert driver is not None
    return driver


def _total_changes(conn: AsyncConnection) -> int:
    return _driver(conn).total_changes


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

"""Statements of the write path, compiled once and run straight on SQLite's own connection.

A write runs a handful of small statements (lock the learner, a total, an insert, the undo
entry). On SQLite each of them takes SQLite itself a few µs, and SQLAlchemy's execution around
it (a greenlet hop, an execution context, a result object) about 40 µs more: most of what a
``/log`` costs. ``Prepared`` keeps SQLAlchemy's part that matters (the statement is a Core
construct, compiled by SQLAlchemy for the dialect; every value goes through its column type's
own bind and result processors, as ``conn.execute`` would do) and drops the rest: on our
SQLite connection (``bot.sqlite_driver.InlineConnection``) it runs the compiled SQL on the
``sqlite3`` connection in the transaction that is open, and on any other database it is
``conn.execute``. Its errors are SQLAlchemy's (``IntegrityError``, ``OperationalError``…), so
callers and retries cannot tell the difference.

Only statements that compile to one fixed text can be prepared: no expanding ``IN`` list, no
value rendered into the SQL, no column default that SQLAlchemy would have to fill in.
SQLAlchemy's cursor events do not see them; with ``[database] echo = true`` (every statement
logged) they run through ``conn.execute``, so the log still shows every statement.
"""

from __future__ import annotations

import sqlite3
from collections import namedtuple
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from sqlalchemy import exc
from sqlalchemy.engine import Dialect
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.sql.expression import Executable, ReturnsRows

from bot.sqlite_driver import InlineConnection

Processor = Callable[[Any], Any] | None
_MISSING = object()


def inline_driver(conn: AsyncConnection) -> InlineConnection | None:
    """Return the ``bot.sqlite_driver`` connection under CONN, or None on another driver."""
    driver = conn.sync_connection.connection.driver_connection  # type: ignore[union-attr]
    return driver if isinstance(driver, InlineConnection) else None


class _Compiled:
    """A statement's SQL for one dialect, its parameters in order and its rows' shape."""

    def __init__(self, stmt: Executable, dialect: Dialect, keys: Sequence[str] | None) -> None:
        compiled = stmt.compile(dialect=dialect, column_keys=list(keys) if keys else None)
        if compiled.literal_execute_params or compiled.post_compile_params:
            raise ValueError("a statement with values rendered at execution cannot be prepared")
        if compiled.insert_prefetch or compiled.update_prefetch:
            raise ValueError("a statement that leaves column defaults to SQLAlchemy cannot be "
                             "prepared: give every column a value")
        self.sql = compiled.string
        order = compiled.positiontup or []
        binds = compiled.binds
        # (name, processor, the value the statement holds for it: a literal such as a 0)
        self.params: list[tuple[str, Processor, Any]] = [
            (name, binds[name].type.dialect_impl(dialect).bind_processor(dialect),
             _MISSING if binds[name].required else binds[name].effective_value)
            for name in order]
        columns = list(stmt.exported_columns) if isinstance(stmt, ReturnsRows) else []
        self.results: list[Processor] = [
            c.type.dialect_impl(dialect).result_processor(dialect, None) for c in columns]
        self.row = namedtuple("Row", [c.key for c in columns], rename=True)  # type: ignore[misc]

    def bind(self, values: Mapping[str, Any]) -> list[Any]:
        out = []
        for name, process, held in self.params:
            value = values.get(name, held)
            if value is _MISSING:
                raise exc.ArgumentError(f"a value is required for bind parameter {name!r}")
            out.append(value if process is None else process(value))
        return out

    def rows(self, raw: list[tuple[Any, ...]]) -> list[Any]:
        results, make = self.results, self.row._make
        if not any(results):
            return [make(r) for r in raw]
        return [make(v if p is None else p(v) for p, v in zip(results, r, strict=True))
                for r in raw]


class Prepared:
    """A Core statement of the write path, run on SQLite's own connection when it is ours.

    ``keys``: for an INSERT, the columns given (the statement is compiled for just those).
    """

    def __init__(self, stmt: Executable, keys: Sequence[str] | None = None) -> None:
        self.stmt = stmt
        self.keys = tuple(keys) if keys is not None else None
        self._compiled: dict[Dialect, _Compiled] = {}  # by engine: one, in practice

    async def rows(self, conn: AsyncConnection, values: Mapping[str, Any]) -> list[Any]:
        """Run the statement with VALUES; return its rows (named tuples)."""
        driver = inline_driver(conn)
        if driver is None or conn.sync_engine.echo:
            result = await conn.execute(self.stmt, dict(values))
            return list(result.all()) if result.returns_rows else []
        compiled = self._compiled.get(conn.dialect)
        if compiled is None:
            compiled = self._compiled[conn.dialect] = _Compiled(self.stmt, conn.dialect,
                                                                 self.keys)
        params = compiled.bind(values)
        try:
            await driver.begin_if_idle()
            raw = _fetch(driver.connection(), compiled.sql, params)
        except sqlite3.Error as error:
            raise exc.DBAPIError.instance(compiled.sql, params, error, sqlite3.Error) from error
        return compiled.rows(raw)

    async def first(self, conn: AsyncConnection, values: Mapping[str, Any]) -> Any:
        """Run the statement; return its first row, or None."""
        rows = await self.rows(conn, values)
        return rows[0] if rows else None

    async def scalar(self, conn: AsyncConnection, values: Mapping[str, Any]) -> Any:
        """Run the statement; return the first column of its first row, or None."""
        row = await self.first(conn, values)
        return None if row is None else row[0]


def _fetch(conn: sqlite3.Connection, sql: str, params: list[Any]) -> list[tuple[Any, ...]]:
    cursor = conn.execute(sql, params)
    try:
        return cursor.fetchall()
    finally:
        cursor.close()

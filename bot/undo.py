"""Record the row operations of one change so that ``/undo`` can revert exactly that change."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from typing import Any

from sqlalchemy import delete, insert, inspect, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from bot.models import Base
from bot.prepared import Prepared


def _encode(value: Any) -> Any:
    if isinstance(value, datetime):
        return {"$dt": value.isoformat()}
    if isinstance(value, date):
        return {"$date": value.isoformat()}
    return value


def _decode(value: Any) -> Any:
    if isinstance(value, dict) and len(value) == 1:
        if "$dt" in value:
            return datetime.fromisoformat(value["$dt"])
        if "$date" in value:
            return date.fromisoformat(value["$date"])
    return value


def _row_values(obj: Base) -> dict[str, Any]:
    mapper = inspect(obj).mapper
    return {col.key: _encode(getattr(obj, col.key)) for col in mapper.column_attrs}


# One prepared INSERT … RETURNING id per table and set of columns given, built on first use
# (see ``ChangeSet.insert``).
_INSERTS: dict[tuple[str, frozenset[str]], Prepared] = {}


class ChangeSet:
    """Collect the inverse of every write made through it, newest last."""

    def __init__(self, conn: AsyncConnection, session: Callable[[], AsyncSession]) -> None:
        self.conn = conn  # plain statements
        self._session = session  # the change's ORM session (made when first asked for)
        self.ops: list[dict[str, Any]] = []

    @property
    def session(self) -> AsyncSession:
        return self._session()

    async def insert(self, model: type[Base], **values: Any) -> int:
        """Insert a row of MODEL with VALUES (no ORM object, one statement); return its id."""
        table = model.__table__  # type: ignore[attr-defined]
        key = (table.name, frozenset(values))
        stmt = _INSERTS.get(key)
        if stmt is None:
            stmt = _INSERTS[key] = Prepared(insert(table).returning(table.c.id), keys=key[1])
        # Straight on the connection: a plain INSERT needs none of the ORM's execution steps.
        row_id = int(await stmt.scalar(self.conn, values))
        self.ops.append({"op": "delete", "table": table.name, "id": row_id})
        return row_id

    async def add(self, obj: Base) -> Base:
        """Insert OBJ and remember to delete it on undo."""
        self.session.add(obj)
        await self.session.flush()
        self.ops.append({"op": "delete", "table": obj.__tablename__, "id": obj.id})  # type: ignore[attr-defined]
        return obj

    def set(self, obj: Base, **values: Any) -> None:
        """Update OBJ's attributes and remember their old values."""
        old = {k: _encode(getattr(obj, k)) for k in values}
        self.ops.append({"op": "update", "table": obj.__tablename__, "id": obj.id,  # type: ignore[attr-defined]
                         "values": old})
        for key, value in values.items():
            setattr(obj, key, value)

    async def delete(self, obj: Base) -> None:
        """Delete OBJ and remember the whole row to put it back on undo."""
        self.ops.append({"op": "insert", "table": obj.__tablename__, "values": _row_values(obj)})
        await self.session.delete(obj)
        await self.session.flush()

    @property
    def empty(self) -> bool:
        return not self.ops


async def revert(session: AsyncSession, ops: list[dict[str, Any]]) -> None:
    """Apply the inverse operations, newest first."""
    tables = Base.metadata.tables
    for op in reversed(ops):
        table = tables[op["table"]]
        if op["op"] == "delete":
            await session.execute(delete(table).where(table.c.id == op["id"]))
        elif op["op"] == "update":
            values = {k: _decode(v) for k, v in op["values"].items()}
            await session.execute(update(table).where(table.c.id == op["id"]).values(**values))
        elif op["op"] == "insert":
            values = {k: _decode(v) for k, v in op["values"].items()}
            await session.execute(insert(table).values(**values))
        else:  # pragma: no cover - written by this module only
            raise ValueError(f"unknown undo op {op['op']!r}")
    session.expire_all()

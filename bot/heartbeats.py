"""Process heartbeats: each running process writes one row at every dispatcher tick.

A process is named by ``process_name`` in the config, else ``hostname:pid``. Its row holds
when it started, its last tick (UTC), its fronts and its Discord shards with their latency.
The write is ONE upsert in a transaction of its own (never inside a claim), and rows not
seen for ``PRUNE_AFTER`` are deleted now and then by whichever process beats. A row whose
last tick is older than ``stale_after`` (three tick intervals) is shown as stale; a process
that stops cleanly deletes its own row, so a stale row means a process that died.
"""

from __future__ import annotations

import json
import math
import os
import socket
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from bot import models as m

PRUNE_AFTER = timedelta(days=1)
PRUNE_EVERY = timedelta(hours=1)
Shards = Sequence[tuple[int, float | None]]  # (shard id, latency in seconds or None)


def _no_shards() -> Shards:
    return ()


def default_process_name(configured: str | None = None) -> str:
    """Return the configured process name, else ``hostname:pid``."""
    return configured or f"{socket.gethostname()}:{os.getpid()}"


@dataclass
class ProcessBeat:
    """This process as its heartbeat row tells it: name, start, fronts, a shard reader.

    A front adds itself to ``fronts``; the Discord front sets ``shards`` to a reader of its
    shards' latencies (``bot.discord.shards``), so the core never touches discord.py.
    """

    name: str
    started_at: datetime
    fronts: list[str] = field(default_factory=list)
    shards: Callable[[], Shards] = _no_shards
    last_pruned: datetime | None = None

    def add_front(self, front: str) -> None:
        """Note that this process runs FRONT."""
        if front not in self.fronts:
            self.fronts.append(front)

    def shards_json(self) -> str:
        """Return the shards as the JSON text the row stores."""
        out = []
        for shard_id, seconds in self.shards():
            ok = seconds is not None and math.isfinite(seconds)
            out.append({"id": int(shard_id),
                        "latency_ms": round(seconds * 1000, 1) if ok else None})
        return json.dumps(out)


def _insert(dialect: str) -> Any:
    return postgresql_insert if dialect == "postgresql" else sqlite_insert


async def beat(session: AsyncSession, process: ProcessBeat, now: datetime) -> None:
    """Write this process's row (one upsert); prune long-gone rows about once an hour."""
    table = m.ProcessHeartbeat.__table__
    values = {"name": process.name, "started_at": process.started_at, "last_tick_at": now,
              "fronts": ",".join(process.fronts)[:200], "shards": process.shards_json()}
    stmt = _insert(session.bind.dialect.name)(table).values(values)
    await session.execute(stmt.on_conflict_do_update(
        index_elements=["name"],
        set_={k: stmt.excluded[k] for k in ("started_at", "last_tick_at", "fronts", "shards")}))
    if process.last_pruned is None or now - process.last_pruned >= PRUNE_EVERY:
        await session.execute(delete(table).where(table.c.last_tick_at < now - PRUNE_AFTER))
        process.last_pruned = now


async def forget(session: AsyncSession, process: ProcessBeat) -> None:
    """Delete this process's row: it stopped cleanly (a crashed one shows stale instead)."""
    table = m.ProcessHeartbeat.__table__
    await session.execute(delete(table).where(table.c.name == process.name))


@dataclass(frozen=True)
class Heartbeat:
    """One process as the database last heard of it."""

    name: str
    started_at: datetime
    last_tick_at: datetime
    fronts: tuple[str, ...]
    shards: tuple[tuple[int, float | None], ...]  # (shard id, latency in ms or None)
    stale: bool


def _shards(text: str | None) -> tuple[tuple[int, float | None], ...]:
    try:
        raw = json.loads(text or "[]")
    except ValueError:
        return ()
    return tuple((int(s.get("id", 0)), s.get("latency_ms")) for s in raw
                 if isinstance(s, dict))


async def heartbeats(session: AsyncSession, now: datetime,
                     stale_after: timedelta) -> list[Heartbeat]:
    """Read every process row, the freshest first, each marked stale or not."""
    H = m.ProcessHeartbeat
    rows = (await session.execute(select(H).order_by(H.last_tick_at.desc(), H.name))).scalars()
    return [Heartbeat(r.name, r.started_at, r.last_tick_at,
                      tuple(f for f in r.fronts.split(",") if f), _shards(r.shards),
                      now - r.last_tick_at > stale_after) for r in rows]

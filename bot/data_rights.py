"""Let people own their data: delete everything stored about them, and back the database up.

``forget_me`` deletes, in one transaction, the learner row and every row of every learner
table (explicitly, and by ON DELETE CASCADE as a second line), the partnerships in which the
person is someone's partner, and the outbox messages about them or addressed to them.

``backup_sqlite`` copies a live SQLite database with SQLite's online backup API in one step:
the copy is the snapshot of one read transaction, so it is consistent while the bot writes
(WAL mode lets the writers go on meanwhile). PostgreSQL is backed up with ``pg_dump``.
"""

from __future__ import annotations

import logging
import os
import sqlite3
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from sqlalchemy import Table, and_, delete, func, or_, select
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncSession

from bot import models as m
from bot.actors import Actor
from bot.learners import learner_id_query
from bot.store import Store

log = logging.getLogger(__name__)


class BackupError(Exception):
    """The backup could not be made; the message says why."""


def _about(identities: Sequence[tuple[str, str]],
           learner_id: int | None) -> list[tuple[str, Table, Sequence[Any]]]:
    """Return (label, table, conditions) selecting the rows about a person, children first.

    IDENTITIES are every (platform, id) of the person: forget-me on one front forgets them on
    every front they linked.
    """
    out: list[tuple[str, Table, Sequence[Any]]] = []
    if learner_id is not None:
        for model in m.LEARNER_TABLES:
            table: Table = model.__table__  # type: ignore[assignment]
            out.append((table.name, table, [table.c.learner_id == learner_id]))
    ships: Table = m.Partnership.__table__  # type: ignore[assignment]
    outbox: Table = m.Outbox.__table__  # type: ignore[assignment]
    dms: Table = m.DmChannel.__table__  # type: ignore[assignment]
    as_partner = or_(*(and_(ships.c.partner_platform == p, ships.c.partner_external_id == e)
                       for p, e in identities))
    to_them = or_(*(and_(outbox.c.recipient_platform == p, outbox.c.recipient_id == e)
                    for p, e in identities))
    out.append(("partnerships_as_partner", ships, [as_partner]))
    out.append(("outbox", outbox, [or_(to_them, outbox.c.learner_id == learner_id)
                                   if learner_id is not None else to_them]))
    out.append(("dm_channels", dms, [or_(*(and_(dms.c.platform == p, dms.c.user_id == e)
                                           for p, e in identities))]))
    learners: Table = m.Learner.__table__  # type: ignore[assignment]
    if learner_id is not None:
        out.append(("learners", learners, [learners.c.id == learner_id]))
    return out


async def _identities(session: AsyncSession, actor: Actor,
                      learner_id: int | None) -> list[tuple[str, str]]:
    found = {(actor.platform, actor.external_id)}
    if learner_id is not None:
        own = (await session.execute(select(m.Learner.platform, m.Learner.external_id).where(
            m.Learner.id == learner_id))).one()
        found.add((own[0], own[1]))
        found |= {(r[0], r[1]) for r in (await session.execute(
            select(m.LinkedIdentity.platform, m.LinkedIdentity.external_id).where(
                m.LinkedIdentity.learner_id == learner_id))).all()}
    return sorted(found)


async def _learner_id(session: AsyncSession, actor: Actor) -> int | None:
    return await session.scalar(learner_id_query(actor))


async def _counts(session: AsyncSession, actor: Actor) -> dict[str, int]:
    learner_id = await _learner_id(session, actor)
    counts: dict[str, int] = {}
    for label, table, where in _about(await _identities(session, actor, learner_id),
                                      learner_id):
        n = await session.scalar(select(func.count()).select_from(table).where(*where)) or 0
        if n:
            counts[label] = n
    return counts


async def holdings(store: Store, actor: Actor) -> dict[str, int]:
    """Count the rows stored about ACTOR, by table (only tables with rows)."""
    async with store.read() as session:
        return await _counts(session, actor)


async def forget_me(store: Store, actor: Actor) -> dict[str, int]:
    """Delete every row stored about ACTOR in one transaction; return what was deleted."""
    async with store.write() as session:
        counts = await _counts(session, actor)
        learner_id = await _learner_id(session, actor)
        identities = await _identities(session, actor, learner_id)
        for _label, table, where in _about(identities, learner_id):
            await session.execute(delete(table).where(*where))
    log.info("forgot %s:%s (%d rows)", actor.platform, actor.external_id, sum(counts.values()))
    return counts


def sqlite_path(url: str) -> Path:
    """Return the database file of a SQLite URL; BackupError for anything else."""
    u = make_url(url)
    if not u.drivername.startswith("sqlite"):
        raise BackupError(f"`backup` copies SQLite databases; this one is {u.drivername}. "
                          "Back PostgreSQL up with pg_dump (see docs/export-format.md).")
    if not u.database or u.database == ":memory:":
        raise BackupError("The database is in memory; there is no file to back up.")
    return Path(u.database).expanduser()


def backup_sqlite(url: str, dest: str | Path) -> Path:
    """Copy the live SQLite database of URL to DEST (blocking; run it in a thread)."""
    source = sqlite_path(url)
    if not source.is_file():
        raise BackupError(f"There is no database file at {source}.")
    target = Path(dest).expanduser()
    if target.exists() and target.resolve() == source.resolve():
        raise BackupError("The backup must go to another file than the database itself.")
    if target.is_dir():
        raise BackupError(f"{target} is a folder; give the path of the backup file.")
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(target.name + ".partial")
    partial.unlink(missing_ok=True)
    src = sqlite3.connect(source, timeout=30)
    dst = sqlite3.connect(partial)
    try:
        # One step (pages=-1): a single read transaction, so one consistent snapshot.
        src.backup(dst, pages=-1)
        dst.execute("PRAGMA journal_mode=DELETE")  # a single self-contained file
        verdict = dst.execute("PRAGMA integrity_check").fetchone()[0]
        if verdict != "ok":
            raise BackupError(f"The copy failed its integrity check: {verdict}")
    finally:
        dst.close()
        src.close()
    os.replace(partial, target)
    log.info("backed up %s to %s", source, target)
    return target

"""Everything Pacer stores about one person, as one JSON document or as CSV files in a zip.

What is included (documented in docs/export-format.md):
- ``learners``: their learner row (settings, schedule, commitment);
- every learner table (time logs, items done, scores, mock interviews, counters, skill
  ratings, fields, notes, deadlines, milestones, pauses, partnerships they invited, the undo
  log with the previous values it keeps, pending notices);
- ``partnerships_as_partner``: partnerships in which they are someone else's partner, with
  that learner's display name;
- ``outbox``: messages about them or addressed to them (reminders, digests), sent or pending.
"""

from __future__ import annotations

import csv
import io
import json
import logging
import zipfile
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import Table, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot import models as m
from bot.errors import StateError

log = logging.getLogger(__name__)

FORMAT = "pacer-export"
VERSION = 1
PARTNER_TABLE = "partnerships_as_partner"


@dataclass
class DataBundle:
    """The rows stored about one person, table by table, with their column names."""

    platform: str
    external_id: str
    exported_at: datetime
    tables: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    columns: dict[str, list[str]] = field(default_factory=dict)

    @property
    def row_count(self) -> int:
        """Count the rows of every table."""
        return sum(len(rows) for rows in self.tables.values())


def _plain(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value


async def _rows(session: AsyncSession, table: Table, *where: Any) -> list[dict[str, Any]]:
    result = await session.execute(select(table).where(*where).order_by(table.c.id))
    return [{k: _plain(v) for k, v in row._mapping.items()} for row in result.all()]


async def collect(session: AsyncSession, platform: str, external_id: str,
                  now: datetime) -> DataBundle:
    """Read every row stored about a person; StateError when there is none."""
    bundle = DataBundle(platform, external_id, now)
    learners: Table = m.Learner.__table__  # type: ignore[assignment]
    bundle.columns["learners"] = [c.name for c in learners.columns]
    bundle.tables["learners"] = await _rows(session, learners, learners.c.platform == platform,
                                            learners.c.external_id == external_id)
    learner_id = bundle.tables["learners"][0]["id"] if bundle.tables["learners"] else None
    for model in m.LEARNER_TABLES:
        table: Table = model.__table__  # type: ignore[assignment]
        bundle.columns[table.name] = [c.name for c in table.columns]
        bundle.tables[table.name] = (await _rows(session, table,
                                                 table.c.learner_id == learner_id)
                                     if learner_id is not None else [])
    ships: Table = m.Partnership.__table__  # type: ignore[assignment]
    bundle.columns[PARTNER_TABLE] = [*(c.name for c in ships.columns), "learner_display_name"]
    rows = await session.execute(
        select(ships, learners.c.display_name.label("learner_display_name"))
        .join(learners, learners.c.id == ships.c.learner_id)
        .where(ships.c.partner_platform == platform,
               ships.c.partner_external_id == external_id).order_by(ships.c.id))
    bundle.tables[PARTNER_TABLE] = [{k: _plain(v) for k, v in r._mapping.items()}
                                    for r in rows.all()]
    outbox: Table = m.Outbox.__table__  # type: ignore[assignment]
    bundle.columns["outbox"] = [c.name for c in outbox.columns]
    about = [(outbox.c.recipient_platform == platform) & (outbox.c.recipient_id == external_id)]
    if learner_id is not None:
        about.append(outbox.c.learner_id == learner_id)
    bundle.tables["outbox"] = await _rows(session, outbox, or_(*about))
    if bundle.row_count == 0:
        raise StateError("Pacer stores nothing about you: there is nothing to export.")
    return bundle


def to_json(bundle: DataBundle) -> bytes:
    """Serialise a bundle as one UTF-8 JSON document."""
    doc = {
        "format": FORMAT,
        "version": VERSION,
        "exported_at": bundle.exported_at.isoformat(),
        "subject": {"platform": bundle.platform, "external_id": bundle.external_id},
        "tables": bundle.tables,
    }
    return (json.dumps(doc, ensure_ascii=False, indent=2) + "\n").encode("utf-8")


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list | dict):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


def to_csv_zip(bundle: DataBundle) -> bytes:
    """Serialise a bundle as a zip with one CSV per table (a header even when empty)."""
    buffer = io.BytesIO()
    stamp = bundle.exported_at.timetuple()[:6]
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, columns in bundle.columns.items():
            out = io.StringIO()
            writer = csv.writer(out, lineterminator="\r\n")
            writer.writerow(columns)
            for row in bundle.tables[name]:
                writer.writerow([_cell(row.get(c)) for c in columns])
            info = zipfile.ZipInfo(f"{name}.csv", date_time=stamp)
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, out.getvalue().encode("utf-8"))
    return buffer.getvalue()


def filenames(today: date) -> dict[str, str]:
    """Name the files of each export format."""
    return {"json": f"pacer-data-{today.isoformat()}.json",
            "csv": f"pacer-data-{today.isoformat()}.zip"}

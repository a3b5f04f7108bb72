"""The operator's view of a running Pacer: one report every front shows the same way.

``StatusService.report()`` reads, in a few small queries: the version, the database's kind
and URL (password hidden), the schema revision in the database against the code's, the
number of learners, the dispatcher's lag, the outbox's pending and recently failed rows by
kind, and every process's last tick with its fronts and Discord shards (``bot.heartbeats``).
It takes no actor: the fronts let only their owners ask (``discord.owner_ids``,
``slack.owner_ids``; the CLI is whoever holds the config). ``bot.presenting`` renders it;
``Status.to_json()`` is the CLI's ``--json``.

Dispatcher lag is now minus the due time of the oldest due unsent message
(``bot.outbox.oldest_due``: pending outbox rows, due reminders, digests and snoozes not yet
claimed, milestones not yet announced), 0 when nothing is waiting. A healthy dispatcher keeps
it below one tick interval; it grows while no process ticks, or sending cannot keep up.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select

from bot import __version__
from bot import models as m
from bot.heartbeats import Heartbeat, heartbeats
from bot.outbox import oldest_due
from bot.services.context import Context
from bot.store import code_revision, database_revision

FAILED_WINDOW = timedelta(days=1)  # failed outbox rows counted: due within the last day
DEFAULT_STALE_AFTER = timedelta(seconds=90)  # three default tick intervals


@dataclass(frozen=True)
class OutboxCounts:
    """Pending and recently failed outbox rows of one kind."""

    pending: int = 0
    failed: int = 0


@dataclass(frozen=True)
class Status:
    """Pacer as an operator sees it, at ``now``."""

    now: datetime
    version: str
    database: str  # sqlite | postgresql
    database_url: str  # the password hidden
    schema_database: str | None
    schema_code: str | None
    learners: int
    lag_seconds: float
    oldest_due: datetime | None
    outbox: dict[str, OutboxCounts] = field(default_factory=dict)
    processes: list[Heartbeat] = field(default_factory=list)

    @property
    def schema_current(self) -> bool:
        return self.schema_database == self.schema_code

    def to_json(self) -> dict[str, Any]:
        """Return the report as plain JSON values (times as ISO 8601 UTC)."""
        return {
            "now": self.now.isoformat(),
            "version": self.version,
            "database": {"kind": self.database, "url": self.database_url,
                         "schema": self.schema_database, "code_schema": self.schema_code,
                         "schema_current": self.schema_current},
            "learners": self.learners,
            "dispatcher_lag_seconds": round(self.lag_seconds, 3),
            "oldest_due": self.oldest_due.isoformat() if self.oldest_due else None,
            "outbox": {kind: {"pending": c.pending, "failed": c.failed}
                       for kind, c in sorted(self.outbox.items())},
            "processes": [{"name": p.name, "started_at": p.started_at.isoformat(),
                           "last_tick_at": p.last_tick_at.isoformat(), "stale": p.stale,
                           "fronts": list(p.fronts),
                           "shards": [{"id": i, "latency_ms": ms} for i, ms in p.shards]}
                          for p in self.processes],
        }


class StatusService:
    """Compute the operator's status report from the database."""

    def __init__(self, ctx: Context, *, stale_after: timedelta = DEFAULT_STALE_AFTER) -> None:
        self.ctx = ctx
        self.stale_after = stale_after

    async def lag(self) -> float:
        """Return the dispatcher's lag in seconds now (one query)."""
        now = self.ctx.now()
        async with self.ctx.store.read() as session:
            due = await oldest_due(session, now)
        return 0.0 if due is None else (now - due).total_seconds()

    async def report(self) -> Status:
        """Read the whole status report."""
        now = self.ctx.now()
        store = self.ctx.store
        OB = m.Outbox
        async with store.read() as session:
            learners = (await session.execute(select(func.count(m.Learner.id)))).scalar_one()
            due = await oldest_due(session, now)
            rows = (await session.execute(
                select(OB.kind, OB.status, func.count(OB.id))
                .where((OB.status == "pending")
                       | ((OB.status == "failed") & (OB.due_at >= now - FAILED_WINDOW)))
                .group_by(OB.kind, OB.status))).all()
            processes = await heartbeats(session, now, self.stale_after)
        counts: dict[str, dict[str, int]] = {}
        for kind, status, n in rows:
            counts.setdefault(kind, {})[status] = n
        outbox = {k: OutboxCounts(v.get("pending", 0), v.get("failed", 0))
                  for k, v in counts.items()}
        return Status(
            now=now, version=__version__, database=store.dialect,
            database_url=store.engine.url.render_as_string(hide_password=True),
            schema_database=await database_revision(store), schema_code=code_revision(),
            learners=learners, lag_seconds=0.0 if due is None else (now - due).total_seconds(),
            oldest_due=due, outbox=outbox, processes=processes)

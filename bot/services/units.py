"""The unit of work every write goes through: learner lock, undo change set, milestone check.

``Units.run(actor, build)`` locks the learner row in a write transaction, hands ``build`` a
``Unit``, and on the way out records what the change reached and how to undo it. Changes that
arrive together share the transaction (``bot.groupcommit``); each is still all or nothing.
It reads only what its rules need: the milestone check looks at the milestones whose
conditions read a table the change touched, and loads just those facts (no snapshot).

Statements per write, besides the command's own: the learner row (1); the milestone check, only
when the change touched a table a not-yet-reached milestone reads (reached ids, then one query
per table read; none for a /log, which reads the reached ids and totals with its own read);
the undo entry (1, when something changed; its prune on every tenth); pending notices (1,
``DELETE … RETURNING``, only when some wait). A transient database error
(a lost connection, a PostgreSQL serialization failure or deadlock, SQLite busy) reruns the
whole unit, up to three times.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, TypeVar

from sqlalchemy import bindparam, delete, insert, select
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from bot import models as m
from bot.actors import Actor
from bot.errors import StateError
from bot.learners import ACTOR_LEARNER, actor_params
from bot.limits import UNDO_KEEP
from bot.outbox import outbox_key
from bot.outcomes import Outcome
from bot.plan import Milestone, Plan
from bot.prepared import Prepared
from bot.replies import Celebration
from bot.services.context import NOT_STARTED, Context
from bot.services.milestones import TimeFacts, new_milestones, record_milestone
from bot.timing import next_digest_at, next_reminder_at
from bot.undo import ChangeSet

log = logging.getLogger(__name__)

OutcomeT = TypeVar("OutcomeT", bound=Outcome)
T = TypeVar("T")
RETRIES = 3
PRUNE_EVERY = 10  # prune the undo log on every tenth entry: 50 to 59 entries are kept
TRANSIENT_SQLSTATES = {"40001", "40P01", "55P03", "08000", "08003", "08006", "57P01"}


# The unit's first statement, prepared once (``bot.prepared``): the learner row locked, and
# whether notices wait for them. (Nothing else rides on it: on PostgreSQL a subquery here reads
# the snapshot taken before the statement waited for the lock, and may miss what the holder
# just wrote.)
# Plain columns, not an ORM object, and only those changes read: most changes only read the
# learner (``Unit.learner()`` loads the whole object for those that change it).
_LEARNERS = m.Learner.__table__
UNIT_COLUMNS = ("id", "platform", "external_id", "plan_id", "timezone", "day_start_hour",
                "start_date", "target_date", "commitment_minutes", "goal", "public_posts")
_LOCK_LEARNER = Prepared(select(
    *(_LEARNERS.c[name] for name in UNIT_COLUMNS),
    select(m.Notice.id).where(m.Notice.learner_id == _LEARNERS.c.id).exists()
    .label("has_notices"),
).where(ACTOR_LEARNER).with_for_update(of=_LEARNERS))
_UNDO_ENTRY = Prepared(insert(m.UndoEntry.__table__).returning(m.UndoEntry.__table__.c.id),
                       keys=("learner_id", "description", "ops", "created_at"))


@dataclass
class Unit:
    """One open change of one learner: its connection, the locked row, its plan and study day.

    ``conn`` runs plain statements (no ORM step, no autoflush); ``session`` is an ORM session
    of this change alone on the same connection and transaction, made on first use (most
    changes never need one), flushed and closed when the change ends.
    """

    conn: AsyncConnection
    row: Any  # the learner's UNIT_COLUMNS as read, or the ORM object once ``learner()`` loaded it
    plan: Plan
    today: date
    now: datetime
    description: str = "change"
    has_notices: bool = False
    celebrations: list[Celebration] = field(default_factory=list)
    # Set by a change that only added time log entries and read what the milestone check
    # needs while it was at it (``services.timelog.add_log``); then the check reads nothing.
    time_facts: TimeFacts | None = None
    changes: ChangeSet = field(init=False)
    _session: AsyncSession | None = field(default=None, init=False, repr=False)

    def __post_init__(self) -> None:
        self.changes = ChangeSet(self.conn, lambda: self.session)

    @property
    def learner_id(self) -> int:
        return self.row.id

    @property
    def session(self) -> AsyncSession:
        """This change's ORM session, on its connection (made on first use)."""
        if self._session is None:
            # It joins the connection's transaction: it never commits it (the unit of work
            # does), and closing it leaves the transaction as it is.
            self._session = AsyncSession(bind=self.conn, expire_on_commit=False,
                                         join_transaction_mode="rollback_only")
        return self._session

    async def flush(self) -> None:
        """Write what the session holds (plain statements that follow will see it)."""
        if self._session is not None and (self._session.new or self._session.dirty
                                          or self._session.deleted):
            await self._session.flush()

    async def close(self) -> None:
        """Close the session, if one was made; what it did not flush is dropped."""
        if self._session is not None:
            session, self._session = self._session, None
            await session.close()

    async def find(self, model: type, **where: Any) -> Any:
        """Return this learner's row of MODEL matching WHERE, or None."""
        stmt = select(model).where(model.learner_id == self.row.id)
        for key, value in where.items():
            stmt = stmt.where(getattr(model, key) == value)
        return await self.session.scalar(stmt.limit(1))

    async def upsert(self, model: type, where: dict[str, Any],
                     values: dict[str, Any]) -> dict[str, Any] | None:
        """Insert or update this learner's row of MODEL; return the old values, if any."""
        existing = await self.find(model, **where)
        if existing is None:
            await self.changes.add(model(learner_id=self.row.id, **where, **values))
            return None
        old = {k: getattr(existing, k) for k in values}
        self.changes.set(existing, **values)
        return old

    async def learner(self) -> m.Learner:
        """Return the learner as an ORM object, to change it (loaded by key on first use)."""
        if not isinstance(self.row, m.Learner):
            self.row = await self.session.get_one(m.Learner, self.row.id)
        return self.row

    async def reschedule(self) -> None:
        """Recompute the next reminder and digest after a settings change."""
        row = await self.learner()
        self.changes.set(row, next_reminder_at=next_reminder_at(row, self.now),
                         next_digest_at=next_digest_at(row, self.now))


async def retry_transient(attempt: Callable[[], Awaitable[T]]) -> T:
    """Run ATTEMPT, running it again (up to RETRIES times) after a transient database error."""
    for n in range(1, RETRIES + 1):
        try:
            return await attempt()
        except (OperationalError, DBAPIError) as exc:
            if n == RETRIES or not is_transient(exc):
                raise
            log.warning("transient database error, attempt %d of %d: %s", n, RETRIES,
                        type(exc).__name__)
            await asyncio.sleep(0.05 * n)
    raise AssertionError("unreachable")  # pragma: no cover


def is_transient(exc: BaseException) -> bool:
    """Tell whether a database error is worth running the unit again."""
    if isinstance(exc, DBAPIError) and exc.connection_invalidated:
        return True
    orig = getattr(exc, "orig", None)
    state = getattr(orig, "sqlstate", None) or getattr(getattr(orig, "__cause__", None),
                                                      "sqlstate", None)
    if state in TRANSIENT_SQLSTATES:
        return True
    return isinstance(exc, OperationalError) and "database is locked" in str(exc)


class Units:
    """Open units of work for one context."""

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx

    async def open(self, conn: AsyncConnection, actor: Actor,
                   description: str = "change") -> Unit:
        """Lock ACTOR's learner row in CONN's write transaction and open a change of it."""
        row = await _LOCK_LEARNER.first(conn, actor_params(actor))
        if row is None:
            raise StateError(NOT_STARTED)
        return Unit(conn, row, self.ctx.plan_for(row), self.ctx.today_for(row), self.ctx.now(),
                    description, has_notices=bool(row.has_notices))

    async def run(self, actor: Actor, build: Callable[[Unit], Awaitable[OutcomeT]]) -> OutcomeT:
        """Run BUILD in one change, retrying transient errors; fill in what every outcome has.

        Changes that arrive together share one transaction (``bot.groupcommit``); each is still
        all or nothing, and its outcome comes back once it is committed.
        """
        async def work(conn: AsyncConnection) -> OutcomeT:
            unit = await self.open(conn, actor)
            try:
                outcome = await build(unit)
                await self._finish(unit)
            finally:
                await unit.close()
            outcome.celebrations = unit.celebrations
            outcome.public = bool(unit.row.public_posts)
            if unit.has_notices:
                outcome.notices = await take_notices(conn, unit.row.id)
            return outcome

        key = (actor.platform, actor.external_id)
        return await retry_transient(lambda: self.ctx.store.group.run(key, work))

    async def transact(self, body: Callable[[AsyncSession], Awaitable[T]]) -> T:
        """Run BODY in one write transaction (no undo entry), retrying transient errors."""
        async def attempt() -> T:
            async with self.ctx.store.write() as session:
                return await body(session)

        return await retry_transient(attempt)

    async def add_notice(self, learner_id: int, text: str) -> None:
        """Leave a notice for the learner's next command (a failed delivery, say)."""
        async with self.ctx.store.write() as session:
            session.add(m.Notice(learner_id=learner_id, text=text[:500], created_at=self.ctx.now()))

    async def _finish(self, unit: Unit) -> None:
        await unit.flush()  # the checks below read plain rows: changed objects first
        if unit.changes.empty:
            return
        # Conditions only grow with rows added or changed; a removal reaches nothing. (An
        # undo op "delete" records an insert, "update" an update.)
        grown = {op["table"] for op in unit.changes.ops if op["op"] in ("delete", "update")}
        # The facts a /log read hold for the change only when its entry is the change's one row.
        known = unit.time_facts if len(unit.changes.ops) == 1 else None
        for ms, day in await new_milestones(unit.conn, unit.row.id, unit.plan, grown,
                                            unit.today, known):
            await record_milestone(unit, ms.id, day, announced=False)
            unit.celebrations.append(Celebration(ms.id, ms.title, ms.kind, day))
            await _mark_announced(unit, ms, day)
        entry_id = await _UNDO_ENTRY.scalar(unit.conn, {
            "learner_id": unit.row.id, "description": unit.description[:300],
            "ops": unit.changes.ops, "created_at": unit.now})
        if entry_id is not None and entry_id % PRUNE_EVERY == 0:
            await _prune_undo(unit.conn, unit.row.id)
        await unit.flush()  # the outbox row of a milestone announced in the reply


async def _mark_announced(unit: Unit, ms: Milestone, day: date) -> None:
    # The reply announces it; this row makes the dispatcher's learner message a no-op (its
    # unique key exists) while the partner's celebration still goes out.
    row = unit.row
    unit.session.add(m.Outbox(
        key=outbox_key("celebration", row.platform, row.external_id, ms.id, row.id),
        kind="celebration", learner_id=row.id, recipient_platform=row.platform,
        recipient_id=row.external_id, due_at=unit.now, status="sent", late=False,
        payload={"milestone_id": ms.id, "reached_on": day.isoformat(),
                 "in_reply": True},
        attempts=0, claimed_at=unit.now, sent_at=unit.now))


_UNDO = m.UndoEntry.__table__.c
_PRUNE_UNDO = delete(m.UndoEntry.__table__).where(
    _UNDO.learner_id == bindparam("learner_id"),
    _UNDO.id < select(_UNDO.id).where(_UNDO.learner_id == bindparam("learner_id"))
    .order_by(_UNDO.id.desc()).offset(UNDO_KEEP - 1).limit(1).scalar_subquery())


async def _prune_undo(conn: AsyncConnection, learner_id: int) -> None:
    await conn.execute(_PRUNE_UNDO, {"learner_id": learner_id})


async def take_notices(db: AsyncSession | AsyncConnection, learner_id: int) -> list[str]:
    """Remove and return the learner's pending notices, oldest first (one statement)."""
    rows = (await db.execute(delete(m.Notice).where(m.Notice.learner_id == learner_id)
                                  .returning(m.Notice.id, m.Notice.text))).all()
    return [text for _id, text in sorted(rows)]

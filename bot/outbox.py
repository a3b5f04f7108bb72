"""Claim due messages into the outbox and mark them: the exactly-once half of the dispatcher.

The database is the source of truth. A learner row carries ``next_reminder_at``,
``next_digest_at`` and ``snoozed_until`` (UTC, indexed); a reached milestone carries
``announced``. Claiming happens in ONE transaction per batch: select the due rows (PostgreSQL:
``FOR UPDATE SKIP LOCKED``, so several processes share the work; SQLite: the store's
``BEGIN IMMEDIATE``), insert one outbox row per message with a unique key
``kind:platform:recipient:period:learner`` (``INSERT … ON CONFLICT DO NOTHING``: a key that
exists is never sent again), and advance ``next_*_at`` past now (clear the snooze, set
``announced``). Only rows that this transaction inserted as ``pending`` are returned to send.
Each row's ``payload`` is its kind's typed payload (``bot.dispatch``) as JSON: the claims
write it, the kind's builder parses it; nothing here reads it.

Periods: reminders by local calendar date of the occurrence (so exactly one a day, DST or
not), digests by the ISO week of their local date, snoozes by their instant, deadline
reminders by deadline and lead (7 or 1 days), celebrations by milestone, a partner's
road alert by the first study day of the learner's zero-buffer episode (claimed with the
learner's daily reminder, so one notice per episode however many days it lasts).

Outbox statuses: ``pending`` (claimed, not yet confirmed), ``sent``, ``failed`` (a permanent
delivery error or too many attempts), ``missed`` (found past its grace window: not sent),
``skipped`` (nothing to send: snoozed, paused, commitment met, partnership ended...).
"""

from __future__ import annotations

import functools
import json
import logging
from collections.abc import Callable, Hashable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, func, select, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from bot import models as m
from bot.dispatch import (
    CelebrationPayload,
    DeadlinePayload,
    DigestPayload,
    PartnerDigestPayload,
    Payload,
    ReminderPayload,
    RoadAlertPayload,
)
from bot.plan import PlanRegistry
from bot.road import road_of, zero_buffer_since
from bot.snapshot import (
    DayTotal,
    DeadlineRow,
    DispatchData,
    LearnerProfile,
    MockRow,
    NoteRow,
    PartnerRow,
)
from bot.timing import as_zone, next_digest_at, next_reminder_at, study_date
from bot.wording import plural

log = logging.getLogger(__name__)

LATE_AFTER = timedelta(minutes=10)  # sent later than this after its due time: says so
MAX_CATCHUP = 31  # occurrences recorded per learner and kind after a long downtime


@dataclass(frozen=True)
class Grace:
    """How late a message may still be sent; older ones are recorded as missed.

    ``digest_kinds``: the kinds that get the digest window (``Kind.grace == "digest"``, read
    from the registry by the dispatcher); every other kind gets the reminder window.
    """

    reminder: timedelta
    digest: timedelta
    digest_kinds: frozenset[str] = frozenset()

    def for_kind(self, kind: str) -> timedelta:
        return self.digest if kind in self.digest_kinds else self.reminder


@dataclass(frozen=True)
class Claimed:
    """An outbox row this process owns and must send (``payload``: its JSON, unparsed)."""

    id: int
    key: str
    kind: str
    learner_id: int
    recipient_platform: str
    recipient_id: str
    due_at: datetime
    late: bool
    payload: dict[str, Any]
    attempts: int


@dataclass
class Batch:
    """What one claim transaction produced."""

    to_send: list[Claimed] = field(default_factory=list)
    recorded: dict[str, int] = field(default_factory=dict)  # status -> rows inserted
    by_kind: dict[tuple[str, str], int] = field(default_factory=dict)  # (kind, status) -> rows
    selected: int = 0  # source rows taken (learners, milestones, stale outbox rows)
    full: bool = False  # a limit was reached: more may be due


def outbox_key(kind: str, platform: str, recipient_id: str, period: str,
               learner_id: int) -> str:
    """Build the unique key of one message: recipient, kind, period and subject learner."""
    return f"{kind}:{platform}:{recipient_id}:{period}:{learner_id}"


def iso_week(d: date) -> str:
    year, week, _ = d.isocalendar()
    return f"{year}-W{week:02d}"


@functools.lru_cache(maxsize=4096)
def _days(instant: datetime, tz: str, day_start_hour: int) -> tuple[str, date]:
    """Return the local calendar date (ISO) and the study day of an instant, cached."""
    return (instant.astimezone(as_zone(tz)).date().isoformat(),
            study_date(instant, tz, day_start_hour))


class _Memo:
    """Cache next-occurrence computations shared by learners with the same schedule."""

    def __init__(self, fn: Callable[[Any, datetime], datetime | None],
                 key: Callable[[Any], Hashable]) -> None:
        self.fn = fn
        self.key = key
        self.cache: dict[tuple[datetime, Hashable], datetime | None] = {}

    def __call__(self, row: Any, after: datetime) -> datetime | None:
        k = (after, self.key(row))
        if k not in self.cache:
            self.cache[k] = self.fn(row, after)
        return self.cache[k]


def _occurrences(row: Any, first: datetime, now: datetime,
                 nxt: Callable[[Any, datetime], datetime | None]) -> list[datetime]:
    """List the occurrences from FIRST up to NOW (at most MAX_CATCHUP, the latest last)."""
    occs = [first]
    while len(occs) < MAX_CATCHUP:
        following = nxt(row, occs[-1])
        if following is None or following > now:
            return occs
        occs.append(following)
    # A very long downtime: keep the first ones and the latest one before now.
    latest = occs[-1]
    while (following := nxt(row, latest)) is not None and following <= now:
        latest = following
    occs[-1] = latest
    return occs


def _fate(due: datetime, now: datetime, grace: timedelta,
          superseded: bool) -> tuple[str, bool, str | None]:
    """Decide status, lateness and reason for an occurrence found due at NOW."""
    late = now - due > LATE_AFTER
    if superseded:
        return "missed", late, "a later occurrence was due"
    if now - due > grace:
        return "missed", late, "past the grace window"
    return "pending", late, None


def _row(kind: str, learner_id: int, platform: str, recipient_id: str, period: str,
         due: datetime, now: datetime, fate: tuple[str, bool, str | None],
         payload: Payload) -> dict[str, Any]:
    status, late, error = fate
    return {
        "key": outbox_key(kind, platform, recipient_id, period, learner_id),
        "kind": kind, "learner_id": learner_id, "recipient_platform": platform,
        "recipient_id": recipient_id, "due_at": due, "status": status, "late": late,
        "payload": payload.to_json(), "attempts": 0, "error": error, "claimed_at": now,
        "sent_at": None,
    }


def _insert(dialect: str) -> Any:
    return postgresql_insert if dialect == "postgresql" else sqlite_insert


_CHUNK = 500


async def insert_rows(session: AsyncSession, rows: Sequence[dict[str, Any]],
                      batch: Batch) -> None:
    """Insert outbox rows whose key is new; add the pending ones to BATCH.to_send."""
    if not rows:
        return
    table = m.Outbox.__table__
    insert = _insert(session.bind.dialect.name)
    by_key = {row["key"]: row for row in rows}
    # executemany with RETURNING: SQLAlchemy's "insertmanyvalues" sends multi-row INSERTs
    # from one cached statement; keys that exist already return nothing.
    stmt = insert(table).on_conflict_do_nothing(index_elements=["key"]).returning(
        table.c.id, table.c.key)
    for start in range(0, len(rows), _CHUNK):
        for outbox_id, key in (await session.execute(stmt, list(rows[start:start + _CHUNK]))):
            r = by_key[key]
            batch.recorded[r["status"]] = batch.recorded.get(r["status"], 0) + 1
            pair = (r["kind"], r["status"])
            batch.by_kind[pair] = batch.by_kind.get(pair, 0) + 1
            if r["status"] == "pending":
                batch.to_send.append(Claimed(outbox_id, key, r["kind"], r["learner_id"],
                                             r["recipient_platform"], r["recipient_id"],
                                             r["due_at"], r["late"], r["payload"], 0))


async def _advance(session: AsyncSession, column: str, values: list[tuple[int, Any]]) -> None:
    if not values:
        return
    table = m.Learner.__table__
    stmt = update(table).where(table.c.id == bindparam("b_id")).values(
        {column: bindparam("b_value")})
    await session.execute(stmt, [{"b_id": i, "b_value": v} for i, v in values])


# --- the idle check ------------------------------------------------------------------------


async def anything_due(session: AsyncSession, now: datetime, lease: timedelta) -> bool:
    """Answer, with one indexed query, whether a tick has anything to claim at NOW."""
    L, MR, OB = m.Learner, m.MilestoneReached, m.Outbox
    stmt = select(
        select(func.min(L.next_reminder_at)).scalar_subquery(),
        select(func.min(L.next_digest_at)).scalar_subquery(),
        select(func.min(L.snoozed_until)).scalar_subquery(),
        select(func.min(MR.id)).where(MR.announced.is_(False)).scalar_subquery(),
        select(func.min(OB.claimed_at)).where(OB.status == "pending").scalar_subquery(),
    )
    reminder, digest, snooze, milestone, pending = (await session.execute(stmt)).one()
    return (
        any(_aware(t) is not None and _aware(t) <= now for t in (reminder, digest, snooze))
        or milestone is not None
        or (_aware(pending) is not None and _aware(pending) <= now - lease)
    )


async def oldest_due(session: AsyncSession, now: datetime) -> datetime | None:
    """Return the due time of the oldest message due at NOW and not yet sent (one query).

    "Due unsent" is: an outbox row still ``pending`` (claimed, not confirmed sent: in flight,
    waiting for a retry, or orphaned by a crash until its lease runs out), a learner's
    reminder, digest or snooze whose ``next_*_at`` has passed (not yet claimed), and a
    milestone not yet announced (by the time it was reached). Rows ``sent``, ``failed``,
    ``missed`` or ``skipped`` are settled and never count. A learner of a front that no
    process runs counts too: their reminders are indeed not being sent.
    """
    L, MR, OB = m.Learner, m.MilestoneReached, m.Outbox
    stmt = select(
        select(func.min(L.next_reminder_at)).scalar_subquery(),
        select(func.min(L.next_digest_at)).scalar_subquery(),
        select(func.min(L.snoozed_until)).scalar_subquery(),
        select(func.min(MR.reached_at)).where(MR.announced.is_(False)).scalar_subquery(),
        select(func.min(OB.due_at)).where(OB.status == "pending").scalar_subquery(),
    )
    found = [_aware(t) for t in (await session.execute(stmt)).one()]
    due = [t for t in found if t is not None and t <= now]
    return min(due) if due else None


def _aware(value: Any) -> datetime | None:
    """Return a datetime read through a scalar subquery as aware UTC."""
    if value is None:
        return None
    if isinstance(value, str):  # SQLite may hand MIN() of a datetime back as text
        value = datetime.fromisoformat(value)
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


# --- claims --------------------------------------------------------------------------------


def _learner_columns(*extra: Any) -> list[Any]:
    L = m.Learner
    return [L.id, L.platform, L.external_id, L.timezone, L.day_start_hour, L.start_date,
            L.snoozed_until, *extra]


async def claim_reminders(session: AsyncSession, now: datetime, batch: Batch, *,
                          platforms: Sequence[str], limit: int, grace: Grace,
                          plans: PlanRegistry | None = None) -> None:
    """Claim due daily reminders (and the deadline reminders they carry) into BATCH."""
    L = m.Learner
    stmt = (select(*_learner_columns(L.reminder_minute, L.next_reminder_at))
            .where(L.next_reminder_at <= now, L.platform.in_(platforms))
            .order_by(L.next_reminder_at, L.id).limit(limit)
            .with_for_update(skip_locked=True))
    learners = (await session.execute(stmt)).all()
    batch.selected += len(learners)
    batch.full = batch.full or len(learners) >= limit
    nxt = _Memo(next_reminder_at, lambda r: (r.reminder_minute, r.timezone))
    rows: list[dict[str, Any]] = []
    updates: list[tuple[int, Any]] = []
    carriers: list[tuple[Any, datetime, date, tuple[str, bool, str | None]]] = []
    for r in learners:
        updates.append((r.id, nxt(r, now)))
        if r.reminder_minute is None:
            continue
        occs = _occurrences(r, r.next_reminder_at, now, nxt)
        for i, occ in enumerate(occs):
            latest = i == len(occs) - 1
            fate = _fate(occ, now, grace.reminder, superseded=not latest)
            local_date, day = _days(occ, r.timezone, r.day_start_hour)
            if latest:
                carriers.append((r, occ, day, fate))
            if fate[0] == "pending" and r.snoozed_until is not None and r.snoozed_until > occ:
                fate = ("skipped", fate[1], "snoozed; the snoozed reminder replaces it")
            rows.append(_row("reminder", r.id, r.platform, r.external_id, local_date, occ, now,
                             fate, ReminderPayload(day)))
    rows += await _deadline_rows(session, now, carriers)
    if plans is not None:
        rows += await _road_alert_rows(session, now, carriers, plans)
    await _advance(session, "next_reminder_at", updates)
    await insert_rows(session, rows, batch)


async def _deadline_rows(session: AsyncSession, now: datetime,
                         carriers: list[tuple[Any, datetime, date, tuple[str, bool, str | None]]]
                         ) -> list[dict[str, Any]]:
    """Build the 7-day and 1-day deadline reminders riding on the claimed daily reminders."""
    if not carriers:
        return []
    D = m.Deadline
    lo = min(c[2] for c in carriers) + timedelta(days=1)
    hi = max(c[2] for c in carriers) + timedelta(days=7)
    stmt = select(D.id, D.learner_id, D.title, D.due_date).where(
        D.learner_id.in_([c[0].id for c in carriers]), D.due_date >= lo, D.due_date <= hi)
    by_learner: dict[int, list[Any]] = {}
    for d in (await session.execute(stmt)).all():
        by_learner.setdefault(d.learner_id, []).append(d)
    rows = []
    for r, occ, day, fate in carriers:
        for d in by_learner.get(r.id, ()):
            lead = (d.due_date - day).days
            if lead in (7, 1):
                rows.append(_row("deadline", r.id, r.platform, r.external_id,
                                 f"{d.id}-{lead}d", occ, now, fate,
                                 DeadlinePayload(d.id, d.title, d.due_date, lead, day)))
    return rows


async def _road_alert_rows(session: AsyncSession, now: datetime,
                           carriers: list[tuple[Any, datetime, date, tuple[str, bool, str | None]]],
                           plans: PlanRegistry) -> list[dict[str, Any]]:
    """Build the partners' road alerts riding on the claimed daily reminders.

    Only learners with an accepted partner shown ``hours`` are read (one query per table for
    all of them); a paused day or a day before the start claims nothing, so a later day of
    the same episode may still carry its notice.
    """
    if not carriers:
        return []
    P = m.Partnership
    pstmt = select(P.learner_id, P.partner_platform, P.partner_external_id, P.share).where(
        P.learner_id.in_([c[0].id for c in carriers]), P.status == "accepted")
    partners: dict[int, list[Any]] = {}
    for pr in (await session.execute(pstmt)).all():
        if "hours" in (pr.share or ()):
            partners.setdefault(pr.learner_id, []).append(pr)
    if not partners:
        return []
    data = await load_dispatch_data(session, partners)
    rows = []
    for r, occ, day, fate in carriers:
        learner = data.get(r.id)
        if r.id not in partners or learner is None or day < learner.profile.start_date \
                or day in learner.paused_days():
            continue
        road = road_of(learner, plans.get(learner.profile.plan_id))
        since = zero_buffer_since(road, learner.minutes_by_day(), day, learner.total_minutes)
        if since is None:
            continue
        for pr in partners[r.id]:
            rows.append(_row("road-alert", r.id, pr.partner_platform, pr.partner_external_id,
                             since.isoformat(), occ, now, fate, RoadAlertPayload(day, since)))
    return rows


async def claim_snoozes(session: AsyncSession, now: datetime, batch: Batch, *,
                        platforms: Sequence[str], limit: int, grace: Grace) -> None:
    """Claim snoozed reminders whose snooze has ended into BATCH."""
    L = m.Learner
    stmt = (select(*_learner_columns())
            .where(L.snoozed_until <= now, L.platform.in_(platforms))
            .order_by(L.snoozed_until, L.id).limit(limit)
            .with_for_update(skip_locked=True))
    learners = (await session.execute(stmt)).all()
    batch.selected += len(learners)
    batch.full = batch.full or len(learners) >= limit
    rows = []
    for r in learners:
        due = r.snoozed_until
        _local, day = _days(due, r.timezone, r.day_start_hour)
        rows.append(_row("snooze", r.id, r.platform, r.external_id,
                         due.strftime("%Y-%m-%dT%H:%MZ"), due, now,
                         _fate(due, now, grace.reminder, superseded=False),
                         ReminderPayload(day)))
    await _advance(session, "snoozed_until", [(r.id, None) for r in learners])
    await insert_rows(session, rows, batch)


async def claim_digests(session: AsyncSession, now: datetime, batch: Batch, *,
                        platforms: Sequence[str], limit: int, grace: Grace) -> None:
    """Claim due digests, for the learner and each accepted partner, into BATCH."""
    L, P = m.Learner, m.Partnership
    stmt = (select(*_learner_columns(L.digest_weekday, L.digest_minute, L.digest_every_weeks,
                                     L.next_digest_at))
            .where(L.next_digest_at <= now, L.platform.in_(platforms))
            .order_by(L.next_digest_at, L.id).limit(limit)
            .with_for_update(skip_locked=True))
    learners = (await session.execute(stmt)).all()
    batch.selected += len(learners)
    batch.full = batch.full or len(learners) >= limit
    nxt = _Memo(next_digest_at, lambda r: (
        r.digest_weekday, r.digest_minute, r.digest_every_weeks, r.timezone,
        r.start_date if r.digest_every_weeks > 1 else None))
    partners: dict[int, list[Any]] = {}
    if learners:
        pstmt = select(P.learner_id, P.partner_platform, P.partner_external_id).where(
            P.learner_id.in_([r.id for r in learners]), P.status == "accepted")
        for pr in (await session.execute(pstmt)).all():
            partners.setdefault(pr.learner_id, []).append(pr)
    rows: list[dict[str, Any]] = []
    updates = []
    for r in learners:
        updates.append((r.id, nxt(r, now)))
        occs = _occurrences(r, r.next_digest_at, now, nxt)
        for i, occ in enumerate(occs):
            latest = i == len(occs) - 1
            fate = _fate(occ, now, grace.digest, superseded=not latest)
            local_date, day = _days(occ, r.timezone, r.day_start_hour)
            period = iso_week(date.fromisoformat(local_date))
            payload = DigestPayload(day, r.digest_every_weeks)
            rows.append(_row("digest", r.id, r.platform, r.external_id, period, occ, now, fate,
                             payload))
            if latest:
                for pr in partners.get(r.id, ()):
                    rows.append(_row("digest-partner", r.id, pr.partner_platform,
                                     pr.partner_external_id, period, occ, now, fate,
                                     PartnerDigestPayload(day, r.digest_every_weeks)))
    await _advance(session, "next_digest_at", updates)
    await insert_rows(session, rows, batch)


async def claim_celebrations(session: AsyncSession, now: datetime, batch: Batch, *,
                             platforms: Sequence[str], limit: int, grace: Grace) -> None:
    """Claim milestones not yet announced: one message to the learner, one to the partner."""
    L, MR, P = m.Learner, m.MilestoneReached, m.Partnership
    stmt = (select(MR.id, MR.learner_id, MR.milestone_id, MR.reached_on, MR.reached_at,
                   L.platform, L.external_id)
            .join(L, L.id == MR.learner_id)
            .where(MR.announced.is_(False), L.platform.in_(platforms))
            .order_by(MR.id).limit(limit)
            .with_for_update(skip_locked=True, of=MR.__table__))
    reached = (await session.execute(stmt)).all()
    batch.selected += len(reached)
    batch.full = batch.full or len(reached) >= limit
    if not reached:
        return
    partners: dict[int, list[Any]] = {}
    pstmt = select(P.learner_id, P.partner_platform, P.partner_external_id, P.share).where(
        P.learner_id.in_({r.learner_id for r in reached}), P.status == "accepted")
    for pr in (await session.execute(pstmt)).all():
        if "days" in (pr.share or ()):
            partners.setdefault(pr.learner_id, []).append(pr)
    rows = []
    for r in reached:
        fate = _fate(r.reached_at, now, grace.reminder, superseded=False)
        rows.append(_row("celebration", r.learner_id, r.platform, r.external_id,
                         r.milestone_id, r.reached_at, now, fate,
                         CelebrationPayload(r.milestone_id, r.reached_on)))
        for pr in partners.get(r.learner_id, ()):
            rows.append(_row("celebration", r.learner_id, pr.partner_platform,
                             pr.partner_external_id, r.milestone_id, r.reached_at, now, fate,
                             CelebrationPayload(r.milestone_id, r.reached_on, partner=True)))
    table = MR.__table__
    await session.execute(update(table).where(table.c.id.in_([r.id for r in reached]))
                          .values(announced=True))
    await insert_rows(session, rows, batch)


async def reclaim_stale(session: AsyncSession, now: datetime, batch: Batch, *,
                        platforms: Sequence[str], limit: int, grace: Grace,
                        lease: timedelta) -> None:
    """Take back pending rows claimed before NOW - LEASE (a crash or a transient failure)."""
    OB = m.Outbox
    stmt = (select(OB.id, OB.key, OB.kind, OB.learner_id, OB.recipient_platform, OB.recipient_id,
                   OB.due_at, OB.late, OB.payload, OB.attempts)
            .where(OB.status == "pending", OB.claimed_at <= now - lease,
                   OB.recipient_platform.in_(platforms))
            .order_by(OB.id).limit(limit).with_for_update(skip_locked=True))
    stale = (await session.execute(stmt)).all()
    batch.selected += len(stale)
    batch.full = batch.full or len(stale) >= limit
    table = OB.__table__
    missed, resend = [], []
    for r in stale:
        if now - r.due_at > grace.for_kind(r.kind):
            missed.append(r.id)
            batch.by_kind[(r.kind, "missed")] = batch.by_kind.get((r.kind, "missed"), 0) + 1
        else:
            late = r.late or now - r.due_at > LATE_AFTER
            resend.append({"b_id": r.id, "b_late": late})
            batch.to_send.append(Claimed(r.id, r.key, r.kind, r.learner_id,
                                         r.recipient_platform, r.recipient_id, r.due_at, late,
                                         dict(r.payload or {}), r.attempts))
    if missed:
        await session.execute(update(table).where(table.c.id.in_(missed)).values(
            status="missed", error="claimed but not sent before the grace window ended"))
        batch.recorded["missed"] = batch.recorded.get("missed", 0) + len(missed)
    if resend:
        await session.execute(
            update(table).where(table.c.id == bindparam("b_id")).values(
                claimed_at=now, late=bindparam("b_late")), resend)
        log.info("resending %s claimed before %s", plural(len(resend), "outbox row"),
                 now - lease)


# --- marks ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Mark:
    """The end of one delivery attempt.

    ``status`` is sent, failed or skipped; ``retry`` keeps the row pending for a retry after
    the lease (``status`` failed with ``retry`` set means: retried too often, give up).
    """

    outbox_id: int
    status: str
    at: datetime
    error: str | None = None
    retry: bool = False


async def apply_marks(session: AsyncSession, marks: Sequence[Mark]) -> None:
    """Write many marks with two statements; a row no longer pending is left alone."""
    table = m.Outbox.__table__
    done = [{"b_id": k.outbox_id, "b_status": k.status,
             "b_error": k.error[:1000] if k.error else None,
             "b_sent_at": k.at if k.status == "sent" else None,
             "b_inc": 0 if k.status == "skipped" else 1}
            for k in marks if not k.retry or k.status == "failed"]
    again = [{"b_id": k.outbox_id, "b_error": (k.error or "")[:1000], "b_at": k.at}
             for k in marks if k.retry and k.status != "failed"]
    pending = table.c.status == "pending"
    if done:
        await session.execute(
            update(table).where(table.c.id == bindparam("b_id"), pending).values(
                status=bindparam("b_status"), error=bindparam("b_error"),
                sent_at=bindparam("b_sent_at"), attempts=table.c.attempts + bindparam("b_inc")),
            done)
    if again:
        await session.execute(
            update(table).where(table.c.id == bindparam("b_id"), pending).values(
                error=bindparam("b_error"), claimed_at=bindparam("b_at"),
                attempts=table.c.attempts + 1),
            again)


# --- snapshots for building messages -------------------------------------------------------


_PROFILE_FIELDS = tuple(LearnerProfile.__dataclass_fields__)


async def _fetch_fast(session: AsyncSession, ids: list[int], sql: str) -> Sequence[Any]:
    """Run SQL (columns: learner_id, then others, a date last) straight on the driver.

    The two big tables (time logs, done items) are read this way: SQLAlchemy's result rows
    cost about four times what the query itself does at 100k+ rows. ``{ids}`` becomes the
    learner filter, bound as one array (PostgreSQL) or one JSON list (SQLite), and the last
    column is turned into a ``date``.
    """
    conn = await session.connection()
    dialect = conn.dialect.name
    if dialect not in ("postgresql", "sqlite"):  # pragma: no cover - the two we support
        raise ValueError(f"no fast path for {dialect}")
    raw = (await conn.get_raw_connection()).driver_connection
    if dialect == "postgresql":
        query = sql.format(ids="learner_id = ANY($1::integer[])")
        return await raw.fetch(query, ids)  # asyncpg Records unpack like tuples
    query = sql.format(ids="learner_id IN (SELECT value FROM json_each(?))")
    rows = await raw.execute_fetchall(query, (json.dumps(ids),))
    return [(*r[:-1], date.fromisoformat(r[-1])) for r in rows]


async def load_dispatch_data(session: AsyncSession, learner_ids: Iterable[int]
                             ) -> dict[int, DispatchData]:
    """Load what the dispatcher's messages need for many learners: one query per table.

    Study time comes back summed per study day; see ``DispatchData`` for what is left out.
    """
    ids = sorted(set(learner_ids))
    if not ids:
        return {}
    L = m.Learner
    learners = await session.execute(
        select(*[getattr(L, name) for name in _PROFILE_FIELDS]).where(L.id.in_(ids)))
    data = {r.id: DispatchData(LearnerProfile(**r._mapping)) for r in learners}

    async def rows(*cols: Any, order: Sequence[Any] = ()) -> Sequence[Any]:
        model = cols[0].class_
        stmt = select(*cols).where(model.learner_id.in_(ids)).order_by(*order)
        return (await session.execute(stmt)).all()

    current, logs = None, []
    day_sums = await _fetch_fast(
        session, ids, "SELECT learner_id, sum(minutes), study_date FROM time_logs WHERE {ids} "
                      "GROUP BY learner_id, study_date ORDER BY learner_id, study_date")
    for learner_id, minutes, day in day_sums:  # ordered by learner: one lookup per learner
        if learner_id != current:
            current, logs = learner_id, data[learner_id].logs
        logs.append(DayTotal(day, int(minutes)))
    for learner_id, item_id, day in await _fetch_fast(
            session, ids, "SELECT learner_id, item_id, study_date FROM items_done WHERE {ids}"):
        data[learner_id].done[item_id] = day
    for r in await rows(m.ScoreEntry.learner_id, m.ScoreEntry.score_id, m.ScoreEntry.value,
                        m.ScoreEntry.recorded_on):
        data[r.learner_id].scores[r.score_id] = r.value
        data[r.learner_id].score_dates[r.score_id] = r.recorded_on
    MI = m.MockInterview
    for r in await rows(MI.learner_id, MI.slot, MI.held_on, MI.score, MI.feedback,
                        order=(MI.slot,)):
        data[r.learner_id].mocks.append(MockRow(r.slot, r.held_on, r.score, r.feedback))
    SR = m.SkillRating
    for r in await rows(SR.learner_id, SR.skill_id, SR.week, SR.value):
        data[r.learner_id].ratings.setdefault(r.skill_id, {})[r.week] = r.value
    N = m.Note
    for r in await rows(N.learner_id, N.id, N.kind, N.week, N.text, N.solution, N.learning,
                        N.created_at, order=(N.id,)):
        data[r.learner_id].notes.append(NoteRow(r.id, r.kind, r.week, r.text, r.solution,
                                                r.learning, r.created_at))
    D = m.Deadline
    for r in await rows(D.learner_id, D.id, D.title, D.due_date, order=(D.due_date, D.id)):
        data[r.learner_id].deadlines.append(DeadlineRow(r.id, r.title, r.due_date))
    MR = m.MilestoneReached
    for r in await rows(MR.learner_id, MR.milestone_id, MR.reached_on):
        data[r.learner_id].milestones[r.milestone_id] = r.reached_on
    PZ = m.Pause
    for r in await rows(PZ.learner_id, PZ.start_date, PZ.end_date, order=(PZ.start_date,)):
        data[r.learner_id].pauses.append((r.start_date, r.end_date))
    P = m.Partnership
    for r in await rows(P.learner_id, P.id, P.partner_platform, P.partner_external_id,
                        P.partner_name, P.status, P.share, order=(P.id,)):
        data[r.learner_id].partners.append(PartnerRow(
            r.id, r.partner_platform, r.partner_external_id, r.partner_name, r.status,
            tuple(r.share or ())))
    return data



async def fallback_channel(session: AsyncSession, learner_id: int) -> str | None:
    """Return a server channel for a closed-DM fallback, or None when there is none.

    The learner's home space's ``fallback_channel_id``, else their ``home_channel_id``, but
    only when they have a home space: a home channel recorded without one is the DM they
    onboarded in, the very channel that just refused the message.
    """
    L, S = m.Learner, m.Space
    row = (await session.execute(
        select(S.fallback_channel_id, L.home_channel_id, L.home_space_id)
        .select_from(L).outerjoin(S, S.id == L.home_space_id)
        .where(L.id == learner_id))).first()
    if row is None or row.home_space_id is None:
        return None
    return row.fallback_channel_id or row.home_channel_id


async def add_notice_once(session: AsyncSession, learner_id: int, text: str,
                          now: datetime) -> None:
    """Record a notice for the learner's next command unless the same one is waiting."""
    N = m.Notice
    exists = await session.scalar(select(N.id).where(N.learner_id == learner_id,
                                                     N.text == text[:500]).limit(1))
    if exists is None:
        session.add(m.Notice(learner_id=learner_id, text=text[:500], created_at=now))

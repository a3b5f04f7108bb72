"""Apply an import: read the upload for the learner, then write its changes in one change.

``prepare_import`` checks and reads an upload without writing anything; ``apply_import``
compares the file's claims with the store again inside the transaction (the learner may have
written since the preview) and applies the changes as one undoable change. Milestones the file
does not list but whose conditions hold are recorded like after any other change.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot import models as m
from bot.actors import Actor
from bot.errors import StateError
from bot.parsing import quote_input
from bot.snapshot import load_one
from bot.tracker import Outcome, Tracker
from bot.trackerfile.changes import (
    AddDeadline,
    AddNote,
    AddPause,
    Change,
    PutCounter,
    PutField,
    PutMock,
    PutRating,
    PutScore,
    ReachMilestone,
    RedateDeadline,
    RedateItem,
    RedateMilestone,
    ReplaceDay,
    SetSetting,
    Tick,
    UpdateNote,
    diff,
)
from bot.trackerfile.read import TOPIC_MAX, ImportPlan, parse_tracker
from bot.trackerfile.upload import decode_upload
from bot.undo import ChangeSet

log = logging.getLogger(__name__)


def topic_rows(minutes: int, topics: str | None) -> list[tuple[int, str | None]]:
    """Split a day's topics into rows of at most TOPIC_MAX characters, sharing the minutes."""
    if topics is None or len(topics) <= TOPIC_MAX:
        return [(minutes, topics)]
    chunks: list[str] = []
    for part in topics.split("; "):
        if chunks and len(chunks[-1]) + 2 + len(part) <= TOPIC_MAX:
            chunks[-1] += "; " + part
        else:
            chunks.append(part)
    base, extra = divmod(minutes, len(chunks))
    return [(base + (1 if i < extra else 0), c) for i, c in enumerate(chunks)]


async def _row(session: AsyncSession, model: type, learner_id: int, **where: Any) -> Any:
    stmt = select(model).where(model.learner_id == learner_id)
    for k, v in where.items():
        stmt = stmt.where(getattr(model, k) == v)
    return await session.scalar(stmt.limit(1))


async def _put(cs: ChangeSet, session: AsyncSession, model: type, lid: int,
               where: dict[str, Any], **values: Any) -> None:
    """Update the row matching WHERE, or add it."""
    existing = await _row(session, model, lid, **where)
    if existing is None:
        await cs.add(model(learner_id=lid, **where, **values))
    else:
        cs.set(existing, **values)


async def _execute(tracker: Tracker, session: AsyncSession, cs: ChangeSet, row: m.Learner,
                   changes: Iterable[Change], today: date) -> None:
    now = tracker.now()
    lid = row.id
    changes = list(changes)
    settings = {c.column: c.value for c in changes if isinstance(c, SetSetting)}
    if settings:
        cs.set(row, **settings, updated_at=now)
        tracker.reschedule(row, cs)
    for c in changes:
        match c:
            case SetSetting():
                pass  # set above, all at once
            case Tick():
                await cs.add(m.ItemDone(learner_id=lid, item_id=c.item_id, study_date=c.day,
                                        done_at=now))
            case RedateItem():
                cs.set(await _row(session, m.ItemDone, lid, item_id=c.item_id),
                       study_date=c.day)
            case PutScore():
                await _put(cs, session, m.ScoreEntry, lid, {"score_id": c.score_id},
                           value=c.value, recorded_on=today)
            case PutCounter():
                await _put(cs, session, m.CounterValue, lid, {"counter_id": c.counter_id},
                           value=c.value)
            case PutField():
                await _put(cs, session, m.FieldValue, lid, {"field_id": c.field_id},
                           value=c.value)
            case PutRating():
                await _put(cs, session, m.SkillRating, lid,
                           {"skill_id": c.skill_id, "week": c.week}, value=c.value)
            case ReplaceDay():
                old = (await session.scalars(select(m.TimeLog).where(
                    m.TimeLog.learner_id == lid, m.TimeLog.study_date == c.day))).all()
                for r in old:
                    await cs.delete(r)
                for part_minutes, part_topic in topic_rows(c.minutes, c.topics):
                    await cs.add(m.TimeLog(learner_id=lid, study_date=c.day,
                                           minutes=part_minutes, topic=part_topic,
                                           created_at=now))
            case PutMock():
                await _put(cs, session, m.MockInterview, lid, {"slot": c.slot},
                           held_on=c.held_on, score=c.score, feedback=c.feedback)
            case ReachMilestone():
                await cs.add(m.MilestoneReached(learner_id=lid, milestone_id=c.milestone_id,
                                                reached_on=c.day, reached_at=now,
                                                announced=True))
            case RedateMilestone():
                cs.set(await _row(session, m.MilestoneReached, lid,
                                  milestone_id=c.milestone_id), reached_on=c.day)
            case AddNote():
                await cs.add(m.Note(learner_id=lid, kind=c.kind, week=c.week, text=c.text,
                                    solution=c.solution, learning=c.learning, created_at=now))
            case UpdateNote():
                cs.set(await _row(session, m.Note, lid, id=c.note_id), solution=c.solution,
                       learning=c.learning)
            case AddDeadline():
                await cs.add(m.Deadline(learner_id=lid, title=c.title, due_date=c.due,
                                        created_at=now))
            case RedateDeadline():
                cs.set(await _row(session, m.Deadline, lid, id=c.deadline_id), due_date=c.due)
            case AddPause():
                await cs.add(m.Pause(learner_id=lid, start_date=c.start, end_date=c.end))
            case _:  # pragma: no cover - diff() makes only the classes above
                raise TypeError(f"no way to apply {type(c).__name__}")


async def prepare_import(tracker: Tracker, actor: Actor, data: bytes,
                         filename: str) -> ImportPlan:
    """Check and read an uploaded tracker for ACTOR without writing anything."""
    text = decode_upload(data, filename)
    async with tracker.store.read() as session:
        row = await tracker.learner_row(session, actor)
        snapshot = await load_one(session, row.id)
        plan = tracker.plan_for(row)
        today = tracker.today_for(row)
    return parse_tracker(text, plan, snapshot, today, filename)


async def apply_import(tracker: Tracker, actor: Actor, import_plan: ImportPlan) -> Outcome:
    """Apply an import in one transaction, recorded as one change that /undo reverts."""
    async with tracker.store.write() as session:
        row = await tracker.learner_row(session, actor)
        if row.plan_id != import_plan.plan_id:
            raise StateError("Your plan changed since the preview; import the file again.")
        plan = tracker.plan_for(row)
        today = tracker.today_for(row)
        snapshot = await load_one(session, row.id)
        # Compare again inside the transaction: the learner may have written since the preview.
        changes = diff(import_plan.claims, snapshot, plan, today)
        if not changes:
            return Outcome("Nothing to import: your tracker already holds everything in "
                           f"{quote_input(import_plan.filename, 60)}.", data={"changes": 0})
        cs = ChangeSet(session)
        await _execute(tracker, session, cs, row, changes, today)
        n = len(changes)
        return await tracker.finish_change(
            session, row, cs, f"import {import_plan.filename[:200]} ({n} changes)",
            f"📥 Imported {n} change{'s' if n != 1 else ''} from "
            f"{quote_input(import_plan.filename, 60)}. `/undo` reverts the whole import.",
            import_changes=n)

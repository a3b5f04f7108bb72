"""Apply an import: read the upload for the learner, then write its changes in one change.

``prepare_import`` checks and reads an upload without writing anything; ``apply_import``
compares the file's claims with the store again inside the unit of work (the learner may have
written since the preview) and applies each change through the write rule of its service, so
the import writes nothing the commands would not. The unit records the whole import as one
undoable change and the milestones whose conditions now hold, like after any other change.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable

from bot.actors import Actor
from bot.errors import StateError
from bot.limits import TOPIC_MAX
from bot.outcomes import Imported
from bot.services import (
    checklist,
    deadlines,
    milestones,
    notes,
    onboarding,
    pauses,
    scores,
    timelog,
)
from bot.services.context import Context
from bot.services.units import Unit, Units
from bot.snapshot import load_one
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
from bot.trackerfile.read import ImportPlan, parse_tracker
from bot.trackerfile.upload import decode_upload

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


async def _apply_settings(u: Unit, changes: Iterable[Change]) -> None:
    """Set every setting the file changes at once (one reschedule)."""
    columns = {c.column: c.value for c in changes if isinstance(c, SetSetting)}
    if columns:
        await onboarding.apply_settings(u, **columns)


async def apply_change(u: Unit, c: Change) -> None:
    """Apply one change through the write rule of its service."""
    match c:
        case SetSetting():
            pass  # applied together, before the others (see apply_changes)
        case Tick():
            await checklist.tick(u, c.item_id, c.day)
        case RedateItem():
            await checklist.redate(u, c.item_id, c.day)
        case PutScore():
            await scores.put_score(u, c.score_id, c.value)
        case PutCounter():
            await scores.put_counter(u, c.counter_id, c.value)
        case PutField():
            await scores.put_field(u, c.field_id, c.value)
        case PutRating():
            await scores.put_rating(u, c.skill_id, c.week, c.value)
        case ReplaceDay():
            await timelog.replace_day(u, c.day, topic_rows(c.minutes, c.topics))
        case PutMock():
            await scores.put_mock(u, c.slot, c.held_on, c.score, c.feedback)
        case ReachMilestone():
            await milestones.record_milestone(u, c.milestone_id, c.day, announced=True)
        case RedateMilestone():
            await milestones.redate_milestone(u, c.milestone_id, c.day)
        case AddNote():
            await notes.put_note(u, c.kind, c.week, c.text, c.solution, c.learning)
        case UpdateNote():
            await notes.update_note(u, c.note_id, c.solution, c.learning)
        case AddDeadline():
            await deadlines.put_deadline(u, c.title, c.due)
        case RedateDeadline():
            await deadlines.redate_deadline(u, c.deadline_id, c.due)
        case AddPause():
            await pauses.put_pause(u, c.start, c.end)
        case _:  # pragma: no cover - diff() makes only the classes above
            raise TypeError(f"no rule applies {type(c).__name__}")


async def apply_changes(u: Unit, changes: Iterable[Change]) -> None:
    """Apply the changes of an import in their order, the settings first."""
    changes = list(changes)
    await _apply_settings(u, changes)
    for c in changes:
        await apply_change(u, c)


async def prepare_import(ctx: Context, actor: Actor, data: bytes,
                         filename: str) -> ImportPlan:
    """Check and read an uploaded tracker for ACTOR without writing anything."""
    text = decode_upload(data, filename)
    async with ctx.store.read() as session:
        row = await ctx.learner(session, actor)
        snapshot = await load_one(session, row.id)
        plan = ctx.plan_for(row)
        today = ctx.today_for(row)
    return parse_tracker(text, plan, snapshot, today, filename)


async def apply_import(ctx: Context, actor: Actor, import_plan: ImportPlan) -> Imported:
    """Apply an import in one unit of work, recorded as one change that /undo reverts."""
    async def build(u: Unit) -> Imported:
        if u.row.plan_id != import_plan.plan_id:
            raise StateError("Your plan changed since the preview; import the file again.")
        snapshot = await load_one(u.session, u.row.id)
        # Compare again inside the transaction: the learner may have written since the preview.
        changes = diff(import_plan.claims, snapshot, u.plan, u.today)
        await apply_changes(u, changes)
        u.description = f"import {import_plan.filename[:200]} ({len(changes)} changes)"
        return Imported(changes=len(changes), filename=import_plan.filename)

    return await Units(ctx).run(actor, build)

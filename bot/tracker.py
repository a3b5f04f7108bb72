"""The tracker service: every command's rule, one transaction each, no chat platform.

Fronts (console, Discord cogs, Slack) call ``bot.commands`` which parses text and calls here.
Each write records its inverse in the undo log and reports newly reached milestones.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot import models as m
from bot import progress
from bot.actors import Actor
from bot.errors import InputError, NotFoundError, StateError
from bot.plan import Item, Milestone, Plan, PlanRegistry
from bot.replies import Celebration
from bot.snapshot import LearnerData, load_one
from bot.store import Store
from bot.timing import as_zone, next_digest_at, next_reminder_at, plan_week, study_date
from bot.undo import ChangeSet, revert

log = logging.getLogger(__name__)

MAX_DAY_MINUTES = 24 * 60
UNDO_KEEP = 50
MAX_DEADLINES = 50
MAX_NOTES = 200
SHAREABLE = ("hours", "days", "streak", "scores", "notes")
DEFAULT_SHARE = ("hours", "days", "streak")


@dataclass
class Outcome:
    """What a write did: a sentence for the user, milestones to celebrate, notices to show."""

    message: str
    celebrations: list[Celebration] = field(default_factory=list)
    notices: list[str] = field(default_factory=list)
    data: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Onboarding:
    timezone: str
    start_date: date | None = None
    target_date: date | None = None
    commitment_minutes: int = 4 * 60
    commitment_weeks: int | None = None
    goal: str | None = None
    reminder_time: time | None = time(19, 0)
    day_start_hour: int = 3


SETTING_NAMES = (
    "timezone", "start_date", "target_date", "commitment_minutes", "commitment_weeks", "goal",
    "reminder_minute", "day_start_hour", "digest_weekday", "digest_minute",
    "digest_every_weeks", "public_posts", "display_name", "plan_id",
)


class Tracker:
    """Apply tracker commands to the store for one plan registry and one clock."""

    def __init__(self, store: Store, plans: PlanRegistry,
                 clock: Callable[[], datetime] = lambda: datetime.now(UTC),
                 default_plan: str | None = None, public_by_default: bool = True) -> None:
        self.store = store
        self.public_by_default = public_by_default
        self.plans = plans
        self.clock = clock
        self.default_plan = default_plan or plans.default_id

    # --- helpers --------------------------------------------------------------------------

    def now(self) -> datetime:
        value = self.clock()
        if value.tzinfo is None:
            raise ValueError("the clock must return aware datetimes")
        return value.astimezone(UTC)

    def today_for(self, row: m.Learner | Any) -> date:
        return study_date(self.now(), row.timezone, row.day_start_hour)

    async def learner_row(self, session: AsyncSession, actor: Actor,
                       lock: bool = True) -> m.Learner:
        # Writes lock the learner row so that read-then-write rules (a day's 24 h, free mock
        # slots) hold under concurrency on PostgreSQL; SQLite's BEGIN IMMEDIATE already does.
        stmt = _learner_query(actor)
        row = await session.scalar(stmt.with_for_update() if lock else stmt)
        if row is None:
            raise StateError(
                "You have not started a plan yet. Run /start with your timezone first, "
                "e.g. `/start Europe/Berlin`."
            )
        return row

    async def find_learner(self, actor: Actor) -> m.Learner | None:
        async with self.store.read() as session:
            return await session.scalar(_learner_query(actor))

    def plan_for(self, row: m.Learner | Any) -> Plan:
        return self.plans.get(row.plan_id)

    async def _space(self, session: AsyncSession, actor: Actor,
                     create: bool = False) -> m.Space | None:
        """Find (or create) the actor's server/workspace; None in a DM."""
        if actor.space_id is None:
            return None
        space = await session.scalar(select(m.Space).where(
            m.Space.platform == actor.platform, m.Space.external_id == actor.space_id))
        if space is None and create:
            space = m.Space(platform=actor.platform, external_id=actor.space_id,
                            created_at=self.now())
            session.add(space)
            await session.flush()
        return space

    async def _space_plan(self, session: AsyncSession, actor: Actor) -> str:
        space = await self._space(session, actor)
        return space.plan_id if space and space.plan_id else self.default_plan

    async def _home_space_id(self, session: AsyncSession, actor: Actor) -> int | None:
        """Get or create the actor's space, whose fallback channel takes undeliverable DMs."""
        space = await self._space(session, actor, create=True)
        return space.id if space else None

    async def finish_change(self, session: AsyncSession, row: m.Learner, changes: ChangeSet,
                      description: str, message: str, **data: Any) -> Outcome:
        """Detect milestones, write the undo entry and collect pending notices."""
        plan = self.plan_for(row)
        snapshot = await load_one(session, row.id)
        celebrations = []
        today = self.today_for(row)
        for ms in progress.milestones_now_reached(snapshot, plan):
            await changes.add(m.MilestoneReached(
                learner_id=row.id, milestone_id=ms.id, reached_on=today, reached_at=self.now()))
            celebrations.append(Celebration(ms.id, ms.title, ms.kind, today))
        if not changes.empty:
            session.add(m.UndoEntry(learner_id=row.id, description=description[:300],
                                    ops=changes.ops, created_at=self.now()))
            await session.flush()
            await self._prune_undo(session, row.id)
        notices = await self._take_notices(session, row.id)
        return Outcome(message, celebrations, notices, data)

    async def _prune_undo(self, session: AsyncSession, learner_id: int) -> None:
        keep = select(m.UndoEntry.id).where(m.UndoEntry.learner_id == learner_id).order_by(
            m.UndoEntry.id.desc()).limit(UNDO_KEEP)
        await session.execute(delete(m.UndoEntry).where(
            m.UndoEntry.learner_id == learner_id, m.UndoEntry.id.not_in(keep.scalar_subquery())))

    async def _take_notices(self, session: AsyncSession, learner_id: int) -> list[str]:
        rows = (await session.scalars(select(m.Notice).where(
            m.Notice.learner_id == learner_id).order_by(m.Notice.id))).all()
        for r in rows:
            await session.delete(r)
        return [r.text for r in rows]

    def reschedule(self, row: m.Learner, changes: ChangeSet | None = None) -> None:
        now = self.now()
        values = {
            "next_reminder_at": next_reminder_at(row, now),
            "next_digest_at": next_digest_at(row, now),
        }
        if changes is None:
            for k, v in values.items():
                setattr(row, k, v)
        else:
            changes.set(row, **values)

    # --- onboarding and settings -------------------------------------------------------

    async def start(self, actor: Actor, spec: Onboarding) -> Outcome:
        """Onboard a learner: zone, dates, commitment, goal, reminder time, day start."""
        async with self.store.write() as session:
            existing = await session.scalar(_learner_query(actor))
            if existing is not None:
                raise StateError("You are already set up. Change anything with /settings, "
                                 "or see it with /settings show.")
            plan = self.plans.get(await self._space_plan(session, actor))
            now = self.now()
            today = study_date(now, spec.timezone, spec.day_start_hour)
            start = spec.start_date or today
            _check_start_target(start, spec.target_date, today)
            weeks = spec.commitment_weeks or math.ceil(
                plan.hours_min * 60 / (spec.commitment_minutes * 7))
            row = m.Learner(
                platform=actor.platform, external_id=actor.external_id,
                display_name=actor.display_name[:100], home_channel_id=actor.channel_id,
                home_space_id=await self._home_space_id(session, actor),
                plan_id=plan.id, timezone=spec.timezone, day_start_hour=spec.day_start_hour,
                start_date=start, target_date=spec.target_date,
                commitment_minutes=spec.commitment_minutes, commitment_weeks=weeks,
                goal=spec.goal or plan.goal, committed_on=today,
                reminder_minute=None if spec.reminder_time is None
                else spec.reminder_time.hour * 60 + spec.reminder_time.minute,
                digest_weekday=6, digest_minute=18 * 60, digest_every_weeks=1,
                public_posts=self.public_by_default, created_at=now, updated_at=now,
            )
            self.reschedule(row)
            session.add(row)
            await session.flush()
            reminder = ("off" if row.reminder_minute is None
                        else f"{row.reminder_minute // 60:02d}:{row.reminder_minute % 60:02d}")
            return Outcome(
                f"Welcome aboard! Plan: {plan.title}. Starting {start.isoformat()} in "
                f"{spec.timezone}; commitment {progress.fmt_hours(spec.commitment_minutes)} "
                f"a day for {weeks} weeks. Daily reminder: {reminder}. Log time with `/log 2h`.",
                data={"learner_id": row.id},
            )

    async def update_settings(self, actor: Actor, **changes: Any) -> Outcome:
        """Change settings; reminder and digest times take effect from their next occurrence."""
        unknown = set(changes) - set(SETTING_NAMES)
        if unknown:
            raise InputError(f"Unknown setting(s): {', '.join(sorted(unknown))}.")
        if not changes:
            raise InputError("Name at least one setting to change; see /settings show.")
        async with self.store.write() as session:
            row = await self.learner_row(session, actor)
            if "plan_id" in changes:
                self.plans.get(changes["plan_id"])  # raises with the known ids
            start = changes.get("start_date", row.start_date)
            target = changes.get("target_date", row.target_date)
            if "start_date" in changes or "target_date" in changes:
                _check_start_target(start, target, self.today_for(row), new_start=False)
            cs = ChangeSet(session)
            cs.set(row, **changes, updated_at=self.now())
            self.reschedule(row, cs)
            names = ", ".join(sorted(changes))
            return await self.finish_change(session, row, cs, f"settings: {names}",
                                      f"Updated {names}.")

    async def settings(self, actor: Actor) -> m.Learner:
        async with self.store.read() as session:
            return await self.learner_row(session, actor, lock=False)

    async def set_space_plan(self, actor: Actor, plan_id: str) -> Outcome:
        """Choose the plan that new learners of the actor's server/workspace get."""
        if actor.space_id is None:
            raise InputError("A plan is chosen for a server or workspace: run this there, "
                             "not in a direct message.")
        plan = self.plans.get(plan_id)
        async with self.store.write() as session:
            space = await self._space(session, actor, create=True)
            assert space is not None
            space.plan_id = plan.id
        return Outcome(f"New learners here will follow {plan.title} (`{plan.id}`); learners "
                       "already started keep theirs (`/settings plan=ID` switches one).")

    def plan_list(self) -> str:
        return "\n".join(f"`{p.id}` — {p.title}" for p in self.plans.all())

    # --- time -----------------------------------------------------------------------------

    async def log_time(self, actor: Actor, minutes: int, topic: str | None = None,
                       when: Callable[[date], date] | date | None = None) -> Outcome:
        """Log study time on a study day (today by default)."""
        if minutes <= 0 or minutes > MAX_DAY_MINUTES:
            raise InputError("A log entry must be more than 0 and at most 24 hours.")
        async with self.store.write() as session:
            row = await self.learner_row(session, actor)
            today = self.today_for(row)
            day = when(today) if callable(when) else (when or today)
            if day > today:
                raise InputError(f"{day.isoformat()} is in the future (your today is "
                                 f"{today.isoformat()}); log time for today or earlier.")
            if day < row.start_date:
                raise InputError(f"{day.isoformat()} is before your start date "
                                 f"{row.start_date.isoformat()}; change it with "
                                 "`/settings start_date` first.")
            already = await session.scalar(select(func.coalesce(func.sum(m.TimeLog.minutes), 0))
                                           .where(m.TimeLog.learner_id == row.id,
                                                  m.TimeLog.study_date == day)) or 0
            if already + minutes > MAX_DAY_MINUTES:
                left = MAX_DAY_MINUTES - already
                raise InputError(
                    f"{day.isoformat()} already has {progress.fmt_hours(already)} logged; a day "
                    f"cannot pass 24h, so at most {progress.fmt_hours(left)} more fits.")
            cs = ChangeSet(session)
            await cs.add(m.TimeLog(learner_id=row.id, study_date=day, minutes=minutes,
                                   topic=topic, created_at=self.now()))
            total = already + minutes
            commit = row.commitment_minutes
            state = ("commitment met" if total >= commit
                     else f"{progress.fmt_hours(commit - total)} to go for today's commitment"
                     if day == today else "")
            msg = (f"Logged {progress.fmt_hours(minutes)} on {day.isoformat()}"
                   + (f" ({topic})" if topic else "")
                   + f". That day: {progress.fmt_hours(total)}" + (f", {state}." if state else "."))
            return await self.finish_change(session, row, cs, f"log {minutes}m on {day}", msg,
                                      day=day, day_minutes=total, minutes=minutes)

    # --- checklist -----------------------------------------------------------------------

    async def mark_done(self, actor: Actor, item_text: str, when: date | None = None) -> Outcome:
        """Tick a checklist item of the plan."""
        async with self.store.write() as session:
            row = await self.learner_row(session, actor)
            plan = self.plan_for(row)
            item = plan.find_item(item_text)
            today = self.today_for(row)
            day = when or today
            if day > today:
                raise InputError(f"{day.isoformat()} is in the future; an item can be marked "
                                 "done today or earlier.")
            done = await session.scalar(select(m.ItemDone).where(
                m.ItemDone.learner_id == row.id, m.ItemDone.item_id == item.id))
            if done is not None:
                raise StateError(f"{_item_label(item)} is already done "
                                 f"(since {done.study_date.isoformat()}).")
            cs = ChangeSet(session)
            await cs.add(m.ItemDone(learner_id=row.id, item_id=item.id, study_date=day,
                                    done_at=self.now()))
            count = await session.scalar(select(func.count()).select_from(m.ItemDone).where(
                m.ItemDone.learner_id == row.id))
            total = len(plan.items)
            return await self.finish_change(
                session, row, cs, f"done {item.id}",
                f"✅ {_item_label(item)} done. {count}/{total} items of the plan complete.",
                item_id=item.id)

    async def mark_undone(self, actor: Actor, item_text: str) -> Outcome:
        """Untick a checklist item."""
        async with self.store.write() as session:
            row = await self.learner_row(session, actor)
            item = self.plan_for(row).find_item(item_text)
            done = await session.scalar(select(m.ItemDone).where(
                m.ItemDone.learner_id == row.id, m.ItemDone.item_id == item.id))
            if done is None:
                raise StateError(f"{_item_label(item)} is not marked done, so there is "
                                 "nothing to untick.")
            cs = ChangeSet(session)
            await cs.delete(done)
            return await self.finish_change(session, row, cs, f"undone {item.id}",
                                      f"↩️ {_item_label(item)} is open again.", item_id=item.id)

    async def undo(self, actor: Actor) -> Outcome:
        """Revert the learner's last change of any kind."""
        async with self.store.write() as session:
            row = await self.learner_row(session, actor)
            entry = await session.scalar(select(m.UndoEntry).where(
                m.UndoEntry.learner_id == row.id).order_by(m.UndoEntry.id.desc()).limit(1))
            if entry is None:
                raise StateError("Nothing to undo: no change of yours is recorded.")
            description, ops, entry_id = entry.description, entry.ops, entry.id
            await revert(session, ops)
            await session.execute(delete(m.UndoEntry).where(m.UndoEntry.id == entry_id))
            return Outcome(f"Undone: {description}.")

    # --- scores, counters, ratings, fields ----------------------------------------------

    async def _auto_tick(self, session: AsyncSession, cs: ChangeSet, row: m.Learner,
                         item_id: str | None) -> None:
        """Tick the checklist item a counter or score stands for (e.g. "Mock coding: 5/5")."""
        if item_id is None:
            return
        done = await session.scalar(select(m.ItemDone.id).where(
            m.ItemDone.learner_id == row.id, m.ItemDone.item_id == item_id))
        if done is None:
            await cs.add(m.ItemDone(learner_id=row.id, item_id=item_id,
                                    study_date=self.today_for(row), done_at=self.now()))

    def _plan_week_or_current(self, row: m.Learner, plan: Plan, week: int | None) -> int:
        """Return WEEK, or today's plan week clamped to the plan's weeks (matrix, insights)."""
        if week is not None:
            return week
        return min(max(plan_week(row.start_date, self.today_for(row)), 1), plan.weeks)

    async def _upsert(self, session: AsyncSession, cs: ChangeSet, model: type,
                      where: dict[str, Any], values: dict[str, Any]) -> Any:
        stmt = select(model)
        for k, v in where.items():
            stmt = stmt.where(getattr(model, k) == v)
        existing = await session.scalar(stmt)
        if existing is None:
            await cs.add(model(**where, **values))
            return None
        old = {k: getattr(existing, k) for k in values}
        cs.set(existing, **values)
        return old

    async def record_score(self, actor: Actor, score_text: str,
                           parse: Callable[[int], int]) -> Outcome:
        """Record a scored thing of the plan; PARSE turns the raw text into a value for its max."""
        async with self.store.write() as session:
            row = await self.learner_row(session, actor)
            score = self.plan_for(row).find_score(score_text)
            value = parse(score.max)
            cs = ChangeSet(session)
            old = await self._upsert(session, cs, m.ScoreEntry,
                                     {"learner_id": row.id, "score_id": score.id},
                                     {"value": value, "recorded_on": self.today_for(row)})
            await self._auto_tick(session, cs, row, score.completes_item)
            was = f" (was {old['value']}/{score.max})" if old else ""
            return await self.finish_change(session, row, cs, f"score {score.id}",
                                      f"📝 {score.title}: {value}/{score.max}{was}.",
                                      score_id=score.id, value=value)

    async def record_mock(self, actor: Actor, parse_score: Callable[[int], int],
                          feedback: str | None = None, held_on: date | None = None,
                          slot: int | None = None) -> Outcome:
        """Record a mock interview in the next free slot (or SLOT, replacing it)."""
        async with self.store.write() as session:
            row = await self.learner_row(session, actor)
            plan = self.plan_for(row)
            score = parse_score(plan.mock_max)
            today = self.today_for(row)
            day = held_on or today
            if day > today:
                raise InputError(f"{day.isoformat()} is in the future; record a mock interview "
                                 "once it has happened.")
            used = {s for s in (await session.scalars(select(m.MockInterview.slot).where(
                m.MockInterview.learner_id == row.id))).all()}
            if slot is None:
                free = [s for s in range(1, plan.mock_interviews + 1) if s not in used]
                if not free:
                    raise StateError(
                        f"All {plan.mock_interviews} mock interview slots are filled; name the "
                        f"one to replace, e.g. `/mock {score} slot:{plan.mock_interviews}`.")
                slot = free[0]
            elif not 1 <= slot <= plan.mock_interviews:
                raise InputError(f"The slot must be 1 to {plan.mock_interviews}.")
            cs = ChangeSet(session)
            await self._upsert(session, cs, m.MockInterview,
                               {"learner_id": row.id, "slot": slot},
                               {"score": score, "held_on": day, "feedback": feedback})
            return await self.finish_change(
                session, row, cs, f"mock {slot}",
                f"🎤 Mock interview {slot} on {day.isoformat()}: {score}/{plan.mock_max}.",
                slot=slot, score=score)

    async def rate_skill(self, actor: Actor, skill_text: str, value: int,
                         week: int | None = None) -> Outcome:
        """Rate a skill of the self-assessment matrix for a plan week (the current one)."""
        async with self.store.write() as session:
            row = await self.learner_row(session, actor)
            plan = self.plan_for(row)
            skill = plan.find_skill(skill_text)
            lo, hi = plan.skill_scale
            if not lo <= value <= hi:
                raise InputError(f"A rating is {lo} to {hi}; {value} is outside that.")
            week = self._plan_week_or_current(row, plan, week)
            if not 1 <= week <= plan.weeks:
                raise InputError(f"The week must be 1 to {plan.weeks}.")
            cs = ChangeSet(session)
            await self._upsert(session, cs, m.SkillRating,
                               {"learner_id": row.id, "skill_id": skill.id, "week": week},
                               {"value": value})
            return await self.finish_change(
                session, row, cs, f"rate {skill.id} week {week}",
                f"📈 {skill.title}: {value}/{hi} for week {week} (target {skill.target}).",
                skill_id=skill.id, week=week, value=value)

    async def set_field(self, actor: Actor, field_text: str, raw_value: str,
                        confidence_only: bool = False) -> Outcome:
        """Set a free field of the plan (confidence scale, status choice, text, percent)."""
        async with self.store.write() as session:
            row = await self.learner_row(session, actor)
            plan = self.plan_for(row)
            fld = plan.find_confidence(field_text) if confidence_only else plan.find_field(
                field_text)
            value = fld.coerce(raw_value)
            cs = ChangeSet(session)
            await self._upsert(session, cs, m.FieldValue,
                               {"learner_id": row.id, "field_id": fld.id}, {"value": value})
            unit = "%" if fld.kind == "percent" else ""
            return await self.finish_change(session, row, cs, f"set {fld.id}",
                                            f"{fld.title}: {value}{unit}.",
                                            field_id=fld.id, value=value)

    async def bump_counter(self, actor: Actor, counter_text: str, op: str,
                           amount: int) -> Outcome:
        """Add to, subtract from or set a counter of the plan."""
        async with self.store.write() as session:
            row = await self.learner_row(session, actor)
            counter = self.plan_for(row).find_counter(counter_text)
            current = await session.scalar(select(m.CounterValue).where(
                m.CounterValue.learner_id == row.id, m.CounterValue.counter_id == counter.id))
            before = current.value if current else 0
            after = {"+": before + amount, "-": before - amount, "=": amount}[op]
            if after < 0:
                raise InputError(f"{counter.title} is {before}; it cannot go below 0.")
            if counter.max is not None and after > counter.max:
                raise InputError(f"{counter.title} is counted out of {counter.max}; {after} "
                                 f"would pass it (now {before}).")
            cs = ChangeSet(session)
            await self._upsert(session, cs, m.CounterValue,
                               {"learner_id": row.id, "counter_id": counter.id}, {"value": after})
            if counter.goal is not None and after >= counter.goal:
                await self._auto_tick(session, cs, row, counter.completes_item)
            of = f"/{counter.max}" if counter.max is not None else f" (target {counter.target}+)"
            return await self.finish_change(session, row, cs, f"count {counter.id}",
                                      f"🔢 {counter.title}: {after}{of}.",
                                      counter_id=counter.id, value=after)

    # --- reflections ----------------------------------------------------------------------

    async def add_note(self, actor: Actor, kind: str, text: str, week: int | None = None,
                       solution: str | None = None, learning: str | None = None) -> Outcome:
        """Record an insight (of a week), a challenge (with solution and learning) or a question."""
        if kind not in ("insight", "challenge", "question"):
            raise InputError("A note is an insight, a challenge or a question.")
        async with self.store.write() as session:
            row = await self.learner_row(session, actor)
            plan = self.plan_for(row)
            if kind == "insight":
                week = self._plan_week_or_current(row, plan, week)
                if not 1 <= week <= plan.weeks:
                    raise InputError(f"The week must be 1 to {plan.weeks}.")
            count = await session.scalar(select(func.count()).select_from(m.Note).where(
                m.Note.learner_id == row.id))
            if count >= MAX_NOTES:
                raise StateError(f"You have {MAX_NOTES} notes, the most Pacer keeps; remove "
                                 "some with /notes remove ID.")
            cs = ChangeSet(session)
            note = await cs.add(m.Note(learner_id=row.id, kind=kind, week=week, text=text,
                                       solution=solution, learning=learning,
                                       created_at=self.now()))
            where = f" for week {week}" if kind == "insight" else ""
            return await self.finish_change(session, row, cs, f"{kind} #{note.id}",
                                      f"🗒️ {kind.capitalize()} #{note.id} saved{where}.",
                                      note_id=note.id)

    async def remove_note(self, actor: Actor, note_id: int) -> Outcome:
        async with self.store.write() as session:
            row = await self.learner_row(session, actor)
            note = await session.scalar(select(m.Note).where(
                m.Note.learner_id == row.id, m.Note.id == note_id))
            if note is None:
                raise NotFoundError(f"You have no note #{note_id}; /notes lists yours.")
            cs = ChangeSet(session)
            await cs.delete(note)
            return await self.finish_change(session, row, cs, f"remove note #{note_id}",
                                      f"Removed note #{note_id}.")

    # --- deadlines ---------------------------------------------------------------------------

    async def add_deadline(self, actor: Actor, title: str, due: date) -> Outcome:
        async with self.store.write() as session:
            row = await self.learner_row(session, actor)
            today = self.today_for(row)
            if due < today:
                raise InputError(f"{due.isoformat()} has passed (your today is "
                                 f"{today.isoformat()}); a deadline is today or later.")
            existing = (await session.scalars(select(m.Deadline).where(
                m.Deadline.learner_id == row.id))).all()
            if len(existing) >= MAX_DEADLINES:
                raise StateError(f"You have {MAX_DEADLINES} deadlines; remove one first.")
            if any(d.title.casefold() == title.casefold() for d in existing):
                raise StateError(f"You already have a deadline called {title!r}; remove it "
                                 "first to change its date.")
            cs = ChangeSet(session)
            dl = await cs.add(m.Deadline(learner_id=row.id, title=title, due_date=due,
                                         created_at=self.now()))
            days = (due - today).days
            return await self.finish_change(session, row, cs, f"deadline {title}",
                                      f"📅 Deadline #{dl.id} {title!r} on {due.isoformat()} "
                                      f"({days} days from today).", deadline_id=dl.id)

    async def remove_deadline(self, actor: Actor, ref: str) -> Outcome:
        async with self.store.write() as session:
            row = await self.learner_row(session, actor)
            rows = (await session.scalars(select(m.Deadline).where(
                m.Deadline.learner_id == row.id))).all()
            ref_clean = ref.strip().lstrip("#")
            match = [d for d in rows if str(d.id) == ref_clean] or [
                d for d in rows if d.title.casefold() == ref.strip().casefold()]
            if not match:
                raise NotFoundError("No deadline of yours has that number or title; "
                                    "/deadline list shows them.")
            cs = ChangeSet(session)
            await cs.delete(match[0])
            return await self.finish_change(session, row, cs, f"remove deadline {match[0].title}",
                                      f"Removed deadline {match[0].title!r}.")

    # --- pause ---------------------------------------------------------------------------------

    async def pause(self, actor: Actor, until: date) -> Outcome:
        """Silence pings and freeze the streak from today through UNTIL."""
        async with self.store.write() as session:
            row = await self.learner_row(session, actor)
            today = self.today_for(row)
            if until < today:
                raise InputError(f"{until.isoformat()} has passed; pause until today or later.")
            if (until - today).days > 366:
                raise InputError("A pause is at most a year long.")
            current = await self._current_pause(session, row.id, today)
            cs = ChangeSet(session)
            if current is not None:
                cs.set(current, end_date=until)
            else:
                await cs.add(m.Pause(learner_id=row.id, start_date=today, end_date=until))
            return await self.finish_change(session, row, cs, f"pause until {until}",
                                      f"⏸️ Paused through {until.isoformat()}: no reminders, "
                                      "and your streak is frozen. /resume ends it early.")

    async def resume(self, actor: Actor) -> Outcome:
        async with self.store.write() as session:
            row = await self.learner_row(session, actor)
            today = self.today_for(row)
            current = await self._current_pause(session, row.id, today)
            if current is None:
                raise StateError("You are not paused.")
            cs = ChangeSet(session)
            if current.start_date >= today:
                await cs.delete(current)
            else:
                cs.set(current, end_date=today - timedelta(days=1))
            return await self.finish_change(session, row, cs, "resume",
                                      "▶️ Resumed: reminders are back on.")

    async def snooze(self, actor: Actor, until: datetime | None) -> Outcome:
        """Hold reminders due before UNTIL and remind once then (None cancels a snooze)."""
        async with self.store.write() as session:
            row = await self.learner_row(session, actor)
            now = self.now()
            if until is None:
                if row.snoozed_until is None:
                    raise StateError("No reminder is snoozed, so there is nothing to cancel.")
                row.snoozed_until = None
                return Outcome("Snooze cancelled: reminders come at their usual time.",
                               notices=await self._take_notices(session, row.id))
            until = until.astimezone(UTC)
            if until <= now:
                raise InputError("A snooze must end in the future.")
            if until - now > timedelta(hours=24):
                raise InputError("A snooze lasts at most 24 hours; `/pause until DATE` stops "
                                 "reminders for longer.")
            row.snoozed_until = until
            local = until.astimezone(as_zone(row.timezone))
            return Outcome(f"😴 Snoozed until {local:%H:%M} ({row.timezone}): I will remind you "
                           "then. `/snooze off` cancels.",
                           notices=await self._take_notices(session, row.id),
                           data={"snoozed_until": until})

    async def _current_pause(self, session: AsyncSession, learner_id: int,
                             today: date) -> m.Pause | None:
        return await session.scalar(select(m.Pause).where(
            m.Pause.learner_id == learner_id, m.Pause.end_date >= today).order_by(
            m.Pause.start_date).limit(1))

    # --- partner -----------------------------------------------------------------------------

    async def invite_partner(self, actor: Actor, partner: Actor) -> Outcome:
        if (partner.platform, partner.external_id) == (actor.platform, actor.external_id):
            raise InputError("You cannot be your own accountability partner; invite someone "
                             "else.")
        async with self.store.write() as session:
            row = await self.learner_row(session, actor)
            active = await self._active_partnership(session, row.id)
            if active is not None:
                raise StateError(f"You already have a partner ({active.status}): "
                                 f"{active.partner_name}. End it with /partner end first.")
            cs = ChangeSet(session)
            await cs.add(m.Partnership(
                learner_id=row.id, partner_platform=partner.platform,
                partner_external_id=partner.external_id, partner_name=partner.display_name[:100],
                status="invited", share=list(DEFAULT_SHARE), created_at=self.now()))
            return await self.finish_change(
                session, row, cs, "invite partner",
                f"🤝 Invited {partner.display_name} as your accountability partner. They accept "
                "with /partner accept. They will see: " + ", ".join(DEFAULT_SHARE) + ".")

    async def accept_partner(self, partner: Actor, learner_name: str | None = None) -> Outcome:
        async with self.store.write() as session:
            rows = (await session.execute(
                select(m.Partnership, m.Learner).join(
                    m.Learner, m.Learner.id == m.Partnership.learner_id).where(
                    m.Partnership.partner_platform == partner.platform,
                    m.Partnership.partner_external_id == partner.external_id,
                    m.Partnership.status == "invited"))).all()
            if learner_name:
                rows = [r for r in rows if r[1].display_name.casefold() == learner_name.casefold()
                        or r[1].external_id == learner_name]
            if not rows:
                raise StateError("No invitation to be a partner is waiting for you.")
            if len(rows) > 1:
                names = ", ".join(r[1].display_name for r in rows)
                raise InputError(f"Several learners invited you ({names}); name the one to "
                                 "accept.")
            ship, learner = rows[0]
            ship.status = "accepted"
            ship.accepted_at = self.now()
            return Outcome(f"🤝 You are now {learner.display_name}'s accountability partner; "
                           "their digest will reach you.",
                           data={"learner_id": learner.id})

    async def end_partnership(self, actor: Actor, learner_name: str | None = None) -> Outcome:
        """End a partnership from either side; delivery to the partner stops at once."""
        async with self.store.write() as session:
            me = await session.scalar(_learner_query(actor))
            ships: list[m.Partnership] = []
            if me is not None and not learner_name:
                active = await self._active_partnership(session, me.id)
                if active is not None:
                    ships.append(active)
            if not ships:
                q = select(m.Partnership, m.Learner).join(
                    m.Learner, m.Learner.id == m.Partnership.learner_id).where(
                    m.Partnership.partner_platform == actor.platform,
                    m.Partnership.partner_external_id == actor.external_id,
                    m.Partnership.status.in_(("invited", "accepted")))
                found = (await session.execute(q)).all()
                if learner_name:
                    found = [r for r in found
                             if r[1].display_name.casefold() == learner_name.casefold()]
                if len(found) > 1:
                    raise InputError("You partner several learners; name the one to stop.")
                ships = [r[0] for r in found]
            if not ships:
                raise StateError("You have no partnership to end.")
            ship = ships[0]
            ship.status = "ended"
            ship.ended_at = self.now()
            return Outcome("The partnership has ended; no more digests go to the partner.")

    async def set_share(self, actor: Actor, parts: Sequence[str]) -> Outcome:
        chosen = []
        for p in parts:
            key = p.strip().lower()
            if key not in SHAREABLE:
                raise InputError(f"{p!r} is not something to share; choose from "
                                 f"{', '.join(SHAREABLE)}.")
            if key not in chosen:
                chosen.append(key)
        async with self.store.write() as session:
            row = await self.learner_row(session, actor)
            ship = await self._active_partnership(session, row.id)
            if ship is None:
                raise StateError("You have no partner; invite one with /partner invite.")
            cs = ChangeSet(session)
            cs.set(ship, share=chosen)
            shown = ", ".join(chosen) if chosen else "nothing"
            return await self.finish_change(session, row, cs, "partner share",
                                      f"Your partner now sees: {shown}.")

    async def _active_partnership(self, session: AsyncSession,
                                  learner_id: int) -> m.Partnership | None:
        return await session.scalar(select(m.Partnership).where(
            m.Partnership.learner_id == learner_id,
            m.Partnership.status.in_(("invited", "accepted"))).limit(1))

    # --- reads -----------------------------------------------------------------------------

    async def snapshot(self, actor: Actor) -> tuple[LearnerData, Plan, date]:
        """Load the learner's whole tracker with its plan and study day."""
        async with self.store.read() as session:
            row = await self.learner_row(session, actor, lock=False)
            data = await load_one(session, row.id)
            pending = await session.scalar(select(func.count()).select_from(m.Notice).where(
                m.Notice.learner_id == row.id))
        if pending:
            # Only take the write lock when there is something to tell.
            async with self.store.write() as session:
                data.notices = await self._take_notices(session, row.id)
        return data, self.plan_for(row), self.today_for(row)

    async def add_notice(self, learner_id: int, text: str) -> None:
        async with self.store.write() as session:
            session.add(m.Notice(learner_id=learner_id, text=text[:500], created_at=self.now()))

    async def set_fallback_channel(self, actor: Actor, channel_id: str | None) -> Outcome:
        """Set (None: clear) the channel of the actor's space that receives undeliverable DMs."""
        if actor.space_id is None:
            raise InputError("A fallback channel belongs to a server: run this in a server "
                             "channel, not in a direct message.")
        async with self.store.write() as session:
            space = await self._space(session, actor, create=True)
            assert space is not None
            space.fallback_channel_id = channel_id
        if channel_id is None:
            return Outcome("No fallback channel any more: undeliverable reminders are recorded "
                           "and shown to the learner at their next command.")
        return Outcome(f"Reminders that cannot be sent by direct message will be posted in "
                       f"<#{channel_id}>.", data={"channel_id": channel_id})


def _learner_query(actor: Actor) -> Any:
    return select(m.Learner).where(m.Learner.platform == actor.platform,
                                   m.Learner.external_id == actor.external_id)


def _item_label(item: Item) -> str:
    return f"{item.id} — {item.title}"


def _check_start_target(start: date, target: date | None, today: date,
                        new_start: bool = True) -> None:
    if start.year < 2000:
        raise InputError("The start date must be in 2000 or later.")
    if new_start and (start - today).days > 366:
        raise InputError("The start date is more than a year away; start within a year.")
    if target is not None and target <= start:
        raise InputError(f"The target date {target.isoformat()} must come after the start "
                         f"date {start.isoformat()}.")


__all__ = ["Actor", "Celebration", "Milestone", "Onboarding", "Outcome", "Tracker"]

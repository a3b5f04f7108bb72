"""The time log: /log (reads only the day's total, not the learner's history)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from sqlalchemy import bindparam, case, func, select

from bot import models as m
from bot.actors import Actor
from bot.errors import InputError
from bot.limits import MAX_DAY_MINUTES
from bot.outcomes import TimeLogged
from bot.prepared import Prepared
from bot.progress import fmt_hours
from bot.services.base import Service
from bot.services.milestones import TimeFacts, time_facts
from bot.services.units import Unit
from bot.values import TODAY, StudyDay

# What the milestone check will read (``milestones.time_facts``), then the day's total: one
# statement and one pass over the learner's entries, where there would be two and three.
_DAY_AND_FACTS = Prepared(time_facts(func.coalesce(func.sum(case(
    (m.TimeLog.study_date == bindparam("day"), m.TimeLog.minutes))), 0).label("day_minutes")))


def check_log_day(u: Unit, day: date) -> None:
    """Refuse a day after the learner's today or before their start date."""
    if day > u.today:
        raise InputError(f"{day.isoformat()} is in the future (your today is "
                         f"{u.today.isoformat()}); log time for today or earlier.")
    if day < u.row.start_date:
        raise InputError(f"{day.isoformat()} is before your start date "
                         f"{u.row.start_date.isoformat()}; change it with "
                         "`/settings start_date` first.")


async def add_log(u: Unit, day: date, minutes: int, topic: str | None) -> int:
    """Log MINUTES on DAY within the day's 24 h; return the day's new total."""
    row = await _DAY_AND_FACTS.first(u.conn, {"learner_id": u.row.id, "day": day})
    already = int(row.day_minutes)
    if already + minutes > MAX_DAY_MINUTES:
        left = MAX_DAY_MINUTES - already
        raise InputError(
            f"{day.isoformat()} already has {fmt_hours(already)} logged; a day cannot pass "
            f"24h, so at most {fmt_hours(left)} more fits.")
    await u.changes.insert(m.TimeLog, learner_id=u.row.id, study_date=day, minutes=minutes,
                           topic=topic, created_at=u.now)
    u.time_facts = TimeFacts.after_adding(row[:3], minutes)
    return already + minutes


async def replace_day(u: Unit, day: date, parts: Sequence[tuple[int, str | None]]) -> None:
    """Replace DAY's log entries with PARTS (minutes, topic), as an import states them."""
    if sum(minutes for minutes, _ in parts) > MAX_DAY_MINUTES:
        raise InputError(f"{day.isoformat()}: a day cannot pass 24h.")
    old = (await u.session.scalars(select(m.TimeLog).where(
        m.TimeLog.learner_id == u.row.id, m.TimeLog.study_date == day))).all()
    for row in old:
        await u.changes.delete(row)
    for minutes, topic in parts:
        await u.changes.add(m.TimeLog(learner_id=u.row.id, study_date=day, minutes=minutes,
                                      topic=topic, created_at=u.now))


class TimeLogService(Service):
    """Log study time."""

    async def log_time(self, actor: Actor, minutes: int, topic: str | None = None,
                       day: StudyDay | date = TODAY) -> TimeLogged:
        """Log study time on a study day (today by default)."""
        if minutes <= 0 or minutes > MAX_DAY_MINUTES:
            raise InputError("A log entry must be more than 0 and at most 24 hours.")

        async def build(u: Unit) -> TimeLogged:
            on = day.resolve(u.today) if isinstance(day, StudyDay) else day
            check_log_day(u, on)
            total = await add_log(u, on, minutes, topic)
            u.description = f"log {minutes}m on {on}"
            return TimeLogged(minutes=minutes, topic=topic, day=on, day_minutes=total,
                              commitment_minutes=u.row.commitment_minutes,
                              is_today=on == u.today)

        return await self.units.run(actor, build)

"""The road: where the learner committed to be, day by day, and how much slack is left.

Pure functions of a learner's profile, plan, pauses and logs; no clock, no store.

Decisions (also in the README):
- **The road** rises by the daily commitment on every study day of the commitment (its weeks
  times seven days from the start date), and stops rising once it reaches the plan's hours
  target (``hours_min``). When the commitment ends before that and a target date lies later,
  the road goes on from the commitment's end to the target date at the even daily pace that
  reaches the hours target on the target date. With no target date it ends with the
  commitment. It never falls.
- **Pauses** move the road: a paused day is flat, and every later day of the road (its end and
  the target date included) moves one day later. So a holiday never shows as falling behind.
- **Plan days**: the plan's daily lessons (Day 01 … Day 14, the week reviews among them) fall
  on the study days of the road in order: Day N on the N-th unpaused day from the start.
  Items without a day have no date.
- **Safety buffer**: the number of days, today first, on which the learner could log nothing
  and still be on the road at the end of the day (logged ≥ road). 0 means today's hours are
  needed today (or the learner is behind). ``None`` once the logged hours reach the road's end.
- **Behind** means below the road at the end of yesterday: today is still open.
- **Catch-up**: when behind, the fewest days (today first) within which an even pace of at most
  ``max(2 × commitment, commitment + 1 h)`` (never above 24 h; rounded up to a quarter hour)
  a day puts the learner back on
  the road; when none before the road's end, an honest answer: how many hours are missing and
  how many days remain.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta

from bot.limits import MAX_DAY_MINUTES
from bot.plan import Item, Plan
from bot.snapshot import StudyRecord

ONE_DAY = timedelta(days=1)


@dataclass(frozen=True)
class RoadInputs:
    """What the road is made of: the learner's commitment and dates, the plan's target."""

    start: date
    commitment_minutes: int
    commitment_weeks: int
    target_date: date | None
    target_minutes: int
    paused: frozenset[date] = frozenset()


@dataclass(frozen=True)
class Road:
    """Cumulative committed minutes at the end of each day from START through END."""

    start: date
    end: date
    totals: tuple[int, ...]  # totals[i]: committed minutes at the end of start + i days
    paused: frozenset[date] = frozenset()
    study_days: tuple[date, ...] = ()  # the unpaused days of the road, in order

    def at(self, day: date) -> int:
        """Return the committed minutes at the end of DAY (0 before the start)."""
        if day < self.start:
            return 0
        index = (day - self.start).days
        return self.totals[min(index, len(self.totals) - 1)]

    @property
    def final(self) -> int:
        return self.totals[-1]

    def rise(self, day: date) -> int:
        """Return how many minutes the road rises on DAY."""
        return self.at(day) - self.at(day - ONE_DAY)


def build_road(inputs: RoadInputs) -> Road:
    """Build the road of INPUTS (see the module docstring for the rules)."""
    commit_days = inputs.commitment_weeks * 7
    goal = inputs.target_minutes
    paused = inputs.paused
    # The target date moves by the paused days before it.
    target = inputs.target_date
    if target is not None:
        target = _shift_past_pauses(inputs.start, target, paused)
    totals: list[int] = []
    study_days: list[date] = []
    total = 0
    day = inputs.start
    active = 0
    # The commitment's study days first.
    while active < commit_days:
        if day not in paused:
            active += 1
            total = min(goal, total + inputs.commitment_minutes)
            study_days.append(day)
        totals.append(total)
        day += ONE_DAY
    end = day - ONE_DAY
    if target is not None and target > end and total < goal:
        rest = list(_days(day, target))
        n = sum(1 for d in rest if d not in paused)
        base, missing, done = total, goal - total, 0
        for d in rest:
            if d not in paused:
                done += 1
                total = base + (missing * done) // n
                study_days.append(d)
            totals.append(total)
        end = target
    elif target is not None and target > end:
        for d in _days(day, target):
            totals.append(total)
            if d not in paused:
                study_days.append(d)
        end = target
    return Road(inputs.start, end, tuple(totals), frozenset(paused), tuple(study_days))


def _days(first: date, last: date) -> Iterable[date]:
    day = first
    while day <= last:
        yield day
        day += ONE_DAY


def _shift_past_pauses(start: date, target: date, paused: frozenset[date]) -> date:
    """Move TARGET one day later for each paused day from START up to it."""
    day, left = start, (target - start).days + 1
    while left > 0:
        if day not in paused:
            left -= 1
        day += ONE_DAY
    return day - ONE_DAY


def paused_days(pauses: Iterable[tuple[date, date]]) -> frozenset[date]:
    """Return every day of the pauses (start and end included)."""
    days: set[date] = set()
    for first, last in pauses:
        days.update(_days(first, last))
    return frozenset(days)


# --- standing on the road -------------------------------------------------------------------


def safety_buffer(road: Road, logged: int, today: date) -> int | None:
    """Count the days, today first, the learner could log nothing and stay on the road."""
    if logged >= road.final:
        return None
    days = 0
    day = today
    while logged >= road.at(day):
        days += 1
        day += ONE_DAY
    return days


@dataclass(frozen=True)
class CatchUp:
    """The way back onto the road: PER_DAY minutes a day through UNTIL, or why there is none."""

    behind_minutes: int
    per_day: int | None = None
    until: date | None = None
    days_left: int = 0


def catch_up_cap(commitment_minutes: int) -> int:
    """Return the most minutes a day a catch-up plan asks for."""
    return min(MAX_DAY_MINUTES, max(2 * commitment_minutes, commitment_minutes + 60))


def behind_by(road: Road, logged: int, today: date) -> int:
    """Return how far below the road the learner was at the end of yesterday (0: on it).

    Today is still open: being short of today's road during the day is not falling behind.
    """
    return max(0, road.at(today - ONE_DAY) - logged)


def catch_up(road: Road, logged: int, today: date, commitment_minutes: int) -> CatchUp | None:
    """Return how to get back on the road, or None when the learner is on it."""
    behind = behind_by(road, logged, today)
    if behind <= 0:
        return None
    cap = catch_up_cap(commitment_minutes)
    study = [d for d in _days(today, max(today, road.end)) if d not in road.paused]
    for n, last in enumerate(study, start=1):
        need = road.at(last) - logged
        per_day = -(-need // (n * 15)) * 15  # even, rounded up to a quarter hour
        if per_day <= cap:
            return CatchUp(behind, per_day, last, len(study))
    return CatchUp(behind, None, None, len(study))


# --- the plan's days ------------------------------------------------------------------------


def item_days(road: Road, plan: Plan) -> dict[str, date]:
    """Return the day each daily lesson falls on: Day N on the N-th study day of the road."""
    days = road.study_days
    out: dict[str, date] = {}
    extra = road.end
    for n, item in enumerate(plan.daily_items):
        if n < len(days):
            out[item.id] = days[n]
        else:  # a plan longer than the road: the rest fall after its end, one a day
            extra += ONE_DAY
            out[item.id] = extra
    return out


@dataclass(frozen=True)
class DayPlan:
    """One day of the week ahead: what is due, the minutes it needs, the deadlines on it."""

    day: date
    items: tuple[Item, ...] = ()
    overdue: tuple[Item, ...] = ()
    minutes: int = 0
    deadlines: tuple[str, ...] = ()
    paused: bool = False


@dataclass(frozen=True)
class WeekAhead:
    days: tuple[DayPlan, ...] = field(default_factory=tuple)


def week_ahead(road: Road, plan: Plan, today: date, *, logged: int, logged_today: int,
               done: Iterable[str], deadlines: Sequence[tuple[str, date]],
               commitment_minutes: int, days: int = 7) -> WeekAhead:
    """Plan the next DAYS study days: items due by the road, minutes needed, deadlines."""
    finished = set(done)
    due = item_days(road, plan)
    by_id = {i.id: i for i in plan.daily_items}
    overdue = tuple(by_id[i] for i, d in due.items() if d < today and i not in finished)
    plan_back = catch_up(road, logged, today, commitment_minutes)
    out = []
    for k in range(days):
        day = today + timedelta(days=k)
        items = tuple(by_id[i] for i, d in due.items() if d == day and i not in finished)
        if day in road.paused:
            minutes = 0
        elif plan_back is not None and plan_back.per_day is not None and plan_back.until \
                and day <= plan_back.until:
            minutes = plan_back.per_day
        else:
            minutes = road.rise(day)
        if k == 0:
            minutes = max(0, minutes - logged_today)
        out.append(DayPlan(day, items, overdue if k == 0 else (), minutes,
                           tuple(t for t, d in deadlines if d == day), day in road.paused))
    return WeekAhead(tuple(out))


# --- a learner's standing ----------------------------------------------------------------


@dataclass(frozen=True)
class Standing:
    """Where a learner stands against their road today."""

    road: Road
    logged: int
    today: date
    buffer: int | None
    way_back: CatchUp | None

    @property
    def behind(self) -> int:
        return behind_by(self.road, self.logged, self.today)


def road_of(data: StudyRecord, plan: Plan) -> Road:
    """Build the learner's road from their commitment, target date and pauses."""
    prof = data.profile
    return build_road(RoadInputs(prof.start_date, prof.commitment_minutes,
                                 prof.commitment_weeks, prof.target_date,
                                 plan.hours_min * 60, frozenset(data.paused_days())))


def standing(data: StudyRecord, plan: Plan, today: date) -> Standing:
    """Return the learner's road, logged minutes, safety buffer and way back, today."""
    road = road_of(data, plan)
    logged = data.total_minutes
    return Standing(road, logged, today, safety_buffer(road, logged, today),
                    catch_up(road, logged, today, data.profile.commitment_minutes))


def week_ahead_of(data: StudyRecord, plan: Plan, today: date, days: int = 7) -> WeekAhead:
    """Plan the learner's next DAYS study days from their road."""
    road = road_of(data, plan)
    return week_ahead(road, plan, today, logged=data.total_minutes,
                      logged_today=data.minutes_by_day().get(today, 0), done=data.done,
                      deadlines=[(d.title, d.due_date) for d in data.deadlines],
                      commitment_minutes=data.profile.commitment_minutes, days=days)


# --- zero-buffer episodes -----------------------------------------------------------------


def zero_buffer_since(road: Road, minutes_by_day: dict[date, int], today: date,
                      logged_now: int) -> date | None:
    """Return the study day a run of zero-buffer days began, when today is its second or later.

    A study day is in the run when the learner ended it behind the road; today joins the run
    while LOGGED_NOW is still short of today's road. Paused days neither extend nor break a
    run. None when yesterday's study day ended on the road (or there is none) or today is met.
    """
    if logged_now >= road.at(today) or logged_now >= road.final:
        return None
    through = sum(m for d, m in minutes_by_day.items() if d < today)
    began = None
    day = today - ONE_DAY
    while day >= road.start:
        if day not in road.paused:
            if through >= road.at(day):
                break
            began = day
        through -= minutes_by_day.get(day, 0)
        day -= ONE_DAY
    return began


"""Pure progress rules: percentages, week bars, streaks, pace, milestones.

Decisions (documented in the README):
- Overall progress is the share of the plan's checklist items that are done.
- Week bar N counts the days of plan week N (7 days from the start date on) with study:
  time logged or an item completed. Paused days are frozen: they neither count nor break.
- The streak counts consecutive study days ending today, or yesterday while today is still
  open, stepping over paused days; today never breaks it before it ends.
- Average daily time is total hours over the days elapsed since the start date (today included).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from bot.plan import Milestone, Plan
from bot.snapshot import LearnerData, StudyRecord
from bot.timing import days_until, plan_week, week_dates
from bot.wording import plural

BAR_WIDTH = 20


def bar(fraction: float, width: int = BAR_WIDTH) -> str:
    """Draw a bar like the spec's ``[█████░░░░░]``."""
    fraction = min(max(fraction, 0.0), 1.0)
    full = round(fraction * width)
    return "[" + "█" * full + "░" * (width - full) + "]"


def hours(minutes: int) -> float:
    return round(minutes / 60, 2)


def exact_hours(minutes: int) -> str:
    """Show minutes as hours with two decimals at most, exact when read back: ``2.25``."""
    return f"{minutes / 60:.2f}".rstrip("0").rstrip(".")


def fmt_hours(minutes: int) -> str:
    """Show minutes as hours: ``4h``, ``1.5h``, ``0.25h``."""
    return f"{exact_hours(minutes)}h"


@dataclass(frozen=True)
class Streak:
    days: int
    today_done: bool
    at_risk: bool
    frozen_today: bool


def streak(data: StudyRecord, today: date) -> Streak:
    """Count consecutive study days, with today open until it ends and pauses frozen."""
    active = data.active_days()
    paused = data.paused_days()
    today_done = today in active
    d = today if today_done else today - timedelta(days=1)
    count = 0
    floor = data.profile.start_date - timedelta(days=1)
    while d > floor:
        if d in active:
            count += 1
        elif d not in paused:
            break
        d -= timedelta(days=1)
    frozen = today in paused
    return Streak(count, today_done, at_risk=count > 0 and not today_done and not frozen,
                  frozen_today=frozen)


@dataclass(frozen=True)
class WeekBar:
    week: int
    days_active: int
    dates: tuple[date, ...]

    @property
    def gauge(self) -> str:
        """Draw the bar with its count: ``[███░░░░] 3/7 days``."""
        return f"{bar(self.days_active / 7, 7)} {self.days_active}/7 days"

    def render(self) -> str:
        return f"Week {self.week}: {self.gauge}"


def week_bar(data: LearnerData, week: int, active: set[date] | None = None) -> WeekBar:
    """Count the study days of plan week WEEK."""
    active = data.active_days() if active is None else active
    dates = tuple(week_dates(data.profile.start_date, week))
    return WeekBar(week, sum(1 for d in dates if d in active), dates)


def week_bars(data: LearnerData, plan: Plan) -> list[WeekBar]:
    active = data.active_days()
    return [week_bar(data, w, active) for w in range(1, plan.weeks + 1)]


def item_fraction(data: LearnerData, plan: Plan, item_ids: Iterable[str] | None = None) -> float:
    ids = [i.id for i in plan.items] if item_ids is None else list(item_ids)
    if not ids:
        return 0.0
    return sum(1 for i in ids if i in data.done) / len(ids)


def overall_bar(data: LearnerData, plan: Plan) -> str:
    """Draw the share of the plan's items done: ``[█████░░░░░░░░░░░░░░░] 25%``."""
    frac = item_fraction(data, plan)
    return f"{bar(frac)} {round(frac * 100)}%"


def done_in_section(data: LearnerData, plan: Plan, section_id: str) -> int:
    """Count the items of a section that are done."""
    return sum(1 for i in plan.items_in_section(section_id) if i.id in data.done)


SECTION_STATES = ("Not Started", "In Progress", "Completed")


def section_status(data: LearnerData, plan: Plan, section_id: str) -> str:
    """Say whether a section (a project) is not started, in progress or completed."""
    done = done_in_section(data, plan, section_id)
    if done == 0:
        return SECTION_STATES[0]
    return SECTION_STATES[2] if done == len(plan.items_in_section(section_id)) else \
        SECTION_STATES[1]


def milestones_achieved(data: LearnerData, plan: Plan) -> int:
    """Count the milestones (not celebrations or achievements) reached."""
    return sum(1 for ms in plan.milestones_of_kind("milestone") if ms.id in data.milestones)


READINESS_BANDS = ("0-25%", "26-50%", "51-75%", "76-99%", "100%!")
READINESS_PREFIX = "readiness-"


def has_readiness(plan: Plan) -> bool:
    """Tell whether the plan has a readiness checklist (sections ``readiness-*``)."""
    return any(s.id.startswith(READINESS_PREFIX) for s in plan.sections)


def readiness_percent(data: LearnerData, plan: Plan) -> int:
    """Return the share of the readiness checklist (sections ``readiness-*``) ticked."""
    ids = [i.id for s in plan.sections if s.id.startswith(READINESS_PREFIX)
           for i in plan.items_in_section(s.id)]
    return round(item_fraction(data, plan, ids) * 100) if ids else 0


def readiness_band(data: LearnerData, plan: Plan) -> str:
    """Return the band of READINESS_BANDS the readiness checklist is in."""
    pct = readiness_percent(data, plan)
    floors = (0, 26, 51, 76, 100)
    return next(band for band, floor in zip(reversed(READINESS_BANDS), reversed(floors),
                                            strict=True) if pct >= floor)


def days_until_goal(data: LearnerData, plan: Plan, today: date) -> int | None:
    """Count the days to the deadline titled like the plan's last default one (the interview)."""
    if not plan.default_deadlines:
        return None
    title = plan.default_deadlines[-1].casefold()
    due = next((d.due_date for d in data.deadlines
                if d.title.casefold() == title and d.due_date >= today), None)
    return None if due is None else days_until(today, due)


def day_totals(data: LearnerData) -> dict[date, tuple[int, str | None]]:
    """Return each day's total minutes and its distinct topics joined by ``; ``."""
    minutes: dict[date, int] = {}
    topics: dict[date, dict[str, None]] = {}
    for row in data.logs:
        minutes[row.study_date] = minutes.get(row.study_date, 0) + row.minutes
        bucket = topics.setdefault(row.study_date, {})
        if row.topic:
            bucket[row.topic] = None
    return {d: (n, "; ".join(topics[d]) or None) for d, n in minutes.items()}


def current_phase(data: LearnerData, plan: Plan) -> Any:
    """Return the first phase with an item still open (the last one when all are done)."""
    for phase in plan.phases:
        ids = [i.id for i in plan.items if plan.phase_of(i).id == phase.id]
        if any(i not in data.done for i in ids):
            return phase
    return plan.phases[-1]


def next_items(data: StudyRecord, plan: Plan, limit: int = 5) -> list[Any]:
    """List what is next: open daily lessons first, then the other open items in plan order."""
    lessons = plan.daily_items
    lesson_ids = {i.id for i in lessons}  # ids are unique in a plan: a set, not list equality
    daily = [i for i in lessons if i.id not in data.done]
    rest = [i for i in plan.items if i.id not in data.done and i.id not in lesson_ids]
    return (daily + rest)[:limit]


def next_deadline(data: StudyRecord, today: date) -> Any | None:
    upcoming = [d for d in data.deadlines if d.due_date >= today]
    return min(upcoming, key=lambda d: (d.due_date, d.id)) if upcoming else None


def average_daily_minutes(data: LearnerData, today: date) -> float:
    elapsed = (today - data.profile.start_date).days + 1
    if elapsed <= 0:
        return 0.0
    return data.total_minutes / elapsed


def latest_rating(data: LearnerData, skill_id: str) -> int | None:
    weeks = data.ratings.get(skill_id)
    if not weeks:
        return None
    return weeks[max(weeks)]


def skills_average(data: LearnerData, plan: Plan, week: int | None = None) -> float | None:
    """Average of the ratings of WEEK (or of each skill's latest rating)."""
    values = []
    for skill in plan.skills:
        if week is None:
            v = latest_rating(data, skill.id)
        else:
            v = data.ratings.get(skill.id, {}).get(week)
        if v is not None:
            values.append(v)
    return sum(values) / len(values) if values else None


def quiz_scores(data: LearnerData, plan: Plan) -> list[tuple[Any, int | None]]:
    return [(s, data.scores.get(s.id)) for s in plan.scores if s.week is not None]


def quiz_average(data: LearnerData, plan: Plan) -> float | None:
    values = [v for _, v in quiz_scores(data, plan) if v is not None]
    return sum(values) / len(values) if values else None


def mock_average(data: LearnerData) -> float | None:
    return sum(x.score for x in data.mocks) / len(data.mocks) if data.mocks else None


def confidence_average(data: LearnerData, plan: Plan) -> float | None:
    values = []
    for f in plan.fields:
        if f.confidence and f.id in data.fields:
            try:
                values.append(int(data.fields[f.id]))
            except ValueError:
                continue
    return sum(values) / len(values) if values else None


def section_complete(data: LearnerData | MilestoneFacts, plan: Plan, section_id: str) -> bool:
    items = plan.items_in_section(section_id)
    return bool(items) and all(i.id in data.done for i in items)


def project_sections(plan: Plan) -> tuple[Any, ...]:
    """Return the plan's project sections (ids starting with ``project``)."""
    return tuple(s for s in plan.sections if s.id.startswith("project"))


def projects_completed(data: LearnerData, plan: Plan) -> int:
    return sum(1 for s in project_sections(plan) if section_complete(data, plan, s.id))


def days_completed(data: LearnerData, plan: Plan) -> int:
    """Count the plan's daily lessons that are done."""
    return sum(1 for i in plan.daily_items if i.id in data.done)


def skills_mastered(data: LearnerData, plan: Plan) -> int:
    return sum(
        1 for s in plan.skills if (latest_rating(data, s.id) or 0) >= s.target
    )


@dataclass(frozen=True)
class Pace:
    minutes_per_day: float
    reach_min_on: date | None
    days_vs_target: int | None  # positive: late by that many days

    def describe(self, hours_min: int) -> str:
        if self.reach_min_on is None:
            return "Log some time to see when you will reach the target."
        text = (f"At {self.minutes_per_day / 60:.1f} h/day you reach {hours_min} h on "
                f"{self.reach_min_on:%d %b %Y}")
        if self.days_vs_target is None:
            return text + "."
        if self.days_vs_target > 0:
            return text + f", {plural(self.days_vs_target, 'day')} after your target."
        if self.days_vs_target < 0:
            return text + f", {plural(-self.days_vs_target, 'day')} before your target."
        return text + ", right on your target."


def pace(data: StudyRecord, plan: Plan, today: date, window_days: int = 14) -> Pace:
    """Project when the minimum hours target is reached from the recent daily average."""
    start = max(data.profile.start_date, today - timedelta(days=window_days - 1))
    days = (today - start).days + 1
    recent = sum(r.minutes for r in data.logs if start <= r.study_date <= today)
    per_day = recent / days if days > 0 else 0.0
    remaining = plan.hours_min * 60 - data.total_minutes
    if remaining <= 0:
        reach = min((r.study_date for r in data.logs), default=today)
        # Find the day the running total crossed the target.
        total = 0
        for r in sorted(data.logs, key=lambda r: r.study_date):
            total += r.minutes
            if total >= plan.hours_min * 60:
                reach = r.study_date
                break
    elif per_day <= 0:
        return Pace(0.0, None, None)
    else:
        reach = today + timedelta(days=int(-(-remaining // per_day)))
    target = data.profile.target_date
    return Pace(per_day, reach, (reach - target).days if target else None)


def plan_week_of(data: LearnerData, today: date) -> int:
    return plan_week(data.profile.start_date, today)


# --- milestones -------------------------------------------------------------------------


@dataclass(frozen=True)
class MilestoneFacts:
    """What milestone conditions read, dated: items done, mocks, time per day, counters."""

    done: Mapping[str, date]
    mocks: tuple[tuple[int, date], ...] = ()  # (score, held on)
    days: tuple[tuple[date, int, int], ...] = ()  # (study day, minutes, entries), by day
    counters: Mapping[str, int] = field(default_factory=dict)
    # (minutes, entries) when only the time log's totals were read, not its days
    totals: tuple[int, int] | None = None

    @classmethod
    def of(cls, data: LearnerData) -> MilestoneFacts:
        per_day: dict[date, list[int]] = {}
        for row in data.logs:
            cell = per_day.setdefault(row.study_date, [0, 0])
            cell[0] += row.minutes
            cell[1] += 1
        return cls(data.done, tuple((x.score, x.held_on) for x in data.mocks),
                   tuple((d, v[0], v[1]) for d, v in sorted(per_day.items())), data.counters)

    @property
    def total_minutes(self) -> int:
        if self.totals is not None:
            return self.totals[0]
        return sum(minutes for _d, minutes, _n in self.days)

    @property
    def log_count(self) -> int:
        if self.totals is not None:
            return self.totals[1]
        return sum(n for _d, _m, n in self.days)

    @property
    def mock_scores(self) -> tuple[int, ...]:
        return tuple(score for score, _day in self.mocks)


# The tables each condition reads: a change that touches none of them cannot reach it.
CONDITION_TABLES: Mapping[str, frozenset[str]] = {
    "items": frozenset({"items_done"}),
    "any_items": frozenset({"items_done"}),
    "any_sections_complete": frozenset({"items_done"}),
    "mock_score_min": frozenset({"mock_interviews"}),
    "hours_min": frozenset({"time_logs"}),
    "logs_min": frozenset({"time_logs"}),
    "counter_min": frozenset({"counters"}),
    "milestones": frozenset(),
}


def condition_tables(cond: Mapping[str, Any]) -> frozenset[str]:
    """Return the tables a milestone condition reads (``milestones`` reads none)."""
    (key, value), = cond.items()
    if key == "all_of":
        return frozenset().union(*(condition_tables(c) for c in value))
    return CONDITION_TABLES[key]


def condition_holds(cond: Mapping[str, Any], facts: MilestoneFacts, plan: Plan,
                    reached: set[str]) -> bool:
    """Evaluate one milestone condition of the plan against the learner's facts."""
    (key, value), = cond.items()
    if key == "items":
        return all(_id_done(i, facts, plan) for i in value)
    if key == "any_items":
        return any(_id_done(i, facts, plan) for i in value)
    if key == "any_sections_complete":
        return any(section_complete(facts, plan, s) for s in value)
    if key == "mock_score_min":
        return any(score >= value for score in facts.mock_scores)
    if key == "hours_min":
        return facts.total_minutes >= value * 60
    if key == "logs_min":
        return facts.log_count >= value
    if key == "counter_min":
        return facts.counters.get(value["counter"], 0) >= value["value"]
    if key == "milestones":
        return all(v in reached for v in value)
    if key == "all_of":
        return all(condition_holds(c, facts, plan, reached) for c in value)
    raise ValueError(f"unknown milestone condition {key!r}")


def condition_date(cond: Mapping[str, Any], facts: MilestoneFacts, plan: Plan,
                   reached: Mapping[str, date], today: date) -> date:
    """Return the day a condition that holds became true (backdated entries count)."""
    (key, value), = cond.items()
    found: date | None = None
    if key == "items":
        found = max((_id_date(i, facts, plan) for i in value), default=None)
    elif key == "any_items":
        found = min((d for i in value if (d := _id_date(i, facts, plan)) is not None),
                    default=None)
    elif key == "any_sections_complete":
        found = min((d for s in value if (d := _id_date(s, facts, plan)) is not None),
                    default=None)
    elif key == "mock_score_min":
        found = min((day for score, day in facts.mocks if score >= value), default=None)
    elif key in ("hours_min", "logs_min"):
        need = value * 60 if key == "hours_min" else value
        running = 0
        for day, minutes, entries in facts.days:
            running += minutes if key == "hours_min" else entries
            if running >= need:
                found = day
                break
    elif key == "milestones":
        found = max((reached[v] for v in value if v in reached), default=None)
    elif key == "all_of":
        found = max(condition_date(c, facts, plan, reached, today) for c in value)
    # A counter keeps no history: its milestone is dated when Pacer saw it.
    return min(found, today) if found is not None else today


def _id_date(ident: str, facts: MilestoneFacts, plan: Plan) -> date | None:
    """Return the day an item (or every item of a section) was done, None while open."""
    if ident in facts.done:
        return facts.done[ident]
    items = plan.items_in_section(ident) if plan.has_section(ident) else ()
    if not items or not all(i.id in facts.done for i in items):
        return None
    return max(facts.done[i.id] for i in items)


def _id_done(ident: str, facts: MilestoneFacts | LearnerData, plan: Plan) -> bool:
    if ident in facts.done:
        return True
    items = plan.items_in_section(ident) if plan.has_section(ident) else ()
    return bool(items) and all(i.id in facts.done for i in items)


def milestones_now_reached(data: LearnerData | MilestoneFacts, plan: Plan,
                           reached: Iterable[str] | None = None) -> list[Milestone]:
    """Return the milestones whose conditions hold now but are not yet recorded, in plan order."""
    facts = MilestoneFacts.of(data) if isinstance(data, LearnerData) else data
    known = set(reached if reached is not None else getattr(data, "milestones", ()))
    new: list[Milestone] = []
    changed = True
    while changed:  # a milestone may depend on others reached in the same change
        changed = False
        for ms in plan.milestones:
            if ms.id in known:
                continue
            if condition_holds(ms.when, facts, plan, known):
                known.add(ms.id)
                new.append(ms)
                changed = True
    return new


def date_milestones(new: Sequence[Milestone], facts: MilestoneFacts, plan: Plan,
                    reached: Mapping[str, date], today: date) -> list[tuple[Milestone, date]]:
    """Date newly reached milestones by when their conditions became true, in plan order."""
    known = dict(reached)
    out = []
    for ms in new:
        day = condition_date(ms.when, facts, plan, known, today)
        known[ms.id] = day
        out.append((ms, day))
    return out

"""Fill a template line's placeholders from a learner's data.

Every derived figure (bars, counts, averages, the phase, statuses, readiness, days until the
interview) comes from ``bot.progress``, the one home of those rules; this module only writes
them in the tracker's notation. Unset values return None so that the slot shows its blank;
computed counts and totals that are zero are blank too, averages until there is something to
average.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any

from bot import progress as p
from bot.plan import Plan
from bot.snapshot import LearnerData
from bot.trackerfile.language import (
    TICKED,
    UNTICKED,
    Slot,
    TLine,
    choice_options,
    encode_text,
    num,
    ticks,
)

log = logging.getLogger(__name__)

NEXT_DAYS = 7


@dataclass
class Ctx:
    """What a template is rendered from."""

    data: LearnerData
    plan: Plan
    today: date

    @functools.cached_property
    def logs_by_day(self) -> dict[date, tuple[int, str | None]]:
        """Return each day's total and topics (``progress.day_totals``)."""
        return p.day_totals(self.data)

    @functools.cached_property
    def next_items(self) -> list[Any]:
        """Return the open items of the next days, as ``progress.next_items`` orders them."""
        return p.next_items(self.data, self.plan, NEXT_DAYS)

    @functools.cached_property
    def active_days(self) -> set[date]:
        """Return the days with study."""
        return self.data.active_days()


def _nonzero(value: float) -> str | None:
    return num(value) if value else None


def _maybe(value: float | None) -> str | None:
    return None if value is None else num(value)


def _next_item(ctx: Ctx, n: int) -> str | None:
    if n > len(ctx.next_items):
        return None
    item = ctx.next_items[n - 1]
    return f"{item.title} ({item.id})"


CALC: dict[str, Callable[[Ctx, str], str | None]] = {
    "overall_bar": lambda c, a: p.overall_bar(c.data, c.plan),
    "week_bar": lambda c, a: p.week_bar(c.data, int(a), c.active_days).gauge,
    "hours": lambda c, a: _nonzero(c.data.total_minutes / 60),
    "done_in": lambda c, a: _nonzero(p.done_in_section(c.data, c.plan, a)),
    "streak": lambda c, a: _nonzero(p.streak(c.data, c.today).days),
    "days_completed": lambda c, a: _nonzero(p.days_completed(c.data, c.plan)),
    "avg_daily": lambda c, a: (num(p.average_daily_minutes(c.data, c.today) / 60)
                               if c.data.logs else None),
    "mock_avg": lambda c, a: _maybe(p.mock_average(c.data)),
    "skills_avg": lambda c, a: _maybe(p.skills_average(c.data, c.plan)),
    "quiz_avg": lambda c, a: _maybe(p.quiz_average(c.data, c.plan)),
    "confidence_avg": lambda c, a: _maybe(p.confidence_average(c.data, c.plan)),
    "milestones": lambda c, a: _nonzero(p.milestones_achieved(c.data, c.plan)),
    "mastered": lambda c, a: _nonzero(p.skills_mastered(c.data, c.plan)),
    "projects": lambda c, a: _nonzero(p.projects_completed(c.data, c.plan)),
    "next": lambda c, a: _next_item(c, int(a)),
    "last_updated": lambda c, a: c.today.isoformat(),
    "phase_name": lambda c, a: p.current_phase(c.data, c.plan).short,
    "days_until": lambda c, a: _maybe(p.days_until_goal(c.data, c.plan, c.today)),
    "week_total": lambda c, a: None,  # filled by the time-log block itself
}


def _partner(ctx: Ctx) -> str | None:
    active = [x for x in ctx.data.partners if x.status in ("invited", "accepted")]
    if not active:
        return None
    ship = active[-1]
    name = encode_text(ship.partner_name)
    return name if ship.status == "accepted" else f"{name} (invited)"


def _optional_date(value: date | None) -> str | None:
    return value.isoformat() if value else None


def _stored_number(value: int | None) -> str | None:
    return None if value is None else str(value)


def render_slot(ctx: Ctx, slot: Slot) -> str | None:
    """Return the text of one placeholder, or None to show its blank."""
    d, plan, k, a = ctx.data, ctx.plan, slot.kind, slot.arg
    prof = d.profile
    if k in ("item", "ms"):
        return "[x]" if a in (d.done if k == "item" else d.milestones) else "[ ]"
    if k == "tick":
        return TICKED if a in d.done else UNTICKED
    if k == "msdate":
        return _optional_date(d.milestones.get(a))
    if k in ("score", "counter"):
        return _stored_number((d.scores if k == "score" else d.counters).get(a))
    if k == "field":
        text = d.fields.get(a)
        return None if text is None else encode_text(text)
    if k == "choice":
        return ticks(choice_options(plan.fields_by_id[a]), d.fields.get(a))
    if k == "rating":
        skill, week = a.rsplit(":", 1)
        return _stored_number(d.ratings.get(skill, {}).get(int(week)))
    if k == "start":
        return prof.start_date.isoformat()
    if k == "target":
        return _optional_date(prof.target_date)
    if k == "goal":
        return encode_text(prof.goal or plan.goal)
    if k == "commit_hours":
        return p.exact_hours(prof.commitment_minutes)
    if k == "commit_weeks":
        return str(prof.commitment_weeks)
    if k == "signature":
        return encode_text(prof.display_name)
    if k == "committed_on":
        return _optional_date(prof.committed_on)
    if k == "partner":
        return _partner(ctx)
    if k == "phase":
        return ticks([ph.short for ph in plan.phases], p.current_phase(d, plan).short)
    if k == "status":
        return ticks(p.SECTION_STATES, p.section_status(d, plan, a))
    if k == "readiness":
        return ticks(p.READINESS_BANDS, p.readiness_band(d, plan))
    if k == "calc":
        name, _, arg = a.partition(":")
        return CALC[name](ctx, arg)
    raise ValueError(f"unknown placeholder kind {k!r}")


def render_line(ctx: Ctx, line: TLine) -> str:
    """Render a static template line, with its done/reached date suffix."""
    suffix = ""
    if line.suffix is not None:
        word, ident = line.suffix
        when = (ctx.data.done if word == "done" else ctx.data.milestones).get(ident)
        if when is not None:
            suffix = f" ({word} {when.isoformat()})"
    return line.fill(lambda s: render_slot(ctx, s), suffix)

"""Render the tracker's views as plain text: Markdown that Discord and a terminal both read."""

from __future__ import annotations

from datetime import date
from typing import Any

from bot import progress as p
from bot.plan import Plan
from bot.road import Standing, standing, week_ahead_of
from bot.snapshot import LearnerData, LearnerProfile
from bot.timing import week_dates
from bot.wording import plural

MILESTONE_ICONS = {"milestone": "🏁", "celebration": "🎉", "achievement": "🏅"}
WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


def _num(value: float | None, digits: int = 1) -> str:
    if value is None:
        return "—"
    text = f"{value:.{digits}f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def hhmm(minute: int | None) -> str:
    if minute is None:
        return "off"
    return f"{minute // 60:02d}:{minute % 60:02d}"


def render_progress(data: LearnerData, plan: Plan, today: date) -> str:
    """Build the /progress view: overall bar, week bars, phase, hours, streak, next deadline."""
    lines = ["```", p.overall_bar(data, plan), ""]
    lines += [b.render() for b in p.week_bars(data, plan)]
    lines.append("```")
    phase = p.current_phase(data, plan)
    total = data.total_minutes
    st = p.streak(data, today)
    lines.append(f"**Current Phase**: {phase.short}")
    lines.append(f"**Hours Invested**: {_num(total / 60)} / {plan.hours_min}-{plan.hours_max} "
                 f"hours")
    if plan.daily_items:  # a plan without daily lessons has no days to complete
        lines.append(f"**Days Completed**: {p.days_completed(data, plan)} / "
                     f"{len(plan.daily_items)}")
    streak_text = plural(st.days, "day")
    if st.frozen_today:
        streak_text += " (frozen while paused)"
    elif st.at_risk:
        streak_text += " — log today to keep it"
    lines.append(f"**Current Streak**: {streak_text}")
    nxt = p.next_deadline(data, today)
    if nxt is not None:
        lines.append(f"**Next Deadline**: {nxt.title} on {nxt.due_date.isoformat()} "
                     f"({plural((nxt.due_date - today).days, 'day')})")
    st = standing(data, plan, today)
    lines.append(f"**Safety Buffer**: {buffer_text(st)}")
    if (way := way_back_text(st)) is not None:
        lines.append(way)
    if p.has_readiness(plan):
        lines.append(readiness_line(data, plan))
    pace = p.pace(data, plan, today)
    lines.append(pace.describe(plan.hours_min))
    return "\n".join(lines)


def render_week(data: LearnerData, plan: Plan, week: int) -> str:
    """Build the /week view: the plan week's time log, day by day with topics."""
    totals = p.day_totals(data)
    dates = week_dates(data.profile.start_date, week)
    lines = [f"**Week {week}** ({dates[0].isoformat()} – {dates[-1].isoformat()})", "```"]
    total = 0
    for n, d in enumerate(dates, start=1):
        minutes, topics = totals.get(d, (0, None))
        total += minutes
        lines.append(f"Day {n} {d:%a %d %b}: {p.fmt_hours(minutes) if minutes else '0h':>6} | "
                     f"Topics: {topics or '—'}")
    lines.append(f"Total: {p.fmt_hours(total)} (commitment "
                 f"{p.fmt_hours(data.profile.commitment_minutes * 7)})")
    lines.append("```")
    return "\n".join(lines)


def render_skills(data: LearnerData, plan: Plan) -> str:
    """Build the /skills view: the self-assessment matrix across weeks against targets."""
    if not plan.skills:
        return "Your plan has no self-assessment matrix."
    weeks = range(1, plan.weeks + 1)
    width = max(len(s.title) for s in plan.skills)
    head = f"{'Component':<{width}} | " + " | ".join(f"W{w}" for w in weeks) + " | Target"
    lines = ["```", head, "-" * len(head)]
    for s in plan.skills:
        cells = [str(data.ratings.get(s.id, {}).get(w, "—")).center(2) for w in weeks]
        lines.append(f"{s.title:<{width}} | " + " | ".join(cells) + f" | {s.target}")
    lines.append("```")
    avg = p.skills_average(data, plan)
    target = plan.skill_target_average
    if target is None:
        lines.append(f"**Overall Average**: {_num(avg, 2)} / {plan.skill_scale[1]}")
        return "\n".join(lines)
    verdict = ""
    if avg is not None:
        verdict = (" ✅ interview-ready" if avg >= target
                   else f" ({_num(target - avg, 2)} to go)")
    lines.append(f"**Overall Average**: {_num(avg, 2)} / {plan.skill_scale[1]} — target "
                 f"{_num(target)}+{verdict}")
    return "\n".join(lines)


def render_summary(data: LearnerData, plan: Plan, today: date) -> str:
    """Build the /summary view: the plan's final summary, only with what the plan has."""
    lines = [f"**Total Time Invested**: {_num(data.total_minutes / 60)} hours"]
    if plan.skills:
        lines.append(f"**Components Mastered**: {p.skills_mastered(data, plan)} / "
                     f"{len(plan.skills)}")
    projects = p.project_sections(plan)
    if projects:
        lines.append(f"**Projects Completed**: {p.projects_completed(data, plan)} / "
                     f"{len(projects)}")
    if plan.mock_interviews:
        lines.append(f"**Mock Interview Average**: {_num(p.mock_average(data))} / "
                     f"{plan.mock_max}")
    if plan.quiz_scores:
        lines.append(f"**Average Quiz Score**: {_num(p.quiz_average(data, plan))} / "
                     f"{plan.quiz_scores[0].max}")
    if plan.confidence_fields:
        lines.append(f"**Confidence Level**: {_num(p.confidence_average(data, plan))} / 5")
    milestones = plan.milestones_of_kind("milestone")
    if milestones:
        lines.append(f"**Milestones Achieved**: {p.milestones_achieved(data, plan)} / "
                     f"{len(milestones)}")
    if p.has_readiness(plan):
        lines.append(readiness_line(data, plan))
    for field_id, label in (("final-ready", "Ready for Interview"), ("next-steps", "Next Steps")):
        if plan.has_field(field_id):
            lines.append(f"**{label}**: {data.fields.get(field_id, '—')}")
    return "\n".join(lines)


def readiness_line(data: LearnerData, plan: Plan) -> str:
    """Show the readiness band of the readiness checklist."""
    return (f"**Overall Readiness**: {p.readiness_band(data, plan)} "
            f"({p.readiness_percent(data, plan)}% of the readiness checklist)")


def day_name(day: date, today: date) -> str:
    """Name a day near today as the learner says it: today, tomorrow, Friday, or a date."""
    delta = (day - today).days
    if delta == 0:
        return "today"
    if delta == 1:
        return "tomorrow"
    if 1 < delta < 7:
        return WEEKDAYS[day.weekday()]
    return f"{day:%a %d %b %Y}"


def buffer_text(st: Standing) -> str:
    """Say how much slack the learner has on their road."""
    if st.buffer is None:
        return "the road is complete: your hours reach its end"
    if st.behind:
        return f"0 days: {p.fmt_hours(st.behind)} behind the road"
    if st.buffer == 0:
        return f"0 days: {needed_today_text(st)}"
    return f"{plural(st.buffer, 'day')} of slack"


def needed_today_text(st: Standing, who: str | None = None) -> str:
    """Say that today's hours on the road are all needed today (WHO: the learner's name).

    Worded with no verb to agree with the amount: "you need today's 1h today" reads as well
    as "you need today's 2.5h today".
    """
    need = p.fmt_hours(st.road.at(st.today) - st.logged)
    return f"{who} needs today's {need} today" if who else f"you need today's {need} today"


def way_back_text(st: Standing) -> str | None:
    """Say how to get back on the road, or honestly that no daily pace can."""
    way = st.way_back
    if way is None:
        return None
    if way.per_day is not None and way.until == st.today:
        return f"{p.fmt_hours(way.per_day)} today puts you back on the road."
    if way.per_day is not None and way.until is not None:
        return (f"{p.fmt_hours(way.per_day)} a day until {day_name(way.until, st.today)} "
                "puts you back on the road.")
    return (f"No pace that fits in a day catches up: {p.fmt_hours(way.behind_minutes)} to "
            f"make up with {plural(way.days_left, 'study day')} left on the road. Extend "
            "your commitment (`/settings weeks=N` or `target=DATE`) to redraw it.")


def render_next(data: LearnerData, plan: Plan, today: date, limit: int = 7) -> str:
    """Build the /next view: the next seven study days, dated, with what each one needs."""
    week = week_ahead_of(data, plan, today, days=limit)
    lines = ["**Next 7 Days Plan**"]
    for n, day in enumerate(week.days):
        label = "Today" if n == 0 else "Tomorrow" if n == 1 else f"Day {n + 1}"
        parts = []
        if day.paused:
            parts.append("paused ⏸")
        elif day.minutes:
            parts.append(p.fmt_hours(day.minutes))
        parts += [f"overdue `{i.id}` {i.title}" for i in day.overdue]
        parts += [f"`{i.id}` {i.title}" for i in day.items]
        parts += [f"📅 {title}" for title in day.deadlines]
        lines.append(f"{label} ({day.day:%a %d %b}): " + (" · ".join(parts) or "—"))
    dated = {i.id for d in week.days for i in (*d.items, *d.overdue)}
    rest = [i for i in p.next_items(data, plan, limit + len(dated)) if i.id not in dated]
    if rest:
        lines.append("Then: " + ", ".join(f"`{i.id}` {i.title}" for i in rest[:3]))
    if len(lines) == 1 + len(week.days) and not rest and not dated and \
            all(i.id in data.done for i in plan.items):
        lines.append("🎉 Every item of the plan is done.")
    return "\n".join(lines)


def condition_left(cond: Any, data: LearnerData, plan: Plan, today: date) -> str:
    """Say what is left before a milestone condition holds."""
    (key, value), = cond.items()
    facts = p.MilestoneFacts.of(data)
    if key in ("items", "any_items"):
        # A section id stands for all its items: name the open items themselves.
        open_ids = [i.id for ident in value for i in (
            plan.items_in_section(ident) if plan.has_section(ident) else [plan.items_by_id[ident]])
            if i.id not in data.done]
        names = ", ".join(f"`{i}`" for i in open_ids[:3]) + (" …" if len(open_ids) > 3 else "")
        if key == "any_items":
            return f"one of {', '.join(f'`{i}`' for i in value)}"
        return f"{plural(len(open_ids), 'item')} left: {names}"
    if key == "any_sections_complete":
        return "complete one of " + ", ".join(f"`{s}`" for s in value)
    if key == "mock_score_min":
        best = max(facts.mock_scores, default=None)
        return f"a mock interview of {value}+" + (f" (best so far {best})" if best is not None
                                                  else "")
    if key == "hours_min":
        return f"{p.fmt_hours(value * 60 - facts.total_minutes)} to go of {value}h"
    if key == "logs_min":
        return f"{plural(value - facts.log_count, 'more study session')}"
    if key == "counter_min":
        counter = value["counter"]
        left = value["value"] - data.counters.get(counter, 0)
        return f"{left} more on `{counter}`"
    if key == "milestones":
        titles = [plan.milestones_by_id[v].title for v in value if v not in data.milestones]
        return "first: " + ", ".join(titles)
    parts = [condition_left(c, data, plan, today) for c in value
             if not p.condition_holds(c, facts, plan, set(data.milestones))]
    return "; ".join(parts)


def render_milestones(data: LearnerData, plan: Plan, today: date) -> str:
    """Build the /milestones view: the reached ones with their dates, what the open ones need."""
    if not plan.milestones:
        return "Your plan has no milestones."
    reached = [ms for ms in plan.milestones if ms.id in data.milestones]
    open_ = [ms for ms in plan.milestones if ms.id not in data.milestones]
    lines = [f"**Reached** ({len(reached)} of {len(plan.milestones)})"]
    lines += [f"{MILESTONE_ICONS.get(ms.kind, '✅')} {ms.title} — "
              f"{data.milestones[ms.id].isoformat()}" for ms in reached] or ["—"]
    lines.append("**Open**")
    lines += [f"☐ {ms.title}: {condition_left(ms.when, data, plan, today)}" for ms in open_] \
        or ["🎉 every milestone is reached."]
    return "\n".join(lines)


def render_settings(profile: LearnerProfile, plan: Plan) -> str:
    every = "weekly" if profile.digest_every_weeks == 1 else "every two weeks"
    return "\n".join([
        f"**Plan**: {plan.title} (`{plan.id}`)",
        f"**Timezone**: {profile.timezone} (day starts at {profile.day_start_hour:02d}:00)",
        f"**Start Date**: {profile.start_date.isoformat()}",
        f"**Target Completion**: "
        f"{profile.target_date.isoformat() if profile.target_date else '—'}",
        f"**Commitment**: {p.fmt_hours(profile.commitment_minutes)} per day for "
        f"{profile.commitment_weeks} weeks",
        f"**Goal**: {profile.goal or '—'}",
        f"**Reminder**: {hhmm(profile.reminder_minute)}",
        f"**Digest**: {WEEKDAYS[profile.digest_weekday]} {hhmm(profile.digest_minute)}, {every}",
        f"**Posts**: {'public in the channel' if profile.public_posts else 'private'}",
    ])


def render_deadlines(data: LearnerData, today: date) -> str:
    if not data.deadlines:
        return "No deadlines yet. Add one: `/deadline add \"NVIDIA Interview\" 2027-01-15`."
    lines = []
    for d in data.deadlines:
        days = (d.due_date - today).days
        when = "today" if days == 0 else (f"in {days} days" if days > 0 else f"{-days} days ago")
        lines.append(f"#{d.id} **{d.title}** — {d.due_date.isoformat()} ({when})")
    return "\n".join(lines)


def render_notes(data: LearnerData) -> str:
    if not data.notes:
        return "No notes yet: /insight, /challenge and /question add them."
    lines = []
    for n in data.notes:
        if n.kind == "insight":
            lines.append(f"#{n.id} 💡 Week {n.week}: {n.text}")
        elif n.kind == "challenge":
            lines.append(f"#{n.id} 🧗 {n.text} → {n.solution or '—'} (learned: "
                         f"{n.learning or '—'})")
        else:
            lines.append(f"#{n.id} ❓ {n.text}")
    return "\n".join(lines)


def render_today_line(data: LearnerData, today: date) -> str:
    minutes = data.minutes_by_day().get(today, 0)
    return (f"Today: {p.fmt_hours(minutes)} of {p.fmt_hours(data.profile.commitment_minutes)}")


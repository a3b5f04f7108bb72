"""Render the tracker's views as plain text: Markdown that Discord and a terminal both read."""

from __future__ import annotations

from datetime import date

from bot import progress as p
from bot.plan import Plan
from bot.snapshot import LearnerData, LearnerProfile
from bot.timing import week_dates
from bot.wording import plural

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
    frac = p.item_fraction(data, plan)
    lines = ["```", f"{p.bar(frac)} {round(frac * 100)}%", ""]
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
    pace = p.pace(data, plan, today)
    lines.append(pace.describe(plan.hours_min))
    return "\n".join(lines)


def render_week(data: LearnerData, plan: Plan, week: int) -> str:
    """Build the /week view: the plan week's time log, day by day with topics."""
    by_day: dict[date, list] = {}
    for row in data.logs:
        by_day.setdefault(row.study_date, []).append(row)
    dates = week_dates(data.profile.start_date, week)
    lines = [f"**Week {week}** ({dates[0].isoformat()} – {dates[-1].isoformat()})", "```"]
    total = 0
    for n, d in enumerate(dates, start=1):
        rows = by_day.get(d, [])
        minutes = sum(r.minutes for r in rows)
        total += minutes
        topics = "; ".join(dict.fromkeys(r.topic for r in rows if r.topic))
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
        reached = sum(1 for ms in milestones if ms.id in data.milestones)
        lines.append(f"**Milestones Achieved**: {reached} / {len(milestones)}")
    for field_id, label in (("final-ready", "Ready for Interview"), ("next-steps", "Next Steps")):
        if plan.has_field(field_id):
            lines.append(f"**{label}**: {data.fields.get(field_id, '—')}")
    return "\n".join(lines)


def render_next(data: LearnerData, plan: Plan, today: date, limit: int = 7) -> str:
    """Build the /next view: the next open items, one per coming day."""
    items = p.next_items(data, plan, limit)
    if not items:
        return "🎉 Every item of the plan is done."
    lines = ["**Next 7 Days Plan**"]
    for n, item in enumerate(items):
        label = "Tomorrow" if n == 0 else f"Day {n + 1}"
        lines.append(f"{label}: `{item.id}` {item.title}")
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


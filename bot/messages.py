"""Build what the dispatcher sends: reminders, deadline reminders, celebrations and digests.

Pure functions of a learner's snapshot, their plan and a study day; no clock, no store, no
chat platform. Each builder returns an ``OutMessage``: a title, Markdown text (read as is by
Discord, Slack and a terminal), neutral buttons and, for digests, a chart to render.

Sharing (``/partner share``) maps onto the digest's sections like this:

- ``hours``: hours per day, the period total against the commitment, the total against the
  plan's target, the pace projection and the chart;
- ``days``: days studied, items and plan days completed, milestones reached (and the partner's
  celebration messages);
- ``streak``: the streak;
- ``scores``: scores recorded, mock interviews held and skill changes;
- ``notes``: the period's insights and challenges.

Deadlines and the learner's goal are never shown to a partner.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from typing import NamedTuple

from bot import progress as p
from bot.charts import RoadFigures, render_road_chart, render_week_chart, road_figures, stack_pngs
from bot.plan import Item, Milestone, Plan
from bot.rendering import buffer_text, needed_today_text, way_back_text
from bot.replies import Attachment
from bot.road import Standing, standing
from bot.snapshot import StudyRecord
from bot.timing import as_zone, plan_week, study_date
from bot.wording import plural

SHAREABLE = ("hours", "days", "streak", "scores", "notes")
TEXT_LIMIT = 4000  # below Discord's 4096-character embed description
LIST_LIMIT = 5
NOTE_CHARS = 200


class Button(NamedTuple):
    """A neutral button: ``action`` is stable (a front's custom id), ``label`` is shown."""

    action: str
    label: str


# Every action a button may carry, with the text command it runs. Fronts look actions up
# here (never trust an action string coming back from a platform without this check).
BUTTON_COMMANDS: Mapping[str, str] = {
    "snooze:1h": "/snooze 1h",
    "snooze:evening": "/snooze evening",
    "log:30m": "/log 30m",
    "log:1h": "/log 1h",
    "log:2h": "/log 2h",
}

REMINDER_BUTTONS = (
    Button("snooze:1h", "Snooze 1 h"),
    Button("snooze:evening", "Snooze until evening"),
    Button("log:30m", "Log 30 min"),
    Button("log:1h", "Log 1 h"),
    Button("log:2h", "Log 2 h"),
)


def command_for_action(action: str) -> str | None:
    """Return the text command a button action runs, or None for an unknown action."""
    return BUTTON_COMMANDS.get(action)


@dataclass(frozen=True)
class ChartSpec:
    """The inputs of ``bot.charts.render_week_chart``; rendered just before sending."""

    days: tuple[tuple[date, float], ...]
    commitment_hours: float
    cumulative_before: float
    target_min: float
    target_max: float
    title: str
    filename: str = "digest.png"
    road: RoadFigures | None = None  # drawn below the week's bars when set

    def render(self) -> Attachment:
        """Render the PNG (CPU-bound: call it in a worker thread from async code)."""
        png = render_week_chart(self.days, self.commitment_hours, self.cumulative_before,
                                self.target_min, self.target_max, self.title)
        if self.road is None:
            return Attachment(self.filename, png, "Hours per day and total hours")
        return Attachment(self.filename, stack_pngs(png, render_road_chart(self.road)),
                          "Hours per day, total hours and the road")


@dataclass(frozen=True)
class OutMessage:
    """A platform-neutral message: what a Sender delivers.

    ``kind`` is reminder | snooze | deadline | celebration | digest | digest-partner |
    road-alert.
    ``text`` may contain text the learner typed: senders must not let it mention anyone.
    ``chart`` is turned into ``attachment`` by ``with_attachment`` before a sender sees it.
    ``dedupe_key`` names the delivery (the dispatcher sets it to the outbox row): a sender
    whose platform can refuse a repeated delivery uses it (Discord's enforced ``nonce``).
    """

    kind: str
    title: str
    text: str
    buttons: tuple[Button, ...] = ()
    attachment: Attachment | None = None
    chart: ChartSpec | None = None
    dedupe_key: str | None = None


def with_attachment(message: OutMessage) -> OutMessage:
    """Render the message's chart into its attachment (blocking; run in a thread)."""
    if message.chart is None:
        return message
    return replace(message, attachment=message.chart.render(), chart=None)


# --- small formatting helpers ------------------------------------------------------------


def item_label(item: Item) -> str:
    """Show a plan item the way the spec does: ``Day 05: Scheduler & Batching``."""
    match = re.fullmatch(r"day0*(\d+)", item.id)
    if match:
        return f"Day {int(match.group(1)):02d}: {item.title}"
    return f"{item.title} (`{item.id}`)"


def _clip(text: str, limit: int = NOTE_CHARS) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def late_note(due_at: datetime, tz: str) -> str:
    """Say that a message is sent late, with its due time in the learner's zone."""
    local = due_at.astimezone(as_zone(tz))
    return f"⏰ Sent late: this was due {local:%a %d %b %H:%M} ({tz})."


def _days_phrase(days: int) -> str:
    if days == 0:
        return "today"
    if days == 1:
        return "tomorrow"
    return f"in {plural(days, 'day')}"


def road_status(st: Standing, *, who: str | None = None) -> str:
    """Say where the learner stands on the road, more urgent as the buffer reaches 0.

    WHO names the learner for a partner (and leaves out the way back, which is theirs).
    """
    if st.buffer is None or st.buffer > 0:
        return buffer_text(st)
    if st.behind == 0:
        return needed_today_text(st, who)
    if who is not None:
        return f"{who} is {p.fmt_hours(st.behind)} behind the road"
    way = way_back_text(st)
    if way is not None and st.way_back is not None and st.way_back.per_day is not None:
        return f"you are {p.fmt_hours(st.behind)} behind: {way[:-1]}"
    return f"you are {p.fmt_hours(st.behind)} behind the road. {way or ''}".rstrip()


def sentence(text: str) -> str:
    """Start TEXT with a capital and end it with a full stop."""
    text = text[:1].upper() + text[1:]
    return text if text.endswith((".", "!")) else text + "."


def _cap(text: str) -> str:
    if len(text) <= TEXT_LIMIT:
        return text
    return text[: TEXT_LIMIT - 1] + "…"


# --- daily reminder ----------------------------------------------------------------------


def build_reminder(data: StudyRecord, plan: Plan, today: date, *,
                   late_due: datetime | None = None, snoozed: bool = False) -> OutMessage:
    """Build the daily reminder: today against the commitment, streak, next item, deadline."""
    prof = data.profile
    logged = data.minutes_by_day().get(today, 0)
    commit = prof.commitment_minutes
    lines = []
    if late_due is not None:
        lines.append(late_note(late_due, prof.timezone))
    left = max(commit - logged, 0)
    lines.append(f"**Today**: {p.fmt_hours(logged)} of {p.fmt_hours(commit)} logged"
                 + (f" — {p.fmt_hours(left)} to go." if left else " — commitment met."))
    lines.append(f"**Road**: {sentence(road_status(standing(data, plan, today)))}")
    st = p.streak(data, today)
    if st.days == 0:
        lines.append("**Streak**: none yet — today is a good day to start one.")
    elif st.at_risk:
        lines.append(f"**Streak**: 🔥 {plural(st.days, 'day')} — at risk: log today to keep it.")
    else:
        lines.append(f"**Streak**: 🔥 {plural(st.days, 'day')}.")
    upcoming = p.next_items(data, plan, limit=1)
    if upcoming:
        lines.append(f"**Next on the plan**: {item_label(upcoming[0])}")
    else:
        lines.append("**Next on the plan**: every item is done 🎉")
    nxt = p.next_deadline(data, today)
    if nxt is not None:
        days = (nxt.due_date - today).days
        lines.append(f"**Next deadline**: {_clip(nxt.title, 100)} {_days_phrase(days)} "
                     f"({nxt.due_date.isoformat()}).")
    title = "Snoozed reminder" if snoozed else "Daily reminder"
    return OutMessage("snooze" if snoozed else "reminder", title, _cap("\n".join(lines)),
                      REMINDER_BUTTONS)


def build_deadline_reminder(title: str, due: date, days: int, *, tz: str,
                            late_due: datetime | None = None) -> OutMessage:
    """Build the reminder sent 7 days and 1 day before a deadline."""
    lines = []
    if late_due is not None:
        lines.append(late_note(late_due, tz))
    lines.append(f"📅 **{_clip(title, 100)}** is {_days_phrase(days)} ({due:%a %d %b %Y}).")
    lines.append("See them all with `/deadline list`.")
    return OutMessage("deadline", "Deadline ahead", "\n".join(lines))


def build_celebration(milestone: Milestone, reached_on: date, *,
                      learner_name: str | None = None) -> OutMessage:
    """Build a celebration; with LEARNER_NAME it is the partner's version."""
    emoji = {"milestone": "🏆", "celebration": "🎉", "achievement": "🏅"}.get(milestone.kind, "🎉")
    what = {"milestone": "a milestone", "achievement": "an achievement"}.get(
        milestone.kind, "a celebration moment")
    who = "You" if learner_name is None else _clip(learner_name, 100)
    text = f"{emoji} {who} reached {what}: **{milestone.title}** ({reached_on:%d %b %Y})."
    return OutMessage("celebration", "Milestone reached", text)


def build_road_alert(st: Standing, since: date, *, learner_name: str) -> OutMessage:
    """Build the partner's one notice of a zero-buffer episode that began on SINCE."""
    days = sum(1 for d in (since + timedelta(days=i) for i in range((st.today - since).days + 1))
               if d not in st.road.paused)
    who = _clip(learner_name, 100)
    text = (f"⚠️ {who} has had no slack on the road for {plural(days, 'study day')} "
            f"(since {since:%a %d %b}): {road_status(st, who=who)}. A word from you may help.")
    return OutMessage("road-alert", f"{_clip(learner_name, 60)} is behind the plan", text)


# --- digest ------------------------------------------------------------------------------


@dataclass(frozen=True)
class DayLine:
    day: date
    minutes: int
    paused: bool


@dataclass(frozen=True)
class DigestFigures:
    """Every number of a digest, computed once; the text and the tests read these."""

    first: date
    last: date
    week: int
    days: tuple[DayLine, ...]
    commitment_minutes: int
    period_minutes: int
    period_commitment_minutes: int
    days_met: int
    days_active: int
    days_counted: int
    total_minutes: int
    cumulative_before_minutes: int
    items_done: tuple[tuple[str, str], ...]
    plan_days_done: int
    plan_days_total: int
    scores: tuple[tuple[str, int, int, date], ...]
    mocks: tuple[tuple[int, int, date], ...]
    skill_changes: tuple[tuple[str, int | None, int], ...]
    streak: p.Streak
    milestones: tuple[tuple[str, str, date], ...]
    pace: p.Pace
    deadlines: tuple[tuple[str, date, int], ...]
    insights: tuple[str, ...]
    challenges: tuple[tuple[str, str | None, str | None], ...] = field(default=())
    standing: Standing | None = None  # where the learner stands on the road at the end
    road_period_minutes: int = 0  # how much the road rose over the period


def digest_figures(data: StudyRecord, plan: Plan, today: date, *, weeks: int = 1,
                   score_dates: Mapping[str, date] | None = None) -> DigestFigures:
    """Compute the digest's figures for the WEEKS*7 study days ending with TODAY."""
    prof = data.profile
    first = today - timedelta(days=7 * weeks - 1)
    by_day = data.minutes_by_day()
    paused = data.paused_days()
    days = tuple(DayLine(d, by_day.get(d, 0), d in paused)
                 for d in (first + timedelta(days=i) for i in range(7 * weeks))
                 if d >= prof.start_date)
    counted = [d for d in days if not d.paused]
    commit = prof.commitment_minutes
    period_minutes = sum(d.minutes for d in days)
    active = data.active_days()
    in_period = set(d.day for d in days)
    w_first = max(plan_week(prof.start_date, first), 1)
    w_last = max(plan_week(prof.start_date, today), 1)

    items_done = tuple((i.id, item_label(i)) for i in plan.items
                       if (d := data.done.get(i.id)) is not None and first <= d <= today)
    daily_ids = [i.id for i in plan.daily_items]
    dates = score_dates or {}
    scores = tuple((s.title, data.scores[s.id], s.max, dates[s.id]) for s in plan.scores
                   if s.id in data.scores and s.id in dates and first <= dates[s.id] <= today)
    mocks = tuple((x.slot, x.score, x.held_on) for x in data.mocks if first <= x.held_on <= today)
    changes = []
    for skill in plan.skills:
        ratings = data.ratings.get(skill.id, {})
        now_weeks = [w for w in ratings if w_first <= w <= w_last]
        if not now_weeks:
            continue
        after = ratings[max(now_weeks)]
        earlier = [w for w in ratings if w < w_first]
        before = ratings[max(earlier)] if earlier else None
        if before != after:
            changes.append((skill.title, before, after))
    milestones = tuple(sorted(
        ((ms.title, ms.kind, data.milestones[ms.id]) for ms in plan.milestones
         if ms.id in data.milestones and first <= data.milestones[ms.id] <= today),
        key=lambda t: t[2]))
    deadlines = tuple((d.title, d.due_date, (d.due_date - today).days)
                      for d in sorted(data.deadlines, key=lambda d: (d.due_date, d.id))
                      if d.due_date >= today)[:3]
    insights = tuple(n.text for n in data.notes
                     if n.kind == "insight" and n.week is not None and w_first <= n.week <= w_last)
    challenges = tuple(
        (n.text, n.solution, n.learning) for n in data.notes
        if n.kind == "challenge"
        and first <= study_date(n.created_at, prof.timezone, prof.day_start_hour) <= today)
    road_standing = standing(data, plan, today)
    return DigestFigures(
        first=first, last=today, week=w_last, days=days, commitment_minutes=commit,
        period_minutes=period_minutes, period_commitment_minutes=commit * len(counted),
        days_met=sum(1 for d in counted if d.minutes >= commit > 0),
        days_active=sum(1 for d in in_period if d in active), days_counted=len(counted),
        total_minutes=data.total_minutes,
        cumulative_before_minutes=sum(r.minutes for r in data.logs if r.study_date < first),
        items_done=items_done,
        plan_days_done=sum(1 for i in daily_ids if i in data.done),
        plan_days_total=len(daily_ids), scores=scores, mocks=mocks,
        skill_changes=tuple(changes), streak=p.streak(data, today),
        milestones=milestones, pace=p.pace(data, plan, today), deadlines=deadlines,
        insights=insights, challenges=challenges, standing=road_standing,
        road_period_minutes=road_standing.road.at(today)
        - road_standing.road.at(first - timedelta(days=1)),
    )


def _road_section(f: DigestFigures, who: str | None) -> list[str]:
    if f.standing is None:
        return []
    diff = f.period_minutes - f.road_period_minutes
    against = ("on the road" if diff == 0 else
               f"{p.fmt_hours(abs(diff))} {'ahead of' if diff > 0 else 'behind'} it")
    return [f"**Road this period**: {p.fmt_hours(f.road_period_minutes)} committed, "
            f"{p.fmt_hours(f.period_minutes)} logged ({against})",
            f"**Safety buffer**: {sentence(road_status(f.standing, who=who))}"]


def _hours_section(f: DigestFigures, plan: Plan, who: str | None = None) -> list[str]:
    rows = []
    for d in f.days:
        if d.paused:
            cell, mark = "paused", "⏸"
        else:
            cell = p.fmt_hours(d.minutes) if d.minutes else "0h"
            mark = "✅" if f.commitment_minutes and d.minutes >= f.commitment_minutes else ""
        rows.append(f"{d.day:%a %d %b}  {cell:>6} {mark}".rstrip())
    lines = [f"**Hours per day** (commitment {p.fmt_hours(f.commitment_minutes)})", "```",
             *rows, "```"]
    share = (round(100 * f.period_minutes / f.period_commitment_minutes)
             if f.period_commitment_minutes else 0)
    lines.append(f"**This period**: {p.fmt_hours(f.period_minutes)} of "
                 f"{p.fmt_hours(f.period_commitment_minutes)} committed ({share}%) · "
                 f"commitment met on {f.days_met} of {plural(f.days_counted, 'day')}")
    frac = f.total_minutes / (plan.hours_min * 60) if plan.hours_min else 0.0
    lines.append(f"**Total**: {p.fmt_hours(f.total_minutes)} of {plan.hours_min}–"
                 f"{plan.hours_max}h {p.bar(frac, 10)} {round(frac * 100)}%")
    lines.append(f"**Pace**: {f.pace.describe(plan.hours_min)}")
    return lines + _road_section(f, who)


def _days_section(f: DigestFigures) -> list[str]:
    n = len(f.days)
    lines = [f"**Days studied**: {f.days_active}/{n} · **Plan days done**: "
             f"{f.plan_days_done}/{f.plan_days_total}"]
    if f.items_done:
        shown = ", ".join(label for _, label in f.items_done[:LIST_LIMIT])
        more = f" and {len(f.items_done) - LIST_LIMIT} more" if len(f.items_done) > LIST_LIMIT \
            else ""
        lines.append(f"**Items completed**: {len(f.items_done)} — {shown}{more}")
    else:
        lines.append("**Items completed**: none this period")
    if f.milestones:
        lines.append("**Milestones**: " + ", ".join(
            f"{title} ({kind}, {day:%d %b})" for title, kind, day in f.milestones[:LIST_LIMIT]))
    return lines


def _streak_section(f: DigestFigures) -> list[str]:
    st = f.streak
    text = f"🔥 {plural(st.days, 'day')}"
    if st.frozen_today:
        text += " (frozen while paused)"
    return [f"**Streak**: {text}"]


def _scores_section(f: DigestFigures, plan: Plan) -> list[str]:
    lines = []
    if f.scores:
        lines.append("**Scores**: " + ", ".join(
            f"{title} {value}/{maximum} ({day:%a %d %b})"
            for title, value, maximum, day in f.scores[:LIST_LIMIT]))
    if f.mocks:
        lines.append("**Mock interviews**: " + ", ".join(
            f"#{slot} {score}/{plan.mock_max} ({day:%a %d %b})"
            for slot, score, day in f.mocks[:LIST_LIMIT]))
    if f.skill_changes:
        lines.append("**Skills**: " + ", ".join(
            f"{title} {before} → {after}" if before is not None else f"{title} {after} (new)"
            for title, before, after in f.skill_changes))
    if not lines:
        lines.append("**Scores**: none recorded this period")
    return lines


def _notes_section(f: DigestFigures) -> list[str]:
    lines = []
    for text in f.insights[:LIST_LIMIT]:
        lines.append(f"💡 {_clip(text)}")
    for text, solution, learning in f.challenges[:LIST_LIMIT]:
        line = f"🧗 {_clip(text)}"
        if solution:
            line += f" → {_clip(solution)}"
        if learning:
            line += f" (learned: {_clip(learning)})"
        lines.append(line)
    if not lines:
        return ["**Insights & challenges**: none this period"]
    return ["**Insights & challenges**", *lines]


def _deadlines_section(f: DigestFigures) -> list[str]:
    if not f.deadlines:
        return []
    return ["**Upcoming deadlines**: " + ", ".join(
        f"{_clip(title, 100)} {due.isoformat()} ({_days_phrase(days)})"
        for title, due, days in f.deadlines)]


def _week_spec(f: DigestFigures, plan: Plan, span: str) -> ChartSpec:
    return ChartSpec(
        days=tuple((d.day, round(d.minutes / 60, 2)) for d in f.days),
        commitment_hours=f.commitment_minutes / 60,
        cumulative_before=f.cumulative_before_minutes / 60,
        target_min=float(plan.hours_min), target_max=float(plan.hours_max),
        title=f"{span} to {f.last:%d %b %Y}",
    )


def week_chart_spec(data: StudyRecord, plan: Plan, today: date) -> ChartSpec:
    """Return the weekly chart of the seven study days ending with TODAY (``/chart week``)."""
    return replace(_week_spec(digest_figures(data, plan, today), plan, "Week"),
                   filename=f"pacer-week-{today.isoformat()}.png")


def build_digest(data: StudyRecord, plan: Plan, today: date, *, weeks: int = 1,
                 score_dates: Mapping[str, date] | None = None,
                 partner: bool = False, share: Iterable[str] = SHAREABLE,
                 late_due: datetime | None = None, chart: bool = True) -> OutMessage:
    """Build the weekly (or fortnightly) digest; PARTNER shows only the SHARE sections."""
    f = digest_figures(data, plan, today, weeks=weeks, score_dates=score_dates)
    shown = set(SHAREABLE) if not partner else {s for s in share if s in SHAREABLE}
    prof = data.profile
    span = "Fortnight" if weeks == 2 else ("Week" if weeks == 1 else f"{weeks} weeks")
    lines = []
    if late_due is not None:
        lines.append(late_note(late_due, prof.timezone))
    lines.append(f"**{span} to {f.last:%a %d %b}** ({f.first:%d %b} – {f.last:%d %b}, "
                 f"plan week {f.week})")
    if partner:
        lines[-1] = f"**{_clip(prof.display_name, 100)}** · " + lines[-1]
    if "hours" in shown:
        lines += _hours_section(f, plan, _clip(prof.display_name, 100) if partner else None)
    if "days" in shown:
        lines += _days_section(f)
    if "streak" in shown:
        lines += _streak_section(f)
    if "scores" in shown:
        lines += _scores_section(f, plan)
    if "notes" in shown:
        lines += _notes_section(f)
    if not partner:
        lines += _deadlines_section(f)
    spec = None
    if chart and "hours" in shown and f.days:
        spec = replace(_week_spec(f, plan, span), road=road_figures(data, plan, today))
    kind = "digest-partner" if partner else "digest"
    what = "fortnightly" if weeks == 2 else "weekly"
    title = (f"{_clip(prof.display_name, 60)}'s {what} digest" if partner
             else f"Your {what} digest")
    return OutMessage(kind, title, _cap("\n".join(lines)), chart=spec)

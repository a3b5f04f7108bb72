"""The one rendering layer: turn any service outcome or view into the Reply a front shows.

``present(outcome)`` looks the outcome's type up in a registry of small renderers; every
sentence a learner reads after a command is written here (views are drawn by
``bot.rendering``).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, TypeVar

from bot import outcomes as o
from bot.heartbeats import Heartbeat
from bot.messages import road_status, sentence
from bot.progress import fmt_hours
from bot.quoting import quote_input
from bot.rendering import (
    hhmm,
    render_deadlines,
    render_milestones,
    render_next,
    render_notes,
    render_progress,
    render_settings,
    render_skills,
    render_summary,
    render_week,
)
from bot.replies import Attachment, Reply
from bot.services.status import Status
from bot.services.views import PlansView, SettingsView, TrackerView
from bot.settings_input import SETTINGS
from bot.timing import as_zone
from bot.wording import plural

T = TypeVar("T")
SETTING_OF_COLUMN = {s.column: key for key, s in SETTINGS.items()}
_RENDERERS: dict[type, Callable[[Any], Reply]] = {}


def renders(kind: type[T]) -> Callable[[Callable[[T], Reply]], Callable[[T], Reply]]:
    """Register the renderer of one outcome or view type."""
    def register(fn: Callable[[T], Reply]) -> Callable[[T], Reply]:
        _RENDERERS[kind] = fn
        return fn
    return register


def present(result: Any) -> Reply:
    """Turn an outcome or view into a Reply (with its celebrations, notices and visibility)."""
    if isinstance(result, Reply):
        return result
    renderer = _RENDERERS.get(type(result))
    if renderer is None:
        raise TypeError(f"no renderer for {type(result).__name__}")
    reply = renderer(result)
    if isinstance(result, o.Outcome):
        reply.celebrations = list(result.celebrations)
        reply.notices = list(result.notices) + reply.notices
        reply.public = result.public
    elif isinstance(result, TrackerView | SettingsView):
        reply.notices = list(result.notices)
    return reply


def _text(text: str, title: str | None = None, **kw: Any) -> Reply:
    return Reply(text, title=title, **kw)


# --- onboarding and settings ---------------------------------------------------------------


@renders(o.Started)
def _started(r: o.Started) -> Reply:
    reminder = "off" if r.reminder is None else f"{r.reminder:%H:%M}"
    return _text(
        f"Welcome aboard! Plan: {r.plan_title}. Starting {r.start.isoformat()} in {r.timezone}; "
        f"commitment {fmt_hours(r.commitment_minutes)} a day for {plural(r.weeks, 'week')}. "
        f"Daily reminder: {reminder}. Log time with `/log 2h`.",
        "Welcome to Pacer", data={"learner_id": r.learner_id})


@renders(o.SettingsUpdated)
def _settings_updated(r: o.SettingsUpdated) -> Reply:
    names = [SETTING_OF_COLUMN.get(n, n) for n in r.names]
    return _text(f"Updated {', '.join(names)}. `/settings` shows them all.", "Settings")


# --- time and checklist ----------------------------------------------------------------------


@renders(o.TimeLogged)
def _logged(r: o.TimeLogged) -> Reply:
    commit = r.commitment_minutes
    state = ("commitment met" if r.day_minutes >= commit
             else f"{fmt_hours(commit - r.day_minutes)} to go for today's commitment"
             if r.is_today else "")
    text = (f"Logged {fmt_hours(r.minutes)} on {r.day.isoformat()}"
            + (f" ({r.topic})" if r.topic else "")
            + f". That day: {fmt_hours(r.day_minutes)}" + (f", {state}." if state else "."))
    return _text(text, "Time logged", private=False, shareable=True,
                 data={"day": r.day, "day_minutes": r.day_minutes, "minutes": r.minutes})


@renders(o.ItemCompleted)
def _done(r: o.ItemCompleted) -> Reply:
    return _text(f"✅ {r.item_id} — {r.item_title} done. {r.done_count}/{r.item_count} items "
                 "of the plan complete.", "Done", private=False, shareable=True,
                 data={"item_id": r.item_id})


@renders(o.ItemReopened)
def _reopened(r: o.ItemReopened) -> Reply:
    return _text(f"↩️ {r.item_id} — {r.item_title} is open again.", data={"item_id": r.item_id})


@renders(o.Undone)
def _undone(r: o.Undone) -> Reply:
    return _text(f"Undone: {r.description}.")


# --- scores -----------------------------------------------------------------------------------


@renders(o.ScoreRecorded)
def _score(r: o.ScoreRecorded) -> Reply:
    was = f" (was {r.previous}/{r.maximum})" if r.previous is not None else ""
    return _text(f"📝 {r.title}: {r.value}/{r.maximum}{was}.",
                 data={"score_id": r.score_id, "value": r.value})


@renders(o.MockRecorded)
def _mock(r: o.MockRecorded) -> Reply:
    return _text(f"🎤 Mock interview {r.slot} on {r.day.isoformat()}: {r.score}/{r.maximum}.",
                 data={"slot": r.slot, "score": r.score})


@renders(o.SkillRated)
def _rated(r: o.SkillRated) -> Reply:
    target = f" (target {r.target})" if r.target is not None else ""
    return _text(f"📈 {r.title}: {r.value}/{r.scale_max} for week {r.week}{target}.",
                 data={"skill_id": r.skill_id, "week": r.week, "value": r.value})


@renders(o.FieldSet)
def _field(r: o.FieldSet) -> Reply:
    return _text(f"{r.title}: {r.value}{r.unit}.", data={"field_id": r.field_id,
                                                        "value": r.value})


@renders(o.CounterChanged)
def _counter(r: o.CounterChanged) -> Reply:
    of = (f"/{r.maximum}" if r.maximum is not None
          else f" (target {r.target}+)" if r.target is not None else "")
    return _text(f"🔢 {r.title}: {r.value}{of}.", data={"counter_id": r.counter_id,
                                                      "value": r.value})


# --- notes and deadlines ----------------------------------------------------------------------


@renders(o.NoteAdded)
def _note(r: o.NoteAdded) -> Reply:
    where = f" for week {r.week}" if r.kind == "insight" else ""
    return _text(f"🗒️ {r.kind.capitalize()} #{r.note_id} saved{where}.",
                 data={"note_id": r.note_id})


@renders(o.NoteRemoved)
def _note_removed(r: o.NoteRemoved) -> Reply:
    return _text(f"Removed note #{r.note_id}.")


@renders(o.DeadlineAdded)
def _deadline(r: o.DeadlineAdded) -> Reply:
    when = "today" if r.days_left == 0 else f"{plural(r.days_left, 'day')} from today"
    return _text(f"📅 Deadline #{r.deadline_id} {r.title!r} on {r.due.isoformat()} ({when}).",
                 data={"deadline_id": r.deadline_id})


@renders(o.DeadlineRemoved)
def _deadline_removed(r: o.DeadlineRemoved) -> Reply:
    return _text(f"Removed deadline {r.title!r}.")


# --- pauses, snoozes, partners, spaces ----------------------------------------------------------


@renders(o.Paused)
def _paused(r: o.Paused) -> Reply:
    return _text(f"⏸️ Paused through {r.until.isoformat()}: no reminders, and your streak is "
                 "frozen. /resume ends it early.")


@renders(o.Resumed)
def _resumed(_r: o.Resumed) -> Reply:
    return _text("▶️ Resumed: reminders are back on.")


@renders(o.Snoozed)
def _snoozed(r: o.Snoozed) -> Reply:
    if r.until is None:
        return _text("Snooze cancelled: reminders come at their usual time.", "Snooze")
    from_zone = r.until.astimezone(as_zone(r.timezone))
    return _text(f"😴 Snoozed until {from_zone:%H:%M} ({r.timezone}): I will remind you then. "
                 "`/snooze off` cancels.", "Snooze", data={"snoozed_until": r.until})


@renders(o.PartnerInvited)
def _invited(r: o.PartnerInvited) -> Reply:
    return _text(f"🤝 Invited {r.partner_name} as your accountability partner. They accept "
                 "with /partner accept. They will see: " + ", ".join(r.shared) + ".")


@renders(o.PartnerAccepted)
def _accepted(r: o.PartnerAccepted) -> Reply:
    return _text(f"🤝 You are now {r.learner_name}'s accountability partner; their digest "
                 "will reach you.", data={"learner_id": r.learner_id})


@renders(o.PartnershipEnded)
def _ended(_r: o.PartnershipEnded) -> Reply:
    return _text("The partnership has ended; no more digests go to the partner.")


@renders(o.ShareChanged)
def _share(r: o.ShareChanged) -> Reply:
    return _text(f"Your partner now sees: {', '.join(r.shared) if r.shared else 'nothing'}.")


@renders(o.SpacePlanChosen)
def _space_plan(r: o.SpacePlanChosen) -> Reply:
    return _text(f"New learners here will follow {r.plan_title} (`{r.plan_id}`); learners "
                 "already started keep theirs (`/settings plan=ID` switches one).", "Plan")


@renders(o.FallbackChannelSet)
def _fallback(r: o.FallbackChannelSet) -> Reply:
    if r.channel_id is None:
        return _text("No fallback channel any more: undeliverable reminders are recorded and "
                     "shown to the learner at their next command.", "Fallback channel")
    return _text(f"Reminders that cannot be sent by direct message will be posted in "
                 f"<#{r.channel_id}>.", "Fallback channel", data={"channel_id": r.channel_id})


@renders(o.Imported)
def _imported(r: o.Imported) -> Reply:
    from_file = quote_input(r.filename, 60)
    if r.changes == 0:
        return _text(f"Nothing to import: your tracker already holds everything in "
                     f"{from_file}.", "Import", data={"changes": 0})
    return _text(f"📥 Imported {plural(r.changes, 'change')} from {from_file}. `/undo` reverts "
                 "the whole import.", "Import", data={"import_changes": r.changes})


@renders(o.LinkCodeIssued)
def _link_code(r: o.LinkCodeIssued) -> Reply:
    return _text(f"🔗 Your link code: `{r.code}`. Type `/link {r.code}` on the other front "
                 f"(Discord or Slack) within {plural(r.minutes, 'minute')}; it works once. "
                 "Keep it to yourself: whoever types it joins your tracker.", "Link")


@renders(o.IdentityLinked)
def _linked(r: o.IdentityLinked) -> Reply:
    return _text(f"🔗 Linked: this {r.platform.capitalize()} account now shares "
                 f"{r.learner_name}'s tracker. Reminders still go to "
                 f"{r.delivery_platform.capitalize()}; `/link here` sends them here.", "Link")


@renders(o.DeliveryMoved)
def _delivery(r: o.DeliveryMoved) -> Reply:
    if not r.changed:
        return _text(f"Reminders and digests already come here ({r.platform.capitalize()}).",
                     "Link")
    return _text(f"Reminders and digests now come here ({r.platform.capitalize()}).", "Link")


# --- views ------------------------------------------------------------------------------------


_VIEW_TITLES = {"progress": "Overall Progress", "skills": "Self-Assessment Matrix",
                "summary": "Final Summary", "next": "What's next", "notes": "Notes",
                "deadlines": "Deadlines", "milestones": "Milestones"}


@renders(TrackerView)
def _view(v: TrackerView) -> Reply:
    d, plan, today = v.data, v.plan, v.today
    if v.kind == "week":
        assert v.week is not None
        return _text(render_week(d, plan, v.week), f"Week {v.week} time log")
    text = {
        "progress": lambda: render_progress(d, plan, today),
        "skills": lambda: render_skills(d, plan),
        "summary": lambda: render_summary(d, plan, today),
        "next": lambda: render_next(d, plan, today),
        "notes": lambda: render_notes(d),
        "deadlines": lambda: render_deadlines(d, today),
        "milestones": lambda: render_milestones(d, plan, today),
    }[v.kind]()
    return _text(text, _VIEW_TITLES[v.kind])


@renders(SettingsView)
def _settings(v: SettingsView) -> Reply:
    return _text(render_settings(v.profile, v.plan), "Settings")


@renders(PlansView)
def _plans(v: PlansView) -> Reply:
    return _text("\n".join(f"`{p.id}` — {p.title}" for p in v.plans), "Plans")


# --- charts on demand ----------------------------------------------------------------------


_CHART_TITLES = {"road": "Your road", "calendar": "Your study calendar", "week": "Your week"}


def chart_caption(r: o.ChartDrawn) -> str:
    """Say in words what the chart R shows, from the same figures it draws."""
    st = r.standing
    if r.road is not None:
        return (f"Logged {fmt_hours(st.logged)}; the road is at {fmt_hours(st.road.at(r.today))} "
                f"today and ends at {fmt_hours(st.road.final)} on {st.road.end:%a %d %b %Y}.\n"
                f"**Safety buffer**: {sentence(road_status(st))}")
    if r.calendar is not None:
        cells = r.calendar.cells
        studied = sum(1 for c in cells if c.minutes)
        total = sum(c.minutes for c in cells)
        since = f" since {cells[0].day:%a %d %b}" if cells else ""
        return (f"{plural(len(cells), 'day')}{since}, {studied} with study, "
                f"{fmt_hours(total)} in all.")
    assert r.week is not None
    logged = round(sum(h for _, h in r.week.days) * 60)
    return (f"{fmt_hours(logged)} logged in the seven days to {r.today:%a %d %b} "
            f"(commitment {fmt_hours(round(r.week.commitment_hours * 60))} a day).")


@renders(o.ChartDrawn)
def _chart(r: o.ChartDrawn) -> Reply:
    text = chart_caption(r)
    if r.path is not None:
        text += f"\nWrote {r.path} ({len(r.png)} bytes)."
    return _text(text, _CHART_TITLES[r.kind],
                 attachment=Attachment(r.filename, r.png, _CHART_TITLES[r.kind]))


# --- the operator's status ------------------------------------------------------------------


def duration_text(seconds: float) -> str:
    """Say a duration briefly: ``0 s``, ``42 s``, ``3 min 20 s``, ``2 h 5 min``, ``3 d 4 h``."""
    s = max(0, round(seconds))
    if s < 60:
        return f"{s} s"
    if s < 3600:
        return f"{s // 60} min {s % 60} s" if s % 60 else f"{s // 60} min"
    if s < 86400:
        return f"{s // 3600} h {s % 3600 // 60} min"
    return f"{s // 86400} d {s % 86400 // 3600} h"


def _utc_text(when: datetime) -> str:
    return f"{when.astimezone(UTC):%Y-%m-%d %H:%M} UTC"


def _process_line(p: Heartbeat, now: datetime) -> str:
    fronts = f" ({', '.join(p.fronts)})" if p.fronts else ""
    ago = duration_text((now - p.last_tick_at).total_seconds())
    state = "STALE, " if p.stale else ""
    line = (f"• {p.name}{fronts}: {state}last tick {ago} ago, up since "
            f"{_utc_text(p.started_at)}")
    if p.shards:
        shards = ", ".join(f"{i}: {'…' if ms is None else f'{ms:.0f} ms'}" for i, ms in p.shards)
        line += f"; {plural(len(p.shards), 'shard')} ({shards})"
    return line


@renders(Status)
def _status(r: Status) -> Reply:
    schema = (f"{r.schema_database} (current)" if r.schema_current else
              f"{r.schema_database or 'not migrated'}, the code is at {r.schema_code}: run "
              "`python -m bot migrate`")
    lag = ("0 s (nothing waiting)" if r.oldest_due is None else
           f"{duration_text(r.lag_seconds)} (oldest due {_utc_text(r.oldest_due)})")
    lines = [f"Pacer {r.version} on {r.database} ({r.database_url})",
             f"Schema: {schema}",
             f"Learners: {r.learners}",
             f"Dispatcher lag: {lag}"]
    if r.outbox:
        kinds = "; ".join(f"{kind} {c.pending} pending, {c.failed} failed"
                          for kind, c in sorted(r.outbox.items()))
        lines.append(f"Outbox (failed: the last day): {kinds}")
    else:
        lines.append("Outbox: nothing pending, nothing failed in the last day")
    if r.processes:
        lines.append(f"Processes ({len(r.processes)}):")
        lines += [_process_line(p, r.now) for p in r.processes]
    else:
        lines.append("Processes: none has ticked in the last day")
    return _text("\n".join(lines), "Pacer status")


__all__ = ["chart_caption", "duration_text", "hhmm", "present", "renders"]

"""The difference between what a tracker file claims and the store, as typed changes.

``diff`` compares the file's claims (``Claim`` by key, read by ``bot.trackerfile.read``) with
the learner's data and lists one small frozen dataclass per change, in the order to apply
them (``bot.trackerfile.apply``). Each change keeps the file's line and a summary for the
preview.

Rules (also in docs/export-format.md):
- A filled value wins over the stored one; a blank or an unticked box leaves the stored value
  alone. Nothing is deleted, except that a day of the time log is replaced by the file's total
  for that day when they differ.
- A ticked box without a ``(done DATE)`` is done on the day of the import; a ticked milestone
  without ``(reached DATE)`` is reached that day.
- Notes are matched by text (insights by week too), deadlines by title (ignoring case), pauses
  by their dates: what the store already holds is not added again.
"""

from __future__ import annotations

import logging
from collections import Counter as Multiset
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from bot import progress as p
from bot.errors import InputError
from bot.limits import MAX_DEADLINES, MAX_NOTES
from bot.plan import Plan
from bot.quoting import quote_input
from bot.snapshot import LearnerData

log = logging.getLogger(__name__)

ClaimKey = tuple[Any, ...]


@dataclass(frozen=True)
class Claim:
    """A value the file states, with the line that states it."""

    value: Any
    line: int


Claims = dict[ClaimKey, Claim]


# --- the change classes ---------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class Change:
    """One difference between the file and the store: its line and how the preview says it."""

    line: int
    summary: str


@dataclass(frozen=True, kw_only=True)
class SetSetting(Change):
    """Set a column of the learner's settings (start date, goal, commitment...)."""

    column: str
    value: Any


@dataclass(frozen=True, kw_only=True)
class Tick(Change):
    """Tick a checklist item, done on DAY."""

    item_id: str
    day: date


@dataclass(frozen=True, kw_only=True)
class RedateItem(Change):
    """Move the day a ticked item was done."""

    item_id: str
    day: date


@dataclass(frozen=True, kw_only=True)
class PutScore(Change):
    """Record a score."""

    score_id: str
    value: int


@dataclass(frozen=True, kw_only=True)
class PutCounter(Change):
    """Set a counter."""

    counter_id: str
    value: int


@dataclass(frozen=True, kw_only=True)
class PutField(Change):
    """Set a field."""

    field_id: str
    value: str


@dataclass(frozen=True, kw_only=True)
class PutRating(Change):
    """Rate a skill for a plan week."""

    skill_id: str
    week: int
    value: int


@dataclass(frozen=True, kw_only=True)
class ReplaceDay(Change):
    """Replace a day of the time log by the file's total and topics."""

    day: date
    minutes: int
    topics: str | None


@dataclass(frozen=True, kw_only=True)
class PutMock(Change):
    """Record (or replace) the mock interview of a slot."""

    slot: int
    held_on: date
    score: int
    feedback: str | None


@dataclass(frozen=True, kw_only=True)
class ReachMilestone(Change):
    """Record a milestone reached on DAY."""

    milestone_id: str
    day: date


@dataclass(frozen=True, kw_only=True)
class RedateMilestone(Change):
    """Move the day a milestone was reached."""

    milestone_id: str
    day: date


@dataclass(frozen=True, kw_only=True)
class AddNote(Change):
    """Add an insight, a challenge or a question."""

    kind: str
    week: int | None
    text: str
    solution: str | None = None
    learning: str | None = None


@dataclass(frozen=True, kw_only=True)
class UpdateNote(Change):
    """Fill in the solution and learning of a stored challenge."""

    note_id: int
    solution: str | None
    learning: str | None


@dataclass(frozen=True, kw_only=True)
class AddDeadline(Change):
    """Add a deadline."""

    title: str
    due: date


@dataclass(frozen=True, kw_only=True)
class RedateDeadline(Change):
    """Move a stored deadline."""

    deadline_id: int
    due: date


@dataclass(frozen=True, kw_only=True)
class AddPause(Change):
    """Add a pause."""

    start: date
    end: date


CHANGE_CLASSES = (SetSetting, Tick, RedateItem, PutScore, PutCounter, PutField, PutRating,
                  ReplaceDay, PutMock, ReachMilestone, RedateMilestone, AddNote, UpdateNote,
                  AddDeadline, RedateDeadline, AddPause)


# --- wording ---------------------------------------------------------------------------------


SETTING_LABELS = {
    "start_date": "Start date", "target_date": "Target completion", "goal": "Goal",
    "commitment_minutes": "Daily commitment", "commitment_weeks": "Commitment weeks",
    "committed_on": "Commitment date", "display_name": "Name (signature)",
}


def fmt(value: Any, col: str | None = None) -> str:
    """Show a stored or claimed value in a summary."""
    if value is None:
        return "—"
    if col == "commitment_minutes":
        return p.fmt_hours(value) + " a day"
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, str):
        return quote_input(value)
    return str(value)


# --- the diff --------------------------------------------------------------------------------


def _by_line(pairs: Iterable[tuple[ClaimKey, Claim]]) -> list[tuple[ClaimKey, Claim]]:
    return sorted(pairs, key=lambda kc: kc[1].line)


def _by_key(pairs: Iterable[tuple[ClaimKey, Claim]]) -> list[tuple[ClaimKey, Claim]]:
    return sorted(pairs, key=lambda kc: kc[0][1:])


def _settings(claims: Claims, data: LearnerData, plan: Plan) -> list[Change]:
    prof = data.profile
    current = {"start_date": prof.start_date, "target_date": prof.target_date,
               "goal": prof.goal or plan.goal, "commitment_minutes": prof.commitment_minutes,
               "commitment_weeks": prof.commitment_weeks, "committed_on": prof.committed_on,
               "display_name": prof.display_name}
    out: list[Change] = []
    for col, old in current.items():
        c = claims.get(("setting", col))
        if c is not None and c.value != old:
            out.append(SetSetting(column=col, value=c.value, line=c.line,
                                  summary=f"{SETTING_LABELS[col]}: {fmt(old, col)} → "
                                          f"{fmt(c.value, col)}"))
    return out


def _dated(claims: Claims, kind: str, things: Iterable[Any], stored: Mapping[str, date],
           today: date, new: tuple[type[Change], str], redate: type[Change],
           id_name: str) -> list[Change]:
    """Tick items or reach milestones the file ticks; move the dates it changes."""
    word = "done" if kind == "done" else "reached"
    out: list[Change] = []
    for thing in things:
        c = claims.get((kind, thing.id))
        if c is None:
            continue
        old = stored.get(thing.id)
        if old is None:
            when = c.value or today
            cls, wording = new
            out.append(cls(**{id_name: thing.id}, day=when, line=c.line,
                           summary=wording.format(title=thing.title, day=when.isoformat())))
        elif c.value is not None and c.value != old:
            out.append(redate(**{id_name: thing.id}, day=c.value, line=c.line,
                              summary=f"{thing.title}: {word} {old.isoformat()} → "
                                      f"{c.value.isoformat()}"))
    return out


def _values(by_kind: dict[str, list[tuple[ClaimKey, Claim]]], data: LearnerData,
            plan: Plan) -> list[Change]:
    out: list[Change] = []
    stored_values: tuple[tuple[str, Mapping[str, Any], Mapping[str, Any], type[Change], str],
                         ...] = (
        ("score", data.scores, plan.scores_by_id, PutScore, "score_id"),
        ("counter", data.counters, plan.counters_by_id, PutCounter, "counter_id"),
        ("field", data.fields, plan.fields_by_id, PutField, "field_id"))
    for kind, stored, defined, cls, id_name in stored_values:
        for key, c in _by_line(by_kind.get(kind, [])):
            old = stored.get(key[1])
            if old != c.value:
                out.append(cls(**{id_name: key[1]}, value=c.value, line=c.line,
                               summary=f"{defined[key[1]].title}: {fmt(old)} → {fmt(c.value)}"))
    for key, c in _by_line(by_kind.get("rating", [])):
        old = data.ratings.get(key[1], {}).get(key[2])
        if old != c.value:
            out.append(PutRating(skill_id=key[1], week=key[2], value=c.value, line=c.line,
                                 summary=f"{plan.skills_by_id[key[1]].title} week {key[2]}: "
                                         f"{fmt(old)} → {c.value}"))
    return out


def _days(by_kind: dict[str, list[tuple[ClaimKey, Claim]]], data: LearnerData) -> list[Change]:
    out: list[Change] = []
    days = p.day_totals(data)
    for key, c in _by_key(by_kind.get("logdate", [])):
        old_day = days.get(key[1])
        if old_day == c.value:
            continue
        minutes, topics = c.value
        was = p.fmt_hours(old_day[0]) if old_day else "0h"
        out.append(ReplaceDay(day=key[1], minutes=minutes, topics=topics, line=c.line,
                              summary=f"time on {key[1].isoformat()}: {was} → "
                                      f"{p.fmt_hours(minutes)}"
                                      + (f" ({quote_input(topics)})" if topics else "")))
    return out


def _mocks(by_kind: dict[str, list[tuple[ClaimKey, Claim]]], data: LearnerData,
           plan: Plan) -> list[Change]:
    out: list[Change] = []
    mocks = {x.slot: x for x in data.mocks}
    for key, c in _by_key(by_kind.get("mock", [])):
        old = mocks.get(key[1])
        if old is not None and (old.held_on, old.score, old.feedback) == c.value:
            continue
        held, score, feedback = c.value
        out.append(PutMock(slot=key[1], held_on=held, score=score, feedback=feedback,
                           line=c.line, summary=f"mock interview {key[1]}: {held.isoformat()}, "
                                                f"{score}/{plan.mock_max}"))
    return out


def _new_texts(claims: Claims, have: Multiset[tuple[str, int | None, str]], kind: str,
               label: str) -> list[Change]:
    """Add the insights or questions of the file that the store does not hold yet."""
    out: list[Change] = []
    ordered = sorted((k[1:], c) for k, c in claims.items() if k[0] == kind)
    for place, c in ordered:
        week = place[0] if kind == "insight" else None
        key = (kind, week, c.value)
        if have[key] > 0:
            have[key] -= 1
            continue
        out.append(AddNote(kind=kind, week=week, text=c.value, line=c.line,
                           summary=f"{label.format(week=week)}: {quote_input(c.value)}"))
    return out


def _notes(claims: Claims, data: LearnerData) -> list[Change]:
    have = Multiset((n.kind, n.week, n.text) for n in data.notes if n.kind != "challenge")
    out = _new_texts(claims, have, "insight", "insight for week {week}")
    challenges = [n for n in data.notes if n.kind == "challenge"]
    used: set[int] = set()
    for _n, c in sorted((k[1], c) for k, c in claims.items() if k[0] == "challenge"):
        text, solution, learning = c.value
        match = next((n for n in challenges if n.text == text and n.id not in used), None)
        if match is None:
            out.append(AddNote(kind="challenge", week=None, text=text, solution=solution,
                               learning=learning, line=c.line,
                               summary=f"challenge: {quote_input(text)}"))
            continue
        used.add(match.id)
        new_solution = solution if solution is not None else match.solution
        new_learning = learning if learning is not None else match.learning
        if (new_solution, new_learning) != (match.solution, match.learning):
            out.append(UpdateNote(note_id=match.id, solution=new_solution,
                                  learning=new_learning, line=c.line,
                                  summary=f"challenge {quote_input(text)}: solution and "
                                          "learning"))
    return out + _new_texts(claims, have, "question", "question")


def _deadlines(pairs: list[tuple[ClaimKey, Claim]], data: LearnerData) -> list[Change]:
    out: list[Change] = []
    have = {}
    for d in data.deadlines:
        have.setdefault(d.title.casefold(), d)
    for key, c in _by_line(pairs):
        title, due = c.value
        old = have.get(key[1])
        if old is None:
            out.append(AddDeadline(title=title, due=due, line=c.line,
                                   summary=f"deadline {quote_input(title)} on "
                                           f"{due.isoformat()}"))
        elif old.due_date != due:
            out.append(RedateDeadline(deadline_id=old.id, due=due, line=c.line,
                                      summary=f"deadline {quote_input(title)}: "
                                              f"{old.due_date.isoformat()} → {due.isoformat()}"))
    return out


def _pauses(pairs: list[tuple[ClaimKey, Claim]], data: LearnerData) -> list[Change]:
    out: list[Change] = []
    existing = Multiset(data.pauses)
    for key, c in _by_key(pairs):
        start, end = key[1], key[2]
        if existing[(start, end)] > 0:
            existing[(start, end)] -= 1
            continue
        out.append(AddPause(start=start, end=end, line=c.line,
                            summary=f"pause {start.isoformat()} to {end.isoformat()}"))
    return out


def _check_counts(changes: list[Change], data: LearnerData) -> None:
    notes_after = len(data.notes) + sum(1 for ch in changes if isinstance(ch, AddNote))
    if notes_after > MAX_NOTES:
        raise InputError(f"The import would give you {notes_after} notes; Pacer keeps at most "
                         f"{MAX_NOTES}. Remove some from the file or with /notes remove.")
    deadlines_after = len(data.deadlines) + sum(1 for ch in changes
                                                if isinstance(ch, AddDeadline))
    if deadlines_after > MAX_DEADLINES:
        raise InputError(f"The import would give you {deadlines_after} deadlines; Pacer keeps "
                         f"at most {MAX_DEADLINES}.")


def diff(claims: Claims, data: LearnerData, plan: Plan, today: date) -> list[Change]:
    """List the changes the claims make to the learner's data, in the order to apply them."""
    by_kind: dict[str, list[tuple[ClaimKey, Claim]]] = {}
    for key, c in claims.items():
        by_kind.setdefault(key[0], []).append((key, c))
    out = _settings(claims, data, plan)
    out += _dated(claims, "done", plan.items, data.done, today,
                  (Tick, "tick {title} (done {day})"), RedateItem, "item_id")
    out += _values(by_kind, data, plan)
    out += _days(by_kind, data)
    out += _mocks(by_kind, data, plan)
    out += _dated(claims, "ms", plan.milestones, data.milestones, today,
                  (ReachMilestone, "{title}: reached {day}"), RedateMilestone, "milestone_id")
    out += _notes(claims, data)
    out += _deadlines(by_kind.get("deadline", []), data)
    out += _pauses(by_kind.get("pause", []), data)
    _check_counts(out, data)
    return out

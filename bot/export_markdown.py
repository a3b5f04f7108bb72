"""Render a learner's tracker as the spec's Markdown, filled in from the store.

The tracker is described by a *template*: the spec's lines with placeholders where the store
fills a value. The same template drives the export (``render_markdown``) and the import
(``bot.importer`` builds one pattern per template line), so whatever the export writes the
import reads back.

Template lines (see ``VLLM_TEMPLATE``):

- Plain text is copied as it is (``{{`` and ``}}`` stand for braces).
- ``{kind:arg|blank}`` is a placeholder; ``blank`` is what an unfilled value shows (the spec's
  ``_____``, ``___/___/___``...). Kinds: ``item``/``ms`` (``[ ]``/``[x]`` of a checklist item or
  milestone), ``tick`` (``☐``/``☑`` of a daily lesson), ``msdate`` (the day a milestone was
  reached), ``score``, ``counter``, ``field``, ``choice`` (a field's options as
  ``☐ A ☑ B ☐ C``), ``rating:SKILL:WEEK``, ``start``, ``target``, ``goal``, ``commit_hours``,
  ``commit_weeks``, ``signature``, ``committed_on``, ``partner``, and the computed ones
  (``calc:NAME``, ``phase``, ``status:SECTION``, ``readiness``) that the import skips.
- A line holding an ``item``/``tick`` ends with `` (done YYYY-MM-DD)`` once the item is done;
  one holding ``ms`` ends with `` (reached YYYY-MM-DD)``. The dates make the round trip exact.
- ``@name`` lines are blocks whose length follows the data: ``@timelog``, ``@insights``,
  ``@challenges``, ``@questions``, ``@mocks``, ``@deadlines`` and ``@extras``.

Decisions (also in docs/export-format.md):
- Stored values that are unset stay blank exactly as the spec shows them. Computed counts and
  totals that are zero are blank too; averages are blank until there is something to average.
- Ticked choices are shown ``☑ Advanced ☐ Standard ☐ Foundation``; computed choices (current
  phase, project status, overall readiness) are ticked from the data.
- Texts keep their line breaks as ``<br>`` so each value stays on its line.
- The weekly time log shows day lines for week 1, every week that has begun and every week
  with time logged (weeks past the plan's end too); later weeks keep
  ``[Fill in as you progress]``. Time logged before the start date is listed by date in a
  ``**Before Week 1**`` block. A day's line holds its total and its distinct topics joined by
  ``; ``.
- Deadlines: the plan's default titles (the spec's list) are matched to the learner's deadlines
  by title, case-insensitively; other deadlines follow in date order.
- Values the spec has no blank for (e.g. the Nsight profile counter, pauses, achievements) are
  listed under ``## 🗂️ Also Tracked by Pacer`` at the end, which appears only when one is set.
- Plans other than the default get a generic tracker built from the plan: phases, sections,
  items, counters, scores, fields, mock interviews, skills, time log, notes, milestones,
  deadlines, commitment.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from bot import progress as p
from bot.plan import Field, Plan
from bot.snapshot import LearnerData
from bot.timing import plan_week

U3 = "___"
U5 = "_____"
U15 = "_______________"
U25 = "_________________________"
U35 = "___________________________________"
U38 = "______________________________________"
U43 = "___________________________________________"
U47 = "_______________________________________________"
BLANK_DATE = "___/___/___"
REMEMBER = ("*Remember: Interview success comes from consistent effort and genuine understanding, "
            "not memorization.*")

TICKED = "☑"
UNTICKED = "☐"
FILL_IN = "[Fill in as you progress]"
EXTRAS_HEADING = "## 🗂️ Also Tracked by Pacer"
BEFORE_WEEK_1 = "**Before Week 1**:"
LINE_BREAK = "<br>"

COMPUTED_KINDS = frozenset({"calc", "phase", "status", "readiness"})
SUFFIX_KINDS = {"item": "done", "tick": "done", "ms": "reached"}


# --- the template language ------------------------------------------------------------------


@dataclass(frozen=True)
class Lit:
    """Literal text of a template line."""

    text: str


@dataclass(frozen=True)
class Slot:
    """A placeholder: what fills it (kind, arg) and what it shows when unfilled."""

    kind: str
    arg: str = ""
    blank: str = U5


Segment = Lit | Slot


@dataclass(frozen=True)
class TLine:
    """One template line: literal text and placeholders."""

    segments: tuple[Segment, ...]

    @property
    def slots(self) -> tuple[Slot, ...]:
        return tuple(s for s in self.segments if isinstance(s, Slot))

    @property
    def text(self) -> str:
        """Return the literal text of a line without placeholders."""
        return "".join(s.text for s in self.segments if isinstance(s, Lit))

    @property
    def suffix(self) -> tuple[str, str] | None:
        """Return (word, slot) of the date suffix: ('done', item id) or ('reached', milestone)."""
        for s in self.slots:
            if s.kind in SUFFIX_KINDS:
                return SUFFIX_KINDS[s.kind], s.arg
        return None

    def fill(self, value: Callable[[Slot], str | None], suffix: str = "") -> str:
        """Render the line, VALUE giving each slot's text (None: the slot's blank)."""
        out = []
        for seg in self.segments:
            if isinstance(seg, Lit):
                out.append(seg.text)
            else:
                v = value(seg)
                out.append(seg.blank if v is None else v)
        return "".join(out) + suffix


_SLOT_RE = re.compile(r"\{([a-z_]+)(?::([^|{}]*))?(?:\|([^{}]*))?\}")


def parse_line(text: str) -> TLine:
    """Parse one template line into literal text and slots."""
    segments: list[Segment] = []
    buf: list[str] = []
    i = 0
    while i < len(text):
        if text.startswith("{{", i) or text.startswith("}}", i):
            buf.append(text[i])
            i += 2
            continue
        if text[i] == "{":
            m = _SLOT_RE.match(text, i)
            if m is None:
                raise ValueError(f"bad placeholder in template line {text!r}")
            if buf:
                segments.append(Lit("".join(buf)))
                buf = []
            segments.append(Slot(m[1], m[2] or "", U5 if m[3] is None else m[3]))
            i = m.end()
            continue
        buf.append(text[i])
        i += 1
    if buf:
        segments.append(Lit("".join(buf)))
    return TLine(tuple(segments))


def esc(text: str) -> str:
    """Escape plan text for a template line."""
    return text.replace("{", "{{").replace("}", "}}")


def encode_text(text: str) -> str:
    """Keep a stored text on one line: line breaks become ``<br>``."""
    return text.replace("\r\n", "\n").replace("\n", LINE_BREAK)


def decode_text(text: str) -> str:
    """Turn ``<br>`` back into line breaks."""
    return re.sub(r"<br\s*/?>", "\n", text, flags=re.IGNORECASE)


def num(value: float) -> str:
    """Show a computed number with at most one decimal: ``12``, ``12.5``."""
    text = f"{value:.1f}"
    return text[:-2] if text.endswith(".0") else text


def exact_hours(minutes: int) -> str:
    """Show minutes as hours with two decimals at most: exact when read back (``2.25``)."""
    return f"{minutes / 60:.2f}".rstrip("0").rstrip(".")


def choice_options(field: Field) -> tuple[str, ...]:
    """Return the options a field shows as checkboxes (a scale shows its numbers)."""
    if field.kind == "choice":
        return field.choices
    if field.kind == "scale" and field.min is not None and field.max is not None:
        return tuple(str(v) for v in range(field.min, field.max + 1))
    raise ValueError(f"field {field.id!r} of kind {field.kind} has no options to tick")


def ticks(options: Sequence[str], chosen: str | None) -> str:
    """Draw options as ``☐ A ☑ B ☐ C``."""
    return " ".join(f"{TICKED if o == chosen else UNTICKED} {o}" for o in options)


# --- rendering context and the computed values ------------------------------------------------


@dataclass
class Ctx:
    """What a template is rendered from."""

    data: LearnerData
    plan: Plan
    today: date

    @functools.cached_property
    def logs_by_day(self) -> dict[date, tuple[int, str | None]]:
        return day_totals(self.data)


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


def _count_done(ctx: Ctx, section: str) -> int:
    return sum(1 for i in ctx.plan.items_in_section(section) if i.id in ctx.data.done)


def _nonzero(value: float) -> str | None:
    return num(value) if value else None


def _maybe(value: float | None) -> str | None:
    return None if value is None else num(value)


def _days_until(ctx: Ctx) -> str | None:
    if not ctx.plan.default_deadlines:
        return None
    title = ctx.plan.default_deadlines[-1].casefold()
    for d in ctx.data.deadlines:
        if d.title.casefold() == title and d.due_date >= ctx.today:
            return str((d.due_date - ctx.today).days)
    return None


def _next_item(ctx: Ctx, n: int) -> str | None:
    items = p.next_items(ctx.data, ctx.plan, 7)
    if n > len(items):
        return None
    item = items[n - 1]
    return f"{item.title} ({item.id})"


def _week_bar(ctx: Ctx, week: int) -> str:
    dates = [ctx.data.profile.start_date + timedelta(days=7 * (week - 1) + i) for i in range(7)]
    active = ctx.data.active_days()
    n = sum(1 for d in dates if d in active)
    return f"{p.bar(n / 7, 7)} {n}/7 days"


def _overall_bar(ctx: Ctx) -> str:
    frac = p.item_fraction(ctx.data, ctx.plan)
    return f"{p.bar(frac)} {round(frac * 100)}%"


def _week_total(ctx: Ctx, arg: str) -> str | None:
    return None  # filled by the time-log block itself


CALC: dict[str, Callable[[Ctx, str], str | None]] = {
    "overall_bar": lambda c, a: _overall_bar(c),
    "week_bar": lambda c, a: _week_bar(c, int(a)),
    "hours": lambda c, a: _nonzero(c.data.total_minutes / 60),
    "done_in": lambda c, a: _nonzero(_count_done(c, a)),
    "streak": lambda c, a: _nonzero(p.streak(c.data, c.today).days),
    "days_completed": lambda c, a: _nonzero(
        sum(1 for i in c.plan.daily_items if i.id in c.data.done)),
    "avg_daily": lambda c, a: (num(p.average_daily_minutes(c.data, c.today) / 60)
                               if c.data.logs else None),
    "mock_avg": lambda c, a: _maybe(p.mock_average(c.data)),
    "skills_avg": lambda c, a: _maybe(p.skills_average(c.data, c.plan)),
    "quiz_avg": lambda c, a: _maybe(p.quiz_average(c.data, c.plan)),
    "confidence_avg": lambda c, a: _maybe(p.confidence_average(c.data, c.plan)),
    "milestones": lambda c, a: _nonzero(sum(
        1 for m in c.plan.milestones_of_kind("milestone") if m.id in c.data.milestones)),
    "mastered": lambda c, a: _nonzero(p.skills_mastered(c.data, c.plan)),
    "projects": lambda c, a: _nonzero(p.projects_completed(c.data, c.plan)),
    "next": lambda c, a: _next_item(c, int(a)),
    "last_updated": lambda c, a: c.today.isoformat(),
    "phase_name": lambda c, a: p.current_phase(c.data, c.plan).short,
    "days_until": lambda c, a: _days_until(c),
    "week_total": _week_total,
}

READINESS_BANDS = ("0-25%", "26-50%", "51-75%", "76-99%", "100%!")


def _readiness(ctx: Ctx) -> str:
    ids = [i.id for s in ctx.plan.sections if s.id.startswith("readiness-")
           for i in ctx.plan.items_in_section(s.id)]
    pct = round(p.item_fraction(ctx.data, ctx.plan, ids) * 100) if ids else 0
    band = (READINESS_BANDS[4] if pct >= 100 else READINESS_BANDS[3] if pct >= 76
            else READINESS_BANDS[2] if pct >= 51 else READINESS_BANDS[1] if pct >= 26
            else READINESS_BANDS[0])
    return ticks(READINESS_BANDS, band)


def _status(ctx: Ctx, section: str) -> str:
    done = _count_done(ctx, section)
    total = len(ctx.plan.items_in_section(section))
    state = "Not Started" if done == 0 else "Completed" if done == total else "In Progress"
    return ticks(("Not Started", "In Progress", "Completed"), state)


def _partner(ctx: Ctx) -> str | None:
    active = [x for x in ctx.data.partners if x.status in ("invited", "accepted")]
    if not active:
        return None
    ship = active[-1]
    name = encode_text(ship.partner_name)
    return name if ship.status == "accepted" else f"{name} (invited)"


def render_slot(ctx: Ctx, slot: Slot) -> str | None:
    """Return the text of one placeholder, or None to show its blank."""
    d, plan, k, a = ctx.data, ctx.plan, slot.kind, slot.arg
    prof = d.profile
    if k == "item":
        return "[x]" if a in d.done else "[ ]"
    if k == "tick":
        return TICKED if a in d.done else UNTICKED
    if k == "ms":
        return "[x]" if a in d.milestones else "[ ]"
    if k == "msdate":
        reached = d.milestones.get(a)
        return reached.isoformat() if reached else None
    if k in ("score", "counter"):
        value = (d.scores if k == "score" else d.counters).get(a)
        return None if value is None else str(value)
    if k == "field":
        text = d.fields.get(a)
        return None if text is None else encode_text(text)
    if k == "choice":
        return ticks(choice_options(plan.fields_by_id[a]), d.fields.get(a))
    if k == "rating":
        skill, week = a.rsplit(":", 1)
        rating = d.ratings.get(skill, {}).get(int(week))
        return None if rating is None else str(rating)
    if k == "start":
        return prof.start_date.isoformat()
    if k == "target":
        return prof.target_date.isoformat() if prof.target_date else None
    if k == "goal":
        return encode_text(prof.goal or plan.goal)
    if k == "commit_hours":
        return exact_hours(prof.commitment_minutes)
    if k == "commit_weeks":
        return str(prof.commitment_weeks)
    if k == "signature":
        return encode_text(prof.display_name)
    if k == "committed_on":
        return prof.committed_on.isoformat() if prof.committed_on else None
    if k == "partner":
        return _partner(ctx)
    if k == "phase":
        current = p.current_phase(d, plan)
        return ticks([ph.short for ph in plan.phases], current.short)
    if k == "status":
        return _status(ctx, a)
    if k == "readiness":
        return _readiness(ctx)
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


def _values(**values: str | None) -> Callable[[Slot], str | None]:
    return lambda s: values.get(s.kind)


# --- blocks whose length follows the data -----------------------------------------------------


class Block:
    """A ``@name`` block: renders a variable number of lines, read back with `body` patterns."""

    name: str = ""
    entry: str = ""  # the heading line after which the import reads this block's lines

    def render(self, ctx: Ctx) -> list[str]:
        raise NotImplementedError

    def body(self) -> tuple[TLine, ...]:
        raise NotImplementedError


class TimeLogBlock(Block):
    name = "timelog"
    entry = "### Weekly Time Log"
    WEEK = parse_line("**Week {logweek}**:")
    BEFORE = parse_line(BEFORE_WEEK_1)
    DAY = parse_line(f"Day {{logday}}: {{loghours|{U3}}}h | Topics: {{logtopics|{U25}}}")
    DATED = parse_line(f"{{logdate}}: {{loghours|{U3}}}h | Topics: {{logtopics|{U25}}}")
    TOTAL = parse_line(f"Total: {{calc:week_total|{U3}}}h")

    def __init__(self, plan: Plan) -> None:
        self.plan = plan

    def body(self) -> tuple[TLine, ...]:
        return (self.WEEK, self.BEFORE, self.DAY, self.DATED, self.TOTAL)

    def _day(self, line: TLine, entry: tuple[int, str | None] | None, **extra: str) -> str:
        minutes, topics = entry if entry else (0, None)
        return line.fill(_values(
            loghours=exact_hours(minutes) if minutes else None,
            logtopics=encode_text(topics) if topics else None, **extra))

    def _total(self, minutes: int) -> str:
        return self.TOTAL.fill(lambda s: exact_hours(minutes) if minutes else None)

    def render(self, ctx: Ctx) -> list[str]:
        by_day = ctx.logs_by_day
        start = ctx.data.profile.start_date
        lines: list[str] = []
        before = sorted(d for d in by_day if d < start)
        if before:
            lines += [BEFORE_WEEK_1, "```"]
            lines += [self._day(self.DATED, by_day[d], logdate=d.isoformat()) for d in before]
            lines += [self._total(sum(by_day[d][0] for d in before)), "```", ""]
        last = max((plan_week(start, d) for d in by_day), default=0)
        weeks = max(self.plan.weeks, last)
        for w in range(1, weeks + 1):
            first = start + timedelta(days=7 * (w - 1))
            dates = [first + timedelta(days=i) for i in range(7)]
            shown = w == 1 or first <= ctx.today or any(d in by_day for d in dates)
            lines += [self.WEEK.fill(_values(logweek=str(w))), "```"]
            if shown:
                lines += [self._day(self.DAY, by_day.get(d), logday=str(n))
                          for n, d in enumerate(dates, start=1)]
            else:
                lines.append(FILL_IN)
            lines += [self._total(sum(by_day.get(d, (0, None))[0] for d in dates)), "```"]
            if w < weeks:
                lines.append("")
        return lines


class InsightsBlock(Block):
    name = "insights"
    entry = "### Key Insights Gained"
    WEEK = parse_line("**Week {noteweek}**:")
    LINE = parse_line(f"{{noteno}}. {{insight|{U43}}}")

    def __init__(self, plan: Plan, shown: int = 3) -> None:
        self.plan, self.shown = plan, shown

    def body(self) -> tuple[TLine, ...]:
        return (self.WEEK, self.LINE)

    def render(self, ctx: Ctx) -> list[str]:
        by_week: dict[int, list[str]] = {}
        for n in ctx.data.notes:
            if n.kind == "insight" and n.week is not None:
                by_week.setdefault(n.week, []).append(n.text)
        weeks = max([self.plan.weeks, *by_week])
        lines: list[str] = []
        for w in range(1, weeks + 1):
            texts = by_week.get(w, [])
            lines += [self.WEEK.fill(_values(noteweek=str(w))), "```"]
            for i in range(max(self.shown, len(texts))):
                text = encode_text(texts[i]) if i < len(texts) else None
                lines.append(self.LINE.fill(_values(noteno=str(i + 1), insight=text)))
            lines.append("```")
            if w < weeks:
                lines.append("")
        return lines


class ChallengesBlock(Block):
    name = "challenges"
    entry = "### Challenges Overcome"
    LINE = parse_line(f"{{noteno}}. **Challenge**: {{challenge|{U35}}}")
    SOLUTION = parse_line(f"   **Solution**: {{solution|{U35}}}")
    LEARNING = parse_line(f"   **Learning**: {{learning|{U35}}}")

    def __init__(self, plan: Plan, shown: int = 3) -> None:
        self.shown = shown

    def body(self) -> tuple[TLine, ...]:
        return (self.LINE, self.SOLUTION, self.LEARNING)

    def render(self, ctx: Ctx) -> list[str]:
        notes = [n for n in ctx.data.notes if n.kind == "challenge"]
        lines: list[str] = []
        count = max(self.shown, len(notes))
        for i in range(count):
            n = notes[i] if i < len(notes) else None

            def enc(text: str | None) -> str | None:
                return encode_text(text) if text else None

            lines.append(self.LINE.fill(_values(noteno=str(i + 1),
                                                challenge=enc(n.text if n else None))))
            lines.append(self.SOLUTION.fill(_values(solution=enc(n.solution if n else None))))
            lines.append(self.LEARNING.fill(_values(learning=enc(n.learning if n else None))))
            if i < count - 1:
                lines.append("")
        return lines


class QuestionsBlock(Block):
    name = "questions"
    entry = "### Questions for Further Study"
    LINE = parse_line(f"{{noteno}}. {{question|{U47}}}")

    def __init__(self, plan: Plan, shown: int = 3) -> None:
        self.shown = shown

    def body(self) -> tuple[TLine, ...]:
        return (self.LINE,)

    def render(self, ctx: Ctx) -> list[str]:
        texts = [n.text for n in ctx.data.notes if n.kind == "question"]
        return [self.LINE.fill(_values(noteno=str(i + 1),
                                       question=encode_text(texts[i]) if i < len(texts)
                                       else None))
                for i in range(max(self.shown, len(texts)))]


class MocksBlock(Block):
    name = "mocks"
    entry = "### Mock Interviews"

    def __init__(self, plan: Plan) -> None:
        self.plan = plan
        self.LINE = parse_line(
            f"Interview {{mockslot}}: {{mockdate|{BLANK_DATE}}} | Score: {{mockscore|{U3}}}/"
            f"{plan.mock_max} | Feedback: {{mockfeedback|{U15}}}")

    def body(self) -> tuple[TLine, ...]:
        return (self.LINE,)

    def render(self, ctx: Ctx) -> list[str]:
        by_slot = {m.slot: m for m in ctx.data.mocks}
        slots = max([self.plan.mock_interviews, *by_slot])
        lines = []
        for s in range(1, slots + 1):
            m = by_slot.get(s)
            lines.append(self.LINE.fill(_values(
                mockslot=str(s), mockdate=m.held_on.isoformat() if m else None,
                mockscore=str(m.score) if m else None,
                mockfeedback=encode_text(m.feedback) if m and m.feedback else None)))
        return lines


class DeadlinesBlock(Block):
    name = "deadlines"
    entry = "### Upcoming Deadlines"
    BOLD = parse_line(f"- **{{dltitle}}**: {{dldate|{BLANK_DATE}}}")
    PLAIN = parse_line(f"- {{dltitle}}: {{dldate|{BLANK_DATE}}}")

    def __init__(self, plan: Plan, bold: Iterable[str] = ()) -> None:
        self.plan = plan
        self.bold = {b.casefold() for b in bold}

    def body(self) -> tuple[TLine, ...]:
        return (self.BOLD, self.PLAIN)

    def render(self, ctx: Ctx) -> list[str]:
        by_title = {}
        for d in ctx.data.deadlines:
            by_title.setdefault(d.title.casefold(), d)
        lines = []
        defaults = {t.casefold() for t in self.plan.default_deadlines}
        for title in self.plan.default_deadlines:
            d = by_title.get(title.casefold())
            line = self.BOLD if title.casefold() in self.bold else self.PLAIN
            lines.append(line.fill(_values(dltitle=encode_text(title),
                                           dldate=d.due_date.isoformat() if d else None)))
        for d in ctx.data.deadlines:
            if d.title.casefold() in defaults or by_title.get(d.title.casefold()) is not d:
                continue
            lines.append(self.PLAIN.fill(_values(dltitle=encode_text(d.title),
                                                 dldate=d.due_date.isoformat())))
        return lines


class ExtrasBlock(Block):
    """Values the template has no place for: listed at the end, only when set."""

    name = "extras"
    entry = EXTRAS_HEADING
    PAUSE = parse_line("- Paused: {pausestart} to {pauseend}")

    def __init__(self, plan: Plan, placed: set[tuple[str, str]]) -> None:
        self.plan = plan
        lines: list[tuple[str, TLine]] = []
        for c in plan.counters:
            if ("counter", c.id) not in placed:
                goal = f" / {c.max}" if c.max is not None else (
                    f" / {c.target}+" if c.target is not None else "")
                lines.append((f"counter:{c.id}",
                              parse_line(f"- **{esc(c.title)}**: {{counter:{c.id}}}{goal}")))
        for s in plan.scores:
            if ("score", s.id) not in placed:
                lines.append((f"score:{s.id}",
                              parse_line(f"- **{esc(s.title)}**: {{score:{s.id}}} / {s.max}")))
        for f in plan.fields:
            if ("field", f.id) not in placed and ("choice", f.id) not in placed:
                lines.append((f"field:{f.id}",
                              parse_line(f"- **{esc(f.title)}**: {{field:{f.id}}}")))
        for ms in plan.milestones:
            if ("ms", ms.id) not in placed and ("msdate", ms.id) not in placed:
                lines.append((f"ms:{ms.id}", parse_line(f"- {{ms:{ms.id}}} {esc(ms.title)}")))
        self.lines = lines

    def body(self) -> tuple[TLine, ...]:
        return (*(line for _, line in self.lines), self.PAUSE)

    def _is_set(self, ctx: Ctx, key: str) -> bool:
        kind, ident = key.split(":", 1)
        store: Mapping[str, Any] = {"counter": ctx.data.counters, "score": ctx.data.scores,
                                    "field": ctx.data.fields, "ms": ctx.data.milestones}[kind]
        return ident in store

    def render(self, ctx: Ctx) -> list[str]:
        body = [render_line(ctx, line) for key, line in self.lines if self._is_set(ctx, key)]
        body += [self.PAUSE.fill(_values(pausestart=a.isoformat(), pauseend=b.isoformat()))
                 for a, b in sorted(ctx.data.pauses)]
        if not body:
            return []
        return ["", "---", "", EXTRAS_HEADING, "", *body]


# --- templates --------------------------------------------------------------------------------


Entry = TLine | Block


@dataclass(frozen=True)
class Template:
    """A plan's tracker: its lines and blocks in order."""

    plan: Plan
    entries: tuple[Entry, ...]

    def render(self, ctx: Ctx) -> str:
        lines: list[str] = []
        for e in self.entries:
            if isinstance(e, Block):
                lines += e.render(ctx)
            else:
                lines.append(render_line(ctx, e))
        return "\n".join(lines) + "\n"

    @property
    def blocks(self) -> tuple[Block, ...]:
        return tuple(e for e in self.entries if isinstance(e, Block))


def _placed(lines: Iterable[TLine]) -> set[tuple[str, str]]:
    out = set()
    for line in lines:
        for s in line.slots:
            arg = s.arg.split(":", 1)[0] if s.kind == "rating" else s.arg
            out.add((s.kind, arg))
    return out


def build_template(plan: Plan, text: str, bold_deadlines: Iterable[str] = ()) -> Template:
    """Build a template from its text: one line per line, ``@name`` for blocks."""
    raw = text.split("\n")
    static = [parse_line(line) for line in raw if not line.startswith("@")]
    placed = _placed(static)
    factories: dict[str, Callable[[], Block]] = {
        "timelog": lambda: TimeLogBlock(plan),
        "insights": lambda: InsightsBlock(plan),
        "challenges": lambda: ChallengesBlock(plan),
        "questions": lambda: QuestionsBlock(plan),
        "mocks": lambda: MocksBlock(plan),
        "deadlines": lambda: DeadlinesBlock(plan, bold_deadlines),
        "extras": lambda: ExtrasBlock(plan, placed),
    }
    entries: list[Entry] = []
    for line in raw:
        if line.startswith("@"):
            entries.append(factories[line[1:].strip()]())
        else:
            entries.append(parse_line(line))
    return Template(plan, tuple(entries))


VLLM_TEMPLATE = f"""\
# 📊 vLLM Mastery Progress Tracker

> **Your Learning Journey Dashboard**
> **Start Date**: {{start|{U15}}}
> **Target Completion**: {{target|{U15}}}
> **Goal**: {{goal|{U15}}}

---

## 🎯 Overall Progress

```
{{calc:overall_bar}}

Week 1: {{calc:week_bar:1}}
Week 2: {{calc:week_bar:2}}
Week 3: {{calc:week_bar:3}}
Week 4: {{calc:week_bar:4}}
```

**Current Phase**: {{phase}}

**Hours Invested**: {{calc:hours|{U5}}} / 150-200 hours

---

## 📚 Phase 1: Foundation & Setup (Week 0-1)

### Prerequisites Assessment
- {{item:prereq-checklist}} Complete prerequisites checklist
- {{item:prereq-score}} Calculate readiness score: {{score:readiness|{U5}}} / 60
- {{item:knowledge-gaps}} Identify knowledge gaps
- {{item:weak-areas}} Study weak areas ({{counter:weak-area-hours|______}} hours)

**Score**: {{score:readiness|{U5}}} / 60 | **Track**: {{choice:track}}

### Environment Setup
- {{item:install-cuda}} Install CUDA toolkit
- {{item:build-vllm}} Build vLLM from source
- {{item:configure-ide}} Configure VSCode/IDE
- {{item:profiling-tools}} Install profiling tools (Nsight Systems, Nsight Compute)
- {{item:test-models}} Download test models
- {{item:hello-world}} Run hello-world example

**Verified**: {{choice:env-verified}}

### Initial Exploration
- {{item:read-roadmap}} Read MASTER_ROADMAP.md
- {{item:explore-codebase}} Explore codebase structure
- {{item:offline-inference}} Run examples/offline_inference.py
- {{item:trace-first-request}} Trace first request through code

**Understanding**: {{choice:exploration-understanding}}

---

## 📖 Phase 2: Core Concepts (Week 1-2)

### PagedAttention Mastery
- {{item:pa-part1}} Part 1: Theory (paged_attention_part1_theory.md)
  - {{item:pa1-memory-problem}} Understand memory problem
  - {{item:pa1-block-allocation}} Know block allocation strategy
  - {{item:pa1-memory-savings}} Calculate memory savings
  - {{item:pa1-quiz}} Complete quiz (score: {{score:pa-quiz|{U5}}} / 3)

- {{item:pa-part2}} Part 2: Implementation (paged_attention_part2_implementation.md)
  - {{item:pa2-block-manager-code}} Read block manager code
  - {{item:pa2-cuda-kernel}} Understand CUDA kernel
  - {{item:pa2-trace-allocation}} Trace block allocation
  - {{item:pa2-exercises}} Complete exercises

- {{item:pa-part3}} Part 3: Optimization (if created)
  - {{item:pa3-advanced-techniques}} Advanced techniques
  - {{item:pa3-profiling-analysis}} Profiling analysis
  - {{item:pa3-opportunities}} Optimization opportunities

**Confidence Level**: {{choice:pa-confidence}}

**Can you explain PagedAttention to someone?**: {{choice:pa-explain}}

### vLLM Architecture
- {{item:arch-deep-dive}} Read architecture deep dive
- {{item:arch-diagram}} Draw system diagram from memory
- {{item:arch-interactions}} Understand component interactions
- {{item:arch-request-flow}} Trace complete request flow

**Components Understood**:
- {{item:comp-engine-scheduler}} Engine & Scheduler
- {{item:comp-block-manager}} Block Manager
- {{item:comp-model-executor}} Model Executor
- {{item:comp-attention-layer}} Attention Layer
- {{item:comp-sampler}} Sampler
- {{item:comp-distributed}} Distributed (multi-GPU)

**Self-Assessment**: {{calc:done_in:components|{U5}}} / 6 components

### C++ & CUDA Practice
- {{item:kernels-basic-10}} Complete 10/30 basic kernels
- {{item:kernels-intermediate-10}} Complete 10/30 intermediate kernels
- {{item:kernels-advanced-10}} Complete 10/30 advanced kernels

**Current Streak**: {{calc:streak|{U5}}} days

**Problems Solved by Category**:
- Basic: {{counter:cuda-basic|{U5}}} / 10
- Reduction: {{counter:cuda-reduction|{U5}}} / 5
- Matrix Ops: {{counter:cuda-matrix|{U5}}} / 5
- Advanced: {{counter:cuda-advanced|{U5}}} / 10

---

## 🔬 Phase 3: Component Deep Dives (Week 2-3)

### Daily Learning Plans

**Daily Checklist**:
```
Day 01: [{{tick:day01}}] Codebase Overview
Day 02: [{{tick:day02}}] PagedAttention Theory
Day 03: [{{tick:day03}}] Block Manager Deep Dive
Day 04: [{{tick:day04}}] Attention Kernels Analysis
Day 05: [{{tick:day05}}] Scheduler & Batching
Day 06: [{{tick:day06}}] Model Executor
Day 07: [{{tick:day07}}] Week 1 Review & Integration

Day 08: [{{tick:day08}}] KV Cache Management
Day 09: [{{tick:day09}}] Quantization Techniques
Day 10: [{{tick:day10}}] Sampling Methods
Day 11: [{{tick:day11}}] Distributed Inference (TP)
Day 12: [{{tick:day12}}] Pipeline Parallelism
Day 13: [{{tick:day13}}] Custom Operators
Day 14: [{{tick:day14}}] Week 2 Review & Project
```

**Days Completed**: {{calc:days_completed|{U5}}} / 14

**Average Daily Time**: {{calc:avg_daily|{U5}}} hours

### Code Walkthroughs Completed
- {{item:wt-block-manager}} Block Manager (vllm/core/block_manager_v2.py)
- {{item:wt-scheduler}} Scheduler (vllm/core/scheduler.py)
- {{item:wt-attention-backend}} Attention Backend (vllm/attention/)
- {{item:wt-model-executor}} Model Executor (vllm/model_executor/)
- {{item:wt-cuda-attention}} CUDA Attention Kernels (csrc/attention/)

**Walkthroughs**: {{calc:done_in:walkthroughs|{U5}}} / 5

### CUDA Kernel Analysis
- {{item:ka-inventory}} Inventory all kernels (kernel_inventory.md)
- {{item:ka-pagedattention}} PagedAttention kernels deep dive
- {{item:ka-quantization}} Quantization kernels analysis
- {{item:ka-cache-ops}} Cache operation kernels
- {{item:ka-custom-ops}} Custom operator kernels

**Kernels Analyzed**: {{counter:kernels-analysed|{U5}}} / 20+

**Can Modify Kernels**: {{choice:kernel-modify}}

---

## 🛠️ Phase 4: Implementation Projects (Week 3-4)

### Mini-Projects

**Project 1: Simplified PagedAttention**
- {{item:p1-design}} Design & spec
- {{item:p1-block-manager}} Implement block manager (Python)
- {{item:p1-kernel}} Implement basic kernel (CUDA)
- {{item:p1-benchmark}} Test & benchmark
- {{item:p1-compare}} Compare with vLLM

**Status**: {{status:project1}}
**Performance vs vLLM**: {{field:p1-performance|{U5}}}%

**Project 2: Performance Profiler**
- {{item:p2-design}} Design profiling framework
- {{item:p2-metrics}} Collect metrics (latency, throughput, memory)
- {{item:p2-visualize}} Visualize results
- {{item:p2-recommendations}} Generate optimization recommendations

**Status**: {{status:project2}}
**Insights Gained**: {{field:p2-insights|{U43}}}

**Project 3: Custom Sampler**
- {{item:p3-understand}} Understand current sampling
- {{item:p3-design}} Design new strategy (e.g., beam search variant)
- {{item:p3-implement}} Implement
- {{item:p3-integrate}} Integrate with vLLM
- {{item:p3-test}} Test on models

**Status**: {{status:project3}}
**Working**: {{choice:p3-working}}

### Portfolio Artifacts
- {{item:pf-writeup}} Technical writeup (PagedAttention explainer)
- {{item:pf-design-doc}} System design doc (LLM serving)
- {{item:pf-perf-report}} Performance analysis report
- {{item:pf-repo}} Code repository (GitHub)
- {{item:pf-slides}} Presentation slides (30-min talk)

**Portfolio Complete**: {{calc:done_in:portfolio|{U5}}} / 5 artifacts

---

## 🚀 Phase 5: Advanced & Interview Prep (Week 4+)

### Advanced Topics
- {{item:adv-kernel-fusion}} Kernel fusion techniques
- {{item:adv-multi-gpu}} Multi-GPU strategies (deep dive)
- {{item:adv-quantization}} Quantization integration
- {{item:adv-perf-modeling}} Performance modeling
- {{item:adv-contribution}} Contribution to vLLM (optional)

**Topics Mastered**: {{calc:done_in:advanced|{U5}}} / 5

### Interview Preparation

**CUDA Coding Practice**:
- {{item:cp-problems-30}} 30/30 practice problems completed
- {{item:cp-under-20min}} Can solve in < 20 minutes each
- {{item:cp-explain}} Explain optimizations clearly
- {{item:cp-mock-sessions}} Mock coding sessions: {{counter:mock-coding|{U5}}} / 5

**Coding Confidence**: {{choice:coding-confidence}}

**System Design Practice**:
- {{item:dp-llm-serving}} LLM serving system (3+ iterations)
- {{item:dp-distributed-training}} Distributed training system
- {{item:dp-multi-tenant}} Multi-tenant GPU sharing
- {{item:dp-mock-sessions}} Mock design sessions: {{counter:mock-design|{U5}}} / 3

**Design Confidence**: {{choice:design-confidence}}

**Performance Optimization**:
- {{item:op-nsight-profiles}} Read 10+ Nsight profiles
- {{item:op-diagnose}} Diagnose bottlenecks quickly
- {{item:op-propose}} Propose optimizations
- {{item:op-quantify}} Quantify improvements

**Optimization Confidence**: {{choice:optimization-confidence}}

### Mock Interviews
```
@mocks
```

**Average Mock Score**: {{calc:mock_avg|{U5}}} / 10

**Ready for Real Interview**: {{choice:interview-ready}}

---

## 📈 Skill Progression Tracking

### Self-Assessment Matrix (1-5 scale)

| Component | Week 1 | Week 2 | Week 3 | Week 4 | Target |
|-----------|--------|--------|--------|--------|--------|
@@matrix

**Overall Average**: {{calc:skills_avg|{U5}}} / 5

**Target**: 4.0+ for interview readiness

---

## ⏱️ Time Tracking

### Weekly Time Log

@timelog

**Cumulative**: {{calc:hours|{U5}}} hours

---

## 🎓 Knowledge Checks

### Weekly Quizzes

**Week 1 Quiz** (Score: {{score:quiz-week1|{U3}}}/20)
- {{item:q1-architecture}} vLLM architecture questions
- {{item:q1-pagedattention}} PagedAttention theory
- {{item:q1-block-management}} Block management concepts
- {{item:q1-request-flow}} Request flow understanding

**Week 2 Quiz** (Score: {{score:quiz-week2|{U3}}}/20)
- {{item:q2-cuda-kernels}} CUDA kernel analysis
- {{item:q2-memory}} Memory optimization
- {{item:q2-scheduler}} Scheduler algorithms
- {{item:q2-distributed}} Distributed strategies

**Week 3 Quiz** (Score: {{score:quiz-week3|{U3}}}/20)
- {{item:q3-system-design}} System design scenarios
- {{item:q3-bottlenecks}} Performance bottlenecks
- {{item:q3-tradeoffs}} Trade-off discussions
- {{item:q3-integration}} Integration challenges

**Week 4 Quiz** (Score: {{score:quiz-week4|{U3}}}/20)
- {{item:q4-advanced}} Advanced optimizations
- {{item:q4-interview-questions}} Interview questions
- {{item:q4-real-world}} Real-world scenarios
- {{item:q4-review}} Comprehensive review

**Average Quiz Score**: {{calc:quiz_avg|{U5}}} / 20 (Target: 16+)

---

## 📝 Notes & Reflections

### Key Insights Gained

@insights

### Challenges Overcome

@challenges

### Questions for Further Study

@questions

---

## 🏆 Milestones & Achievements

- {{ms:m1}} **Milestone 1**: Environment setup & first example (Week 0)
- {{ms:m2}} **Milestone 2**: Understand PagedAttention deeply (Week 1)
- {{ms:m3}} **Milestone 3**: Implement simplified version (Week 2)
- {{ms:m4}} **Milestone 4**: Complete all daily plans (Week 3)
- {{ms:m5}} **Milestone 5**: Portfolio ready for showcase (Week 4)
- {{ms:m6}} **Milestone 6**: Mock interview score 8+ (Week 4)
- {{ms:final}} **FINAL MILESTONE**: Ready for NVIDIA interview! 🚀

**Milestones Achieved**: {{calc:milestones|{U5}}} / 7

---

## 🎯 Interview Readiness Checklist

### Technical Skills
- {{item:rt-cuda-from-scratch}} Can implement CUDA kernels from scratch
- {{item:rt-architecture}} Understand vLLM architecture completely
- {{item:rt-explain-pa}} Explain PagedAttention clearly
- {{item:rt-design-serving}} Design LLM serving system
- {{item:rt-diagnose}} Diagnose performance bottlenecks
- {{item:rt-tradeoffs}} Discuss trade-offs confidently

### Practical Experience
- {{item:rp-projects}} Built projects showcasing skills
- {{item:rp-profiled}} Profiled real kernels
- {{item:rp-optimized}} Optimized code (measurable improvements)
- {{item:rp-contributed}} Contributed ideas (GitHub issues, discussions)

### Communication
- {{item:rc-explain-simply}} Can explain complex topics simply
- {{item:rc-diagrams}} Draw diagrams fluently
- {{item:rc-clarifying}} Ask clarifying questions
- {{item:rc-tradeoffs}} Discuss trade-offs thoughtfully

### Confidence
- {{item:rf-live-coding}} Comfortable with live coding
- {{item:rf-whiteboard}} Ready for whiteboard system design
- {{item:rf-performance-questions}} Can handle performance questions
- {{item:rf-enthusiastic}} Enthusiastic about GPU systems

**Overall Readiness**: {{readiness}}

---

## 📅 Study Schedule

### Next 7 Days Plan

```
Tomorrow: {{calc:next:1|{U35}}}
Day 2: {{calc:next:2|{U38}}}
Day 3: {{calc:next:3|{U38}}}
Day 4: {{calc:next:4|{U38}}}
Day 5: {{calc:next:5|{U38}}}
Day 6: {{calc:next:6|{U38}}}
Day 7: {{calc:next:7|{U38}}}
```

### Upcoming Deadlines

@deadlines

---

## 💪 Motivation & Accountability

### Why This Matters

**Your Goal**: {{field:personal-goal|{U43}}}

**Impact**: {{field:impact|{U43}}}

**Commitment**: I will dedicate {{commit_hours|{U5}}} hours per day for {{commit_weeks|{U5}}} weeks.

### Weekly Commitment

I commit to:
- {{item:wc-study-4h}} Study minimum 4 hours per day
- {{item:wc-daily-plans}} Complete all daily plans
- {{item:wc-build-projects}} Build real projects
- {{item:wc-track-honestly}} Track progress honestly
- {{item:wc-review-weekly}} Review and reflect weekly

**Signature**: {{signature|{U15}}} **Date**: {{committed_on|{BLANK_DATE}}}

### Accountability Partner

**Name**: {{partner|{U15}}}
**Check-in Schedule**: {{field:checkin-schedule|{U15}}}
**Progress Shared**: {{choice:progress-shared}}

---

## 🎉 Celebration Moments

```
🎊 First successful vLLM inference: {{msdate:c-first-inference|{BLANK_DATE}}}
🎊 Understood PagedAttention: {{msdate:c-pagedattention|{BLANK_DATE}}}
🎊 First CUDA kernel compiled: {{msdate:c-first-kernel|{BLANK_DATE}}}
🎊 First project completed: {{msdate:c-first-project|{BLANK_DATE}}}
🎊 Mock interview score 8+: {{msdate:c-mock-8|{BLANK_DATE}}}
🎊 Ready for NVIDIA: {{msdate:c-ready|{BLANK_DATE}}}
```

---

## 📊 Final Summary (End of Learning Path)

**Total Time Invested**: {{calc:hours|{U5}}} hours

**Components Mastered**: {{calc:mastered|{U5}}} / 10

**Projects Completed**: {{calc:projects|{U5}}} / 3

**Mock Interview Average**: {{calc:mock_avg|{U5}}} / 10

**Confidence Level**: {{calc:confidence_avg|{U5}}} / 5

**Ready for Interview**: {{choice:final-ready}}

**Next Steps**: {{field:next-steps|{U43}}}

---

**Keep pushing! Every hour of study makes you stronger! 💪🚀**

{REMEMBER}

---

**Last Updated**: {{calc:last_updated|{BLANK_DATE}}}
**Current Phase**: {{calc:phase_name|{U15}}}
**Days Until Interview**: {{calc:days_until|{U5}}}
@extras"""


def _matrix_lines(plan: Plan, bold: bool = True) -> list[str]:
    lines = []
    for s in plan.skills:
        title = f"**{esc(s.title)}**" if bold else esc(s.title)
        cells = " | ".join(f"{{rating:{s.id}:{w}|{U3}}}" for w in range(1, plan.weeks + 1))
        lines.append(f"| {title} | {cells} | {s.target} |")
    return lines


def vllm_template(plan: Plan) -> Template:
    """Build the default plan's tracker: the spec itself with placeholders."""
    text = VLLM_TEMPLATE.replace("@@matrix", "\n".join(_matrix_lines(plan)))
    return build_template(plan, text, bold_deadlines=plan.default_deadlines[-1:])


def _item_lines(plan: Plan, section_id: str) -> list[str]:
    lines = []
    for item in plan.items_in_section(section_id):
        depth, parent = 0, item.parent
        while parent is not None:
            depth += 1
            parent = plan.items_by_id[parent].parent
        lines.append(f"{'  ' * depth}- {{item:{item.id}}} {esc(item.title)}")
    return lines


def _field_line(f: Field) -> str:
    if f.kind in ("choice", "scale"):
        return f"**{esc(f.title)}**: {{choice:{f.id}}}"
    if f.kind == "percent":
        return f"**{esc(f.title)}**: {{field:{f.id}|{U5}}}%"
    return f"**{esc(f.title)}**: {{field:{f.id}|{U15}}}"


def _counter_line(c: Any) -> str:
    goal = f" / {c.max}" if c.max is not None else (
        f" / {c.target}+" if c.target is not None else "")
    unit = f" {esc(c.unit)}" if c.unit else ""
    return f"- {esc(c.title)}: {{counter:{c.id}|{U5}}}{goal}{unit}"


def generic_template_text(plan: Plan) -> str:
    """Build the tracker text of any plan: phases -> sections -> items, then the rest."""
    out = [f"# 📊 {esc(plan.title)}", "", "> **Your Learning Journey Dashboard**",
           f"> **Start Date**: {{start|{U15}}}", f"> **Target Completion**: {{target|{U15}}}",
           f"> **Goal**: {{goal|{U15}}}", "", "---", "", "## 🎯 Overall Progress", "", "```",
           "{calc:overall_bar}", ""]
    out += [f"Week {w}: {{calc:week_bar:{w}}}" for w in range(1, plan.weeks + 1)]
    out += ["```", "", "**Current Phase**: {phase}", "",
            f"**Hours Invested**: {{calc:hours|{U5}}} / {plan.hours_min}-{plan.hours_max} hours",
            "", "---"]
    placed_scores: set[str] = set()
    placed_fields: set[str] = set()
    for n, phase in enumerate(plan.phases, start=1):
        out += ["", f"## Phase {n}: {esc(phase.title)} (Week {esc(phase.weeks)})"]
        for section in plan.sections:
            if section.phase != phase.id:
                continue
            out += ["", f"### {esc(section.title)}"]
            out += _item_lines(plan, section.id)
            counters = [_counter_line(c) for c in plan.counters if c.section == section.id]
            if counters:
                out += ["", *counters]
            extra: list[str] = []
            for s in plan.scores:
                if s.completes_item and plan.items_by_id[s.completes_item].section == section.id:
                    placed_scores.add(s.id)
                    extra.append(f"**{esc(s.title)}**: {{score:{s.id}|{U5}}} / {s.max}")
            for f in plan.fields:
                if f.section == section.id:
                    placed_fields.add(f.id)
                    extra.append(_field_line(f))
            for line in extra:
                out += ["", line]
        out += ["", "---"]
    rest_scores = [s for s in plan.scores if s.id not in placed_scores]
    if rest_scores:
        out += ["", "## 🎓 Scores", ""]
        out += [f"**{esc(s.title)}**: {{score:{s.id}|{U5}}} / {s.max}" for s in rest_scores]
        if plan.quiz_scores:
            target = f" (Target: {plan.quiz_target}+)" if plan.quiz_target else ""
            top = max(s.max for s in plan.quiz_scores)
            out += ["", f"**Average Quiz Score**: {{calc:quiz_avg|{U5}}} / {top}{target}"]
        out += ["", "---"]
    rest_fields = [f for f in plan.fields if f.id not in placed_fields]
    if rest_fields:
        out += ["", "## 🗒️ More About You", ""]
        for f in rest_fields:
            out += [_field_line(f), ""]
        out += ["---"]
    if plan.mock_interviews:
        out += ["", "## 🎤 Interview Practice", "", "### Mock Interviews", "```", "@mocks", "```",
                "", f"**Average Mock Score**: {{calc:mock_avg|{U5}}} / {plan.mock_max}", "",
                "---"]
    if plan.skills:
        lo, hi = plan.skill_scale
        weeks = " | ".join(f"Week {w}" for w in range(1, plan.weeks + 1))
        dashes = "|".join("--------" for _ in range(plan.weeks))
        out += ["", "## 📈 Skill Progression Tracking", "",
                f"### Self-Assessment Matrix ({lo}-{hi} scale)", "",
                f"| Component | {weeks} | Target |", f"|-----------|{dashes}|--------|"]
        out += _matrix_lines(plan)
        out += ["", f"**Overall Average**: {{calc:skills_avg|{U5}}} / {hi}", "", "---"]
    out += ["", "## ⏱️ Time Tracking", "", "### Weekly Time Log", "", "@timelog", "",
            f"**Cumulative**: {{calc:hours|{U5}}} hours", "", "---",
            "", "## 📝 Notes & Reflections", "", "### Key Insights Gained", "", "@insights", "",
            "### Challenges Overcome", "", "@challenges", "",
            "### Questions for Further Study", "", "@questions", "", "---"]
    ms_lines = []
    for ms in plan.milestones_of_kind("milestone"):
        week = f" (Week {esc(ms.week)})" if ms.week else ""
        ms_lines.append(f"- {{ms:{ms.id}}} **{esc(ms.title)}**{week}")
    celebrations = [f"🎊 {esc(ms.title)}: {{msdate:{ms.id}|{BLANK_DATE}}}"
                    for ms in plan.milestones_of_kind("celebration")]
    achievements = [f"- {{ms:{ms.id}}} {esc(ms.title)}"
                    for ms in plan.milestones_of_kind("achievement")]
    if plan.milestones:
        out += ["", "## 🏆 Milestones & Achievements"]
        if ms_lines:
            out += ["", *ms_lines, "",
                    f"**Milestones Achieved**: {{calc:milestones|{U5}}} / {len(ms_lines)}"]
        if celebrations:
            out += ["", "### Celebration Moments", "", "```", *celebrations, "```"]
        if achievements:
            out += ["", "### Achievements", "", *achievements]
        out += ["", "---"]
    out += ["", "## 📅 Study Schedule", "", "### Upcoming Deadlines", "", "@deadlines", "", "---",
            "", "## 💪 Motivation & Accountability", "",
            f"**Commitment**: I will dedicate {{commit_hours|{U5}}} hours per day for "
            f"{{commit_weeks|{U5}}} weeks.", "",
            f"**Signature**: {{signature|{U15}}} **Date**: {{committed_on|{BLANK_DATE}}}", "",
            "### Accountability Partner", "", f"**Name**: {{partner|{U15}}}", "", "---", "",
            f"**Total Time Invested**: {{calc:hours|{U5}}} hours",
            f"**Last Updated**: {{calc:last_updated|{BLANK_DATE}}}",
            f"**Current Phase**: {{calc:phase_name|{U15}}}", "@extras"]
    return "\n".join(out)


_TEMPLATES: dict[tuple[str, int], Template] = {}


def template_for(plan: Plan) -> Template:
    """Return the tracker template of a plan: the spec for the default plan, else generic."""
    key = (plan.id, id(plan))
    found = _TEMPLATES.get(key)
    if found is None or found.plan is not plan:
        if plan.id == "vllm":
            found = vllm_template(plan)
        else:
            found = build_template(plan, generic_template_text(plan))
        _TEMPLATES[key] = found
    return found


def render_markdown(data: LearnerData, plan: Plan, today: date) -> str:
    """Render the learner's filled-in tracker for their plan as of their study day TODAY."""
    return template_for(plan).render(Ctx(data, plan, today))


def export_filename(plan: Plan, today: date) -> str:
    """Name the exported tracker file."""
    return f"{plan.id}-progress-tracker-{today.isoformat()}.md"

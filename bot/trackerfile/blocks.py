"""The ``@name`` blocks of a template: parts whose number of lines follows the data.

``@timelog``, ``@insights``, ``@challenges``, ``@questions``, ``@mocks``, ``@deadlines`` and
``@extras``. A block renders its lines from the data and declares the lines (``body``) that the
import reads inside it, after its heading (``entry``).

Decisions (also in docs/export-format.md):
- The weekly time log shows day lines for week 1, every week that has begun and every week
  with time logged (weeks past the plan's end too); later weeks keep
  ``[Fill in as you progress]``. Time logged before the start date is listed by date in a
  ``**Before Week 1**`` block. A day's line holds its total and its distinct topics.
- Insights, challenges and questions show at least the spec's three lines each.
- Deadlines: the plan's default titles are matched to the learner's deadlines by title,
  case-insensitively; other deadlines follow in date order. ``@deadlines bold=TITLE`` shows
  that default title in bold (the spec's **NVIDIA Interview**).
- Values the template has no place for (e.g. the Nsight profile counter, pauses,
  achievements) are listed under ``## 🗂️ Also Tracked by Pacer``, only when one is set.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from typing import Any, ClassVar

from bot import progress as p
from bot.plan import Plan
from bot.timing import plan_week, week_dates
from bot.trackerfile.fill import Ctx, render_line
from bot.trackerfile.language import (
    BLANK_DATE,
    U3,
    U15,
    U25,
    U35,
    U43,
    U47,
    TLine,
    encode_optional,
    encode_text,
    esc,
    parse_line,
    slot_values,
)

log = logging.getLogger(__name__)

FILL_IN = "[Fill in as you progress]"
EXTRAS_HEADING = "## 🗂️ Also Tracked by Pacer"
BEFORE_WEEK_1 = "**Before Week 1**:"
NOTE_LINES_SHOWN = 3


class Block:
    """A ``@name`` block: renders a variable number of lines, read back with `body` patterns."""

    name: ClassVar[str] = ""
    entry: ClassVar[str] = ""  # the heading line after which the import reads this block
    BODY: ClassVar[tuple[TLine, ...]] = ()

    def __init__(self, plan: Plan, option: str = "") -> None:
        self.plan = plan
        self.option = option

    def render(self, ctx: Ctx) -> list[str]:
        """Render the block's lines for the learner."""
        raise NotImplementedError

    def body(self) -> tuple[TLine, ...]:
        """Return the lines the import reads inside this block."""
        return self.BODY


def _hours(minutes: int) -> str | None:
    return p.exact_hours(minutes) if minutes else None


def _joined(chunks: Iterable[list[str]]) -> list[str]:
    """Join groups of lines with one empty line between them."""
    out: list[str] = []
    for n, chunk in enumerate(chunks):
        out += ([""] if n else []) + chunk
    return out


class TimeLogBlock(Block):
    """The weekly time log: a day line per day of each week shown, with the week's total."""

    name = "timelog"
    entry = "### Weekly Time Log"
    WEEK = parse_line("**Week {logweek}**:")
    BEFORE = parse_line(BEFORE_WEEK_1)
    DAY = parse_line(f"Day {{logday}}: {{loghours|{U3}}}h | Topics: {{logtopics|{U25}}}")
    DATED = parse_line(f"{{logdate}}: {{loghours|{U3}}}h | Topics: {{logtopics|{U25}}}")
    TOTAL = parse_line(f"Total: {{calc:week_total|{U3}}}h")
    BODY = (WEEK, BEFORE, DAY, DATED, TOTAL)

    def _day(self, line: TLine, entry: tuple[int, str | None] | None, **extra: str) -> str:
        minutes, topics = entry if entry else (0, None)
        return line.fill(slot_values(loghours=_hours(minutes),
                                     logtopics=encode_optional(topics), **extra))

    def _total(self, minutes: int) -> str:
        return self.TOTAL.fill(lambda s: _hours(minutes))

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
        weeks = []
        for w in range(1, max(self.plan.weeks, last) + 1):
            dates = week_dates(start, w)
            shown = w == 1 or dates[0] <= ctx.today or any(d in by_day for d in dates)
            days = ([self._day(self.DAY, by_day.get(d), logday=str(n))
                     for n, d in enumerate(dates, start=1)] if shown else [FILL_IN])
            total = self._total(sum(by_day.get(d, (0, None))[0] for d in dates))
            weeks.append([self.WEEK.fill(slot_values(logweek=str(w))), "```", *days, total,
                          "```"])
        return lines + _joined(weeks)


class InsightsBlock(Block):
    """The key insights, numbered within each plan week."""

    name = "insights"
    entry = "### Key Insights Gained"
    WEEK = parse_line("**Week {noteweek}**:")
    LINE = parse_line(f"{{noteno}}. {{insight|{U43}}}")
    BODY = (WEEK, LINE)

    def render(self, ctx: Ctx) -> list[str]:
        by_week: dict[int, list[str]] = {}
        for n in ctx.data.notes:
            if n.kind == "insight" and n.week is not None:
                by_week.setdefault(n.week, []).append(n.text)
        weeks = []
        for w in range(1, max([self.plan.weeks, *by_week]) + 1):
            texts = by_week.get(w, [])
            lines = [self.LINE.fill(slot_values(noteno=str(i + 1),
                                                insight=encode_optional(text)))
                     for i, text in enumerate(_padded(texts))]
            weeks.append([self.WEEK.fill(slot_values(noteweek=str(w))), "```", *lines, "```"])
        return _joined(weeks)


def _padded(values: list[Any]) -> list[Any]:
    """Pad a block's values with None up to the lines the spec always shows."""
    return values + [None] * (NOTE_LINES_SHOWN - len(values))


class ChallengesBlock(Block):
    """The challenges overcome, each with its solution and learning."""

    name = "challenges"
    entry = "### Challenges Overcome"
    LINE = parse_line(f"{{noteno}}. **Challenge**: {{challenge|{U35}}}")
    SOLUTION = parse_line(f"   **Solution**: {{solution|{U35}}}")
    LEARNING = parse_line(f"   **Learning**: {{learning|{U35}}}")
    BODY = (LINE, SOLUTION, LEARNING)

    def render(self, ctx: Ctx) -> list[str]:
        notes = _padded([n for n in ctx.data.notes if n.kind == "challenge"])
        return _joined([
            self.LINE.fill(slot_values(noteno=str(i + 1),
                                       challenge=encode_optional(n and n.text))),
            self.SOLUTION.fill(slot_values(solution=encode_optional(n and n.solution))),
            self.LEARNING.fill(slot_values(learning=encode_optional(n and n.learning))),
        ] for i, n in enumerate(notes))


class QuestionsBlock(Block):
    """The questions for further study."""

    name = "questions"
    entry = "### Questions for Further Study"
    LINE = parse_line(f"{{noteno}}. {{question|{U47}}}")
    BODY = (LINE,)

    def render(self, ctx: Ctx) -> list[str]:
        texts = _padded([n.text for n in ctx.data.notes if n.kind == "question"])
        return [self.LINE.fill(slot_values(noteno=str(i + 1), question=encode_optional(t)))
                for i, t in enumerate(texts)]


class MocksBlock(Block):
    """The mock interviews, one line per slot of the plan (and any past them)."""

    name = "mocks"
    entry = "### Mock Interviews"

    def __init__(self, plan: Plan, option: str = "") -> None:
        super().__init__(plan, option)
        self.LINE = parse_line(
            f"Interview {{mockslot}}: {{mockdate|{BLANK_DATE}}} | Score: {{mockscore|{U3}}}/"
            f"{plan.mock_max} | Feedback: {{mockfeedback|{U15}}}")

    def body(self) -> tuple[TLine, ...]:
        return (self.LINE,)

    def render(self, ctx: Ctx) -> list[str]:
        by_slot = {m.slot: m for m in ctx.data.mocks}
        lines = []
        for s in range(1, max([self.plan.mock_interviews, *by_slot]) + 1):
            m = by_slot.get(s)
            lines.append(self.LINE.fill(slot_values(
                mockslot=str(s), mockdate=m.held_on.isoformat() if m else None,
                mockscore=str(m.score) if m else None,
                mockfeedback=encode_optional(m and m.feedback))))
        return lines


class DeadlinesBlock(Block):
    """The deadlines: the plan's default titles first, then the learner's own."""

    name = "deadlines"
    entry = "### Upcoming Deadlines"
    BOLD = parse_line(f"- **{{dltitle}}**: {{dldate|{BLANK_DATE}}}")
    PLAIN = parse_line(f"- {{dltitle}}: {{dldate|{BLANK_DATE}}}")
    BODY = (BOLD, PLAIN)

    def __init__(self, plan: Plan, option: str = "") -> None:
        super().__init__(plan, option)
        key, _, title = option.partition("=")
        if option and key.strip() != "bold":
            raise ValueError(f"@deadlines takes bold=TITLE, not {option!r}")
        self.bold = title.strip().casefold()

    def render(self, ctx: Ctx) -> list[str]:
        by_title = {}
        for d in ctx.data.deadlines:
            by_title.setdefault(d.title.casefold(), d)
        lines = []
        defaults = {t.casefold() for t in self.plan.default_deadlines}
        for title in self.plan.default_deadlines:
            d = by_title.get(title.casefold())
            line = self.BOLD if self.bold and title.casefold() == self.bold else self.PLAIN
            lines.append(line.fill(slot_values(dltitle=encode_text(title),
                                               dldate=d.due_date.isoformat() if d else None)))
        for d in ctx.data.deadlines:
            if d.title.casefold() in defaults or by_title.get(d.title.casefold()) is not d:
                continue
            lines.append(self.PLAIN.fill(slot_values(dltitle=encode_text(d.title),
                                                     dldate=d.due_date.isoformat())))
        return lines


def goal_text(goal_max: int | None, target: int | None) -> str:
    """Write a counter's goal after its value: `` / 10`` or `` / 3+``."""
    if goal_max is not None:
        return f" / {goal_max}"
    return f" / {target}+" if target is not None else ""


class ExtrasBlock(Block):
    """Values the template has no place for: listed at the end, only when set."""

    name = "extras"
    entry = EXTRAS_HEADING
    PAUSE = parse_line("- Paused: {pausestart} to {pauseend}")

    def __init__(self, plan: Plan, placed: set[tuple[str, str]]) -> None:
        super().__init__(plan)
        lines: list[tuple[str, TLine]] = []
        for c in plan.counters:
            if ("counter", c.id) not in placed:
                goal = goal_text(c.max, c.target)
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
        body += [self.PAUSE.fill(slot_values(pausestart=a.isoformat(), pauseend=b.isoformat()))
                 for a, b in sorted(ctx.data.pauses)]
        if not body:
            return []
        return ["", "---", "", EXTRAS_HEADING, "", *body]

"""Read a filled-in tracker Markdown back into the store: parse, preview, then apply at once.

``parse_tracker`` turns the text into an ``ImportPlan``: the values the file states (claims),
the changes they make to the learner's data, the lines it could not read (listed, never
guessed at) and the lines it understood but does not import (the partner's name).
``apply_import`` applies a plan in one transaction, recorded as one undoable change.

Rules (also in docs/export-format.md):
- Lines are matched against the plan's tracker template (``bot.export_markdown``), in order;
  blank lines, code fences and ``---`` are skipped; computed lines (bars, averages, counts,
  statuses) are recognised and ignored.
- A filled value wins over the stored one; a blank or an unticked box leaves the stored value
  alone. Import never deletes anything, except that a day of the time log is replaced by the
  file's total for that day when they differ.
- Runs of three or more underscores left at the start or end of a typed text are dropped.
- A ticked box without a ``(done DATE)`` is done on the day of the import; a ticked milestone
  without ``(reached DATE)`` is reached that day.
- A value that is readable but impossible (a quiz of 25/20, a rating of 7, a date in 1900 or in
  the future where only the past makes sense) refuses the whole file with the line numbers.
- Milestones the file does not list but whose conditions hold are recorded like after any
  other change (dated the day of the import).
- Filled scores do not tick the item they stand for: the file says what is ticked.
"""

from __future__ import annotations

import logging
import re
import unicodedata
from collections import Counter as Multiset
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from pathlib import PurePath
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot import models as m
from bot.actors import Actor
from bot.errors import InputError, PacerError, StateError
from bot.export_markdown import (
    COMPUTED_KINDS,
    TICKED,
    UNTICKED,
    Block,
    ChallengesBlock,
    DeadlinesBlock,
    ExtrasBlock,
    InsightsBlock,
    Lit,
    MocksBlock,
    QuestionsBlock,
    Slot,
    Template,
    TimeLogBlock,
    TLine,
    choice_options,
    day_totals,
    decode_text,
    template_for,
)
from bot.limits import MAX_DEADLINES, MAX_NOTES
from bot.outcomes import Imported
from bot.parsing import MAX_WEEKS, check_text, parse_date, quote_input
from bot.plan import Plan
from bot.services.context import Context
from bot.services.units import Unit, Units
from bot.snapshot import LearnerData, load_one

log = logging.getLogger(__name__)

MAX_BYTES = 512 * 1024
MAX_LINES = 10_000
MAX_DAY_MINUTES = 24 * 60
TOPIC_MAX = 200
FEEDBACK_MAX = 500
NOTE_MAX = 1000
TITLE_MAX = 100
GOAL_MAX = 500
NAME_MAX = 100
MIN_RECOGNISED = 10
ACCEPTED_SUFFIXES = (".md", ".markdown", ".txt")
FIRST_YEAR, LAST_YEAR = 2000, 2100

_TICKED_MARKS = "☑☒✅✔✓xX"
_BOX_MARKS = UNTICKED + TICKED + "☒✅✔✓"


# --- results -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class LineNote:
    """A line of the file with what happened to it."""

    line: int
    text: str
    reason: str

    def describe(self) -> str:
        return f"line {self.line}: {quote_input(self.text, 60)} — {self.reason}"


@dataclass(frozen=True)
class Claim:
    """A value the file states, with the line that states it."""

    value: Any
    line: int


@dataclass(frozen=True)
class Change:
    """One difference between the file and the store, in the order it is applied."""

    kind: str
    key: tuple[Any, ...]
    value: Any
    line: int
    summary: str


@dataclass
class ImportPlan:
    """What an import would do: the file's claims, the changes, and the lines left out."""

    plan_id: str
    filename: str
    claims: dict[tuple[Any, ...], Claim]
    changes: list[Change]
    unreadable: list[LineNote] = field(default_factory=list)
    ignored: list[LineNote] = field(default_factory=list)

    def preview(self, limit: int = 30, max_chars: int = 3500) -> str:
        """Describe the changes and the unread lines for the confirmation message."""
        text = self._preview(limit)
        if len(text) <= max_chars:
            return text
        cut = text.rfind("\n", 0, max_chars - 40)
        return text[:cut] + "\n… (the list goes on; fix or check the file, then import again)"

    def _preview(self, limit: int) -> str:
        name = quote_input(self.filename, 60)
        if self.changes:
            lines = [f"Importing {name} makes {len(self.changes)} change"
                     f"{'s' if len(self.changes) != 1 else ''}:"]
            lines += [f"• line {c.line}: {c.summary}" for c in self.changes[:limit]]
            if len(self.changes) > limit:
                lines.append(f"… and {len(self.changes) - limit} more.")
        else:
            lines = [f"{name} holds nothing that differs from your tracker."]
        if self.unreadable:
            lines.append(f"Lines I could not read ({len(self.unreadable)}; they are left out, "
                         "fix them and import again to include them):")
            lines += [f"• {n.describe()}" for n in self.unreadable[:limit // 2]]
            if len(self.unreadable) > limit // 2:
                lines.append(f"… and {len(self.unreadable) - limit // 2} more.")
        if self.ignored:
            lines.append("Not imported:")
            lines += [f"• {n.describe()}" for n in self.ignored[:5]]
        return "\n".join(lines)


class _Unreadable(Exception):
    """The line's value is not in a form we read: list it, import nothing from it."""


class _Impossible(Exception):
    """The line's value is readable but cannot be true: refuse the file."""


# --- the bytes of an upload ------------------------------------------------------------------


def decode_upload(data: bytes, filename: str) -> str:
    """Check an uploaded tracker (name, size, encoding) and return its text."""
    shown = quote_input(filename or "the file", 60)
    suffix = PurePath(filename or "").suffix.lower()
    if suffix not in ACCEPTED_SUFFIXES:
        raise InputError(f"{shown} is not a Markdown file: upload the tracker as a .md file "
                         "(the one `/export markdown` gives you, or a filled-in copy of the "
                         "tracker template).")
    if len(data) > MAX_BYTES:
        raise InputError(f"{shown} is {len(data) // 1024} KiB; a tracker may be at most "
                         f"{MAX_BYTES // 1024} KiB (an exported one is about 25 KiB).")
    if not data.strip():
        raise InputError(f"{shown} is empty; upload your filled-in tracker.")
    boms = ((b"\xff\xfe\x00\x00", "utf-32-le", "UTF-32"), (b"\x00\x00\xfe\xff", "utf-32-be",
            "UTF-32"), (b"\xef\xbb\xbf", "utf-8", "UTF-8"), (b"\xff\xfe", "utf-16-le", "UTF-16"),
            (b"\xfe\xff", "utf-16-be", "UTF-16"))
    for bom, codec, label in boms:
        if data.startswith(bom):
            try:
                text = data[len(bom):].decode(codec)
            except UnicodeDecodeError:
                raise InputError(f"{shown} starts like {label} text but is not valid {label}; "
                                 "save it again as UTF-8 and upload it.") from None
            break
    else:
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError as exc:
            if b"\x00" in data:
                raise InputError(f"{shown} is not a text file (it holds NUL bytes); upload the "
                                 "tracker as UTF-8 Markdown text.") from None
            raise InputError(
                f"{shown} is not UTF-8 text (byte {exc.start} is 0x{data[exc.start]:02x}): it "
                "seems to use another encoding (such as Windows-1252 or Latin-1). Save it as "
                "UTF-8 (or UTF-16 with a byte order mark) and upload it again.") from None
    if "\x00" in text:
        raise InputError(f"{shown} is not a text file (it holds NUL characters); upload the "
                         "tracker as UTF-8 Markdown text.")
    return text


# --- matching lines to the template ---------------------------------------------------------


_FILLER_RE = re.compile(r"\s*(?:```.*|-{3,}|\*{3,}|_{3,}|\[Fill in as you progress\])?\s*")
_SLOT_RE = {
    "item": r"\[[ \t]*[xX✓✔☑✅]?[ \t]*\]",
    "ms": r"\[[ \t]*[xX✓✔☑✅]?[ \t]*\]",
    "tick": r"[^\]]*",
    "logweek": r"\d{1,3}",
    "noteweek": r"\d{1,3}",
    "logday": r"\d{1,3}",
    "noteno": r"\d{1,4}",
    "mockslot": r"\d{1,3}",
    "logdate": r"\d{4}-\d{1,2}-\d{1,2}",
    "dltitle": r".+",
}
_SUFFIX_RE = r"(?:\s*\((?:done|reached)\s+(?P<sfx>[^()]*?)\s*\))?"


def _slot_regex(slot: Slot) -> str:
    if slot.kind == "calc" and slot.arg == "overall_bar":
        return r"\[[^\]]*\].*"  # a line of its own: only a bar may match it
    return _SLOT_RE.get(slot.kind, ".*?")


def _is_filler(line: str) -> bool:
    return _FILLER_RE.fullmatch(line) is not None


def _normalize(line: str) -> str:
    return line.rstrip()


def _literal_regex(text: str) -> str:
    """Match literal template text, tolerant of spacing and of emoji dropped or restyled."""
    out = []
    for ch in text:
        if ch.isspace():
            if not out or out[-1] != r"\s*":
                out.append(r"\s*")
        elif ch == "\ufe0f":
            continue
        elif unicodedata.category(ch) == "So" and ch not in _BOX_MARKS:
            out.append(f"(?:{re.escape(ch)}\ufe0f?)?")
        else:
            out.append(re.escape(ch))
    return "".join(out)


def _line_regex(line: TLine) -> re.Pattern[str]:
    parts = [r"\s*"]
    n = 0
    for seg in line.segments:
        if isinstance(seg, Lit):
            parts.append(_literal_regex(seg.text))
        else:
            parts.append(f"(?P<s{n}>{_slot_regex(seg)})")
            n += 1
    if line.suffix is not None:
        parts.append(_SUFFIX_RE)
    parts.append(r"\s*")
    return re.compile("".join(parts))


@dataclass(frozen=True)
class _Rule:
    index: int
    line: TLine
    regex: re.Pattern[str]
    block: Block | None = None  # a line of this block (only read inside it)
    enters: Block | None = None  # the heading that opens this block


_RULES: dict[int, tuple[Template, tuple[_Rule, ...]]] = {}


def _rules(template: Template) -> tuple[_Rule, ...]:
    cached = _RULES.get(id(template))
    if cached is not None and cached[0] is template:
        return cached[1]
    rules: list[_Rule] = []
    entries = {b.entry: b for b in template.blocks}
    seen: set[str] = set()
    for e in template.entries:
        if isinstance(e, Block):
            if e.entry not in seen:
                line = TLine((Lit(e.entry),))
                rules.append(_Rule(len(rules), line, _line_regex(line), enters=e))
            for line in e.body():
                rules.append(_Rule(len(rules), line, _line_regex(line), block=e))
            continue
        if not e.slots and _is_filler(e.text):
            continue
        enters = entries.get(e.text) if not e.slots else None
        if enters is not None:
            seen.add(e.text)
        rules.append(_Rule(len(rules), e, _line_regex(e), enters=enters))
    result = tuple(rules)
    _RULES[id(template)] = (template, result)
    return result


def _match(rules: Sequence[_Rule], line: str, cursor: int,
           block: Block | None) -> tuple[_Rule, re.Match[str]] | None:
    if block is not None:
        for r in rules:
            if r.block is block and (mt := r.regex.fullmatch(line)):
                return r, mt
    for r in (*rules[cursor:], *rules[:cursor]):
        if r.block is None and (mt := r.regex.fullmatch(line)):
            return r, mt
    return None


# --- reading values ------------------------------------------------------------------------------


def _blank(text: str) -> bool:
    return re.fullmatch(r"[\s_/]*", text) is not None


def _int(text: str, what: str, lo: int, hi: int | None) -> int:
    t = text.strip()
    if not re.fullmatch(r"[+\-−]?\d{1,9}", t):
        raise _Unreadable(f"{what} must be a whole number")
    value = int(t.replace("−", "-"))
    if value < lo or (hi is not None and value > hi):
        top = f" to {hi}" if hi is not None else " or more"
        raise _Impossible(f"{what} is {value}; it must be {lo}{top}")
    return value


def _hours(text: str, what: str, lo_minutes: int, hi_minutes: int) -> int:
    t = text.strip().replace(",", ".")
    if not re.fullmatch(r"\d{1,5}(?:\.\d{1,4})?", t):
        raise _Unreadable(f"{what} must be a number of hours such as 2 or 2.5")
    try:
        minutes = int((Decimal(t) * 60).quantize(Decimal(1), rounding=ROUND_HALF_UP))
    except InvalidOperation:  # pragma: no cover - the pattern above rules it out
        raise _Unreadable(f"{what} must be a number of hours") from None
    if not lo_minutes <= minutes <= hi_minutes:
        raise _Impossible(f"{what} is {t} hours; it must be more than "
                          f"{lo_minutes // 60 if lo_minutes >= 60 else 0} and at most "
                          f"{hi_minutes // 60} hours")
    return minutes


_ISO_DATE = re.compile(r"(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})")


def _date(text: str, what: str, today: date, *, past_only: bool) -> date:
    t = text.strip()
    m = _ISO_DATE.fullmatch(t)
    if m:
        year, month, day = (int(g) for g in m.groups())
        if not FIRST_YEAR <= year <= LAST_YEAR:
            raise _Impossible(f"{what} {t} is not a date Pacer keeps (years {FIRST_YEAR} to "
                              f"{LAST_YEAR})")
        try:
            value = date(year, month, day)
        except ValueError:
            raise _Impossible(f"{what} {t} is not a real date") from None
    else:
        try:
            value = parse_date(t)
        except PacerError:
            raise _Unreadable(f"{what} is not a date I can read without guessing; write it as "
                              "YYYY-MM-DD, e.g. 2026-12-01") from None
    if past_only and value > today:
        raise _Impossible(f"{what} {value.isoformat()} is in the future (today is "
                          f"{today.isoformat()})")
    return value


def _text(text: str, what: str, limit: int) -> str | None:
    if _blank(text):
        return None
    # Text typed into a blank often keeps the rest of its underline: drop it.
    text = re.sub(r"^_{3,}\s*|\s*_{3,}$", "", text.strip())
    try:
        return check_text(decode_text(text), what, limit)
    except InputError as exc:
        raise _Impossible(exc.message) from None


def _choice(text: str, options: Sequence[str], what: str) -> str | None:
    """Read ``☐ A ☑ B ☐ C`` (or one option written out) as the ticked option."""
    t = text.strip()
    if not t or _blank(t):
        return None
    marks = re.compile(r"(\[[ \t]*[xX]?[ \t]*\]|[" + re.escape(_BOX_MARKS) + r"])")
    parts = marks.split(t)
    if len(parts) == 1:
        found = [o for o in options if _compact(o) == _compact(t)]
        if len(found) == 1:
            return found[0]
        raise _Unreadable(f"{what}: tick one of {', '.join(options)}")
    if parts[0].strip():
        raise _Unreadable(f"{what}: expected the options {', '.join(options)} with boxes")
    labels = [parts[i + 1].strip() for i in range(1, len(parts), 2)]
    boxes = [parts[i] for i in range(1, len(parts), 2)]
    if [_compact(x) for x in labels] != [_compact(o) for o in options]:
        raise _Unreadable(f"{what}: the options should be {', '.join(options)}")
    ticked = [options[i] for i, b in enumerate(boxes)
              if any(c in b for c in _TICKED_MARKS)]
    if len(ticked) > 1:
        raise _Unreadable(f"{what}: {len(ticked)} options are ticked; tick one")
    return ticked[0] if ticked else None


def _compact(text: str) -> str:
    return re.sub(r"\s+", " ", text.strip().casefold())


def _ticked(box: str) -> bool:
    return any(c in box for c in _TICKED_MARKS)


class _Reader:
    """Walk the file's lines, collecting claims, unreadable lines and impossible values."""

    def __init__(self, plan: Plan, data: LearnerData, today: date) -> None:
        self.plan, self.data, self.today = plan, data, today
        self.claims: dict[tuple[Any, ...], Claim] = {}
        self.unreadable: list[LineNote] = []
        self.ignored: list[LineNote] = []
        self.errors: list[str] = []
        self.recognised = 0
        self.title_seen = False
        self.week: int | None = None
        self.before = False
        self.note_week: int | None = None
        self.challenge: int | None = None
        self.challenges: dict[int, dict[str, Any]] = {}
        self.line = 0

    # claims of one line are kept only if the whole line reads
    def claim(self, local: list[tuple[tuple[Any, ...], Any]], line: int) -> None:
        for key, value in local:
            old = self.claims.get(key)
            if old is not None and old.value != value:
                self.errors.append(f"Line {line} says {_show(value)} where line {old.line} "
                                   f"says {_show(old.value)} ({_key_label(key, self.plan)}); "
                                   "keep one of them.")
                continue
            if old is None:
                self.claims[key] = Claim(value, line)

    def read(self, rule: _Rule, mt: re.Match[str], line: int) -> list[tuple[tuple, Any]]:
        texts = [mt.group(f"s{i}") for i in range(len(rule.line.slots))]
        slots = rule.line.slots
        block = rule.block
        suffix = mt.groupdict().get("sfx")
        if block is not None:
            values = dict(zip([s.kind for s in slots], texts, strict=True))
            return self._block_line(block, rule.line, values, slots, suffix)
        if rule.enters is not None:
            self.week, self.before, self.note_week, self.challenge = None, False, None, None
        local: list[tuple[tuple, Any]] = []
        for slot, text in zip(slots, texts, strict=True):
            local += self._slot(slot, text, suffix)
        return local

    def _slot(self, slot: Slot, text: str, suffix: str | None) -> list[tuple[tuple, Any]]:
        k, a, plan, today = slot.kind, slot.arg, self.plan, self.today
        if k in COMPUTED_KINDS:
            return []
        if k in ("item", "tick", "ms"):
            word = "done" if k != "ms" else "reached"
            key = ("done", a) if k != "ms" else ("ms", a)
            what = (plan.items_by_id[a].title if k != "ms"
                    else plan.milestones_by_id[a].title)
            if not _ticked(text):
                if k == "tick" and text.strip() not in ("", UNTICKED):
                    raise _Unreadable(f"tick {what} with ☑ or leave ☐")
                if suffix:
                    raise _Unreadable(f"{what} has a {word} date but is not ticked")
                return []
            when = _date(suffix, f"the {word} date", today, past_only=True) if suffix else None
            return [(key, when)]
        if k == "msdate":
            if _blank(text):
                return []
            title = plan.milestones_by_id[a].title
            return [(("ms", a), _date(text, title, today, past_only=True))]
        if _blank(text):
            return []
        if k == "score":
            score = plan.scores_by_id[a]
            return [(("score", a), _int(text, score.title, 0, score.max))]
        if k == "counter":
            counter = plan.counters_by_id[a]
            return [(("counter", a), _int(text, counter.title, 0, counter.max))]
        if k in ("field", "choice"):
            fld = plan.fields_by_id[a]
            if k == "choice":
                raw = _choice(text, choice_options(fld), fld.title)
                if raw is None:
                    return []
            else:
                raw = decode_text(text)
            try:
                return [(("field", a), fld.coerce(raw))]
            except InputError as exc:
                if fld.kind == "text":
                    raise _Impossible(exc.message) from None
                if re.fullmatch(r"\s*[+\-]?\d+\s*%?\s*", raw):
                    raise _Impossible(exc.message) from None
                raise _Unreadable(exc.message) from None
        if k == "rating":
            skill_id, week = a.rsplit(":", 1)
            skill = plan.skills_by_id[skill_id]
            lo, hi = plan.skill_scale
            value = _int(text, f"the {skill.title} rating of week {week}", lo, hi)
            return [(("rating", skill_id, int(week)), value)]
        if k == "start":
            return [(("setting", "start_date"), _date(text, "the start date", today,
                                                       past_only=False))]
        if k == "target":
            return [(("setting", "target_date"), _date(text, "the target date", today,
                                                        past_only=False))]
        if k == "committed_on":
            return [(("setting", "committed_on"), _date(text, "the commitment date", today,
                                                         past_only=False))]
        if k == "goal":
            return [(("setting", "goal"), _text(text, "The goal", GOAL_MAX))]
        if k == "signature":
            return [(("setting", "display_name"), _text(text, "The signature", NAME_MAX))]
        if k == "commit_hours":
            return [(("setting", "commitment_minutes"),
                     _hours(text, "the daily commitment", 1, MAX_DAY_MINUTES))]
        if k == "commit_weeks":
            return [(("setting", "commitment_weeks"),
                     _int(text, "the number of weeks", 1, MAX_WEEKS))]
        if k == "partner":
            raise _Ignored("an accountability partner is invited with /partner invite; "
                           "the name alone cannot link your partner")
        raise ValueError(f"no reader for placeholder kind {k!r}")  # pragma: no cover

    # -- blocks ----------------------------------------------------------------------------

    def _block_line(self, block: Block, line: TLine, v: dict[str, str],
                    slots: Sequence[Slot], suffix: str | None) -> list[tuple[tuple, Any]]:
        today = self.today
        if isinstance(block, TimeLogBlock):
            if line is TimeLogBlock.WEEK:
                week = int(v["logweek"])
                if not 1 <= week <= MAX_WEEKS:
                    raise _Impossible(f"week {week} is not a plan week (1 to {MAX_WEEKS})")
                self.week, self.before = week, False
                return []
            if line is TimeLogBlock.BEFORE:
                self.week, self.before = None, True
                return []
            if line is TimeLogBlock.TOTAL:
                return []
            entry = self._day_entry(v["loghours"], v["logtopics"])
            if line is TimeLogBlock.DATED:
                day = _date(v["logdate"], "the day", today, past_only=True)
                return [] if entry is None else [(("logdate", day), entry)]
            if self.week is None:
                raise _Unreadable("a day of the time log outside a **Week N**: block")
            day_no = int(v["logday"])
            if not 1 <= day_no <= 7:
                raise _Impossible(f"day {day_no} of a week: a week has days 1 to 7")
            return [] if entry is None else [(("logday", self.week, day_no), entry)]
        if isinstance(block, InsightsBlock):
            if line is InsightsBlock.WEEK:
                week = int(v["noteweek"])
                if not 1 <= week <= self.plan.weeks:
                    raise _Impossible(f"insights are kept for weeks 1 to {self.plan.weeks}, "
                                      f"not week {week}")
                self.note_week = week
                return []
            if self.note_week is None:
                raise _Unreadable("an insight outside a **Week N**: block")
            text = _text(v["insight"], "The insight", NOTE_MAX)
            n = int(v["noteno"])
            return [] if text is None else [(("insight", self.note_week, n), text)]
        if isinstance(block, ChallengesBlock):
            if line is ChallengesBlock.LINE:
                n = int(v["noteno"])
                self.challenge = n
                text = _text(v["challenge"], "The challenge", NOTE_MAX)
                self._challenge(n, "text", text)
                return []
            if self.challenge is None:
                raise _Unreadable("a solution or learning without its numbered challenge")
            part = "solution" if line is ChallengesBlock.SOLUTION else "learning"
            self._challenge(self.challenge, part, _text(v[part], f"The {part}", NOTE_MAX))
            return []
        if isinstance(block, QuestionsBlock):
            text = _text(v["question"], "The question", NOTE_MAX)
            return [] if text is None else [(("question", int(v["noteno"])), text)]
        if isinstance(block, MocksBlock):
            return self._mock(v)
        if isinstance(block, DeadlinesBlock):
            title = _text(v["dltitle"].strip().strip("*").strip(), "The deadline title",
                          TITLE_MAX)
            if title is None:
                raise _Unreadable("a deadline needs a title")
            if _blank(v["dldate"]):
                return []
            due = _date(v["dldate"], f"the date of {title}", today, past_only=False)
            return [(("deadline", title.casefold()), (title, due))]
        if isinstance(block, ExtrasBlock):
            if line is ExtrasBlock.PAUSE:
                start = _date(v["pausestart"], "the pause start", today, past_only=False)
                end = _date(v["pauseend"], "the pause end", today, past_only=False)
                if end < start:
                    raise _Impossible(f"the pause ends ({end}) before it starts ({start})")
                if (end - start).days > 366:
                    raise _Impossible("a pause is at most a year long")
                nth = sum(1 for k in self.claims if k[:3] == ("pause", start, end))
                return [(("pause", start, end, nth), True)]
            local: list[tuple[tuple, Any]] = []
            for slot in slots:
                local += self._slot(slot, v[slot.kind], suffix)
            return local
        raise ValueError(f"unknown block {block!r}")  # pragma: no cover

    def _day_entry(self, hours: str, topics: str) -> tuple[int, str | None] | None:
        topic = _text(topics, "The topics", NOTE_MAX)
        if _blank(hours):
            if topic is not None:
                raise _Unreadable("topics without hours; write the hours studied that day")
            return None
        minutes = _hours(hours, "the time of a day", 0, MAX_DAY_MINUTES)
        if minutes == 0:
            if topic is not None:
                raise _Unreadable("topics on a day with 0 hours")
            return None
        if topic is not None:
            for part in topic.split("; "):
                if len(part) > TOPIC_MAX:
                    raise _Impossible(f"a topic is {len(part)} characters long; the limit is "
                                      f"{TOPIC_MAX}")
        return minutes, topic

    def _challenge(self, n: int, part: str, text: str | None) -> None:
        entry = self.challenges.setdefault(n, {"line": self.line})
        if part in entry and entry[part] != text:
            raise _Impossible(f"challenge {n} has two different {part}s")
        entry[part] = text
        entry.setdefault("lines", []).append(self.line)

    def _mock(self, v: dict[str, str]) -> list[tuple[tuple, Any]]:
        slot = int(v["mockslot"])
        plan = self.plan
        if not 1 <= slot <= plan.mock_interviews:
            raise _Impossible(f"mock interview {slot}: the plan has interviews 1 to "
                              f"{plan.mock_interviews}")
        date_blank, score_blank = _blank(v["mockdate"]), _blank(v["mockscore"])
        feedback = _text(v["mockfeedback"], "The feedback", FEEDBACK_MAX)
        if date_blank and score_blank:
            if feedback is not None:
                raise _Unreadable("feedback without a date and a score")
            return []
        if date_blank or score_blank:
            raise _Unreadable("a mock interview needs both its date and its score")
        held = _date(v["mockdate"], f"the date of mock interview {slot}", self.today,
                     past_only=True)
        score = _int(v["mockscore"], f"the score of mock interview {slot}", 0, plan.mock_max)
        return [(("mock", slot), (held, score, feedback))]

    def finish(self) -> None:
        for n, entry in sorted(self.challenges.items()):
            text = entry.get("text")
            if text is None:
                if entry.get("solution") or entry.get("learning"):
                    self.unreadable.append(LineNote(entry["line"], f"challenge {n}",
                                                    "a solution or learning without its "
                                                    "challenge"))
                continue
            self.claim([(("challenge", n), (text, entry.get("solution"),
                                            entry.get("learning")))], entry["line"])


class _Ignored(Exception):
    """The line is understood but not imported."""


def _show(value: Any) -> str:
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, tuple):
        return " / ".join(_show(v) for v in value if v is not None)
    if isinstance(value, str):
        return quote_input(value)
    return "ticked" if value is None else str(value)


def _key_label(key: tuple[Any, ...], plan: Plan) -> str:
    kind = key[0]
    if kind == "score":
        return plan.scores_by_id[key[1]].title
    if kind == "setting":
        return SETTING_LABELS.get(key[1], key[1])
    return " ".join(str(k) for k in key)


SETTING_LABELS = {
    "start_date": "Start date", "target_date": "Target completion", "goal": "Goal",
    "commitment_minutes": "Daily commitment", "commitment_weeks": "Commitment weeks",
    "committed_on": "Commitment date", "display_name": "Name (signature)",
}


def parse_tracker(text: str, plan: Plan, data: LearnerData, today: date,
                  filename: str = "tracker.md") -> ImportPlan:
    """Read a tracker's text for a learner; InputError (with line numbers) if it cannot be."""
    lines = text.replace("\r\n", "\n").replace("\r", "\n").lstrip("\ufeff").split("\n")
    if len(lines) > MAX_LINES:
        raise InputError(f"{quote_input(filename, 60)} has {len(lines)} lines; a tracker has "
                         f"at most {MAX_LINES}.")
    template = template_for(plan)
    rules = _rules(template)
    title_rule = next(r for r in rules if not r.line.slots)
    reader = _Reader(plan, data, today)
    cursor, block = 0, None
    for lineno, raw in enumerate(lines, start=1):
        line = _normalize(raw)
        if _is_filler(line):
            continue
        found = _match(rules, line, cursor, block)
        if found is None:
            reader.unreadable.append(LineNote(lineno, raw.strip(), "not a line of the "
                                              f"{plan.title}"))
            continue
        rule, mt = found
        reader.recognised += 1
        reader.title_seen = reader.title_seen or rule is title_rule
        if rule.block is None:
            block = rule.enters
            cursor = rule.index + 1
        reader.line = lineno
        try:
            local = reader.read(rule, mt, lineno)
        except _Unreadable as exc:
            reader.unreadable.append(LineNote(lineno, raw.strip(), str(exc)))
            continue
        except _Impossible as exc:
            reader.errors.append(f"Line {lineno}: {exc}.")
            continue
        except _Ignored as exc:
            reader.ignored.append(LineNote(lineno, raw.strip(), str(exc)))
            continue
        reader.claim(local, lineno)
    first_h1 = next((ln.strip() for ln in lines if re.match(r"\s*#\s", ln)), None)
    if first_h1 is not None and not title_rule.regex.fullmatch(_normalize(first_h1)):
        raise InputError(
            f"{quote_input(filename, 60)} is titled {quote_input(first_h1.lstrip('# '), 60)}, "
            f"not {quote_input(plan.title, 60)}: it is not the tracker of your plan. Export "
            "yours with `/export markdown`, fill it in and import that file.")
    if not reader.title_seen and reader.recognised < MIN_RECOGNISED:
        raise InputError(
            f"{quote_input(filename, 60)} is not a {plan.title} file: none of its first lines "
            f"is the title `# 📊 {plan.title}` and only {reader.recognised} line(s) look like "
            "the tracker. Upload the tracker Pacer exported (`/export markdown`) with your "
            "changes.")
    reader.finish()
    claims = _resolve_days(reader, data, today)
    _check_settings(reader, claims, data, today)
    if reader.errors:
        shown = reader.errors[:10]
        more = f"\n… and {len(reader.errors) - 10} more." if len(reader.errors) > 10 else ""
        raise InputError("Nothing was imported: the tracker has values Pacer cannot accept.\n"
                         + "\n".join(shown) + more)
    changes = diff(claims, data, plan, today)
    return ImportPlan(plan.id, filename, claims, changes, reader.unreadable, reader.ignored)


def _resolve_days(reader: _Reader, data: LearnerData, today: date
                  ) -> dict[tuple[Any, ...], Claim]:
    """Turn week/day lines into dates from the (file's or stored) start date."""
    claims: dict[tuple[Any, ...], Claim] = {}
    start_claim = reader.claims.get(("setting", "start_date"))
    start = start_claim.value if start_claim else data.profile.start_date
    for key, c in reader.claims.items():
        if key[0] == "logday":
            day = start + timedelta(days=7 * (key[1] - 1) + key[2] - 1)
            if day > today:
                reader.errors.append(f"Line {c.line}: week {key[1]} day {key[2]} is "
                                     f"{day.isoformat()}, which is in the future (today is "
                                     f"{today.isoformat()}).")
                continue
            key = ("logdate", day)
        old = claims.get(key)
        if old is not None and old.value != c.value:
            reader.errors.append(f"Line {c.line} and line {old.line} give {key[1]} different "
                                 "times; keep one of them.")
            continue
        claims[key] = c
    return claims


def _check_settings(reader: _Reader, claims: dict[tuple[Any, ...], Claim],
                    data: LearnerData, today: date) -> None:
    start_c = claims.get(("setting", "start_date"))
    target_c = claims.get(("setting", "target_date"))
    start = start_c.value if start_c else data.profile.start_date
    target = target_c.value if target_c else data.profile.target_date
    if start_c and (start - today).days > 366:
        reader.errors.append(f"Line {start_c.line}: the start date {start.isoformat()} is more "
                             "than a year away.")
    if target is not None and target <= start:
        line = (target_c or start_c).line if (target_c or start_c) else 0
        reader.errors.append(f"Line {line}: the target date {target.isoformat()} must come "
                             f"after the start date {start.isoformat()}.")


# --- the difference with the store ---------------------------------------------------------------


def diff(claims: dict[tuple[Any, ...], Claim], data: LearnerData, plan: Plan,
         today: date) -> list[Change]:
    """List the changes the claims make to the learner's data, in the order to apply them."""
    out: list[Change] = []
    prof = data.profile
    by_kind: dict[str, list[tuple[tuple[Any, ...], Claim]]] = {}
    for key, c in claims.items():
        by_kind.setdefault(key[0], []).append((key, c))

    current = {"start_date": prof.start_date, "target_date": prof.target_date,
               "goal": prof.goal or plan.goal, "commitment_minutes": prof.commitment_minutes,
               "commitment_weeks": prof.commitment_weeks, "committed_on": prof.committed_on,
               "display_name": prof.display_name}
    for col in current:
        c = claims.get(("setting", col))
        if c is not None and c.value != current[col]:
            out.append(Change("setting", (col,), c.value, c.line,
                              f"{SETTING_LABELS[col]}: {_fmt(current[col], col)} → "
                              f"{_fmt(c.value, col)}"))
    for item in plan.items:
        c = claims.get(("done", item.id))
        if c is None:
            continue
        if item.id not in data.done:
            when = c.value or today
            out.append(Change("done", (item.id,), when, c.line,
                              f"tick {item.title} (done {when.isoformat()})"))
        elif c.value is not None and c.value != data.done[item.id]:
            out.append(Change("redate", (item.id,), c.value, c.line,
                              f"{item.title}: done {data.done[item.id].isoformat()} → "
                              f"{c.value.isoformat()}"))
    for kind, stored, label in (("score", data.scores, plan.scores_by_id),
                                ("counter", data.counters, plan.counters_by_id),
                                ("field", data.fields, plan.fields_by_id)):
        for key, c in sorted(by_kind.get(kind, []), key=lambda kc: kc[1].line):
            if stored.get(key[1]) != c.value:
                old = stored.get(key[1])
                out.append(Change(kind, key[1:], c.value, c.line,
                                  f"{label[key[1]].title}: {_fmt(old)} → {_fmt(c.value)}"))
    for key, c in sorted(by_kind.get("rating", []), key=lambda kc: kc[1].line):
        old = data.ratings.get(key[1], {}).get(key[2])
        if old != c.value:
            out.append(Change("rating", key[1:], c.value, c.line,
                              f"{plan.skills_by_id[key[1]].title} week {key[2]}: "
                              f"{_fmt(old)} → {c.value}"))
    days = day_totals(data)
    for key, c in sorted(by_kind.get("logdate", []), key=lambda kc: kc[0][1]):
        old_day = days.get(key[1])
        if old_day != c.value:
            minutes, topics = c.value
            was = f"{_h(old_day[0])}" if old_day else "0h"
            out.append(Change("day", key[1:], c.value, c.line,
                              f"time on {key[1].isoformat()}: {was} → {_h(minutes)}"
                              + (f" ({quote_input(topics)})" if topics else "")))
    mocks = {x.slot: x for x in data.mocks}
    for key, c in sorted(by_kind.get("mock", []), key=lambda kc: kc[0][1]):
        old_mock = mocks.get(key[1])
        if old_mock is None or (old_mock.held_on, old_mock.score, old_mock.feedback) != c.value:
            held, score, _fb = c.value
            out.append(Change("mock", key[1:], c.value, c.line,
                              f"mock interview {key[1]}: {held.isoformat()}, "
                              f"{score}/{plan.mock_max}"))
    for ms in plan.milestones:
        c = claims.get(("ms", ms.id))
        if c is None:
            continue
        if ms.id not in data.milestones:
            when = c.value or today
            out.append(Change("ms", (ms.id,), when, c.line,
                              f"{ms.title}: reached {when.isoformat()}"))
        elif c.value is not None and c.value != data.milestones[ms.id]:
            out.append(Change("ms-redate", (ms.id,), c.value, c.line,
                              f"{ms.title}: reached {data.milestones[ms.id].isoformat()} → "
                              f"{c.value.isoformat()}"))
    out += _note_changes(claims, data)
    out += _deadline_changes(by_kind.get("deadline", []), data)
    existing_pauses = Multiset(data.pauses)
    for key, c in sorted(by_kind.get("pause", []), key=lambda kc: kc[0][1:]):
        if existing_pauses[(key[1], key[2])] > 0:
            existing_pauses[(key[1], key[2])] -= 1
            continue
        out.append(Change("pause", key[1:3], True, c.line,
                          f"pause {key[1].isoformat()} to {key[2].isoformat()}"))
    notes_after = len(data.notes) + sum(1 for ch in out if ch.kind == "note")
    if notes_after > MAX_NOTES:
        raise InputError(f"The import would give you {notes_after} notes; Pacer keeps at most "
                         f"{MAX_NOTES}. Remove some from the file or with /notes remove.")
    deadlines_after = len(data.deadlines) + sum(1 for ch in out if ch.kind == "deadline")
    if deadlines_after > MAX_DEADLINES:
        raise InputError(f"The import would give you {deadlines_after} deadlines; Pacer keeps "
                         f"at most {MAX_DEADLINES}.")
    return out


def _note_changes(claims: dict[tuple[Any, ...], Claim], data: LearnerData) -> list[Change]:
    out: list[Change] = []
    have = Multiset((n.kind, n.week, n.text) for n in data.notes if n.kind != "challenge")
    insights = sorted((k[1], k[2], c) for k, c in claims.items() if k[0] == "insight")
    for week, _n, c in insights:
        key = ("insight", week, c.value)
        if have[key] > 0:
            have[key] -= 1
            continue
        out.append(Change("note", key, (None, None), c.line,
                          f"insight for week {week}: {quote_input(c.value)}"))
    challenges = [n for n in data.notes if n.kind == "challenge"]
    used: set[int] = set()
    for _n, c in sorted((k[1], c) for k, c in claims.items() if k[0] == "challenge"):
        text, solution, learning = c.value
        match = next((n for n in challenges if n.text == text and n.id not in used), None)
        if match is None:
            out.append(Change("note", ("challenge", None, text), (solution, learning), c.line,
                              f"challenge: {quote_input(text)}"))
            continue
        used.add(match.id)
        new_solution = solution if solution is not None else match.solution
        new_learning = learning if learning is not None else match.learning
        if (new_solution, new_learning) != (match.solution, match.learning):
            out.append(Change("note-update", (match.id,), (new_solution, new_learning), c.line,
                              f"challenge {quote_input(text)}: solution and learning"))
    for _n, c in sorted((k[1], c) for k, c in claims.items() if k[0] == "question"):
        key = ("question", None, c.value)
        if have[key] > 0:
            have[key] -= 1
            continue
        out.append(Change("note", key, (None, None), c.line,
                          f"question: {quote_input(c.value)}"))
    return out


def _deadline_changes(claims: list[tuple[tuple[Any, ...], Claim]],
                      data: LearnerData) -> list[Change]:
    out = []
    have = {}
    for d in data.deadlines:
        have.setdefault(d.title.casefold(), d)
    for key, c in sorted(claims, key=lambda kc: kc[1].line):
        title, due = c.value
        old = have.get(key[1])
        if old is None:
            out.append(Change("deadline", (title,), due, c.line,
                              f"deadline {quote_input(title)} on {due.isoformat()}"))
        elif old.due_date != due:
            out.append(Change("deadline-redate", (old.id,), due, c.line,
                              f"deadline {quote_input(title)}: {old.due_date.isoformat()} → "
                              f"{due.isoformat()}"))
    return out


def _h(minutes: int) -> str:
    return f"{minutes / 60:.2f}".rstrip("0").rstrip(".") + "h"


def _fmt(value: Any, col: str | None = None) -> str:
    if value is None:
        return "—"
    if col == "commitment_minutes":
        return _h(value) + " a day"
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, str):
        return quote_input(value)
    return str(value)


# --- applying -----------------------------------------------------------------------------------


def _topic_rows(minutes: int, topics: str | None) -> list[tuple[int, str | None]]:
    """Split a day's topics into rows of at most TOPIC_MAX characters, sharing the minutes."""
    if topics is None or len(topics) <= TOPIC_MAX:
        return [(minutes, topics)]
    chunks: list[str] = []
    for part in topics.split("; "):
        if chunks and len(chunks[-1]) + 2 + len(part) <= TOPIC_MAX:
            chunks[-1] += "; " + part
        else:
            chunks.append(part)
    base, extra = divmod(minutes, len(chunks))
    return [(base + (1 if i < extra else 0), c) for i, c in enumerate(chunks)]


async def _row(session: AsyncSession, model: type, learner_id: int, **where: Any) -> Any:
    stmt = select(model).where(model.learner_id == learner_id)
    for k, v in where.items():
        stmt = stmt.where(getattr(model, k) == v)
    return await session.scalar(stmt.limit(1))


async def _execute(u: Unit, changes: Iterable[Change]) -> None:
    session, cs, row, today, now = u.session, u.changes, u.row, u.today, u.now
    lid = row.id
    changes = list(changes)
    settings = {c.key[0]: c.value for c in changes if c.kind == "setting"}
    if settings:
        cs.set(row, **settings, updated_at=now)
        u.reschedule()
    for c in changes:
        k = c.kind
        if k == "done":
            await cs.add(m.ItemDone(learner_id=lid, item_id=c.key[0], study_date=c.value,
                                    done_at=now))
        elif k == "redate":
            cs.set(await _row(session, m.ItemDone, lid, item_id=c.key[0]), study_date=c.value)
        elif k in ("score", "counter", "field"):
            model, col, extra = {
                "score": (m.ScoreEntry, "score_id", {"recorded_on": today}),
                "counter": (m.CounterValue, "counter_id", {}),
                "field": (m.FieldValue, "field_id", {}),
            }[k]
            existing = await _row(session, model, lid, **{col: c.key[0]})
            if existing is None:
                await cs.add(model(learner_id=lid, **{col: c.key[0]}, value=c.value, **extra))
            else:
                cs.set(existing, value=c.value, **extra)
        elif k == "rating":
            existing = await _row(session, m.SkillRating, lid, skill_id=c.key[0], week=c.key[1])
            if existing is None:
                await cs.add(m.SkillRating(learner_id=lid, skill_id=c.key[0], week=c.key[1],
                                           value=c.value))
            else:
                cs.set(existing, value=c.value)
        elif k == "day":
            day = c.key[0]
            old = (await session.scalars(select(m.TimeLog).where(
                m.TimeLog.learner_id == lid, m.TimeLog.study_date == day))).all()
            for r in old:
                await cs.delete(r)
            minutes, topics = c.value
            for part_minutes, part_topic in _topic_rows(minutes, topics):
                await cs.add(m.TimeLog(learner_id=lid, study_date=day, minutes=part_minutes,
                                       topic=part_topic, created_at=now))
        elif k == "mock":
            held, score, feedback = c.value
            existing = await _row(session, m.MockInterview, lid, slot=c.key[0])
            if existing is None:
                await cs.add(m.MockInterview(learner_id=lid, slot=c.key[0], held_on=held,
                                             score=score, feedback=feedback))
            else:
                cs.set(existing, held_on=held, score=score, feedback=feedback)
        elif k == "ms":
            await cs.add(m.MilestoneReached(learner_id=lid, milestone_id=c.key[0],
                                            reached_on=c.value, reached_at=now, announced=True))
        elif k == "ms-redate":
            cs.set(await _row(session, m.MilestoneReached, lid, milestone_id=c.key[0]),
                   reached_on=c.value)
        elif k == "note":
            kind, week, text = c.key
            solution, learning = c.value
            await cs.add(m.Note(learner_id=lid, kind=kind, week=week, text=text,
                                solution=solution, learning=learning, created_at=now))
        elif k == "note-update":
            note = await _row(session, m.Note, lid, id=c.key[0])
            cs.set(note, solution=c.value[0], learning=c.value[1])
        elif k == "deadline":
            await cs.add(m.Deadline(learner_id=lid, title=c.key[0], due_date=c.value,
                                    created_at=now))
        elif k == "deadline-redate":
            cs.set(await _row(session, m.Deadline, lid, id=c.key[0]), due_date=c.value)
        elif k == "pause":
            await cs.add(m.Pause(learner_id=lid, start_date=c.key[0], end_date=c.key[1]))
        elif k != "setting":  # pragma: no cover - diff() makes only the kinds above
            raise ValueError(f"unknown change kind {k!r}")


async def prepare_import(ctx: Context, actor: Actor, data: bytes,
                         filename: str) -> ImportPlan:
    """Check and read an uploaded tracker for ACTOR without writing anything."""
    text = decode_upload(data, filename)
    async with ctx.store.read() as session:
        row = await ctx.learner(session, actor)
        snapshot = await load_one(session, row.id)
        plan = ctx.plan_for(row)
        today = ctx.today_for(row)
    return parse_tracker(text, plan, snapshot, today, filename)


async def apply_import(ctx: Context, actor: Actor, import_plan: ImportPlan) -> Imported:
    """Apply an import in one transaction, recorded as one change that /undo reverts."""
    async def build(u: Unit) -> Imported:
        if u.row.plan_id != import_plan.plan_id:
            raise StateError("Your plan changed since the preview; import the file again.")
        snapshot = await load_one(u.session, u.row.id)
        # Compare again inside the transaction: the learner may have written since the preview.
        changes = diff(import_plan.claims, snapshot, u.plan, u.today)
        if changes:
            await _execute(u, changes)
        u.description = f"import {import_plan.filename[:200]} ({len(changes)} changes)"
        return Imported(changes=len(changes), filename=import_plan.filename)

    return await Units(ctx).run(actor, build)


__all__ = [
    "MAX_BYTES",
    "Change",
    "Claim",
    "ImportPlan",
    "LineNote",
    "apply_import",
    "decode_upload",
    "diff",
    "parse_tracker",
    "prepare_import",
]

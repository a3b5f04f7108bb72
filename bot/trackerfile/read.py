"""Read an uploaded tracker file into claims: the values it states, line by line.

``parse_tracker`` turns the text into an ``ImportPlan``: the file's claims, the changes they
make to the learner's data (``bot.trackerfile.changes.diff``), the lines it could not read
(listed, never guessed at) and the lines it understood but does not import (the partner).

Rules (also in docs/export-format.md):
- Lines are matched against the plan's tracker template (``bot.trackerfile.matching``);
  computed lines (bars, averages, counts, statuses) are recognised and ignored.
- Runs of three or more underscores left at the start or end of a typed text are dropped.
- A value that is readable but impossible (a quiz of 25/20, a rating of 7, a date in 1900 or in
  the future where only the past makes sense) refuses the whole file with the line numbers.
- Filled scores do not tick the item they stand for: the file says what is ticked.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from bot.errors import InputError
from bot.limits import (
    FEEDBACK_MAX,
    GOAL_MAX,
    MAX_DAY_MINUTES,
    MAX_PAUSE_DAYS,
    MAX_START_AHEAD_DAYS,
    NAME_MAX,
    NOTE_MAX,
    TITLE_MAX,
    TOPIC_MAX,
)
from bot.parsing import MAX_WEEKS
from bot.plan import Plan
from bot.quoting import quote_input
from bot.snapshot import LearnerData
from bot.trackerfile import blocks
from bot.trackerfile.cells import (
    Ignored,
    Impossible,
    Unreadable,
    blank,
    read_choice,
    read_date,
    read_hours,
    read_int,
    read_text,
    ticked,
)
from bot.trackerfile.changes import SETTING_LABELS, Change, Claim, ClaimKey, Claims, diff
from bot.trackerfile.language import (
    COMPUTED_KINDS,
    SUFFIX_KINDS,
    UNTICKED,
    Slot,
    TLine,
    choice_options,
    decode_text,
)
from bot.trackerfile.matching import Rule, is_filler, match_line, normalize, rules_of
from bot.trackerfile.templates import template_for

log = logging.getLogger(__name__)

MAX_LINES = 10_000
MIN_RECOGNISED = 10

SETTING_DATES = {"start": ("start_date", "the start date"),
                 "target": ("target_date", "the target date"),
                 "committed_on": ("committed_on", "the commitment date")}

LocalClaims = list[tuple[ClaimKey, Any]]



@dataclass(frozen=True)
class LineNote:
    """A line of the file with what happened to it."""

    line: int
    text: str
    reason: str

    def describe(self) -> str:
        """Say the line, its text and what happened to it."""
        return f"line {self.line}: {quote_input(self.text, 60)} — {self.reason}"


@dataclass
class ImportPlan:
    """What an import would do: the file's claims, the changes, and the lines left out."""

    plan_id: str
    filename: str
    claims: Claims
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


class _Reader:
    """Walk the file's lines, collecting claims, unreadable lines and impossible values."""

    def __init__(self, plan: Plan, data: LearnerData, today: date) -> None:
        self.plan, self.data, self.today = plan, data, today
        self.claims: Claims = {}
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

    def claim(self, local: LocalClaims, line: int) -> None:
        """Keep a whole line's claims; a value another line states differently is an error."""
        for key, value in local:
            old = self.claims.get(key)
            if old is not None and old.value != value:
                self.errors.append(f"Line {line} says {_show(value)} where line {old.line} "
                                   f"says {_show(old.value)} ({_key_label(key, self.plan)}); "
                                   "keep one of them.")
                continue
            if old is None:
                self.claims[key] = Claim(value, line)

    def read(self, rule: Rule, mt: re.Match[str], line: int) -> LocalClaims:
        """Read the claims of one matched line (nothing is kept unless the whole line reads)."""
        texts = [mt.group(f"s{i}") for i in range(len(rule.line.slots))]
        slots = rule.line.slots
        block = rule.block
        suffix = mt.groupdict().get("sfx")
        if block is not None:
            values = dict(zip([s.kind for s in slots], texts, strict=True))
            return self._block_line(block, rule.line, values, slots, suffix)
        if rule.enters is not None:
            self.week, self.before, self.note_week, self.challenge = None, False, None, None
        local: LocalClaims = []
        for slot, text in zip(slots, texts, strict=True):
            local += self._slot(slot, text, suffix)
        return local

    def _slot(self, slot: Slot, text: str, suffix: str | None) -> LocalClaims:
        k, a, plan, today = slot.kind, slot.arg, self.plan, self.today
        if k in COMPUTED_KINDS:
            return []
        if k in SUFFIX_KINDS:
            word = SUFFIX_KINDS[k]
            key = ("done", a) if k != "ms" else ("ms", a)
            what = (plan.items_by_id[a].title if k != "ms"
                    else plan.milestones_by_id[a].title)
            if not ticked(text):
                if k == "tick" and text.strip() not in ("", UNTICKED):
                    raise Unreadable(f"tick {what} with ☑ or leave ☐")
                if suffix:
                    raise Unreadable(f"{what} has a {word} date but is not ticked")
                return []
            when = read_date(suffix, f"the {word} date", today, past_only=True) if suffix else None
            return [(key, when)]
        if k == "msdate":
            if blank(text):
                return []
            title = plan.milestones_by_id[a].title
            return [(("ms", a), read_date(text, title, today, past_only=True))]
        if blank(text):
            return []
        if k == "score":
            score = plan.scores_by_id[a]
            return [(("score", a), read_int(text, score.title, 0, score.max))]
        if k == "counter":
            counter = plan.counters_by_id[a]
            return [(("counter", a), read_int(text, counter.title, 0, counter.max))]
        if k in ("field", "choice"):
            fld = plan.fields_by_id[a]
            if k == "choice":
                raw = read_choice(text, choice_options(fld), fld.title)
                if raw is None:
                    return []
            else:
                raw = decode_text(text)
            try:
                return [(("field", a), fld.coerce(raw))]
            except InputError as exc:
                if fld.kind == "text":
                    raise Impossible(exc.message) from None
                if re.fullmatch(r"\s*[+\-]?\d+\s*%?\s*", raw):
                    raise Impossible(exc.message) from None
                raise Unreadable(exc.message) from None
        if k == "rating":
            skill_id, week = a.rsplit(":", 1)
            skill = plan.skills_by_id[skill_id]
            lo, hi = plan.skill_scale
            value = read_int(text, f"the {skill.title} rating of week {week}", lo, hi)
            return [(("rating", skill_id, int(week)), value)]
        if k in SETTING_DATES:
            column, what = SETTING_DATES[k]
            return [(("setting", column), read_date(text, what, today, past_only=False))]
        if k == "goal":
            return [(("setting", "goal"), read_text(text, "The goal", GOAL_MAX))]
        if k == "signature":
            return [(("setting", "display_name"), read_text(text, "The signature", NAME_MAX))]
        if k == "commit_hours":
            return [(("setting", "commitment_minutes"),
                     read_hours(text, "the daily commitment", 1, MAX_DAY_MINUTES))]
        if k == "commit_weeks":
            return [(("setting", "commitment_weeks"),
                     read_int(text, "the number of weeks", 1, MAX_WEEKS))]
        if k == "partner":
            raise Ignored("an accountability partner is invited with /partner invite; "
                          "the name alone cannot link your partner")
        raise ValueError(f"no reader for placeholder kind {k!r}")  # pragma: no cover

    # -- blocks ----------------------------------------------------------------------------

    def _block_line(self, block: blocks.Block, line: TLine, v: dict[str, str],
                    slots: Sequence[Slot], suffix: str | None) -> LocalClaims:
        today = self.today
        if isinstance(block, blocks.TimeLogBlock):
            if line is blocks.TimeLogBlock.WEEK:
                week = int(v["logweek"])
                if not 1 <= week <= MAX_WEEKS:
                    raise Impossible(f"week {week} is not a plan week (1 to {MAX_WEEKS})")
                self.week, self.before = week, False
                return []
            if line is blocks.TimeLogBlock.BEFORE:
                self.week, self.before = None, True
                return []
            if line is blocks.TimeLogBlock.TOTAL:
                return []
            entry = self._day_entry(v["loghours"], v["logtopics"])
            if line is blocks.TimeLogBlock.DATED:
                day = read_date(v["logdate"], "the day", today, past_only=True)
                return [] if entry is None else [(("logdate", day), entry)]
            if self.week is None:
                raise Unreadable("a day of the time log outside a **Week N**: block")
            day_no = int(v["logday"])
            if not 1 <= day_no <= 7:
                raise Impossible(f"day {day_no} of a week: a week has days 1 to 7")
            return [] if entry is None else [(("logday", self.week, day_no), entry)]
        if isinstance(block, blocks.InsightsBlock):
            if line is blocks.InsightsBlock.WEEK:
                week = int(v["noteweek"])
                if not 1 <= week <= self.plan.weeks:
                    raise Impossible(f"insights are kept for weeks 1 to {self.plan.weeks}, "
                                      f"not week {week}")
                self.note_week = week
                return []
            if self.note_week is None:
                raise Unreadable("an insight outside a **Week N**: block")
            text = read_text(v["insight"], "The insight", NOTE_MAX)
            n = int(v["noteno"])
            return [] if text is None else [(("insight", self.note_week, n), text)]
        if isinstance(block, blocks.ChallengesBlock):
            if line is blocks.ChallengesBlock.LINE:
                n = int(v["noteno"])
                self.challenge = n
                text = read_text(v["challenge"], "The challenge", NOTE_MAX)
                self._challenge(n, "text", text)
                return []
            if self.challenge is None:
                raise Unreadable("a solution or learning without its numbered challenge")
            part = "solution" if line is blocks.ChallengesBlock.SOLUTION else "learning"
            self._challenge(self.challenge, part, read_text(v[part], f"The {part}", NOTE_MAX))
            return []
        if isinstance(block, blocks.QuestionsBlock):
            text = read_text(v["question"], "The question", NOTE_MAX)
            return [] if text is None else [(("question", int(v["noteno"])), text)]
        if isinstance(block, blocks.MocksBlock):
            return self._mock(v)
        if isinstance(block, blocks.DeadlinesBlock):
            title = read_text(v["dltitle"].strip().strip("*").strip(), "The deadline title",
                          TITLE_MAX)
            if title is None:
                raise Unreadable("a deadline needs a title")
            if blank(v["dldate"]):
                return []
            due = read_date(v["dldate"], f"the date of {title}", today, past_only=False)
            return [(("deadline", title.casefold()), (title, due))]
        if isinstance(block, blocks.ExtrasBlock):
            if line is blocks.ExtrasBlock.PAUSE:
                start = read_date(v["pausestart"], "the pause start", today, past_only=False)
                end = read_date(v["pauseend"], "the pause end", today, past_only=False)
                if end < start:
                    raise Impossible(f"the pause ends ({end}) before it starts ({start})")
                if (end - start).days > MAX_PAUSE_DAYS:
                    raise Impossible("a pause is at most a year long")
                nth = sum(1 for k in self.claims if k[:3] == ("pause", start, end))
                return [(("pause", start, end, nth), True)]
            local: LocalClaims = []
            for slot in slots:
                local += self._slot(slot, v[slot.kind], suffix)
            return local
        raise ValueError(f"unknown block {block!r}")  # pragma: no cover

    def _day_entry(self, hours: str, topics: str) -> tuple[int, str | None] | None:
        topic = read_text(topics, "The topics", NOTE_MAX)
        if blank(hours):
            if topic is not None:
                raise Unreadable("topics without hours; write the hours studied that day")
            return None
        minutes = read_hours(hours, "the time of a day", 0, MAX_DAY_MINUTES)
        if minutes == 0:
            if topic is not None:
                raise Unreadable("topics on a day with 0 hours")
            return None
        if topic is not None:
            for part in topic.split("; "):
                if len(part) > TOPIC_MAX:
                    raise Impossible(f"a topic is {len(part)} characters long; the limit is "
                                      f"{TOPIC_MAX}")
        return minutes, topic

    def _challenge(self, n: int, part: str, text: str | None) -> None:
        entry = self.challenges.setdefault(n, {"line": self.line})
        if part in entry and entry[part] != text:
            raise Impossible(f"challenge {n} has two different {part}s")
        entry[part] = text
        entry.setdefault("lines", []).append(self.line)

    def _mock(self, v: dict[str, str]) -> LocalClaims:
        slot = int(v["mockslot"])
        plan = self.plan
        if not 1 <= slot <= plan.mock_interviews:
            raise Impossible(f"mock interview {slot}: the plan has interviews 1 to "
                              f"{plan.mock_interviews}")
        date_blank, score_blank = blank(v["mockdate"]), blank(v["mockscore"])
        feedback = read_text(v["mockfeedback"], "The feedback", FEEDBACK_MAX)
        if date_blank and score_blank:
            if feedback is not None:
                raise Unreadable("feedback without a date and a score")
            return []
        if date_blank or score_blank:
            raise Unreadable("a mock interview needs both its date and its score")
        held = read_date(v["mockdate"], f"the date of mock interview {slot}", self.today,
                     past_only=True)
        score = read_int(v["mockscore"], f"the score of mock interview {slot}", 0, plan.mock_max)
        return [(("mock", slot), (held, score, feedback))]

    def finish(self) -> None:
        """Claim the challenges, whose solution and learning lines come after them."""
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


def _show(value: Any) -> str:
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, tuple):
        return " / ".join(_show(v) for v in value if v is not None)
    if isinstance(value, str):
        return quote_input(value)
    return "ticked" if value is None else str(value)


def _key_label(key: ClaimKey, plan: Plan) -> str:
    kind = key[0]
    if kind == "score":
        return plan.scores_by_id[key[1]].title
    if kind == "setting":
        return SETTING_LABELS.get(key[1], key[1])
    return " ".join(str(k) for k in key)


def parse_tracker(text: str, plan: Plan, data: LearnerData, today: date,
                  filename: str = "tracker.md") -> ImportPlan:
    """Read a tracker's text for a learner; InputError (with line numbers) if it cannot be."""
    lines = text.replace("\r\n", "\n").replace("\r", "\n").lstrip("\ufeff").split("\n")
    if len(lines) > MAX_LINES:
        raise InputError(f"{quote_input(filename, 60)} has {len(lines)} lines; a tracker has "
                         f"at most {MAX_LINES}.")
    template = template_for(plan)
    rules = rules_of(template)
    title_rule = next(r for r in rules if not r.line.slots)
    reader = _Reader(plan, data, today)
    cursor, block = 0, None
    for lineno, raw in enumerate(lines, start=1):
        line = normalize(raw)
        if is_filler(line):
            continue
        found = match_line(rules, line, cursor, block)
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
        except Unreadable as exc:
            reader.unreadable.append(LineNote(lineno, raw.strip(), str(exc)))
            continue
        except Impossible as exc:
            reader.errors.append(f"Line {lineno}: {exc}.")
            continue
        except Ignored as exc:
            reader.ignored.append(LineNote(lineno, raw.strip(), str(exc)))
            continue
        reader.claim(local, lineno)
    first_h1 = next((ln.strip() for ln in lines if re.match(r"\s*#\s", ln)), None)
    if first_h1 is not None and not title_rule.regex.fullmatch(normalize(first_h1)):
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
                  ) -> Claims:
    """Turn week/day lines into dates from the (file's or stored) start date."""
    claims: Claims = {}
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


def _check_settings(reader: _Reader, claims: Claims,
                    data: LearnerData, today: date) -> None:
    start_c = claims.get(("setting", "start_date"))
    target_c = claims.get(("setting", "target_date"))
    start = start_c.value if start_c else data.profile.start_date
    target = target_c.value if target_c else data.profile.target_date
    if start_c and (start - today).days > MAX_START_AHEAD_DAYS:
        reader.errors.append(f"Line {start_c.line}: the start date {start.isoformat()} is more "
                             "than a year away.")
    if target is not None and target <= start:
        line = (target_c or start_c).line if (target_c or start_c) else 0
        reader.errors.append(f"Line {line}: the target date {target.isoformat()} must come "
                             f"after the start date {start.isoformat()}.")



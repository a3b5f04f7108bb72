"""Commands as text: one string-level API for every front, and the line grammar of console/Slack.

Discord cogs call the methods of ``Commands`` with the option strings they received; the console
and Slack fronts call ``Commands.dispatch`` with a whole line such as ``/log 4h PagedAttention``.
Every method returns a ``Reply``; a ``PacerError`` raised here carries the message for the user.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import date
from typing import Any

from bot import parsing
from bot.actors import Actor
from bot.errors import InputError, PacerError
from bot.rendering import (
    render_deadlines,
    render_next,
    render_notes,
    render_progress,
    render_settings,
    render_skills,
    render_summary,
    render_week,
)
from bot.replies import Reply
from bot.snapshot import LearnerProfile
from bot.timing import plan_week
from bot.tracker import Onboarding, Outcome, Tracker

log = logging.getLogger(__name__)

TOPIC_MAX = 200
NOTE_MAX = 1000
FEEDBACK_MAX = 500
TITLE_MAX = 100
GOAL_MAX = 500


def reply_of(outcome: Outcome, **kw: Any) -> Reply:
    return Reply(outcome.message, celebrations=outcome.celebrations, notices=outcome.notices,
                 data=outcome.data, **kw)


# --- settings: one table for /start and /settings -------------------------------------------


@dataclass(frozen=True)
class Setting:
    column: str
    parse: Callable[[str, date], Any]
    help: str


def _reminder(text: str, _today: date) -> int | None:
    if text.strip().lower() in {"off", "none", "no"}:
        return None
    t = parsing.parse_time_of_day(text)
    return t.hour * 60 + t.minute


def _minute(text: str, _today: date) -> int:
    t = parsing.parse_time_of_day(text)
    return t.hour * 60 + t.minute


def _every(text: str, _today: date) -> int:
    key = text.strip().lower()
    if key in {"1", "weekly", "week"}:
        return 1
    if key in {"2", "biweekly", "bi-weekly", "fortnightly"}:
        return 2
    raise InputError(f"Digest frequency {text!r} is not known; use weekly or biweekly.")


def _onoff(text: str, _today: date) -> bool:
    key = text.strip().lower()
    if key in {"on", "yes", "true", "public"}:
        return True
    if key in {"off", "no", "false", "private"}:
        return False
    raise InputError(f"{text!r} is neither on nor off; use on (public) or off (private).")


def _day_start(text: str, _today: date) -> int:
    return parsing.parse_int_in_range(text.removesuffix(":00"), 0, 12, "the day-start hour")


SETTINGS: dict[str, Setting] = {
    "timezone": Setting("timezone", lambda t, _d: parsing.parse_timezone(t),
                        "IANA zone, e.g. Europe/Berlin"),
    "start": Setting("start_date", lambda t, d: parsing.parse_date(t, today=d),
                     "start date, YYYY-MM-DD"),
    "target": Setting("target_date", lambda t, d: parsing.parse_date(t, today=d),
                      "target completion date, YYYY-MM-DD"),
    "hours": Setting("commitment_minutes", lambda t, _d: parsing.parse_hours_per_day(t),
                     "committed hours per day, e.g. 4 or 2.5"),
    "weeks": Setting("commitment_weeks", lambda t, _d: parsing.parse_weeks(t),
                     "committed number of weeks, 1-104"),
    "goal": Setting("goal", lambda t, _d: parsing.check_text(t, "The goal", GOAL_MAX),
                    "your goal, in words"),
    "reminder": Setting("reminder_minute", _reminder, "daily reminder time (19:00, 7pm) or off"),
    "daystart": Setting("day_start_hour", _day_start,
                        "hour 0-12 before which late study counts for the previous day"),
    "digest": Setting("digest_weekday", lambda t, _d: parsing.parse_weekday(t),
                      "weekday of the weekly digest"),
    "digest_time": Setting("digest_minute", _minute, "time of the weekly digest"),
    "digest_every": Setting("digest_every_weeks", _every, "weekly or biweekly"),
    "public": Setting("public_posts", _onoff, "post /log and /done publicly (on) or not (off)"),
    "name": Setting("display_name", lambda t, _d: parsing.check_text(t, "The name", 100),
                    "how Pacer calls you"),
    "plan": Setting("plan_id", lambda t, _d: t.strip(), "plan id"),
}
SETTING_ALIASES = {"tz": "timezone", "start_date": "start", "target_date": "target",
                   "day_start": "daystart", "hours_per_day": "hours", "reminder_time": "reminder",
                   "digest_day": "digest", "every": "digest_every"}


def setting_named(name: str) -> Setting:
    key = name.strip().lower().replace("-", "_")
    key = SETTING_ALIASES.get(key, key)
    if key not in SETTINGS:
        raise InputError(f"There is no setting {name!r}. Settings: {', '.join(SETTINGS)}.")
    return SETTINGS[key]


class Commands:
    """Parse user text, call the tracker, and render a reply."""

    def __init__(self, tracker: Tracker, extra: dict[str, Callable[..., Awaitable[Reply]]]
                 | None = None) -> None:
        self.tracker = tracker
        # Other features (digest preview, export...) register their text commands here.
        self.extra: dict[str, Callable[..., Awaitable[Reply]]] = dict(extra or {})

    # --- onboarding and settings ------------------------------------------------------------

    async def start(self, actor: Actor, timezone: str, **options: str | None) -> Reply:
        """Onboard: /start ZONE [start=…] [target=…] [hours=…] [weeks=…] [reminder=…] …"""
        tz = parsing.parse_timezone(timezone)
        from bot.timing import study_date

        values: dict[str, Any] = {}
        today = study_date(self.tracker.now(), tz, 0)
        for name, raw in options.items():
            if raw is None or raw == "":
                continue
            setting = setting_named(name)
            if setting.column in {"timezone", "public_posts", "display_name", "plan_id",
                                  "digest_weekday", "digest_minute", "digest_every_weeks"}:
                raise InputError(f"{name} is set with /settings after /start.")
            values[setting.column] = setting.parse(raw, today)
        spec = Onboarding(
            timezone=tz,
            start_date=values.get("start_date"),
            target_date=values.get("target_date"),
            commitment_minutes=values.get("commitment_minutes", 4 * 60),
            commitment_weeks=values.get("commitment_weeks"),
            goal=values.get("goal"),
            reminder_time=_as_time(values["reminder_minute"]) if "reminder_minute" in values
            else Onboarding.reminder_time,
            day_start_hour=values.get("day_start_hour", Onboarding.day_start_hour),
        )
        return reply_of(await self.tracker.start(actor, spec), title="Welcome to Pacer")

    async def settings_show(self, actor: Actor) -> Reply:
        row = await self.tracker.settings(actor)
        profile = LearnerProfile.of(row)
        return Reply(render_settings(profile, self.tracker.plan_for(profile)), title="Settings")

    async def settings_set(self, actor: Actor, changes: dict[str, str]) -> Reply:
        row = await self.tracker.settings(actor)
        today = self.tracker.today_for(row)
        values, names = {}, []
        for name, raw in changes.items():
            setting = setting_named(name)
            values[setting.column] = setting.parse(raw, today)
            names.append(next(k for k, v in SETTINGS.items() if v is setting))
        reply = reply_of(await self.tracker.update_settings(actor, **values), title="Settings")
        reply.text = f"Updated {', '.join(names)}. `/settings` shows them all."
        return reply

    # --- time and checklist ---------------------------------------------------------------------

    async def log(self, actor: Actor, duration: str, topic: str | None = None,
                  when: str | None = None) -> Reply:
        minutes = parsing.parse_duration(duration)
        clean_topic = parsing.check_text(topic, "The topic", TOPIC_MAX) if topic else None
        day = (lambda today: parsing.parse_study_date(when, today)) if when else None
        return reply_of(await self.tracker.log_time(actor, minutes, clean_topic, day),
                        title="Time logged", shareable=True, private=False)

    async def done(self, actor: Actor, item: str, when: str | None = None) -> Reply:
        day = None
        if when:
            row = await self.tracker.settings(actor)
            day = parsing.parse_study_date(when, self.tracker.today_for(row))
        return reply_of(await self.tracker.mark_done(actor, _nonempty(item, "an item"), day),
                        title="Done", shareable=True, private=False)

    async def undone(self, actor: Actor, item: str) -> Reply:
        return reply_of(await self.tracker.mark_undone(actor, _nonempty(item, "an item")))

    async def undo(self, actor: Actor) -> Reply:
        return reply_of(await self.tracker.undo(actor))

    # --- scores -------------------------------------------------------------------------------

    async def quiz(self, actor: Actor, week: str, score: str) -> Reply:
        what = week.strip()
        if re.fullmatch(r"\d+", what):
            what = f"week{what}"
        return await self.score(actor, what, score)

    async def score(self, actor: Actor, what: str, value: str) -> Reply:
        return reply_of(await self.tracker.record_score(
            actor, _nonempty(what, "what was scored"),
            lambda maximum: parsing.parse_score(value, maximum)))

    async def readiness(self, actor: Actor, value: str) -> Reply:
        return await self.score(actor, "readiness", value)

    async def mock(self, actor: Actor, score: str, feedback: str | None = None,
                   when: str | None = None, slot: str | None = None) -> Reply:
        clean = parsing.check_text(feedback, "The feedback", FEEDBACK_MAX) if feedback else None
        day = None
        if when:
            row = await self.tracker.settings(actor)
            day = parsing.parse_date(when, today=self.tracker.today_for(row), allow_future=False)
        slot_no = parsing.parse_int_in_range(slot, 1, 99, "the slot") if slot else None
        return reply_of(await self.tracker.record_mock(
            actor, lambda maximum: parsing.parse_score(score, maximum), clean, day, slot_no))

    async def rate(self, actor: Actor, skill: str, value: str, week: str | None = None) -> Reply:
        rating = parsing.parse_int_in_range(value, 1, 5, "a skill rating")
        week_no = _week_number(week) if week else None
        return reply_of(await self.tracker.rate_skill(actor, _nonempty(skill, "a skill"), rating,
                                                      week_no))

    async def confidence(self, actor: Actor, area: str, value: str) -> Reply:
        parsing.parse_int_in_range(value, 1, 5, "a confidence level")
        return reply_of(await self.tracker.set_field(actor, _nonempty(area, "an area"), value,
                                                     confidence_only=True))

    async def set_field(self, actor: Actor, name: str, value: str) -> Reply:
        return reply_of(await self.tracker.set_field(actor, _nonempty(name, "a field"),
                                                     _nonempty(value, "a value")))

    async def count(self, actor: Actor, counter: str, delta: str | None = None) -> Reply:
        op, amount = parsing.parse_signed_delta(delta or "+1")
        return reply_of(await self.tracker.bump_counter(actor, _nonempty(counter, "a counter"),
                                                        op, amount))

    # --- reflections ------------------------------------------------------------------------

    async def insight(self, actor: Actor, text: str, week: str | None = None) -> Reply:
        return reply_of(await self.tracker.add_note(
            actor, "insight", parsing.check_text(text, "The insight", NOTE_MAX),
            week=_week_number(week) if week else None))

    async def challenge(self, actor: Actor, challenge: str, solution: str | None = None,
                        learning: str | None = None) -> Reply:
        return reply_of(await self.tracker.add_note(
            actor, "challenge", parsing.check_text(challenge, "The challenge", NOTE_MAX),
            solution=parsing.check_text(solution, "The solution", NOTE_MAX) if solution else None,
            learning=parsing.check_text(learning, "The learning", NOTE_MAX) if learning else None))

    async def question(self, actor: Actor, text: str) -> Reply:
        return reply_of(await self.tracker.add_note(
            actor, "question", parsing.check_text(text, "The question", NOTE_MAX)))

    async def notes(self, actor: Actor) -> Reply:
        data, _plan, _today = await self.tracker.snapshot(actor)
        return Reply(render_notes(data), title="Notes", notices=data.notices)

    async def note_remove(self, actor: Actor, note_id: str) -> Reply:
        n = parsing.parse_int_in_range(note_id.lstrip("#"), 1, 2**31 - 1, "a note number")
        return reply_of(await self.tracker.remove_note(actor, n))

    # --- deadlines --------------------------------------------------------------------------------

    async def deadline_add(self, actor: Actor, title: str, when: str) -> Reply:
        clean = parsing.check_text(title, "The deadline title", TITLE_MAX)
        row = await self.tracker.settings(actor)
        due = parsing.parse_date(when, today=self.tracker.today_for(row))
        return reply_of(await self.tracker.add_deadline(actor, clean, due))

    async def deadline_list(self, actor: Actor) -> Reply:
        data, _plan, today = await self.tracker.snapshot(actor)
        return Reply(render_deadlines(data, today), title="Deadlines", notices=data.notices)

    async def deadline_remove(self, actor: Actor, ref: str) -> Reply:
        return reply_of(await self.tracker.remove_deadline(actor, _nonempty(ref, "a deadline")))

    # --- views ------------------------------------------------------------------------------------

    async def progress(self, actor: Actor) -> Reply:
        data, plan, today = await self.tracker.snapshot(actor)
        return Reply(render_progress(data, plan, today), title="Overall Progress",
                     notices=data.notices)

    async def week(self, actor: Actor, week: str | None = None) -> Reply:
        data, plan, today = await self.tracker.snapshot(actor)
        this_week = max(1, plan_week(data.profile.start_date, today))
        n = _week_number(week) if week else this_week
        last = max(plan.weeks, data.profile.commitment_weeks, this_week)
        if not 1 <= n <= last:
            raise InputError(f"Your plan has weeks 1 to {last}; week {n} is outside them.")
        return Reply(render_week(data, plan, n), title=f"Week {n} time log",
                     notices=data.notices)

    async def skills(self, actor: Actor) -> Reply:
        data, plan, _today = await self.tracker.snapshot(actor)
        return Reply(render_skills(data, plan), title="Self-Assessment Matrix",
                     notices=data.notices)

    async def summary(self, actor: Actor) -> Reply:
        data, plan, today = await self.tracker.snapshot(actor)
        return Reply(render_summary(data, plan, today), title="Final Summary",
                     notices=data.notices)

    async def next(self, actor: Actor) -> Reply:
        data, plan, today = await self.tracker.snapshot(actor)
        return Reply(render_next(data, plan, today), title="What's next", notices=data.notices)

    # --- pause and partner ------------------------------------------------------------------------

    async def pause(self, actor: Actor, until: str) -> Reply:
        text = until.strip()
        text = text[len("until"):].strip() if text.lower().startswith("until") else text
        row = await self.tracker.settings(actor)
        day = parsing.parse_date(text, today=self.tracker.today_for(row), allow_past=False)
        return reply_of(await self.tracker.pause(actor, day))

    async def resume(self, actor: Actor) -> Reply:
        return reply_of(await self.tracker.resume(actor))

    async def partner_invite(self, actor: Actor, partner: Actor) -> Reply:
        return reply_of(await self.tracker.invite_partner(actor, partner))

    async def partner_accept(self, actor: Actor, learner: str | None = None) -> Reply:
        return reply_of(await self.tracker.accept_partner(actor, learner))

    async def partner_end(self, actor: Actor, learner: str | None = None) -> Reply:
        return reply_of(await self.tracker.end_partnership(actor, learner))

    async def partner_share(self, actor: Actor, parts: str) -> Reply:
        items = [x for x in re.split(r"[,\s]+", parts.strip()) if x]
        if items == ["none"]:
            items = []
        return reply_of(await self.tracker.set_share(actor, items))

    async def use_plan(self, actor: Actor, plan_id: str) -> Reply:
        return reply_of(await self.tracker.set_space_plan(actor, _nonempty(plan_id, "a plan")),
                        title="Plan")

    # --- the line grammar ----------------------------------------------------------------------

    async def dispatch(self, actor: Actor, line: str,
                       resolve_user: Callable[[str], Actor] | None = None) -> Reply:
        """Run one line such as ``/log 2h "block manager" yesterday``; errors become replies."""
        try:
            return await self._dispatch(actor, line, resolve_user)
        except PacerError as exc:
            return Reply(exc.message, error=True)

    async def _dispatch(self, actor: Actor, line: str,
                        resolve_user: Callable[[str], Actor] | None) -> Reply:
        tokens = parsing.tokenize(line.strip())
        if not tokens:
            raise InputError("Type a command, e.g. `/log 2h`; `/help` lists them all.")
        name = tokens[0].lstrip("/").lower()
        args = tokens[1:]
        if name in self.extra:
            return await self.extra[name](actor, args)
        handler = _GRAMMAR.get(name)
        if handler is None:
            raise InputError(f"Unknown command /{parsing.quote_input(name)}. "
                             "`/help` lists the commands.")
        return await handler(self, actor, args, resolve_user)


def _as_time(minute: int | None) -> Any:
    from datetime import time

    return None if minute is None else time(minute // 60, minute % 60)


def _nonempty(text: str | None, what: str) -> str:
    if text is None or not text.strip():
        raise InputError(f"Name {what}.")
    return text.strip()


def _week_number(text: str) -> int:
    match = re.fullmatch(r"(?:w|week)?\s*(\d{1,2})", text.strip().lower())
    if not match:
        raise InputError(f"{parsing.quote_input(text)} is not a week; use a number such as 2 "
                         "or week2.")
    return int(match.group(1))


_DATE_LIKE = re.compile(
    r"(?ix)^(today|yesterday|tomorrow"
    r"|mon(day)?|tue(s|sday)?|wed(nesday)?|thu(rs|rsday)?|fri(day)?|sat(urday)?|sun(day)?"
    r"|\d{4}[-/.]\d{1,2}[-/.]\d{1,2}|\d{1,2}[-/.]\d{1,2}[-/.]\d{2,4})$")
_MINUTES_PART = re.compile(r"(?i)^\d{1,4}\s*(m|min|mins|minutes)$")


def _is_date(text: str) -> bool:
    """Tell whether a trailing word is meant as a date (then a bad date gets the date's message)."""
    return bool(_DATE_LIKE.match(text.strip()))


def _split_trailing_date(args: list[str]) -> tuple[list[str], str | None]:
    if len(args) >= 2 and _is_date(args[-1]):
        return args[:-1], args[-1]
    return args, None


def _key_values(args: list[str]) -> tuple[list[str], dict[str, str]]:
    positional, options = [], {}
    for a in args:
        if "=" in a and not a.startswith("="):
            k, v = a.split("=", 1)
            options[k.strip()] = v
        else:
            positional.append(a)
    return positional, options


Handler = Callable[[Commands, Actor, list[str], Any], Awaitable[Reply]]
_GRAMMAR: dict[str, Handler] = {}
USAGE: dict[str, str] = {}


def _command(name: str, usage: str, *aliases: str) -> Callable[[Handler], Handler]:
    def register(fn: Handler) -> Handler:
        for n in (name, *aliases):
            _GRAMMAR[n] = fn
        USAGE[name] = usage
        return fn
    return register


def _need(args: list[str], n: int, usage: str) -> None:
    if len(args) < n:
        raise InputError(f"Missing argument. Usage: `{usage}`")


@_command("start", "/start ZONE [start=DATE] [target=DATE] [hours=H] [weeks=N] "
                   "[reminder=HH:MM|off] [daystart=H] [goal=\"…\"]")
async def _start(c: Commands, a: Actor, args: list[str], _r: Any) -> Reply:
    pos, opts = _key_values(args)
    _need(pos, 1, USAGE["start"])
    if len(pos) > 1:
        raise InputError("Give the other settings as name=value, e.g. `hours=4 weeks=6`. "
                         f"Usage: `{USAGE['start']}`")
    return await c.start(a, pos[0], **opts)


@_command("settings", "/settings [show] | /settings NAME=VALUE …", "setting")
async def _settings(c: Commands, a: Actor, args: list[str], _r: Any) -> Reply:
    pos, opts = _key_values(args)
    if not opts:
        if pos and pos[0].lower() != "show":
            if len(pos) >= 2:
                return await c.settings_set(a, {pos[0]: " ".join(pos[1:])})
            raise InputError("Give a setting as NAME VALUE or NAME=VALUE, e.g. "
                             "`/settings reminder=20:00`. Settings: " + ", ".join(SETTINGS) + ".")
        return await c.settings_show(a)
    if pos:
        raise InputError("Mixing plain words and NAME=VALUE is not understood; use "
                         "NAME=VALUE for each setting.")
    return await c.settings_set(a, opts)


@_command("log", "/log DURATION [TOPIC] [DATE]")
async def _log(c: Commands, a: Actor, args: list[str], _r: Any) -> Reply:
    _need(args, 1, USAGE["log"])
    if len(args) > 1 and _MINUTES_PART.match(args[1]):  # "1h 30m" typed with a space
        args = [f"{args[0]} {args[1]}", *args[2:]]
    rest, when = _split_trailing_date(args[1:] if len(args) > 1 else [])
    if len(args) == 2 and _is_date(args[1]):
        rest, when = [], args[1]
    return await c.log(a, args[0], " ".join(rest) or None, when)


@_command("done", "/done ITEM [DATE]")
async def _done(c: Commands, a: Actor, args: list[str], _r: Any) -> Reply:
    _need(args, 1, USAGE["done"])
    rest, when = _split_trailing_date(args)
    return await c.done(a, " ".join(rest), when)


@_command("undone", "/undone ITEM")
async def _undone(c: Commands, a: Actor, args: list[str], _r: Any) -> Reply:
    _need(args, 1, USAGE["undone"])
    return await c.undone(a, " ".join(args))


@_command("undo", "/undo")
async def _undo(c: Commands, a: Actor, args: list[str], _r: Any) -> Reply:
    return await c.undo(a)


@_command("quiz", "/quiz WEEK SCORE   e.g. /quiz week1 17/20")
async def _quiz(c: Commands, a: Actor, args: list[str], _r: Any) -> Reply:
    _need(args, 2, USAGE["quiz"])
    if len(args) > 2:
        raise InputError(f"Too many words. Usage: `{USAGE['quiz']}`")
    return await c.quiz(a, args[0], args[1])


@_command("score", "/score WHAT VALUE   e.g. /score pa-quiz 3/3")
async def _score(c: Commands, a: Actor, args: list[str], _r: Any) -> Reply:
    _need(args, 2, USAGE["score"])
    return await c.score(a, " ".join(args[:-1]), args[-1])


@_command("readiness", "/readiness SCORE   (out of 60)")
async def _readiness(c: Commands, a: Actor, args: list[str], _r: Any) -> Reply:
    _need(args, 1, USAGE["readiness"])
    return await c.readiness(a, " ".join(args))


@_command("mock", "/mock SCORE [FEEDBACK] [DATE] [slot=N]")
async def _mock(c: Commands, a: Actor, args: list[str], _r: Any) -> Reply:
    pos, opts = _key_values(args)
    _need(pos, 1, USAGE["mock"])
    rest, when = _split_trailing_date(pos[1:]) if len(pos) > 2 else (pos[1:], None)
    if len(pos) == 2 and _is_date(pos[1]):
        rest, when = [], pos[1]
    return await c.mock(a, pos[0], " ".join(rest) or None, when, opts.get("slot"))


@_command("rate", "/rate SKILL RATING [WEEK]   e.g. /rate scheduler 4 week2")
async def _rate(c: Commands, a: Actor, args: list[str], _r: Any) -> Reply:
    _need(args, 2, USAGE["rate"])
    week = None
    if len(args) >= 3 and re.fullmatch(r"(?i)(w|week)?\d{1,2}", args[-1]) and re.fullmatch(
            r"\d", args[-2]):
        week = args[-1]
        args = args[:-1]
    return await c.rate(a, " ".join(args[:-1]), args[-1], week)


@_command("confidence", "/confidence AREA LEVEL   e.g. /confidence coding 4")
async def _confidence(c: Commands, a: Actor, args: list[str], _r: Any) -> Reply:
    _need(args, 2, USAGE["confidence"])
    return await c.confidence(a, " ".join(args[:-1]), args[-1])


@_command("set", "/set FIELD VALUE   e.g. /set next-steps Apply in January")
async def _set(c: Commands, a: Actor, args: list[str], _r: Any) -> Reply:
    _need(args, 2, USAGE["set"])
    return await c.set_field(a, args[0], " ".join(args[1:]))


@_command("count", "/count COUNTER [+N|-N|=N]   e.g. /count cuda-basic +1")
async def _count(c: Commands, a: Actor, args: list[str], _r: Any) -> Reply:
    _need(args, 1, USAGE["count"])
    if len(args) > 1 and re.fullmatch(r"[+\-=]?\d+", args[-1]):
        return await c.count(a, " ".join(args[:-1]), args[-1])
    return await c.count(a, " ".join(args), None)


@_command("insight", "/insight [weekN] TEXT")
async def _insight(c: Commands, a: Actor, args: list[str], _r: Any) -> Reply:
    _need(args, 1, USAGE["insight"])
    week = None
    if len(args) > 1 and re.fullmatch(r"(?i)(w|week)\d{1,2}", args[0]):
        week, args = args[0], args[1:]
    return await c.insight(a, " ".join(args), week)


@_command("challenge", "/challenge CHALLENGE | SOLUTION | LEARNING")
async def _challenge(c: Commands, a: Actor, args: list[str], _r: Any) -> Reply:
    _need(args, 1, USAGE["challenge"])
    parts = [p.strip() for p in " ".join(args).split("|")]
    if len(parts) > 3:
        raise InputError("A challenge has at most three parts: challenge | solution | learning.")
    parts += [""] * (3 - len(parts))
    return await c.challenge(a, parts[0], parts[1] or None, parts[2] or None)


@_command("question", "/question TEXT")
async def _question(c: Commands, a: Actor, args: list[str], _r: Any) -> Reply:
    _need(args, 1, USAGE["question"])
    return await c.question(a, " ".join(args))


@_command("notes", "/notes | /notes remove ID")
async def _notes(c: Commands, a: Actor, args: list[str], _r: Any) -> Reply:
    if args and args[0].lower() in {"remove", "delete"}:
        _need(args, 2, USAGE["notes"])
        return await c.note_remove(a, args[1])
    if args:
        raise InputError(f"Usage: `{USAGE['notes']}`")
    return await c.notes(a)


@_command("deadline", '/deadline add "TITLE" DATE | /deadline list | /deadline remove ID',
          "deadlines")
async def _deadline(c: Commands, a: Actor, args: list[str], _r: Any) -> Reply:
    sub = args[0].lower() if args else "list"
    if sub == "list":
        return await c.deadline_list(a)
    if sub == "add":
        if len(args) < 3:
            raise InputError(f"Give a title and a date. Usage: `{USAGE['deadline']}`")
        return await c.deadline_add(a, " ".join(args[1:-1]), args[-1])
    if sub in {"remove", "delete"}:
        _need(args, 2, USAGE["deadline"])
        return await c.deadline_remove(a, " ".join(args[1:]))
    raise InputError(f"/deadline takes add, list or remove. Usage: `{USAGE['deadline']}`")


@_command("progress", "/progress")
async def _progress(c: Commands, a: Actor, args: list[str], _r: Any) -> Reply:
    return await c.progress(a)


@_command("week", "/week [N]")
async def _week(c: Commands, a: Actor, args: list[str], _r: Any) -> Reply:
    return await c.week(a, args[0] if args else None)


@_command("skills", "/skills")
async def _skills(c: Commands, a: Actor, args: list[str], _r: Any) -> Reply:
    return await c.skills(a)


@_command("summary", "/summary")
async def _summary(c: Commands, a: Actor, args: list[str], _r: Any) -> Reply:
    return await c.summary(a)


@_command("next", "/next")
async def _next(c: Commands, a: Actor, args: list[str], _r: Any) -> Reply:
    return await c.next(a)


@_command("pause", "/pause until DATE")
async def _pause(c: Commands, a: Actor, args: list[str], _r: Any) -> Reply:
    _need(args, 1, USAGE["pause"])
    return await c.pause(a, " ".join(args))


@_command("resume", "/resume")
async def _resume(c: Commands, a: Actor, args: list[str], _r: Any) -> Reply:
    return await c.resume(a)


@_command("partner", "/partner invite USER | accept [LEARNER] | end [LEARNER] | "
                     "share hours,days,streak,scores,notes")
async def _partner(c: Commands, a: Actor, args: list[str],
                   resolve_user: Callable[[str], Actor] | None) -> Reply:
    _need(args, 1, USAGE["partner"])
    sub, rest = args[0].lower(), args[1:]
    if sub == "invite":
        _need(rest, 1, USAGE["partner"])
        if resolve_user is None:
            raise InputError("Partners are invited by mention on this front.")
        return await c.partner_invite(a, resolve_user(" ".join(rest)))
    if sub == "accept":
        return await c.partner_accept(a, " ".join(rest) or None)
    if sub == "end":
        return await c.partner_end(a, " ".join(rest) or None)
    if sub == "share":
        _need(rest, 1, USAGE["partner"])
        return await c.partner_share(a, " ".join(rest))
    raise InputError(f"/partner takes invite, accept, end or share. Usage: `{USAGE['partner']}`")


@_command("plan", "/plan | /plan use ID   (the plan new learners here get)", "plans")
async def _plan(c: Commands, a: Actor, args: list[str], _r: Any) -> Reply:
    if not args:
        return Reply(c.tracker.plan_list(), title="Plans")
    if args[0].lower() != "use" or len(args) != 2:
        raise InputError(f"Usage: `{USAGE['plan']}`")
    return await c.use_plan(a, args[1])


@_command("help", "/help [COMMAND]")
async def _help(c: Commands, a: Actor, args: list[str], _r: Any) -> Reply:
    if args:
        key = args[0].lstrip("/").lower()
        if key not in USAGE:
            raise InputError(f"No command /{parsing.quote_input(key)}. `/help` lists them.")
        return Reply(f"`{USAGE[key]}`", title=f"/{key}")
    lines = [f"`{u}`" for u in USAGE.values()]
    return Reply("\n".join(lines), title="Pacer commands")

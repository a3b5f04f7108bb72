"""The line grammar of the console (and Slack): one typed line to one typed service call.

``Grammar.dispatch(actor, line)`` reads ``/log 2h "block manager" yesterday``, parses each
argument with ``bot.parsing``, calls the service with typed values and renders the outcome
with ``bot.presenting.present``. A ``PacerError`` becomes an error reply; nothing changed.
``COMMANDS`` is the one catalogue of commands: usage, one sentence of help and an example.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Awaitable, Callable, Iterable
from datetime import time
from typing import Any

from bot import parsing
from bot.actors import Actor
from bot.catalogue import CATALOGUE
from bot.errors import InputError, PacerError
from bot.limits import TOPIC_MAX
from bot.metrics import UNKNOWN
from bot.presenting import present
from bot.replies import Reply
from bot.services import Services
from bot.services.notes import describe_note_numbers
from bot.services.onboarding import DEFAULT_DAY_START, DEFAULT_REMINDER, Onboarding
from bot.services.views import VIEW_KINDS
from bot.settings_input import SETTINGS, START_OPTIONS, parse_settings, setting_key
from bot.values import ADD_ONE, TODAY, DateInput

log = logging.getLogger(__name__)


COMMANDS = CATALOGUE
Handler = Callable[["Grammar", Actor, list[str]], Awaitable[Any]]
_HANDLERS: dict[str, Handler] = {}
_CANONICAL: dict[str, str] = {}  # every name and alias -> the catalogued name


def command(name: str, *aliases: str) -> Callable[[Handler], Handler]:
    """Register the handler of a catalogued command (and its aliases)."""
    if name not in CATALOGUE:
        raise KeyError(f"/{name} has no entry in bot.catalogue")

    def register(fn: Handler) -> Handler:
        for n in (name, *aliases):
            _HANDLERS[n] = fn
            _CANONICAL[n] = name
        return fn
    return register


def command_name(line: str, also: Iterable[str] = ()) -> str:
    """Name the command LINE runs by its catalogue name (or one of ALSO), else ``unknown``.

    What a log line or a metric label says of a typed line: never the user's own words.
    """
    words = line.strip().split(maxsplit=1)
    word = words[0].lstrip("/").lower() if words else ""
    if word in _CANONICAL:
        return _CANONICAL[word]
    return word if word in set(also) else UNKNOWN


class Grammar:
    """Parse lines and call the services for one front."""

    def __init__(self, services: Services,
                 resolve_user: Callable[[str], Actor] | None = None) -> None:
        self.services = services
        self.resolve_user = resolve_user

    async def dispatch(self, actor: Actor, line: str,
                       resolve_user: Callable[[str], Actor] | None = None) -> Reply:
        """Run one line such as ``/log 2h "block manager" yesterday``; errors become replies."""
        if resolve_user is not None:
            return await Grammar(self.services, resolve_user).dispatch(actor, line)
        try:
            tokens = parsing.tokenize(line.strip())
            if not tokens:
                raise InputError("Type a command, e.g. `/log 2h`; `/help` lists them all.")
            name = tokens[0].lstrip("/").lower()
            handler = _HANDLERS.get(name)
            if handler is None:
                raise InputError(f"Unknown command /{parsing.quote_input(name)}. "
                                 "`/help` lists the commands.")
            return present(await handler(self, actor, tokens[1:]))
        except PacerError as exc:
            return Reply(exc.message, error=True)


def _usage(name: str) -> str:
    return COMMANDS[name].usage


def _need(args: list[str], n: int, name: str) -> None:
    if len(args) < n:
        raise InputError(f"Missing argument. Usage: `{_usage(name)}`")


def _nonempty(text: str | None, what: str) -> str:
    if text is None or not text.strip():
        raise InputError(f"Name {what}.")
    return text.strip()


def week_number(text: str) -> int:
    """Parse a plan week: ``2``, ``w2`` or ``week2``."""
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
_NUMBER_LIKE = re.compile(r"[+\-−=]?\s*[0-9]+(?:[.,][0-9]+)?")


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


# --- onboarding and settings ---


@command("start")
async def _start(g: Grammar, a: Actor, args: list[str]) -> Any:
    pos, opts = _key_values(args)
    _need(pos, 1, "start")
    if len(pos) > 1:
        raise InputError("Give the other settings as name=value, e.g. `hours=4 weeks=6`. "
                         f"Usage: `{_usage('start')}`")
    tz = parsing.parse_timezone(pos[0])
    given = {k: v for k, v in opts.items() if v}
    for name in given:
        if setting_key(name) not in START_OPTIONS:
            raise InputError(f"{name} is set with /settings after /start.")
    values, names = parse_settings(given)
    reminder = values.get("reminder_minute", -1)
    spec = Onboarding(
        timezone=tz, start_date=values.get("start_date"), target_date=values.get("target_date"),
        commitment_minutes=values.get("commitment_minutes", Onboarding.commitment_minutes),
        commitment_weeks=values.get("commitment_weeks"), goal=values.get("goal"),
        reminder_time=DEFAULT_REMINDER if reminder == -1 else
        None if reminder is None else time(reminder // 60, reminder % 60),
        day_start_hour=values.get("day_start_hour", DEFAULT_DAY_START), given=names)
    return await g.services.onboarding.start(a, spec)


@command("settings", "setting")
async def _settings(g: Grammar, a: Actor, args: list[str]) -> Any:
    pos, opts = _key_values(args)
    if not opts:
        if pos and pos[0].lower() != "show":
            if len(pos) >= 2:
                opts = {pos[0]: " ".join(pos[1:])}
            else:
                raise InputError("Give a setting as NAME VALUE or NAME=VALUE, e.g. "
                                 "`/settings reminder=20:00`. Settings: "
                                 + ", ".join(SETTINGS) + ".")
        else:
            return await g.services.views.settings(a)
    elif pos:
        raise InputError("Mixing plain words and NAME=VALUE is not understood; use "
                         "NAME=VALUE for each setting.")
    values, _names = parse_settings(opts)
    return await g.services.onboarding.update_settings(a, values)


# --- time and checklist ---


@command("log")
async def _log(g: Grammar, a: Actor, args: list[str]) -> Any:
    _need(args, 1, "log")
    if len(args) > 1 and _MINUTES_PART.match(args[1]):  # "1h 30m" typed with a space
        args = [f"{args[0]} {args[1]}", *args[2:]]
    rest, when = _split_trailing_date(args[1:] if len(args) > 1 else [])
    if len(args) == 2 and _is_date(args[1]):
        rest, when = [], args[1]
    minutes = parsing.parse_duration(args[0])
    topic = " ".join(rest) or None
    clean = parsing.check_text(topic, "The topic", TOPIC_MAX) if topic else None
    day = parsing.parse_study_day(when) if when else TODAY
    return await g.services.timelog.log_time(a, minutes, clean, day)


@command("done")
async def _done(g: Grammar, a: Actor, args: list[str]) -> Any:
    _need(args, 1, "done")
    rest, when = _split_trailing_date(args)
    day = parsing.parse_study_day(when) if when else TODAY
    return await g.services.checklist.mark_done(a, _nonempty(" ".join(rest), "an item"), day)


@command("undone")
async def _undone(g: Grammar, a: Actor, args: list[str]) -> Any:
    _need(args, 1, "undone")
    return await g.services.checklist.mark_undone(a, _nonempty(" ".join(args), "an item"))


@command("undo")
async def _undo(g: Grammar, a: Actor, args: list[str]) -> Any:
    return await g.services.history.undo(a)


# --- scores ---


@command("quiz")
async def _quiz(g: Grammar, a: Actor, args: list[str]) -> Any:
    _need(args, 2, "quiz")
    if len(args) > 2:
        raise InputError(f"Too many words. Usage: `{_usage('quiz')}`")
    what = args[0].strip()
    value = parsing.parse_score_input(args[1])
    if re.fullmatch(r"\d+", what):
        return await g.services.scores.record_quiz(a, int(what), value)
    return await g.services.scores.record_score(a, what, value)


@command("score")
async def _score(g: Grammar, a: Actor, args: list[str]) -> Any:
    _need(args, 2, "score")
    return await g.services.scores.record_score(
        a, _nonempty(" ".join(args[:-1]), "what was scored"),
        parsing.parse_score_input(args[-1]))


@command("readiness")
async def _readiness(g: Grammar, a: Actor, args: list[str]) -> Any:
    _need(args, 1, "readiness")
    return await g.services.scores.record_readiness(a, parsing.parse_score_input(" ".join(args)))


@command("mock")
async def _mock(g: Grammar, a: Actor, args: list[str]) -> Any:
    pos, opts = _key_values(args)
    _need(pos, 1, "mock")
    rest, when = _split_trailing_date(pos[1:]) if len(pos) > 2 else (pos[1:], None)
    if len(pos) == 2 and _is_date(pos[1]):
        rest, when = [], pos[1]
    slot = parsing.parse_int_in_range(opts["slot"], 1, 99, "the slot") if "slot" in opts \
        else None
    day = parsing.parse_study_day(when) if when else TODAY
    return await g.services.scores.record_mock(a, parsing.parse_score_input(pos[0]),
                                               " ".join(rest) or None, day, slot)


@command("rate")
async def _rate(g: Grammar, a: Actor, args: list[str]) -> Any:
    _need(args, 2, "rate")
    week = None
    if len(args) >= 3 and re.fullmatch(r"(?i)(w|week)?\d{1,2}", args[-1]) and re.fullmatch(
            r"\d", args[-2]):
        week = week_number(args[-1])
        args = args[:-1]
    rating = parsing.parse_int_in_range(args[-1], 1, 5, "a skill rating")
    return await g.services.scores.rate_skill(a, _nonempty(" ".join(args[:-1]), "a skill"),
                                              rating, week)


@command("confidence")
async def _confidence(g: Grammar, a: Actor, args: list[str]) -> Any:
    _need(args, 2, "confidence")
    level = parsing.parse_int_in_range(args[-1], 1, 5, "a confidence level")
    return await g.services.scores.set_confidence(a, _nonempty(" ".join(args[:-1]), "an area"),
                                                  level)


@command("set")
async def _set(g: Grammar, a: Actor, args: list[str]) -> Any:
    _need(args, 2, "set")
    return await g.services.scores.set_field(a, _nonempty(args[0], "a field"),
                                             _nonempty(" ".join(args[1:]), "a value"))


@command("count")
async def _count(g: Grammar, a: Actor, args: list[str]) -> Any:
    _need(args, 1, "count")
    if len(args) > 1 and _NUMBER_LIKE.fullmatch(args[-1]):
        change = parsing.parse_counter_change(args[-1])
        name = " ".join(args[:-1])
    else:
        change, name = ADD_ONE, " ".join(args)
    return await g.services.scores.bump_counter(a, _nonempty(name, "a counter"), change)


# --- reflections ---


@command("insight")
async def _insight(g: Grammar, a: Actor, args: list[str]) -> Any:
    _need(args, 1, "insight")
    week = None
    if len(args) > 1 and re.fullmatch(r"(?i)(w|week)\d{1,2}", args[0]):
        week, args = week_number(args[0]), args[1:]
    return await g.services.notes.add_insight(a, " ".join(args), week)


@command("challenge")
async def _challenge(g: Grammar, a: Actor, args: list[str]) -> Any:
    _need(args, 1, "challenge")
    parts = [p.strip() for p in " ".join(args).split("|")]
    if len(parts) > 3:
        raise InputError("A challenge has at most three parts: challenge | solution | learning.")
    parts += [""] * (3 - len(parts))
    return await g.services.notes.add_challenge(a, parts[0], parts[1] or None, parts[2] or None)


@command("question")
async def _question(g: Grammar, a: Actor, args: list[str]) -> Any:
    _need(args, 1, "question")
    return await g.services.notes.add_question(a, " ".join(args))


@command("notes")
async def _notes(g: Grammar, a: Actor, args: list[str]) -> Any:
    if args and args[0].lower() in {"remove", "delete"}:
        _need(args, 2, "notes")
        ref = args[1].lstrip("#")
        if not ref.isdigit() or len(ref) > 9:
            numbers = await g.services.notes.note_numbers(a)
            raise InputError(f"{parsing.quote_input(args[1])} is not a note number; "
                             f"{describe_note_numbers(numbers)}")
        return await g.services.notes.remove_note(a, int(ref))
    if args:
        raise InputError(f"Usage: `{_usage('notes')}`")
    return await g.services.views.notes(a)


# --- deadlines ---


@command("deadline", "deadlines")
async def _deadline(g: Grammar, a: Actor, args: list[str]) -> Any:
    sub = args[0].lower() if args else "list"
    if sub == "list":
        return await g.services.views.deadlines(a)
    if sub == "add":
        if len(args) < 3:
            raise InputError(f"Give a title and a date. Usage: `{_usage('deadline')}`")
        return await g.services.deadlines.add_deadline(a, " ".join(args[1:-1]),
                                                       parsing.parse_date_input(args[-1]))
    if sub in {"remove", "delete"}:
        _need(args, 2, "deadline")
        return await g.services.deadlines.remove_deadline(a, " ".join(args[1:]))
    raise InputError(f"/deadline takes add, list or remove. Usage: `{_usage('deadline')}`")


# --- views ---

_VIEW_COMMANDS = ("progress", "skills", "summary", "next", "milestones")


def _view_command(kind: str) -> Handler:
    async def run(g: Grammar, a: Actor, args: list[str]) -> Any:
        if args:
            raise InputError(f"/{kind} takes no arguments.")
        return await g.services.views.view(a, kind)
    return run


for _kind in _VIEW_COMMANDS:
    assert _kind in VIEW_KINDS
    command(_kind)(_view_command(_kind))


@command("week")
async def _week(g: Grammar, a: Actor, args: list[str]) -> Any:
    return await g.services.views.week(a, week_number(args[0]) if args else None)


# --- pause, snooze, partner, plans ---


@command("pause")
async def _pause(g: Grammar, a: Actor, args: list[str]) -> Any:
    _need(args, 1, "pause")
    text = " ".join(args).strip()
    text = text[len("until"):].strip() if text.lower().startswith("until") else text
    return await g.services.pauses.pause(a, parsing.parse_date_input(text))


@command("resume")
async def _resume(g: Grammar, a: Actor, args: list[str]) -> Any:
    return await g.services.pauses.resume(a)


@command("snooze")
async def _snooze(g: Grammar, a: Actor, args: list[str]) -> Any:
    if not args:
        raise InputError(f"Say for how long. Usage: `{_usage('snooze')}`")
    return await g.services.pauses.snooze(a, parsing.parse_snooze(" ".join(args)))


@command("digest")
async def _digest(g: Grammar, a: Actor, args: list[str]) -> Any:
    if args and (len(args) > 1 or args[0].lower() != "preview"):
        raise InputError(f"/digest takes one word, preview. Usage: `{_usage('digest')}`")
    return await g.services.reminders.digest_preview(a)


@command("partner")
async def _partner(g: Grammar, a: Actor, args: list[str]) -> Any:
    _need(args, 1, "partner")
    sub, rest = args[0].lower(), args[1:]
    if sub == "invite":
        _need(rest, 1, "partner")
        if g.resolve_user is None:
            raise InputError("Partners are invited by mention on this front.")
        return await g.services.partners.invite(a, g.resolve_user(" ".join(rest)))
    if sub == "accept":
        return await g.services.partners.accept(a, " ".join(rest) or None)
    if sub == "end":
        return await g.services.partners.end(a, " ".join(rest) or None)
    if sub == "share":
        _need(rest, 1, "partner")
        items = [x for x in re.split(r"[,\s]+", " ".join(rest).strip()) if x]
        return await g.services.partners.share(a, [] if items == ["none"] else items)
    raise InputError(f"/partner takes invite, accept, end or share. Usage: `{_usage('partner')}`")


@command("plan", "plans")
async def _plan(g: Grammar, a: Actor, args: list[str]) -> Any:
    if not args:
        return g.services.views.plans()
    if args[0].lower() != "use" or len(args) != 2:
        raise InputError(f"Usage: `{_usage('plan')}`")
    return await g.services.spaces.use_plan(a, _nonempty(args[1], "a plan"))


@command("link")
async def _link(g: Grammar, a: Actor, args: list[str]) -> Any:
    if not args:
        return await g.services.accounts.link_code(a)
    if len(args) == 1 and args[0].lower() == "here":
        return await g.services.accounts.deliver_here(a)
    return await g.services.accounts.link(a, " ".join(args))


# --- data rights ---


@command("export")
async def _export(g: Grammar, a: Actor, args: list[str]) -> Any:
    return await g.services.data.line_export(a, args)


@command("import")
async def _import(g: Grammar, a: Actor, args: list[str]) -> Any:
    return await g.services.data.line_import(a, args)


@command("forget-me")
async def _forget(g: Grammar, a: Actor, args: list[str]) -> Any:
    return await g.services.data.line_forget(a, args)


@command("chart")
async def _chart(g: Grammar, a: Actor, args: list[str]) -> Any:
    return await g.services.charts.line_chart(a, args)


@command("help")
async def _help(g: Grammar, a: Actor, args: list[str]) -> Any:
    if args:
        key = args[0].lstrip("/").lower()
        found = COMMANDS.get(key)
        if found is None:
            raise InputError(f"No command /{parsing.quote_input(key)}. `/help` lists them.")
        return Reply(f"{found.summary}\nUsage: `{found.usage}`\nExample: `{found.example}`",
                     title=f"/{key}")
    lines = [f"`/{name}` — {h.summary}" for name, h in COMMANDS.items()]
    return Reply("\n".join(lines) + "\n`/help COMMAND` shows its usage and an example.",
                 title="Pacer commands")


__all__ = ["COMMANDS", "DateInput", "Grammar", "command", "command_name", "week_number"]

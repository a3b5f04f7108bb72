"""Parse what learners type (durations, dates, scores, times, zones, text) into values.

Every parser is pure and raises bot.errors.InputError whose message says what was wrong and
what is accepted. User text quoted back in a message goes through `quote_input`, which
defuses mentions (``@everyone``, ``<@123>``, Slack's ``<!channel>``) and truncates it.

Decisions:
- Durations: a bare number means hours (``2`` = 2 h, ``2.5`` = 2 h 30 min); ``45`` is refused
  because 45 hours exceeds a day (the message suggests ``45m``). Minute parts after hours
  must be below 60 (``1h 90m`` is refused). Results are whole minutes, 1 min to 24 h.
- Study dates: ``today``, ``yesterday``, a weekday name meaning its most recent occurrence
  not after today (today's own name means today), or any full date from 2000-01-01 up to
  today. Future dates are refused.
- Dates: ISO ``2027-01-15`` (also ``2027/01/15``), ``15 Jan 2027``, ``Jan 15 2027``,
  ``January 15, 2027``, ``15-Jan-2027``; with ``today`` given also today/tomorrow/yesterday.
  Day-month-year with digits only (``01/02/2027``) is refused as ambiguous. Years 2000-2100.
- Counter deltas: ``+N`` adds, ``-N`` subtracts, ``=N`` or a bare ``N`` sets.
- Time zones: IANA names, case-insensitive, spaces allowed for underscores; a city alone
  (``berlin``) is accepted when it names exactly one zone. Offsets (``UTC+2``) and legacy
  fixed abbreviations (``EST``) are refused because they ignore daylight saving.
"""

from __future__ import annotations

import datetime as dt
import difflib
import functools
import re
import unicodedata
import zoneinfo
from decimal import Decimal, InvalidOperation

from bot.errors import InputError
from bot.quoting import quote_input
from bot.values import (
    STUDY_DATE_ACCEPTED,
    CounterChange,
    DateInput,
    ScoreInput,
    SnoozeSpec,
    StudyDay,
)

MAX_DURATION_MINUTES = 24 * 60
MIN_YEAR = 2000
MAX_YEAR = 2100
MAX_WEEKS = 104
MAX_DELTA = 100_000

DURATION_ACCEPTED = (
    "Write a duration like 45m, 90min, 1h30m, 1h 30m, 2.5h or 1:30 "
    "(a bare number means hours; more than 0, at most 24h)."
)
HOURS_PER_DAY_ACCEPTED = (
    "Write hours per day like 4, 4h, 2.5h, 3h30m or 90m (more than 0, at most 24h)."
)
DATE_ACCEPTED = "Write a date like 2027-01-15, 15 Jan 2027 or Jan 15 2027."
TIME_ACCEPTED = "Write a time like 19:30, 07:00, 7pm, 7:30 pm, noon or midnight."
WEEKDAY_ACCEPTED = "Name a weekday: monday ... sunday, or mon, tue, wed, thu, fri, sat, sun."
TIMEZONE_ACCEPTED = (
    "Give an IANA time zone such as Europe/Berlin, America/New_York or Asia/Kolkata "
    "(a city alone, like berlin, works when it is unique)."
)
DELTA_ACCEPTED = "Write +N to add, -N to subtract, or =N (or just N) to set, e.g. +1 or =5."
WEEKS_ACCEPTED = f"Write a number of weeks from 1 to {MAX_WEEKS}, like 4 or 4w."

_ASCII = re.ASCII | re.IGNORECASE


# --- durations ---------------------------------------------------------------------------

_NUM = r"[0-9]{1,6}(?:[.,][0-9]{1,6})?"
_HOUR_UNIT = r"(?:hours|hour|hrs|hr|h)"
_MIN_UNIT = r"(?:minutes|minute|mins|min|m)"
_CLOCK_DURATION_RE = re.compile(r"([0-9]{1,2}):([0-9]{2})", _ASCII)
_BARE_NUMBER_RE = re.compile(_NUM, _ASCII)
_HOURS_RE = re.compile(
    rf"(?P<h>{_NUM})\s*{_HOUR_UNIT}(?:\s*(?:and\s*)?(?P<m>[0-9]{{1,6}}(?:[.,][0-9]+)?)\s*(?:{_MIN_UNIT})?)?",
    _ASCII,
)
_MINUTES_RE = re.compile(rf"(?P<m>{_NUM})\s*{_MIN_UNIT}", _ASCII)


def _decimal(number: str) -> Decimal:
    try:
        return Decimal(number.replace(",", "."))
    except InvalidOperation as exc:  # the regexes only let digits through; keep a clear error
        raise InputError(f"{quote_input(number)} is not a number.") from exc


def _duration_minutes(text: str, accepted: str) -> int:
    """Turn a duration into whole minutes, checking 0 < minutes <= 24 h."""
    raw = text.strip()
    t = raw.casefold()
    shown = quote_input(raw)
    if not t:
        raise InputError(f"The duration is missing. {accepted}")
    if t[0] in "-−":
        raise InputError(f"{shown} is negative; a duration must be more than zero. {accepted}")
    total: Decimal
    if m := _CLOCK_DURATION_RE.fullmatch(t):
        hours, minutes = int(m[1]), int(m[2])
        if minutes >= 60:
            raise InputError(f"{shown}: the minutes in H:MM must be 00 to 59. {accepted}")
        total = Decimal(hours * 60 + minutes)
    elif _BARE_NUMBER_RE.fullmatch(t):
        hours_d = _decimal(t)
        if hours_d > 24:
            raise InputError(
                f"A bare number means hours, and {shown} hours is more than a day. "
                f"For minutes write {t}m. {accepted}"
            )
        total = hours_d * 60
    elif m := _HOURS_RE.fullmatch(t):
        hours_d = _decimal(m["h"])
        minutes_d = _decimal(m["m"]) if m["m"] else Decimal(0)
        if m["m"] and hours_d != hours_d.to_integral_value():
            raise InputError(f"{shown} mixes fractional hours with minutes. {accepted}")
        if minutes_d >= 60:
            raise InputError(f"{shown}: minutes after hours must be below 60. {accepted}")
        total = hours_d * 60 + minutes_d
    elif m := _MINUTES_RE.fullmatch(t):
        total = _decimal(m["m"])
    else:
        raise InputError(f"{shown} is not a duration I understand. {accepted}")
    if total != total.to_integral_value():
        raise InputError(
            f"{shown} is {total.normalize():f} minutes; time is counted in whole minutes. "
            f"{accepted}"
        )
    minutes_total = int(total)
    if minutes_total <= 0:
        raise InputError(f"{shown} is zero; a duration must be more than zero. {accepted}")
    if minutes_total > MAX_DURATION_MINUTES:
        raise InputError(f"{shown} is more than 24 hours. {accepted}")
    return minutes_total


def parse_duration(text: str) -> int:
    """Parse a study duration into whole minutes (1 to 1440)."""
    return _duration_minutes(text, DURATION_ACCEPTED)


def parse_hours_per_day(text: str) -> int:
    """Parse a daily study commitment (bare number = hours) into minutes (1 to 1440)."""
    return _duration_minutes(text, HOURS_PER_DAY_ACCEPTED)


# --- dates -------------------------------------------------------------------------------

_MONTHS = {
    "jan": 1, "january": 1, "feb": 2, "february": 2, "mar": 3, "march": 3, "apr": 4,
    "april": 4, "may": 5, "jun": 6, "june": 6, "jul": 7, "july": 7, "aug": 8, "august": 8,
    "sep": 9, "sept": 9, "september": 9, "oct": 10, "october": 10, "nov": 11,
    "november": 11, "dec": 12, "december": 12,
}
_WEEKDAYS = {
    "mon": 0, "monday": 0, "tue": 1, "tues": 1, "tuesday": 1, "wed": 2, "weds": 2,
    "wednesday": 2, "thu": 3, "thur": 3, "thurs": 3, "thursday": 3, "fri": 4, "friday": 4,
    "sat": 5, "saturday": 5, "sun": 6, "sunday": 6,
}
_MONTH = r"(?P<mon>[a-z]{3,9})\.?"
_DAY = r"(?P<d>[0-9]{1,2})(?:st|nd|rd|th)?"
_YEAR = r"(?P<y>[0-9]{4})"
_ISO_RE = re.compile(r"(?P<y>[0-9]{4})[-/](?P<m>[0-9]{1,2})[-/](?P<d>[0-9]{1,2})", _ASCII)
_DMY_RE = re.compile(rf"{_DAY}(?:\s+|-){_MONTH}(?:,?\s+|-){_YEAR}", _ASCII)
_MDY_RE = re.compile(rf"{_MONTH}\s+{_DAY},?\s+{_YEAR}", _ASCII)
_NUMERIC_DMY_RE = re.compile(r"[0-9]{1,2}[-/.][0-9]{1,2}[-/.][0-9]{2,4}", _ASCII)
_NO_YEAR_RES = (
    re.compile(rf"{_DAY}(?:\s+|-){_MONTH}", _ASCII),
    re.compile(rf"{_MONTH}\s+{_DAY}", _ASCII),
)


def _build_date(shown: str, year: int, month: int, day: int, accepted: str) -> dt.date:
    if not MIN_YEAR <= year <= MAX_YEAR:
        raise InputError(f"{shown}: the year must be from {MIN_YEAR} to {MAX_YEAR}. {accepted}")
    if not 1 <= month <= 12:
        raise InputError(f"{shown}: the month must be 1 to 12. {accepted}")
    try:
        return dt.date(year, month, day)
    except ValueError:
        raise InputError(f"{shown} is not a real date: that month has no day {day}. "
                         f"{accepted}") from None


def _calendar_date(raw: str, accepted: str) -> dt.date | None:
    """Parse an explicit calendar date, None if the text has no date form at all."""
    t = " ".join(raw.strip().casefold().split())
    shown = quote_input(raw.strip())
    if m := _ISO_RE.fullmatch(t):
        return _build_date(shown, int(m["y"]), int(m["m"]), int(m["d"]), accepted)
    if _NUMERIC_DMY_RE.fullmatch(t):
        raise InputError(
            f"{shown} is ambiguous: day and month could be either way round. "
            f"Write the year first (2027-02-01) or name the month (1 Feb 2027)."
        )
    for regex in (_DMY_RE, _MDY_RE):
        if m := regex.fullmatch(t):
            month = _MONTHS.get(m["mon"])
            if month is None:
                raise InputError(f"{shown}: I do not know the month {quote_input(m['mon'])}. "
                                 f"{accepted}")
            return _build_date(shown, int(m["y"]), month, int(m["d"]), accepted)
    for regex in _NO_YEAR_RES:
        if (m := regex.fullmatch(t)) and m["mon"] in _MONTHS:
            raise InputError(f"{shown} has no year; add it, e.g. 15 Jan 2027. {accepted}")
    return None


def parse_date_input(text: str) -> DateInput:
    """Parse a calendar date, or today/tomorrow/yesterday to resolve against the study day."""
    raw = text.strip()
    if not raw:
        raise InputError(f"The date is missing. {DATE_ACCEPTED}")
    relative = {"today": 0, "tomorrow": 1, "yesterday": -1}
    if raw.casefold() in relative:
        return DateInput(offset=relative[raw.casefold()])
    found = _calendar_date(raw, DATE_ACCEPTED)
    if found is None:
        raise InputError(f"{quote_input(raw)} is not a date I understand. {DATE_ACCEPTED}")
    return DateInput.of(found)


def check_date(day: dt.date, today: dt.date, *, allow_past: bool = True,
               allow_future: bool = True) -> dt.date:
    """Refuse DAY when it is in the past or future and that is not allowed."""
    if not allow_past and day < today:
        raise InputError(f"{day.isoformat()} is in the past; give today or a later date.")
    if not allow_future and day > today:
        raise InputError(f"{day.isoformat()} is in the future; give today or an earlier date.")
    return day


def parse_date(
    text: str,
    *,
    today: dt.date | None = None,
    allow_past: bool = True,
    allow_future: bool = True,
) -> dt.date:
    """Parse an unambiguous calendar date; `today` enables today/tomorrow/yesterday and limits."""
    if (not allow_past or not allow_future) and today is None:
        raise ValueError("parse_date needs today= to refuse past or future dates")
    value = parse_date_input(text)
    if value.on is None and today is None:
        raise InputError(f"{quote_input(text.strip())} is not a date I understand. "
                         f"{DATE_ACCEPTED}")
    if today is None:
        assert value.on is not None
        return value.on
    return check_date(value.resolve(today), today, allow_past=allow_past,
                      allow_future=allow_future)


def parse_study_day(text: str) -> StudyDay:
    """Parse the day some study happened: today, yesterday, a recent weekday or a date."""
    raw = text.strip()
    if not raw:
        raise InputError(f"The study day is missing. {STUDY_DATE_ACCEPTED}")
    word = raw.casefold().rstrip(".")
    if word == "today":
        return StudyDay("today")
    if word == "yesterday":
        return StudyDay("yesterday")
    if word == "tomorrow":
        raise InputError(f"You cannot log study for tomorrow. {STUDY_DATE_ACCEPTED}")
    if word in _WEEKDAYS:
        return StudyDay("weekday", weekday=_WEEKDAYS[word])
    found = _calendar_date(raw, STUDY_DATE_ACCEPTED)
    if found is None:
        raise InputError(f"{quote_input(raw)} is not a day I understand. {STUDY_DATE_ACCEPTED}")
    return StudyDay.of(found)


def parse_study_date(text: str, today: dt.date) -> dt.date:
    """Parse a study day and resolve it against TODAY (no future days)."""
    return parse_study_day(text).resolve(today)


# --- numbers -----------------------------------------------------------------------------

_SCORE_RE = re.compile(
    r"(?P<n>[+\-−]?[0-9]{1,6}(?:[.,][0-9]{1,6})?)\s*(?:(?:/|of|out\s+of)\s*(?P<d>[0-9]{1,6}))?",
    _ASCII,
)


def parse_score_input(text: str, maximum: int | None = None) -> ScoreInput:
    """Parse a score as typed (``17``, ``17/20``, ``17 of 20``); MAXIMUM only shapes messages."""
    out_of = str(maximum) if maximum is not None else "MAX"
    accepted = (f"Write the score as N or N/{out_of}, a whole number from 0 to {out_of}."
                if maximum is not None else "Write the score as N or N/MAX, a whole number.")
    raw = text.strip()
    if not raw:
        raise InputError(f"The score is missing. {accepted}")
    m = _SCORE_RE.fullmatch(raw)
    if m is None:
        raise InputError(f"{quote_input(raw)} is not a score I understand. {accepted}")
    number = m["n"].replace("−", "-")
    points = -_decimal(number[1:]) if number.startswith("-") else _decimal(number.lstrip("+"))
    return ScoreInput(raw, points, int(m["d"]) if m["d"] is not None else None)


def parse_score(text: str, maximum: int) -> int:
    """Parse a score out of `maximum`: ``17``, ``17/20``, ``17 of 20``, ``17.0``."""
    if maximum <= 0:
        raise ValueError("maximum must be positive")
    return parse_score_input(text, maximum).check(maximum)


_INT_RE = re.compile(r"[+\-−]?[0-9]{1,9}", _ASCII)


def parse_int_in_range(text: str, lo: int, hi: int, what: str) -> int:
    """Parse a whole number from `lo` to `hi` (inclusive) describing `what`."""
    raw = text.strip()
    accepted = f"{what[:1].upper()}{what[1:]} must be a whole number from {lo} to {hi}."
    if not raw:
        raise InputError(f"Nothing given. {accepted}")
    if not _INT_RE.fullmatch(raw):
        raise InputError(f"{quote_input(raw)} is not a whole number. {accepted}")
    value = int(raw.replace("−", "-"))
    if not lo <= value <= hi:
        raise InputError(f"{value} is out of range. {accepted}")
    return value


_DELTA_RE = re.compile(r"(?P<op>[+\-−=])?\s*(?P<n>[0-9]{1,9})", _ASCII)


def parse_signed_delta(text: str) -> tuple[str, int]:
    """Parse a counter change into (op, n): op ``+`` adds, ``-`` subtracts, ``=`` sets."""
    raw = text.strip()
    if not raw:
        raise InputError(f"The change is missing. {DELTA_ACCEPTED}")
    m = _DELTA_RE.fullmatch(raw)
    if m is None:
        raise InputError(f"{quote_input(raw)} is not a change I understand. {DELTA_ACCEPTED}")
    op = (m["op"] or "=").replace("−", "-")
    n = int(m["n"])
    if n > MAX_DELTA:
        raise InputError(f"{n} is too large (at most {MAX_DELTA}). {DELTA_ACCEPTED}")
    if op in "+-" and n == 0:
        raise InputError(f"{op}0 changes nothing. {DELTA_ACCEPTED}")
    return op, n


def parse_counter_change(text: str) -> CounterChange:
    """Parse a counter change: ``+N``, ``-N``, ``=N`` or a bare ``N`` (sets)."""
    if _DECIMAL_DELTA_RE.fullmatch(text.strip()):
        raise InputError(f"{quote_input(text.strip())}: a counter changes by a whole number. "
                         f"{DELTA_ACCEPTED}")
    op, n = parse_signed_delta(text)
    return CounterChange(op, n)  # type: ignore[arg-type]


_DECIMAL_DELTA_RE = re.compile(r"[+\-−=]?\s*[0-9]*[.,][0-9]+", _ASCII)
SNOOZE_ACCEPTED = ("Snooze for a duration such as `1h` or `30m` (at most 24h), until `evening` "
                   "(20:00 your time), or `off` to cancel.")


def parse_snooze(text: str) -> SnoozeSpec:
    """Parse ``1h``, ``30m``, ``evening`` or ``off`` into a snooze."""
    key = text.strip().lower()
    if key in ("off", "cancel", "stop"):
        return SnoozeSpec("off")
    if key in ("evening", "tonight"):
        return SnoozeSpec("evening")
    try:
        return SnoozeSpec("minutes", parse_duration(key))
    except InputError:
        raise InputError(SNOOZE_ACCEPTED) from None


def parse_weeks(text: str) -> int:
    """Parse a plan length in weeks (1 to 104): ``4``, ``4w``, ``4 weeks``."""
    raw = text.strip()
    m = re.fullmatch(r"([0-9]{1,4})\s*(?:w|wk|wks|week|weeks)?", raw, _ASCII)
    if m is None:
        raise InputError(f"{quote_input(raw)} is not a number of weeks. {WEEKS_ACCEPTED}")
    weeks = int(m[1])
    if not 1 <= weeks <= MAX_WEEKS:
        raise InputError(f"{weeks} weeks is out of range. {WEEKS_ACCEPTED}")
    return weeks


# --- times of day and weekdays -----------------------------------------------------------

_TIME_12_RE = re.compile(r"([0-9]{1,2})(?:[:.h]([0-9]{2}))?\s*(am|pm)", _ASCII)
_TIME_24_RE = re.compile(r"([0-9]{1,2})[:h]([0-9]{2})", _ASCII)


def parse_time_of_day(text: str) -> dt.time:
    """Parse a wall-clock time: ``19:30``, ``07:00``, ``7pm``, ``7:30 pm``, ``noon``."""
    raw = text.strip()
    shown = quote_input(raw)
    t = " ".join(raw.casefold().split())
    t = t.replace("a.m.", "am").replace("p.m.", "pm").replace("a.m", "am").replace("p.m", "pm")
    if not t:
        raise InputError(f"The time is missing. {TIME_ACCEPTED}")
    if t in ("noon", "midday"):
        return dt.time(12, 0)
    if t == "midnight":
        return dt.time(0, 0)
    if m := _TIME_12_RE.fullmatch(t):
        hour, minute = int(m[1]), int(m[2] or 0)
        if not 1 <= hour <= 12:
            raise InputError(f"{shown}: with am/pm the hour must be 1 to 12. {TIME_ACCEPTED}")
        if minute >= 60:
            raise InputError(f"{shown}: the minutes must be 00 to 59. {TIME_ACCEPTED}")
        hour = hour % 12 + (12 if m[3] == "pm" else 0)
        return dt.time(hour, minute)
    if m := _TIME_24_RE.fullmatch(t):
        hour, minute = int(m[1]), int(m[2])
        if hour > 23:
            raise InputError(f"{shown}: the hour must be 0 to 23. {TIME_ACCEPTED}")
        if minute >= 60:
            raise InputError(f"{shown}: the minutes must be 00 to 59. {TIME_ACCEPTED}")
        return dt.time(hour, minute)
    if re.fullmatch(r"[0-9]{1,4}", t, _ASCII):
        raise InputError(f"{shown} is ambiguous: add am/pm or use 24-hour time with a colon. "
                         f"{TIME_ACCEPTED}")
    raise InputError(f"{shown} is not a time I understand. {TIME_ACCEPTED}")


def parse_weekday(text: str) -> int:
    """Parse a weekday name or abbreviation into 0 (Monday) to 6 (Sunday)."""
    raw = text.strip()
    word = raw.casefold().rstrip(".")
    if word in _WEEKDAYS:
        return _WEEKDAYS[word]
    if word.endswith("s") and word[:-1] in _WEEKDAYS and len(word) > 4:  # "mondays"
        return _WEEKDAYS[word[:-1]]
    if not raw:
        raise InputError(f"The weekday is missing. {WEEKDAY_ACCEPTED}")
    raise InputError(f"{quote_input(raw)} is not a weekday. {WEEKDAY_ACCEPTED}")


# --- time zones --------------------------------------------------------------------------

# Legacy zones that are fixed offsets or US-rule composites: people type them meaning a city.
_ABBREVIATIONS = {
    "est": "America/New_York", "edt": "America/New_York", "est5edt": "America/New_York",
    "cst": "America/Chicago", "cdt": "America/Chicago", "cst6cdt": "America/Chicago",
    "mst": "America/Denver", "mdt": "America/Denver", "mst7mdt": "America/Denver",
    "pst": "America/Los_Angeles", "pdt": "America/Los_Angeles",
    "pst8pdt": "America/Los_Angeles", "hst": "Pacific/Honolulu",
    "cet": "Europe/Berlin", "cest": "Europe/Berlin", "met": "Europe/Berlin",
    "eet": "Europe/Athens", "eest": "Europe/Athens", "wet": "Europe/Lisbon",
    "west": "Europe/Lisbon", "bst": "Europe/London", "ist": "Asia/Kolkata",
    "jst": "Asia/Tokyo", "kst": "Asia/Seoul", "aest": "Australia/Sydney",
    "aedt": "Australia/Sydney", "sgt": "Asia/Singapore",
}
_OFFSET_RE = re.compile(
    r"(?:utc|gmt|z)?\s*[+\-−]\s*[0-9]{1,2}(?::?[0-9]{2})?|(?:utc|gmt)\s*[0-9]{1,2}", _ASCII
)
_LEGACY_AREAS = ("US/", "Canada/", "Brazil/", "Mexico/", "Chile/", "Etc/", "SystemV/")


@functools.cache
def known_timezones() -> tuple[str, ...]:
    """List the selectable IANA zone names (without the host's ``localtime``)."""
    names = zoneinfo.available_timezones() - {"localtime", "Factory"}
    return tuple(sorted(n for n in names if not n.startswith(("posix/", "right/"))))


@functools.cache
def _zones_by_casefold() -> dict[str, str]:
    return {name.casefold(): name for name in known_timezones()}


def parse_timezone(text: str) -> str:
    """Return the canonical IANA zone name the learner means (``berlin`` → ``Europe/Berlin``)."""
    raw = text.strip()
    shown = quote_input(raw)
    if not raw:
        raise InputError(f"The time zone is missing. {TIMEZONE_ACCEPTED}")
    key = "_".join(raw.split()).casefold()
    if key in _ABBREVIATIONS:
        raise InputError(
            f"{shown} is an abbreviation that ignores daylight saving or is ambiguous. "
            f"Use a city zone such as {_ABBREVIATIONS[key]}. {TIMEZONE_ACCEPTED}"
        )
    if _OFFSET_RE.fullmatch(key.replace("_", "")):
        raise InputError(
            f"{shown} is a fixed offset, which goes wrong when daylight saving changes. "
            f"{TIMEZONE_ACCEPTED}"
        )
    exact = _zones_by_casefold().get(key)
    if exact is not None:
        return exact
    tails = [z for z in known_timezones() if z.casefold().endswith("/" + key)]
    preferred = [z for z in tails if not z.startswith(_LEGACY_AREAS)]
    candidates = preferred or tails
    if len(candidates) > 1 and len({z.split("/", 1)[0] for z in candidates}) == 1:
        # Old names such as America/Indianapolis link to the deeper, current name.
        depth = max(z.count("/") for z in candidates)
        deepest = [z for z in candidates if z.count("/") == depth]
        candidates = deepest if len(deepest) == 1 else candidates
    if len(candidates) == 1:
        return candidates[0]
    if len(candidates) > 1:
        listed = ", ".join(candidates[:5])
        raise InputError(f"{shown} could be several zones: {listed}. Give the full name.")
    cities = {z.rsplit("/", 1)[-1].casefold(): z for z in known_timezones()}
    pool = list(_zones_by_casefold()) + list(cities)
    close = difflib.get_close_matches(key, pool, n=8, cutoff=0.6)
    suggestions: list[str] = []
    for c in close:
        name = _zones_by_casefold().get(c) or cities[c]
        if name not in suggestions:
            suggestions.append(name)
    hint = f" Did you mean {', '.join(suggestions[:5])}?" if suggestions else ""
    raise InputError(f"{shown} is not a time zone I know.{hint} {TIMEZONE_ACCEPTED}")


# --- free text and command lines ---------------------------------------------------------

_BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


def check_text(text: str, what: str, max_length: int) -> str:
    """Return `text` stripped, refusing empty, over-long or control-character text."""
    cleaned = text.replace("\r\n", "\n").replace("\r", "\n").strip()
    if not cleaned:
        raise InputError(f"{what} is empty; write some text (at most {max_length} characters).")
    for ch in cleaned:
        if ch in _BIDI_CONTROLS or (ch != "\n" and unicodedata.category(ch) == "Cc"):
            raise InputError(
                f"{what} contains a control character (U+{ord(ch):04X}); "
                f"use plain text and line breaks only (at most {max_length} characters)."
            )
    if len(cleaned) > max_length:
        raise InputError(
            f"{what} is {len(cleaned)} characters long; the limit is {max_length}."
        )
    return cleaned


_QUOTES = frozenset('"“”„')


def tokenize(line: str) -> list[str]:
    """Split a command line on spaces, keeping "double-quoted phrases" (smart quotes too) whole."""
    tokens: list[str] = []
    buf: list[str] = []
    in_quote = False
    started = False
    i = 0
    while i < len(line):
        ch = line[i]
        if in_quote:
            if ch == "\\" and i + 1 < len(line) and (line[i + 1] in _QUOTES or line[i + 1] == "\\"):
                buf.append(line[i + 1])
                i += 1
            elif ch in _QUOTES:
                in_quote = False
            else:
                buf.append(ch)
        elif ch.isspace():
            if started:
                tokens.append("".join(buf))
                buf, started = [], False
        elif ch in _QUOTES:
            in_quote = started = True
        else:
            buf.append(ch)
            started = True
        i += 1
    if in_quote:
        raise InputError(
            'A quote is not closed. Put a " at both ends of a phrase, e.g. "NVIDIA interview".'
        )
    if started:
        tokens.append("".join(buf))
    return tokens

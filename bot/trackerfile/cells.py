"""Read the text typed into one placeholder: numbers, hours, dates, texts, ticked choices.

A reader returns the value, None for a blank, or raises ``Unreadable`` (the value is not in a
form we read: the line is listed and nothing is imported from it) or ``Impossible`` (readable
but cannot be true: the whole file is refused, with the line numbers).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from datetime import date
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from bot.errors import InputError, PacerError
from bot.parsing import check_text, parse_date
from bot.trackerfile.language import TICKED, UNTICKED, decode_text

log = logging.getLogger(__name__)

FIRST_YEAR, LAST_YEAR = 2000, 2100
TICKED_MARKS = "☑☒✅✔✓xX"
BOX_MARKS = UNTICKED + TICKED + "☒✅✔✓"


class Unreadable(Exception):
    """The line's value is not in a form we read: list it, import nothing from it."""


class Impossible(Exception):
    """The line's value is readable but cannot be true: refuse the file."""


class Ignored(Exception):
    """The line is understood but not imported."""


def blank(text: str) -> bool:
    """Tell whether a typed value is still the blank (underscores, slashes, spaces)."""
    return re.fullmatch(r"[\s_/]*", text) is not None


def read_int(text: str, what: str, lo: int, hi: int | None) -> int:
    """Read a whole number from LO to HI."""
    t = text.strip()
    if not re.fullmatch(r"[+\-−]?\d{1,9}", t):
        raise Unreadable(f"{what} must be a whole number")
    value = int(t.replace("−", "-"))
    if value < lo or (hi is not None and value > hi):
        top = f" to {hi}" if hi is not None else " or more"
        raise Impossible(f"{what} is {value}; it must be {lo}{top}")
    return value


def read_hours(text: str, what: str, lo_minutes: int, hi_minutes: int) -> int:
    """Read hours such as ``2.5`` as minutes from LO_MINUTES to HI_MINUTES."""
    t = text.strip().replace(",", ".")
    if not re.fullmatch(r"\d{1,5}(?:\.\d{1,4})?", t):
        raise Unreadable(f"{what} must be a number of hours such as 2 or 2.5")
    try:
        minutes = int((Decimal(t) * 60).quantize(Decimal(1), rounding=ROUND_HALF_UP))
    except InvalidOperation:  # pragma: no cover - the pattern above rules it out
        raise Unreadable(f"{what} must be a number of hours") from None
    if not lo_minutes <= minutes <= hi_minutes:
        raise Impossible(f"{what} is {t} hours; it must be more than "
                          f"{lo_minutes // 60 if lo_minutes >= 60 else 0} and at most "
                          f"{hi_minutes // 60} hours")
    return minutes


_ISO_DATE = re.compile(r"(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})")


def read_date(text: str, what: str, today: date, *, past_only: bool) -> date:
    """Read a date, ISO or unambiguous; PAST_ONLY refuses one after TODAY."""
    t = text.strip()
    m = _ISO_DATE.fullmatch(t)
    if m:
        year, month, day = (int(g) for g in m.groups())
        if not FIRST_YEAR <= year <= LAST_YEAR:
            raise Impossible(f"{what} {t} is not a date Pacer keeps (years {FIRST_YEAR} to "
                              f"{LAST_YEAR})")
        try:
            value = date(year, month, day)
        except ValueError:
            raise Impossible(f"{what} {t} is not a real date") from None
    else:
        try:
            value = parse_date(t)
        except PacerError:
            raise Unreadable(f"{what} is not a date I can read without guessing; write it as "
                              "YYYY-MM-DD, e.g. 2026-12-01") from None
    if past_only and value > today:
        raise Impossible(f"{what} {value.isoformat()} is in the future (today is "
                          f"{today.isoformat()})")
    return value


def read_text(text: str, what: str, limit: int) -> str | None:
    """Read a typed text of at most LIMIT characters, dropping leftover underlines."""
    if blank(text):
        return None
    # Text typed into a blank often keeps the rest of its underline: drop it.
    text = re.sub(r"^_{3,}\s*|\s*_{3,}$", "", text.strip())
    try:
        return check_text(decode_text(text), what, limit)
    except InputError as exc:
        raise Impossible(exc.message) from None


def read_choice(text: str, options: Sequence[str], what: str) -> str | None:
    """Read ``☐ A ☑ B ☐ C`` (or one option written out) as the ticked option."""
    t = text.strip()
    if not t or blank(t):
        return None
    marks = re.compile(r"(\[[ \t]*[xX]?[ \t]*\]|[" + re.escape(BOX_MARKS) + r"])")
    parts = marks.split(t)
    if len(parts) == 1:
        found = [o for o in options if _compact(o) == _compact(t)]
        if len(found) == 1:
            return found[0]
        raise Unreadable(f"{what}: tick one of {', '.join(options)}")
    if parts[0].strip():
        raise Unreadable(f"{what}: expected the options {', '.join(options)} with boxes")
    labels = [parts[i + 1].strip() for i in range(1, len(parts), 2)]
    boxes = [parts[i] for i in range(1, len(parts), 2)]
    if [_compact(x) for x in labels] != [_compact(o) for o in options]:
        raise Unreadable(f"{what}: the options should be {', '.join(options)}")
    chosen = [options[i] for i, b in enumerate(boxes) if ticked(b)]
    if len(chosen) > 1:
        raise Unreadable(f"{what}: {len(chosen)} options are ticked; tick one")
    return chosen[0] if chosen else None


def _compact(text: str) -> str:
    return re.sub(r"\s+", " ", text.strip().casefold())


def ticked(box: str) -> bool:
    """Tell whether a checkbox is ticked."""
    return any(c in box for c in TICKED_MARKS)


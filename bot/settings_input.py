"""The settings a learner may name in /start and /settings, each with its parser and help.

Used by every front that takes a setting as NAME and VALUE text (the line grammar, Discord's
/settings set). Date values come back as ``DateInput``: the service resolves "today" on the
learner's own study day.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from bot import parsing
from bot.errors import InputError
from bot.limits import GOAL_MAX, NAME_MAX


@dataclass(frozen=True)
class Setting:
    column: str
    parse: Callable[[str], Any]
    help: str


def _reminder(text: str) -> int | None:
    if text.strip().lower() in {"off", "none", "no"}:
        return None
    return _minute(text)


def _minute(text: str) -> int:
    t = parsing.parse_time_of_day(text)
    return t.hour * 60 + t.minute


def _every(text: str) -> int:
    key = text.strip().lower()
    if key in {"1", "weekly", "week"}:
        return 1
    if key in {"2", "biweekly", "bi-weekly", "fortnightly"}:
        return 2
    raise InputError(f"Digest frequency {parsing.quote_input(text)} is not known; use weekly "
                     "or biweekly.")


def _onoff(text: str) -> bool:
    key = text.strip().lower()
    if key in {"on", "yes", "true", "public"}:
        return True
    if key in {"off", "no", "false", "private"}:
        return False
    raise InputError(f"{parsing.quote_input(text)} is neither on nor off; use on (public) or "
                     "off (private).")


def _day_start(text: str) -> int:
    return parsing.parse_int_in_range(text.removesuffix(":00"), 0, 12, "the day-start hour")


SETTINGS: dict[str, Setting] = {
    "timezone": Setting("timezone", parsing.parse_timezone, "IANA zone, e.g. Europe/Berlin"),
    "start": Setting("start_date", parsing.parse_date_input, "start date, YYYY-MM-DD"),
    "target": Setting("target_date", parsing.parse_date_input,
                      "target completion date, YYYY-MM-DD"),
    "hours": Setting("commitment_minutes", parsing.parse_hours_per_day,
                     "committed hours per day, e.g. 4 or 2.5"),
    "weeks": Setting("commitment_weeks", parsing.parse_weeks, "committed number of weeks, 1-104"),
    "goal": Setting("goal", lambda t: parsing.check_text(t, "The goal", GOAL_MAX),
                    "your goal, in words"),
    "reminder": Setting("reminder_minute", _reminder, "daily reminder time (19:00, 7pm) or off"),
    "daystart": Setting("day_start_hour", _day_start,
                        "hour 0-12 before which late study counts for the previous day"),
    "digest": Setting("digest_weekday", parsing.parse_weekday, "weekday of the weekly digest"),
    "digest_time": Setting("digest_minute", _minute, "time of the weekly digest"),
    "digest_every": Setting("digest_every_weeks", _every, "weekly or biweekly"),
    "public": Setting("public_posts", _onoff, "post /log and /done publicly (on) or not (off)"),
    "name": Setting("display_name", lambda t: parsing.check_text(t, "The name", NAME_MAX),
                    "how Pacer calls you"),
    "plan": Setting("plan_id", lambda t: t.strip(), "plan id"),
}
ALIASES = {"tz": "timezone", "start_date": "start", "target_date": "target",
           "day_start": "daystart", "hours_per_day": "hours", "reminder_time": "reminder",
           "digest_day": "digest", "every": "digest_every"}
# What /start takes; the rest is changed with /settings after onboarding.
START_OPTIONS = ("start", "target", "hours", "weeks", "goal", "reminder", "daystart")


def setting_key(name: str) -> str:
    """Return the canonical name of a setting, or say which settings exist."""
    key = name.strip().lower().replace("-", "_")
    key = ALIASES.get(key, key)
    if key not in SETTINGS:
        raise InputError(f"There is no setting {parsing.quote_input(name)}. Settings: "
                         f"{', '.join(SETTINGS)}.")
    return key


def parse_settings(values: dict[str, str]) -> tuple[dict[str, Any], tuple[str, ...]]:
    """Parse NAME=VALUE texts into (column values, canonical names)."""
    columns: dict[str, Any] = {}
    names: list[str] = []
    for name, raw in values.items():
        key = setting_key(name)
        columns[SETTINGS[key].column] = SETTINGS[key].parse(raw)
        names.append(key)
    return columns, tuple(names)

"""Button actions: the neutral action of a message button, parsed once into a typed call.

The dispatcher puts neutral buttons on its messages (``bot.messages``: ``snooze:1h``,
``snooze:evening``, ``log:30m`` …). A front hands the action text of a pressed button to
``parse_action`` (never trusting it beyond that parse) and runs the result against the services:
the line grammar is never involved. Both spellings of an amount are accepted: ``log:30m`` /
``log:1h`` (ids sent so far) and a bare number of minutes (``log:60``).
"""

from __future__ import annotations

import re
from collections.abc import Awaitable
from dataclasses import dataclass

from bot.actors import Actor
from bot.limits import MAX_DAY_MINUTES, MAX_SNOOZE
from bot.outcomes import Snoozed, TimeLogged
from bot.services import Services
from bot.values import SnoozeSpec

_AMOUNT = re.compile(r"(?P<n>[0-9]{1,4})(?P<unit>[mh]?)")
STALE = "This button no longer does anything; use the commands."


@dataclass(frozen=True)
class LogTime:
    """Log MINUTES of study today."""

    minutes: int

    def run(self, services: Services, actor: Actor) -> Awaitable[TimeLogged]:
        return services.timelog.log_time(actor, self.minutes)


@dataclass(frozen=True)
class Snooze:
    """Snooze today's reminder for MINUTES, or until the evening (MINUTES None)."""

    minutes: int | None

    def run(self, services: Services, actor: Actor) -> Awaitable[Snoozed]:
        spec = (SnoozeSpec("evening") if self.minutes is None
                else SnoozeSpec("minutes", self.minutes))
        return services.pauses.snooze(actor, spec)


ButtonAction = LogTime | Snooze


def _minutes(text: str, most: int) -> int | None:
    found = _AMOUNT.fullmatch(text)
    if found is None:
        return None
    minutes = int(found["n"]) * (60 if found["unit"] == "h" else 1)
    return minutes if 1 <= minutes <= most else None


def parse_action(action: str) -> ButtonAction | None:
    """Parse a button's action (``log:30m``, ``snooze:evening`` …); None when unknown."""
    verb, _, arg = action.partition(":")
    if verb == "log" and (minutes := _minutes(arg, MAX_DAY_MINUTES)) is not None:
        return LogTime(minutes)
    if verb == "snooze":
        if arg == "evening":
            return Snooze(None)
        most = int(MAX_SNOOZE.total_seconds() // 60)
        if (minutes := _minutes(arg, most)) is not None:
            return Snooze(minutes)
    return None

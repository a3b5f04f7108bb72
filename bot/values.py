"""Typed values a front hands to the core: parsed once at the edge, resolved by the service.

A ``StudyDay`` is what the learner said ("yesterday", "tue", "2026-11-28"); only the service
knows the learner's study day, so it resolves the value there. A ``ScoreInput`` is points and
an optional "out of"; the plan's maximum is known only to the service, which checks it.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Literal

from bot.errors import InputError
from bot.quoting import quote_input

STUDY_DATE_ACCEPTED = (
    "Give the study day as today, yesterday, a weekday of the last seven days (mon, tuesday...) "
    "or a date like 2026-11-28 (not in the future)."
)


@dataclass(frozen=True)
class StudyDay:
    """A study day as the learner named it: today, yesterday, a recent weekday or a date."""

    kind: Literal["today", "yesterday", "weekday", "date"]
    weekday: int | None = None  # 0 = Monday, for kind "weekday"
    on: dt.date | None = None  # for kind "date"

    @classmethod
    def of(cls, day: dt.date) -> StudyDay:
        return cls("date", on=day)

    def resolve(self, today: dt.date) -> dt.date:
        """Return the calendar date meant, refusing a day after TODAY."""
        if self.kind == "today":
            return today
        if self.kind == "yesterday":
            return today - dt.timedelta(days=1)
        if self.kind == "weekday":
            assert self.weekday is not None
            return today - dt.timedelta(days=(today.weekday() - self.weekday) % 7)
        assert self.on is not None
        if self.on > today:
            raise InputError(f"{self.on.isoformat()} is in the future. {STUDY_DATE_ACCEPTED}")
        return self.on


TODAY = StudyDay("today")


@dataclass(frozen=True)
class DateInput:
    """A calendar date as typed: today/tomorrow/yesterday (an offset) or a date."""

    offset: int | None = None
    on: dt.date | None = None

    @classmethod
    def of(cls, day: dt.date) -> DateInput:
        return cls(on=day)

    def resolve(self, today: dt.date) -> dt.date:
        """Return the date meant, relative words counted from TODAY (the study day)."""
        if self.on is not None:
            return self.on
        return today + dt.timedelta(days=self.offset or 0)


def resolve_date(value: dt.date | DateInput, today: dt.date) -> dt.date:
    """Return VALUE as a date (a DateInput resolved against TODAY)."""
    return value.resolve(today) if isinstance(value, DateInput) else value


@dataclass(frozen=True)
class ScoreInput:
    """A score as typed: whole points and an optional denominator, checked against a maximum."""

    raw: str
    points: Decimal
    out_of: int | None = None

    @classmethod
    def of(cls, points: int, out_of: int | None = None) -> ScoreInput:
        return cls(str(points) if out_of is None else f"{points}/{out_of}", Decimal(points),
                   out_of)

    def check(self, maximum: int) -> int:
        """Return the whole score for a scale of 0..MAXIMUM, or say what is wrong."""
        accepted = f"Write the score as N or N/{maximum}, a whole number from 0 to {maximum}."
        shown = quote_input(self.raw)
        if self.points < 0:
            raise InputError(f"{shown}: a score cannot be negative. {accepted}")
        if self.points != self.points.to_integral_value():
            raise InputError(f"{shown}: the score must be a whole number. {accepted}")
        if self.out_of is not None and self.out_of != maximum:
            raise InputError(f"{shown}: this score is out of {maximum}, not {self.out_of}. "
                             f"{accepted}")
        score = int(self.points)
        if score > maximum:
            raise InputError(f"{shown} is more than the maximum of {maximum}. {accepted}")
        return score


@dataclass(frozen=True)
class CounterChange:
    """Add to (``+``), subtract from (``-``) or set (``=``) a counter."""

    op: Literal["+", "-", "="]
    amount: int

    def apply(self, before: int) -> int:
        return {"+": before + self.amount, "-": before - self.amount, "=": self.amount}[self.op]


ADD_ONE = CounterChange("+", 1)


@dataclass(frozen=True)
class SnoozeSpec:
    """Snooze today's reminder for some minutes, until the evening, or cancel (off)."""

    kind: Literal["minutes", "evening", "off"]
    minutes: int = 0

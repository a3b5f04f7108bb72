"""Slash-command options converted at the edge by the pure parsers of ``bot.parsing``.

Each transformer is a thin adapter (RoboDanny's ``TimeTransformer``): the option arrives as
text, the parser returns a typed value (minutes, a ``StudyDay``, a ``ScoreInput`` ...), and a
parser's ``InputError`` becomes discord.py's ``TransformerError`` with the ``InputError`` as
its ``__cause__``; the one error handler (``bot.discord.errors``) shows that sentence,
ephemerally. The parsers stay free of Discord; the cogs receive typed values only.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

import discord
from discord import app_commands
from discord.app_commands import Transform

from bot import parsing
from bot.errors import InputError
from bot.limits import TOPIC_MAX
from bot.values import CounterChange, DateInput, ScoreInput, SnoozeSpec, StudyDay

T = TypeVar("T")
OFF_WORDS = {"off", "none", "no"}


class ParserTransformer(app_commands.Transformer, Generic[T]):
    """Turn a text option into a typed value with a pure parser."""

    parser: Callable[[str], T]
    max_text = 40

    @property
    def type(self) -> discord.AppCommandOptionType:
        return discord.AppCommandOptionType.string

    @property
    def min_length(self) -> int:
        return 1

    @property
    def max_length(self) -> int:
        return self.max_text

    async def transform(self, interaction: discord.Interaction, value: Any, /) -> T:
        """Parse VALUE, turning the parser's InputError into the framework's error."""
        try:
            return type(self).parser(str(value))
        except InputError as exc:
            raise app_commands.TransformerError(value, self.type, self) from exc


class DurationTransformer(ParserTransformer[int]):
    """A study duration (2h, 90m, 1h30, 1.5) as whole minutes."""

    parser = staticmethod(parsing.parse_duration)


class HoursPerDayTransformer(ParserTransformer[int]):
    """A daily commitment (4, 2.5, 3h30) as whole minutes."""

    parser = staticmethod(parsing.parse_hours_per_day)


class StudyDayTransformer(ParserTransformer[StudyDay]):
    """A study day: today, yesterday, a weekday of the last seven days or a date."""

    parser = staticmethod(parsing.parse_study_day)


class DateTransformer(ParserTransformer[DateInput]):
    """A calendar date (2027-01-15, 15 Jan 2027, tomorrow), resolved by the service."""

    parser = staticmethod(parsing.parse_date_input)


class ScoreTransformer(ParserTransformer[ScoreInput]):
    """A score: points and an optional "out of" (N or N/M), checked by the service."""

    parser = staticmethod(parsing.parse_score_input)
    max_text = 20


class CounterChangeTransformer(ParserTransformer[CounterChange]):
    """A counter change: +N, -N or =N."""

    parser = staticmethod(parsing.parse_counter_change)
    max_text = 12


class SnoozeTransformer(ParserTransformer[SnoozeSpec]):
    """A snooze: a duration, evening, or off."""

    parser = staticmethod(parsing.parse_snooze)
    max_text = 20


class TimeZoneTransformer(ParserTransformer[str]):
    """An IANA time zone (Europe/Berlin, also common abbreviations and offsets)."""

    parser = staticmethod(parsing.parse_timezone)
    max_text = 64


def _topic(text: str) -> str:
    return parsing.check_text(text, "The topic", TOPIC_MAX)


class TopicTransformer(ParserTransformer[str]):
    """What was studied: text without control characters, at most TOPIC_MAX long."""

    parser = staticmethod(_topic)
    max_text = TOPIC_MAX


@dataclass(frozen=True)
class ReminderAt:
    """A daily reminder time, or none (``at`` None: the learner said off)."""

    at: dt.time | None


def _reminder_time(text: str) -> ReminderAt:
    if text.strip().lower() in OFF_WORDS:
        return ReminderAt(None)
    return ReminderAt(parsing.parse_time_of_day(text))


class ReminderTimeTransformer(ParserTransformer[ReminderAt]):
    """A daily reminder time (19:00, 7pm), or off."""

    parser = staticmethod(_reminder_time)
    max_text = 20


Duration = Transform[int, DurationTransformer]
HoursPerDay = Transform[int, HoursPerDayTransformer]
StudyDayOption = Transform[StudyDay, StudyDayTransformer]
DateOption = Transform[DateInput, DateTransformer]
Score = Transform[ScoreInput, ScoreTransformer]
Change = Transform[CounterChange, CounterChangeTransformer]
Snooze = Transform[SnoozeSpec, SnoozeTransformer]
TimeZone = Transform[str, TimeZoneTransformer]
Topic = Transform[str, TopicTransformer]
ReminderTime = Transform[ReminderAt, ReminderTimeTransformer]

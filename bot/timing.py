"""Compute study days, plan weeks and reminder instants in the learner's IANA time zone.

Every datetime taken or returned here is timezone-aware. Instants are returned in UTC;
only values whose name says "local" are in the learner's zone. Nothing reads the clock:
callers pass the current instant in.

Daylight-saving behaviour (the one rule every function here follows, via `resolve_local`):

- A wall-clock time that does not exist on a date (it falls in a spring-forward gap) moves
  to the first valid instant after the gap, i.e. the instant the clocks jump to.
  Europe/Berlin 2027-03-28 02:30 -> 03:00 CEST = 01:00 UTC;
  Australia/Lord_Howe (30-minute shift) 2027-10-03 02:15 -> 02:30 +11:00.
- A wall-clock time that happens twice (it falls in a fall-back fold) takes the first
  occurrence (fold=0, the earlier UTC instant).
  Europe/Berlin 2027-10-31 02:30 -> 02:30 CEST = 00:30 UTC.
- Gaps are detected by round trip (local -> UTC -> local must give back the same wall time)
  and the gap's end is found by searching the UTC offset transition, so shifts of any size
  (30 minutes, one hour, a skipped day) are handled alike.

Consequences:

- `next_daily` fires exactly once per local date: never twice in a fold, never skipped in a
  gap (it fires at the gap's end instead).
- A study day starts at `resolve_local(day, day_start_hour:00)`, so it lasts 23 or 25 hours
  (23.5 or 24.5 on Lord Howe Island) when a transition falls inside it, and `study_date`
  agrees with `study_day_bounds` for every instant, including those in a gap or fold.
- If a zone skips a whole local date (Pacific/Apia, 2011-12-30), that date's occurrence
  resolves to the gap's end, on the next local date.
"""

from __future__ import annotations

import functools
import math
from datetime import UTC, date, datetime, time, timedelta
from typing import Protocol
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bot.errors import InputError


def utc(dt: datetime) -> datetime:
    """Return the aware datetime `dt` as UTC; refuse naive datetimes."""
    if dt.tzinfo is None or dt.utcoffset() is None:
        raise ValueError(f"naive datetime {dt.isoformat()} given where an aware one is required")
    return dt.astimezone(UTC)


@functools.cache
def as_zone(name: str) -> ZoneInfo:
    """Return the ZoneInfo for an IANA zone name, or raise InputError naming what is accepted."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        # The name is user text: do not echo it back (it could carry a mention).
        raise InputError(
            "Unknown time zone: use an IANA zone name such as Europe/Berlin, "
            "America/New_York or Asia/Kolkata."
        ) from None


def _check_day_start_hour(day_start_hour: int) -> None:
    """Refuse a day start hour outside 0..12."""
    if not 0 <= day_start_hour <= 12:
        raise InputError(
            f"Day start hour must be a whole hour from 0 to 12 (e.g. 3 for 03:00); "
            f"got {int(day_start_hour)}."
        )


def _offset_at(posix_seconds: int, zone: ZoneInfo) -> timedelta | None:
    """Return the zone's UTC offset at a POSIX second."""
    return datetime.fromtimestamp(posix_seconds, UTC).astimezone(zone).utcoffset()


def _gap_end(naive_local: datetime, zone: ZoneInfo) -> datetime:
    """Return the UTC instant at which the gap containing `naive_local` ends."""
    # In a gap, fold=0 applies the offset from before the transition and fold=1 the one after,
    # so the transition lies between the two readings; bisect it to the second (tzdata
    # transitions fall on whole seconds), whatever the size of the shift.
    readings = sorted(naive_local.replace(tzinfo=zone, fold=fold).timestamp() for fold in (0, 1))
    lo, hi = math.floor(readings[0]), math.ceil(readings[1])
    after = _offset_at(hi, zone)
    if _offset_at(lo, zone) == after:
        raise ValueError(f"no UTC offset transition found around {naive_local} in {zone.key}")
    # Invariant: offset(lo) != after and offset(hi) == after.
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if _offset_at(mid, zone) == after:
            hi = mid
        else:
            lo = mid
    return datetime.fromtimestamp(hi, UTC)


def resolve_local(d: date, t: time, tz: str) -> datetime:
    """Return the UTC instant of wall time `t` on local date `d` (gap -> gap end, fold -> first)."""
    if t.tzinfo is not None:
        raise ValueError("resolve_local takes a naive wall-clock time; the zone is given by tz")
    zone = as_zone(tz)
    naive_local = datetime.combine(d, t.replace(fold=0))
    candidate = naive_local.replace(tzinfo=zone).astimezone(UTC)
    if candidate.astimezone(zone).replace(tzinfo=None) == naive_local:
        return candidate  # Exists (fold=0 already picked the first occurrence of a fold).
    return _gap_end(naive_local, zone)


def study_day_bounds(d: date, tz: str, day_start_hour: int) -> tuple[datetime, datetime]:
    """Return the UTC [start, end) of study day `d`."""
    _check_day_start_hour(day_start_hour)
    start_time = time(day_start_hour)
    return resolve_local(d, start_time, tz), resolve_local(d + timedelta(days=1), start_time, tz)


def study_date(instant: datetime, tz: str, day_start_hour: int) -> date:
    """Return the study day an instant belongs to (before day_start_hour counts as yesterday)."""
    _check_day_start_hour(day_start_hour)
    instant = utc(instant)
    local = instant.astimezone(as_zone(tz))
    candidate = local.date()
    if local.hour < day_start_hour:
        candidate -= timedelta(days=1)
    # The wall-clock rule above matches the bounds except where a transition moves the wall
    # clock back across the day start (e.g. a fall-back at midnight); the bounds decide there.
    if instant < _day_start(candidate, tz, day_start_hour):
        return candidate - timedelta(days=1)
    if instant >= _day_start(candidate + timedelta(days=1), tz, day_start_hour):
        return candidate + timedelta(days=1)
    return candidate


@functools.lru_cache(maxsize=4096)
def _day_start(d: date, tz: str, day_start_hour: int) -> datetime:
    """Return the UTC instant study day D starts (kept: every command asks for today's)."""
    return resolve_local(d, time(day_start_hour), tz)


def next_daily(after: datetime, t: time, tz: str) -> datetime:
    """Return the first daily occurrence of local time `t` strictly after `after` (UTC)."""
    after = utc(after)
    d = after.astimezone(as_zone(tz)).date() - timedelta(days=1)
    while (fire := resolve_local(d, t, tz)) <= after:
        d += timedelta(days=1)
    return fire


def next_weekly(
    after: datetime,
    weekday: int,
    t: time,
    tz: str,
    every_weeks: int = 1,
    anchor: date | None = None,
) -> datetime:
    """Return the next weekly occurrence strictly after `after` (UTC).

    With every_weeks=N > 1 only weeks whose `(date - anchor).days // 7` is a multiple of N fire.
    """
    if not 0 <= weekday <= 6:
        raise InputError(f"Weekday must be 0 (Monday) to 6 (Sunday); got {int(weekday)}.")
    if every_weeks < 1:
        raise InputError(
            f"A weekly reminder repeats every 1 or more weeks; got {int(every_weeks)}."
        )
    if every_weeks > 1 and anchor is None:
        raise ValueError("every_weeks > 1 needs an anchor date to count weeks from")
    after = utc(after)
    d = after.astimezone(as_zone(tz)).date() - timedelta(days=1)
    d += timedelta(days=(weekday - d.weekday()) % 7)
    while True:
        in_cycle = anchor is None or ((d - anchor).days // 7) % every_weeks == 0
        if in_cycle and (fire := resolve_local(d, t, tz)) > after:
            return fire
        d += timedelta(days=7)


def plan_week(start: date, d: date) -> int:
    """Return the 1-based plan week of date `d` (0 before the start date)."""
    if d < start:
        return 0
    return (d - start).days // 7 + 1


def week_dates(start: date, week: int) -> list[date]:
    """Return the seven dates of plan week `week` (1-based)."""
    if week < 1:
        raise InputError(f"Plan weeks are numbered from 1; got {int(week)}.")
    first = start + timedelta(days=7 * (week - 1))
    return [first + timedelta(days=i) for i in range(7)]


def days_until(today: date, target: date) -> int:
    """Return the number of days from `today` to `target` (negative if it has passed)."""
    return (target - today).days


class Schedule(Protocol):
    """The schedule settings of a learner (an ORM row or a profile)."""

    timezone: str
    start_date: date
    reminder_minute: int | None
    digest_weekday: int
    digest_minute: int
    digest_every_weeks: int


def next_reminder_at(row: Schedule, after: datetime) -> datetime | None:
    """Compute the next daily reminder instant after AFTER, or None when reminders are off."""
    if row.reminder_minute is None:
        return None
    t = time(row.reminder_minute // 60, row.reminder_minute % 60)
    return next_daily(after, t, row.timezone)


def next_digest_at(row: Schedule, after: datetime) -> datetime:
    """Compute the next weekly (or fortnightly) digest instant after AFTER."""
    t = time(row.digest_minute // 60, row.digest_minute % 60)
    anchor = row.start_date if row.digest_every_weeks > 1 else None
    return next_weekly(after, row.digest_weekday, t, row.timezone,
                       every_weeks=row.digest_every_weeks, anchor=anchor)

"""Tests for bot.timing: DST gaps and folds, study days, weekly cycles, plan weeks."""

from __future__ import annotations

import itertools
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.errors import InputError
from bot.timing import (
    as_zone,
    days_until,
    next_daily,
    next_weekly,
    plan_week,
    resolve_local,
    study_date,
    study_day_bounds,
    utc,
    week_dates,
)

BERLIN = "Europe/Berlin"
NEW_YORK = "America/New_York"
KOLKATA = "Asia/Kolkata"
LORD_HOWE = "Australia/Lord_Howe"
TROLL = "Antarctica/Troll"  # 2-hour shifts: +00 <-> +02.

PING = time(2, 30)


def u(*args: int) -> datetime:
    """Build a UTC datetime."""
    return datetime(*args, tzinfo=UTC)


def transitions(tz: str, year: int) -> tuple[list[date], list[date]]:
    """Return the local dates on which clocks go forward and back in `year`, per zoneinfo."""
    zone = ZoneInfo(tz)
    forward: list[date] = []
    back: list[date] = []
    instant = u(year, 1, 1)
    previous = instant.astimezone(zone).utcoffset()
    while instant.year == year:
        offset = instant.astimezone(zone).utcoffset()
        if offset != previous:
            assert offset is not None and previous is not None
            (forward if offset > previous else back).append(instant.astimezone(zone).date())
        previous = offset
        instant += timedelta(minutes=15)
    return forward, back


# Hand-checked 2027 transition dates; test_transition_dates_match_zoneinfo checks them.
TRANSITIONS_2027 = [
    (BERLIN, [date(2027, 3, 28)], [date(2027, 10, 31)]),  # last Sundays of March / October
    (NEW_YORK, [date(2027, 3, 14)], [date(2027, 11, 7)]),  # 2nd Sunday March / 1st Sunday Nov
    (KOLKATA, [], []),  # no DST
    (LORD_HOWE, [date(2027, 10, 3)], [date(2027, 4, 4)]),  # 1st Sundays of October / April
    (TROLL, [date(2027, 3, 28)], [date(2027, 10, 31)]),
]


@pytest.mark.parametrize(("tz", "forward", "back"), TRANSITIONS_2027)
def test_transition_dates_match_zoneinfo(tz: str, forward: list[date], back: list[date]) -> None:
    assert transitions(tz, 2027) == (forward, back)


# (zone, local date, wall time, expected UTC instant). Each expectation is worked by hand.
RESOLVE_TABLE = [
    # Berlin spring-forward 02:00 CET -> 03:00 CEST: 02:30 is in the gap -> 03:00 CEST = 01:00Z.
    (BERLIN, date(2027, 3, 28), PING, u(2027, 3, 28, 1, 0)),
    # Berlin fall-back 03:00 CEST -> 02:00 CET: 02:30 happens twice; first is CEST (+2) = 00:30Z.
    (BERLIN, date(2027, 10, 31), PING, u(2027, 10, 31, 0, 30)),
    # Ordinary Berlin winter day: 02:30 CET (+1) = 01:30Z.
    (BERLIN, date(2027, 1, 15), PING, u(2027, 1, 15, 1, 30)),
    # New York spring-forward 02:00 EST -> 03:00 EDT: gap -> 03:00 EDT (-4) = 07:00Z.
    (NEW_YORK, date(2027, 3, 14), PING, u(2027, 3, 14, 7, 0)),
    # New York fall-back 02:00 EDT -> 01:00 EST: fold is 01:00-02:00, so 02:30 is EST (-5) = 07:30Z.
    (NEW_YORK, date(2027, 11, 7), PING, u(2027, 11, 7, 7, 30)),
    # ... and 01:30 is in the fold: first occurrence EDT (-4) = 05:30Z.
    (NEW_YORK, date(2027, 11, 7), time(1, 30), u(2027, 11, 7, 5, 30)),
    # Kolkata is always +05:30: 02:30 IST = 21:00Z the previous day, on European DST days too.
    (KOLKATA, date(2027, 3, 28), PING, u(2027, 3, 27, 21, 0)),
    (KOLKATA, date(2027, 10, 31), PING, u(2027, 10, 30, 21, 0)),
    # Lord Howe spring-forward 02:00 (+10:30) -> 02:30 (+11): 02:30 exists, +11 -> 15:30Z prev day.
    (LORD_HOWE, date(2027, 10, 3), PING, u(2027, 10, 2, 15, 30)),
    # ... 02:15 is in the 30-minute gap -> gap end 02:30 (+11) = 15:30Z prev day.
    (LORD_HOWE, date(2027, 10, 3), time(2, 15), u(2027, 10, 2, 15, 30)),
    # Lord Howe fall-back 02:00 (+11) -> 01:30 (+10:30): 02:30 is after the fold, +10:30 = 16:00Z.
    (LORD_HOWE, date(2027, 4, 4), PING, u(2027, 4, 3, 16, 0)),
    # ... 01:45 is in the fold 01:30-02:00: first occurrence +11 = 14:45Z prev day.
    (LORD_HOWE, date(2027, 4, 4), time(1, 45), u(2027, 4, 3, 14, 45)),
    # Troll spring-forward 01:00 (+00) -> 03:00 (+02): 02:30 in the 2-hour gap -> 03:00+02 = 01:00Z.
    (TROLL, date(2027, 3, 28), PING, u(2027, 3, 28, 1, 0)),
    # Troll fall-back 03:00 (+02) -> 01:00 (+00): 02:30 twice; first is +02 = 00:30Z.
    (TROLL, date(2027, 10, 31), PING, u(2027, 10, 31, 0, 30)),
]


@pytest.mark.parametrize(("tz", "day", "wall", "expected"), RESOLVE_TABLE)
def test_resolve_local(tz: str, day: date, wall: time, expected: datetime) -> None:
    assert resolve_local(day, wall, tz) == expected


@pytest.mark.parametrize(("tz", "day", "wall", "expected"), RESOLVE_TABLE)
def test_next_daily_fires_once_per_local_date(
    tz: str, day: date, wall: time, expected: datetime
) -> None:
    zone = ZoneInfo(tz)
    after = resolve_local(day - timedelta(days=5), wall, tz)  # fired already: next is D-4
    fires = []
    for _ in range(11):
        after = next_daily(after, wall, tz)
        fires.append(after)
    local_dates = [fire.astimezone(zone).date() for fire in fires]
    assert local_dates == [day - timedelta(days=4) + timedelta(days=i) for i in range(11)]
    assert all(a < b for a, b in itertools.pairwise(fires))
    assert fires[4] == expected
    for fire in fires[:4] + fires[5:]:
        assert fire.astimezone(zone).time() == wall


@pytest.mark.parametrize(
    ("tz", "after", "wall", "expected"),
    [
        # Between the two Berlin 02:30s of the fold (00:30Z and 01:30Z): no second fire today.
        (BERLIN, u(2027, 10, 31, 1, 0), PING, u(2027, 11, 1, 1, 30)),
        # Exactly at the first occurrence: the next fire is tomorrow (strictly after).
        (BERLIN, u(2027, 10, 31, 0, 30), PING, u(2027, 11, 1, 1, 30)),
        # Just before the gap end: fire at 03:00 CEST.
        (BERLIN, u(2027, 3, 28, 0, 59), PING, u(2027, 3, 28, 1, 0)),
        # In the New York fold, between 01:30 EDT (05:30Z) and 01:30 EST (06:30Z).
        (NEW_YORK, u(2027, 11, 7, 6, 0), time(1, 30), u(2027, 11, 8, 6, 30)),
        # Lord Howe fold, between 01:45 +11 (14:45Z) and 01:45 +10:30 (15:15Z).
        (LORD_HOWE, u(2027, 4, 3, 15, 0), time(1, 45), u(2027, 4, 4, 15, 15)),
    ],
)
def test_next_daily_in_fold_and_gap(
    tz: str, after: datetime, wall: time, expected: datetime
) -> None:
    assert next_daily(after, wall, tz) == expected


# (zone, instant, day_start_hour, expected study date)
STUDY_DATE_TABLE = [
    # Berlin winter, day starts 03:00: 01:30 CET (00:30Z) still counts for yesterday.
    (BERLIN, u(2027, 1, 15, 0, 30), 3, date(2027, 1, 14)),
    (BERLIN, u(2027, 1, 15, 1, 59, 59), 3, date(2027, 1, 14)),  # 02:59:59 CET
    (BERLIN, u(2027, 1, 15, 2, 0), 3, date(2027, 1, 15)),  # 03:00 CET
    # Day starts at midnight: 00:00 CET = 23:00Z the day before.
    (BERLIN, u(2027, 1, 14, 22, 59, 59), 0, date(2027, 1, 14)),
    (BERLIN, u(2027, 1, 14, 23, 0), 0, date(2027, 1, 15)),
    # Spring-forward, day start 02:00 is in the gap -> the day starts at 03:00 CEST = 01:00Z.
    (BERLIN, u(2027, 3, 28, 0, 59, 59), 2, date(2027, 3, 27)),  # 01:59:59 CET
    (BERLIN, u(2027, 3, 28, 1, 0), 2, date(2027, 3, 28)),
    # Fall-back, day start 02:00 is ambiguous -> first occurrence 02:00 CEST = 00:00Z.
    (BERLIN, u(2027, 10, 30, 23, 59, 59), 2, date(2027, 10, 30)),  # 01:59:59 CEST
    (BERLIN, u(2027, 10, 31, 0, 0), 2, date(2027, 10, 31)),
    (BERLIN, u(2027, 10, 31, 1, 30), 2, date(2027, 10, 31)),  # 02:30 CET, second time round
    # New York spring-forward, day start 02:00 -> 03:00 EDT = 07:00Z.
    (NEW_YORK, u(2027, 3, 14, 6, 59, 59), 2, date(2027, 3, 13)),  # 01:59:59 EST
    (NEW_YORK, u(2027, 3, 14, 7, 0), 2, date(2027, 3, 14)),
    # New York fall-back, day start 01:00 ambiguous -> 01:00 EDT = 05:00Z; 01:00 EST stays today.
    (NEW_YORK, u(2027, 11, 7, 4, 59, 59), 1, date(2027, 11, 6)),
    (NEW_YORK, u(2027, 11, 7, 5, 0), 1, date(2027, 11, 7)),
    (NEW_YORK, u(2027, 11, 7, 6, 0), 1, date(2027, 11, 7)),
    # Kolkata, day start 03:00 IST = 21:30Z the day before.
    (KOLKATA, u(2027, 1, 14, 21, 29, 59), 3, date(2027, 1, 14)),
    (KOLKATA, u(2027, 1, 14, 21, 30), 3, date(2027, 1, 15)),
    # Lord Howe spring-forward, day start 02:00 in the gap -> 02:30 +11 = 15:30Z the day before.
    (LORD_HOWE, u(2027, 10, 2, 15, 29, 59), 2, date(2027, 10, 2)),  # 01:59:59 +10:30
    (LORD_HOWE, u(2027, 10, 2, 15, 30), 2, date(2027, 10, 3)),
    # Lord Howe fall-back, day start 02:00 (after the fold) = 02:00 +10:30 = 15:30Z day before.
    (LORD_HOWE, u(2027, 4, 3, 14, 45), 2, date(2027, 4, 3)),  # 01:45 +11, first time round
    (LORD_HOWE, u(2027, 4, 3, 15, 15), 2, date(2027, 4, 3)),  # 01:45 +10:30, second time
    (LORD_HOWE, u(2027, 4, 3, 15, 30), 2, date(2027, 4, 4)),
    # Troll fall-back 03:00 +02 -> 01:00 +00 with day start 02:00: the day starts at 02:00 +02
    # (00:00Z); at 01:30Z the wall clock reads 01:30 +00, below the day start, yet the study
    # day has already begun, so it stays Oct 31 (consistent with study_day_bounds).
    (TROLL, u(2027, 10, 30, 23, 59), 2, date(2027, 10, 30)),
    (TROLL, u(2027, 10, 31, 0, 0), 2, date(2027, 10, 31)),
    (TROLL, u(2027, 10, 31, 1, 30), 2, date(2027, 10, 31)),
]


@pytest.mark.parametrize(("tz", "instant", "day_start_hour", "expected"), STUDY_DATE_TABLE)
def test_study_date(tz: str, instant: datetime, day_start_hour: int, expected: date) -> None:
    assert study_date(instant, tz, day_start_hour) == expected


@pytest.mark.parametrize(("tz", "instant", "day_start_hour", "expected"), STUDY_DATE_TABLE)
def test_study_date_lies_within_its_bounds(
    tz: str, instant: datetime, day_start_hour: int, expected: date
) -> None:
    start, end = study_day_bounds(expected, tz, day_start_hour)
    assert start <= instant < end


# (zone, study date, day_start_hour, length in hours)
BOUNDS_TABLE = [
    (BERLIN, date(2027, 1, 15), 0, 24),
    (BERLIN, date(2027, 3, 28), 0, 23),
    (BERLIN, date(2027, 10, 31), 0, 25),
    (BERLIN, date(2027, 3, 27), 3, 23),  # 03:00 Mar 27 -> 03:00 Mar 28 holds the jump
    (BERLIN, date(2027, 3, 28), 3, 24),
    (BERLIN, date(2027, 3, 28), 2, 23),  # starts at the gap end (03:00), ends 02:00 next day
    (NEW_YORK, date(2027, 3, 14), 0, 23),
    (NEW_YORK, date(2027, 11, 7), 0, 25),
    (KOLKATA, date(2027, 3, 28), 0, 24),
    (KOLKATA, date(2027, 10, 31), 4, 24),
    (LORD_HOWE, date(2027, 10, 3), 0, 23.5),
    (LORD_HOWE, date(2027, 4, 4), 0, 24.5),
    (LORD_HOWE, date(2027, 6, 1), 5, 24),
    (TROLL, date(2027, 3, 28), 0, 22),
    (TROLL, date(2027, 10, 31), 0, 26),
]


@pytest.mark.parametrize(("tz", "day", "day_start_hour", "hours"), BOUNDS_TABLE)
def test_study_day_bounds_length(tz: str, day: date, day_start_hour: int, hours: float) -> None:
    start, end = study_day_bounds(day, tz, day_start_hour)
    assert start.tzinfo is UTC and end.tzinfo is UTC
    assert end - start == timedelta(hours=hours)


@pytest.mark.parametrize(
    ("tz", "day", "day_start_hour", "start"),
    [
        (BERLIN, date(2027, 3, 28), 2, u(2027, 3, 28, 1, 0)),  # gap -> 03:00 CEST
        (BERLIN, date(2027, 10, 31), 2, u(2027, 10, 31, 0, 0)),  # fold -> 02:00 CEST
        (KOLKATA, date(2027, 1, 15), 3, u(2027, 1, 14, 21, 30)),
        (LORD_HOWE, date(2027, 10, 3), 2, u(2027, 10, 2, 15, 30)),  # gap -> 02:30 +11
    ],
)
def test_study_day_bounds_start(tz: str, day: date, day_start_hour: int, start: datetime) -> None:
    assert study_day_bounds(day, tz, day_start_hour)[0] == start


@pytest.mark.parametrize("day_start_hour", [-1, 13, 24])
def test_day_start_hour_out_of_range(day_start_hour: int) -> None:
    with pytest.raises(InputError, match="0 to 12"):
        study_date(u(2027, 1, 1), BERLIN, day_start_hour)
    with pytest.raises(InputError, match="0 to 12"):
        study_day_bounds(date(2027, 1, 1), BERLIN, day_start_hour)


# (zone, after, weekday, time, every_weeks, anchor, next three expected UTC instants)
WEEKLY_TABLE = [
    # Berlin Mondays 09:00 across spring-forward (Mar 28): 08:00Z while CET, 07:00Z in CEST.
    (
        BERLIN,
        u(2027, 3, 16),
        0,
        time(9),
        1,
        None,
        [u(2027, 3, 22, 8), u(2027, 3, 29, 7), u(2027, 4, 5, 7)],
    ),
    # Berlin Sundays 02:30 across spring-forward: Mar 28 lands on the gap end 03:00 CEST = 01:00Z.
    (
        BERLIN,
        u(2027, 3, 15),
        6,
        PING,
        1,
        None,
        [u(2027, 3, 21, 1, 30), u(2027, 3, 28, 1, 0), u(2027, 4, 4, 0, 30)],
    ),
    # Berlin Sundays 02:30 across fall-back: Oct 31 fires once, at the first 02:30 (CEST).
    (
        BERLIN,
        u(2027, 10, 20),
        6,
        PING,
        1,
        None,
        [u(2027, 10, 24, 0, 30), u(2027, 10, 31, 0, 30), u(2027, 11, 7, 1, 30)],
    ),
    # New York Mondays 09:00 every 2 weeks from Monday Mar 1: Mar 1, 15, 29 (DST from Mar 14).
    (
        NEW_YORK,
        u(2027, 3, 2),
        0,
        time(9),
        2,
        date(2027, 3, 1),
        [u(2027, 3, 15, 13), u(2027, 3, 29, 13), u(2027, 4, 12, 13)],
    ),
    # Same, but an anchor the week before (Feb 22) puts Mar 8 in the cycle: 09:00 EST = 14:00Z.
    (
        NEW_YORK,
        u(2027, 3, 2),
        0,
        time(9),
        2,
        date(2027, 2, 22),
        [u(2027, 3, 8, 14), u(2027, 3, 22, 13), u(2027, 4, 5, 13)],
    ),
    # Anchor on a Wednesday (Mar 3): Mondays Mar 8 (week 0), Mar 22 (week 2)... New York.
    (
        NEW_YORK,
        u(2027, 3, 1),
        0,
        time(9),
        2,
        date(2027, 3, 3),
        [u(2027, 3, 8, 14), u(2027, 3, 22, 13), u(2027, 4, 5, 13)],
    ),
    # Lord Howe Sundays 02:15 every 2 weeks from Sunday Sep 19: Oct 3 is in the gap -> 02:30 +11.
    (
        LORD_HOWE,
        u(2027, 9, 20),
        6,
        time(2, 15),
        2,
        date(2027, 9, 19),
        [u(2027, 10, 2, 15, 30), u(2027, 10, 16, 15, 15), u(2027, 10, 30, 15, 15)],
    ),
]


@pytest.mark.parametrize(
    ("tz", "after", "weekday", "wall", "every_weeks", "anchor", "expected"), WEEKLY_TABLE
)
def test_next_weekly(
    tz: str,
    after: datetime,
    weekday: int,
    wall: time,
    every_weeks: int,
    anchor: date | None,
    expected: list[datetime],
) -> None:
    fires = []
    for _ in expected:
        after = next_weekly(after, weekday, wall, tz, every_weeks, anchor)
        fires.append(after)
    assert fires == expected


def test_next_weekly_needs_anchor_for_every_two_weeks() -> None:
    with pytest.raises(ValueError, match="anchor"):
        next_weekly(u(2027, 1, 1), 0, time(9), BERLIN, every_weeks=2)


@pytest.mark.parametrize(
    ("weekday", "every_weeks", "message"),
    [(7, 1, "Weekday"), (-1, 1, "Weekday"), (0, 0, "1 or more weeks")],
)
def test_next_weekly_rejects_bad_input(weekday: int, every_weeks: int, message: str) -> None:
    with pytest.raises(InputError, match=message):
        next_weekly(u(2027, 1, 1), weekday, time(9), BERLIN, every_weeks, date(2027, 1, 1))


@pytest.mark.parametrize(
    ("start", "day", "week"),
    [
        (date(2027, 3, 1), date(2027, 2, 28), 0),
        (date(2027, 3, 1), date(2027, 3, 1), 1),
        (date(2027, 3, 1), date(2027, 3, 7), 1),
        (date(2027, 3, 1), date(2027, 3, 8), 2),
        (date(2027, 3, 1), date(2027, 3, 29), 5),
        (date(2027, 12, 30), date(2028, 1, 6), 2),
    ],
)
def test_plan_week(start: date, day: date, week: int) -> None:
    assert plan_week(start, day) == week


@pytest.mark.parametrize(
    ("start", "week", "first", "last"),
    [
        (date(2027, 3, 1), 1, date(2027, 3, 1), date(2027, 3, 7)),
        (date(2027, 3, 1), 3, date(2027, 3, 15), date(2027, 3, 21)),
        (date(2027, 12, 29), 1, date(2027, 12, 29), date(2028, 1, 4)),
    ],
)
def test_week_dates(start: date, week: int, first: date, last: date) -> None:
    dates = week_dates(start, week)
    assert len(dates) == 7
    assert (dates[0], dates[-1]) == (first, last)
    assert all(plan_week(start, d) == week for d in dates)


def test_week_dates_rejects_week_zero() -> None:
    with pytest.raises(InputError, match="from 1"):
        week_dates(date(2027, 3, 1), 0)


@pytest.mark.parametrize(
    ("today", "target", "days"),
    [
        (date(2027, 3, 1), date(2027, 3, 1), 0),
        (date(2027, 3, 1), date(2027, 3, 31), 30),
        (date(2027, 3, 1), date(2027, 2, 27), -2),
        (date(2027, 12, 31), date(2028, 1, 1), 1),
    ],
)
def test_days_until(today: date, target: date, days: int) -> None:
    assert days_until(today, target) == days


@pytest.mark.parametrize(
    "name", ["Nowhere/City", "@everyone", "", "../etc", "/etc/passwd", "Europe"]
)
def test_as_zone_rejects_unknown_names(name: str) -> None:
    with pytest.raises(InputError, match="IANA") as caught:
        as_zone(name)
    assert "@" not in caught.value.message


def test_as_zone_caches() -> None:
    assert as_zone(LORD_HOWE) is as_zone(LORD_HOWE)


@pytest.mark.parametrize(
    ("dt", "expected"),
    [
        (datetime(2027, 1, 1, 12, tzinfo=ZoneInfo(KOLKATA)), u(2027, 1, 1, 6, 30)),
        (u(2027, 1, 1), u(2027, 1, 1)),
    ],
)
def test_utc(dt: datetime, expected: datetime) -> None:
    assert utc(dt) == expected
    assert utc(dt).tzinfo is UTC


def test_naive_datetimes_are_refused() -> None:
    naive = datetime(2027, 1, 1, 12)
    with pytest.raises(ValueError, match="naive"):
        utc(naive)
    with pytest.raises(ValueError, match="naive"):
        next_daily(naive, PING, BERLIN)
    with pytest.raises(ValueError, match="naive"):
        study_date(naive, BERLIN, 3)


PROPERTY_ZONES = [
    BERLIN,
    NEW_YORK,
    KOLKATA,
    LORD_HOWE,
    TROLL,
    "UTC",
    "Asia/Beirut",  # falls back across midnight
    "America/Sao_Paulo",
    "Pacific/Chatham",  # +12:45 / +13:45
    "Pacific/Apia",  # skipped 2011-12-30 entirely
    "America/St_Johns",  # -03:30 / -02:30
]

instants = st.datetimes(
    min_value=datetime(2010, 1, 1), max_value=datetime(2035, 12, 31), timezones=st.just(UTC)
)


def in_gap(day: date, wall: time, tz: str) -> bool:
    """Tell whether `wall` does not exist on local date `day` (independent round-trip check)."""
    naive = datetime.combine(day, wall)
    back = naive.replace(tzinfo=ZoneInfo(tz)).astimezone(UTC).astimezone(ZoneInfo(tz))
    return back.replace(tzinfo=None) != naive


@settings(max_examples=400, deadline=None)
@given(tz=st.sampled_from(PROPERTY_ZONES), after=instants, wall=st.times())
def test_next_daily_property(tz: str, after: datetime, wall: time) -> None:
    zone = ZoneInfo(tz)
    fire = next_daily(after, wall, tz)
    assert fire > after
    assert fire.tzinfo is UTC
    local = fire.astimezone(zone)
    # The local date the occurrence belongs to: its own date, or the day before for a gap
    # that swallowed the rest of the day (Apia 2011).
    day = local.date()
    if local.time() != wall:
        if not in_gap(day, wall, tz):
            day -= timedelta(days=1)
        assert in_gap(day, wall, tz)
        # Gap end: the offset changes exactly at the fire instant.
        assert (fire - timedelta(seconds=1)).astimezone(zone).utcoffset() != local.utcoffset()
    # Nothing skipped: the previous local date's occurrence is not after `after` (or, where a
    # skipped date's occurrence shares this gap end, is this very instant).
    previous = resolve_local(day - timedelta(days=1), wall, tz)
    assert previous <= after or previous == fire


@settings(max_examples=400, deadline=None)
@given(
    tz=st.sampled_from(PROPERTY_ZONES),
    instant=instants,
    day_start_hour=st.integers(min_value=0, max_value=12),
)
def test_study_date_matches_bounds_property(
    tz: str, instant: datetime, day_start_hour: int
) -> None:
    day = study_date(instant, tz, day_start_hour)
    start, end = study_day_bounds(day, tz, day_start_hour)
    assert start <= instant < end
    assert study_day_bounds(day + timedelta(days=1), tz, day_start_hour)[0] == end

"""The road, the safety buffer, catch-up and the dated week, against hand-computed figures."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from bot.plan import PlanRegistry
from bot.road import (
    Road,
    RoadInputs,
    build_road,
    catch_up,
    item_days,
    paused_days,
    safety_buffer,
    week_ahead,
)

MON = date(2026, 11, 30)
H = 60


def road(*, hours: int = 4, weeks: int = 6, target: date | None = None,
         pauses: tuple[tuple[date, date], ...] = ()) -> Road:
    return build_road(RoadInputs(MON, hours * H, weeks, target, 150 * H, paused_days(pauses)))


def d(n: int) -> date:
    """Day N of the plan (1 = the start date)."""
    return MON + timedelta(days=n - 1)


def test_the_road_rises_by_the_commitment_and_stops_at_the_hours_target() -> None:
    r = road()
    assert [r.at(d(n)) for n in (1, 2, 3)] == [240, 480, 720]
    assert r.at(MON - timedelta(days=1)) == 0
    # 37 days make 148 h; day 38 reaches the target of 150 h and the road stays there.
    assert r.at(d(37)) == 37 * 240 and r.at(d(38)) == 9000 and r.at(d(42)) == 9000
    assert r.end == d(42) and r.at(d(60)) == 9000


@pytest.mark.parametrize(("logged", "today", "buffer"), [
    (240, d(1), 1),     # on the road: today's hours are in, tomorrow's are not
    (0, d(1), 0),       # today's hours are needed today
    (1000, d(1), 4),    # ahead: 1000 min cover the road through day 4 (960)
    (240, d(4), 0),     # behind
    (9000, d(5), None),  # the road's end is reached
])
def test_safety_buffer(logged: int, today: date, buffer: int | None) -> None:
    assert safety_buffer(road(), logged, today) == buffer


def test_catch_up_when_behind() -> None:
    # Day 4 with 4 h logged: yesterday's road was 12 h, so 8 h behind. At most 8 h a day
    # (2 x 4 h): today alone would need 16 h - 4 h = 12 h; two days need (20 h - 4 h) / 2 = 8 h
    # a day, through day 5.
    way = catch_up(road(), 240, d(4), 240)
    assert way is not None and (way.behind_minutes, way.per_day, way.until) == (480, 480, d(5))
    assert catch_up(road(), 720, d(4), 240) is None  # on yesterday's road: today is open
    assert catch_up(road(), 0, d(1), 240) is None  # nothing is behind on the first day


def test_a_pause_moves_the_road_and_counts_as_no_falling_behind() -> None:
    r = road(pauses=((d(2), d(4)),))
    assert [r.at(d(n)) for n in range(1, 7)] == [240, 240, 240, 240, 480, 720]
    assert r.end == d(45)  # three paused days later
    assert safety_buffer(r, 240, d(4)) == 1 and catch_up(r, 240, d(4), 240) is None


def test_a_commitment_that_ends_before_the_target_goes_on_to_it() -> None:
    # One week of 4 h (28 h) with a target on day 11: days 8..11 share the missing 122 h.
    r = road(weeks=1, target=d(11))
    assert r.at(d(7)) == 1680 and r.end == d(11)
    assert [r.at(d(n)) for n in (8, 9, 10, 11)] == [3510, 5340, 7170, 9000]


def test_with_no_target_the_road_ends_with_the_commitment() -> None:
    r = road(weeks=1)
    assert r.end == d(7) and r.at(d(30)) == 1680


def test_past_the_target_date_no_pace_can_catch_up() -> None:
    r = road(weeks=1, target=d(11))
    way = catch_up(r, 5000, d(13), 240)
    assert way is not None and way.per_day is None and way.behind_minutes == 4000
    assert safety_buffer(r, 5000, d(13)) == 0


def test_a_target_before_the_commitments_end_is_moved_by_pauses() -> None:
    r = road(weeks=6, target=d(10), pauses=((d(3), d(3)),))
    assert r.end == d(43)  # the commitment (42 study days + 1 paused) outlasts the target


@pytest.fixture(scope="module")
def vllm():  # type: ignore[no-untyped-def]
    return PlanRegistry.load().get("vllm")


def test_daily_lessons_fall_on_the_study_days(vllm) -> None:  # type: ignore[no-untyped-def]
    days = item_days(road(pauses=((d(2), d(3)),)), vllm)
    assert days["day01"] == d(1) and days["day02"] == d(4) and days["day07"] == d(9)
    assert days["day14"] == d(16)


def test_the_week_ahead_lists_items_minutes_and_deadlines(vllm) -> None:  # type: ignore[no-untyped-def]
    r = road()
    week = week_ahead(r, vllm, d(3), logged=480, logged_today=0, done={"day01"},
                      deadlines=[("Mock 1", d(5))], commitment_minutes=240)
    assert [p.day for p in week.days] == [d(n) for n in range(3, 10)]
    first = week.days[0]
    assert [i.id for i in first.overdue] == ["day02"] and [i.id for i in first.items] == ["day03"]
    assert first.minutes == 240 and week.days[2].deadlines == ("Mock 1",)
    assert [i.id for i in week.days[4].items] == ["day07"]


def test_the_week_ahead_when_behind_asks_the_catch_up_pace(vllm) -> None:  # type: ignore[no-untyped-def]
    week = week_ahead(road(), vllm, d(4), logged=240, logged_today=60, done=(),
                      deadlines=(), commitment_minutes=240)
    assert [p.minutes for p in week.days[:3]] == [480 - 60, 480, 240]


def test_the_week_ahead_across_a_pause_and_a_dst_change(vllm) -> None:  # type: ignore[no-untyped-def]
    # Europe's clocks go forward on 28 Mar 2027; the road counts study days, not hours.
    start = date(2027, 3, 25)
    r = build_road(RoadInputs(start, 120, 4, None, 150 * H,
                              paused_days([(date(2027, 3, 28), date(2027, 3, 29))])))
    week = week_ahead(r, vllm, date(2027, 3, 27), logged=240, logged_today=0, done={"day01",
                      "day02"}, deadlines=(), commitment_minutes=120)
    assert [p.day.day for p in week.days] == [27, 28, 29, 30, 31, 1, 2]
    assert [p.paused for p in week.days[:3]] == [False, True, True]
    assert [p.minutes for p in week.days[:4]] == [120, 0, 0, 120]
    assert [i.id for i in week.days[0].items] == ["day03"]
    assert [i.id for i in week.days[3].items] == ["day04"]


# --- shown to the learner -------------------------------------------------------------------


async def _lines(grammar, actor, *setup: str) -> list[str]:  # type: ignore[no-untyped-def]
    for line in setup:
        reply = await grammar.dispatch(actor, line)
        assert not reply.error, (line, reply.text)
    return (await grammar.dispatch(actor, "/progress")).text.splitlines()


async def test_progress_shows_the_buffer_on_the_road(grammar, alice) -> None:  # type: ignore[no-untyped-def]
    lines = await _lines(grammar, alice, "/start Europe/Berlin hours=2", "/log 5h")
    assert "**Safety Buffer**: 2 days of slack" in lines  # 5 h cover 2 days of 2 h
    assert not any("puts you back" in line for line in lines)


async def test_progress_says_today_is_needed(grammar, alice) -> None:  # type: ignore[no-untyped-def]
    lines = await _lines(grammar, alice, "/start Europe/Berlin hours=2", "/log 30m")
    assert "**Safety Buffer**: 0 days: you need today's 1.5h today" in lines
    assert not any("puts you back" in line for line in lines)  # today is still open


async def test_progress_gives_the_way_back(grammar, alice, clock) -> None:  # type: ignore[no-untyped-def]
    # Started Wednesday 25 Nov at 2 h a day; 2 h logged; Monday 30 Nov is day 6: 12 h due.
    lines = await _lines(grammar, alice, "/start Europe/Berlin start=2026-11-25 hours=2",
                         "/log 2h 2026-11-25")
    assert "**Safety Buffer**: 0 days: 8h behind the road" in lines  # yesterday's road: 10 h
    # At most 4 h a day (2 x 2 h). Over n days from today the road reaches 2 h x (5 + n), so
    # (8 + 2n) h / n a day: 3 days need 4.67 h, 4 days exactly 4 h, through Thursday 3 Dec.
    assert "4h a day until Thursday puts you back on the road." in lines


async def test_a_pause_keeps_the_learner_on_the_road(grammar, alice, clock) -> None:  # type: ignore[no-untyped-def]
    await _lines(grammar, alice, "/start Europe/Berlin hours=2", "/log 2h",
                 "/pause until 2026-12-04")
    clock.advance(days=3)  # Thursday 3 Dec: paused since Monday, nothing logged since
    lines = (await grammar.dispatch(alice, "/progress")).text.splitlines()
    assert any(line.startswith("**Safety Buffer**: ") and "behind" not in line
               for line in lines), lines


async def test_one_day_back_says_today(grammar, alice, clock) -> None:  # type: ignore[no-untyped-def]
    # Started yesterday at 2 h a day, nothing logged: 2 h behind; 4 h today catch up (the cap).
    lines = await _lines(grammar, alice, "/start Europe/Berlin start=2026-11-29 hours=2")
    assert "**Safety Buffer**: 0 days: 2h behind the road" in lines
    assert "4h today puts you back on the road." in lines

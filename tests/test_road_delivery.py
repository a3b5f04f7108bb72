"""Where the learner stands against the plan: reminder and digest wording, charts' figures.

Every expectation is computed by hand from the road's rules (``bot.road``): a 4 h commitment
rises the road by 4 h a study day from the start.
"""

from __future__ import annotations

import io
from datetime import date

import pytest
from PIL import Image

from bot.charts import (
    CalendarCell,
    calendar_figures,
    render_calendar_chart,
    render_road_chart,
    road_figures,
    stack_pngs,
)
from bot.messages import build_digest, build_reminder, road_status, with_attachment
from bot.plan import Plan, PlanRegistry
from bot.road import road_of, standing, zero_buffer_since
from bot.snapshot import LearnerData
from tests.test_messages import SCORE_DATES, TODAY, logs, profile, the_week

D = date
PNG = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def plan() -> Plan:
    return PlanRegistry.load().get("vllm")


def learner(by_day: dict[date, int], **kw: object) -> LearnerData:
    data = LearnerData(profile(**{"start_date": D(2026, 11, 30), **kw}))
    data.logs = logs(by_day)
    return data


def road_line(data: LearnerData, plan: Plan, today: date) -> str:
    return next(x for x in build_reminder(data, plan, today).text.splitlines()
                if x.startswith("**Road**"))


# --- the daily reminder ------------------------------------------------------------------


@pytest.mark.parametrize(("by_day", "today", "expected"), [
    # 16h logged by Wed 2 Dec against a road of 12h: Wed and Thu (16h) are covered.
    ({D(2026, 11, 30): 960}, D(2026, 12, 2), "**Road**: 2 days of slack."),
    ({D(2026, 11, 30): 720}, D(2026, 12, 2), "**Road**: 1 day of slack."),
    # 9.5h logged; the road was 8h at the end of Tuesday, 12h at the end of today.
    ({D(2026, 11, 30): 240, D(2026, 12, 1): 240, D(2026, 12, 2): 90}, D(2026, 12, 2),
     "**Road**: You need today's 2.5h today."),
    # Nothing logged by Thu 3 Dec: 12h behind at the end of Wednesday; 8h a day for 3 days
    # reaches the road's 24h at the end of Saturday.
    ({}, D(2026, 12, 3),
     "**Road**: You are 12h behind: 8h a day until Saturday puts you back on the road."),
])
def test_reminder_wording_grows_urgent_as_the_buffer_reaches_zero(
        plan: Plan, by_day: dict[date, int], today: date, expected: str) -> None:
    assert road_line(learner(by_day), plan, today) == expected


def test_reminder_gives_the_honest_answer_when_no_pace_catches_up(plan: Plan) -> None:
    # A one-week commitment without a target date: the road ends Sun 6 Dec at 28h. On Sat 5
    # Dec with nothing logged, 20h are missing (Friday's end); two days of at most 8h each
    # cannot make 28h.
    data = learner({}, commitment_weeks=1, target_date=None)
    assert road_line(data, plan, D(2026, 12, 5)) == (
        "**Road**: You are 20h behind the road. No pace that fits in a day catches up: 20h "
        "to make up with 2 study days left on the road. Extend your commitment "
        "(`/settings weeks=N` or `target=DATE`) to redraw it.")


def test_partner_wording_names_the_learner_and_keeps_the_way_back_private(plan: Plan) -> None:
    st = standing(learner({}), plan, D(2026, 12, 3))
    assert road_status(st, who="Alice") == "Alice is 12h behind the road"
    # On the road with no slack: the amount reads right whatever it is (no verb to agree).
    for minutes, need in ((600, "2h"), (660, "1h"), (690, "0.5h")):
        st = standing(learner({D(2026, 11, 30): minutes}), plan, D(2026, 12, 2))
        assert road_status(st, who="Alice") == f"Alice needs today's {need} today"
        assert road_status(st) == f"you need today's {need} today"


# --- the digest ---------------------------------------------------------------------------


def _lines(text: str, *prefixes: str) -> list[str]:
    return [x for x in text.splitlines() if x.startswith(prefixes)]


def test_digest_shows_the_week_against_the_road_and_the_buffer(plan: Plan) -> None:
    # Start 23 Nov, 4h a day, Sat 5 Dec paused (flat): the road rose 6 x 4h = 24h over
    # 30 Nov - 6 Dec; 15.5h logged. Total 25.5h against 12 x 4h = 48h at the end of Saturday:
    # 22.5h behind (the road is 52h at the end of today).
    # Catch-up from Sunday: n days need 26.5h + 4h(n-1), at most 8h a day: n >= 5.625, so 6
    # days (Sun - Fri 11 Dec) at 46.5h / 6 = 7.75h.
    msg = build_digest(the_week(), plan, TODAY, score_dates=SCORE_DATES)
    assert _lines(msg.text, "**Road this period**", "**Safety buffer**") == [
        "**Road this period**: 24h committed, 15.5h logged (8.5h behind it)",
        "**Safety buffer**: You are 22.5h behind: 7.75h a day until Friday puts you back on "
        "the road.",
    ]


def test_partner_digest_shows_the_buffer_only_when_hours_are_shared(plan: Plan) -> None:
    shared = build_digest(the_week(), plan, TODAY, score_dates=SCORE_DATES, partner=True,
                          share=("hours",))
    assert _lines(shared.text, "**Safety buffer**") == [
        "**Safety buffer**: Alice is 22.5h behind the road."]
    hidden = build_digest(the_week(), plan, TODAY, score_dates=SCORE_DATES, partner=True,
                          share=("days", "streak"))
    assert not _lines(hidden.text, "**Road", "**Safety buffer**")
    assert hidden.chart is None


def test_weekly_digest_chart_carries_the_road_below_the_week(plan: Plan) -> None:
    msg = build_digest(the_week(), plan, TODAY, score_dates=SCORE_DATES)
    assert msg.chart is not None and msg.chart.road is not None
    assert msg.chart.road == road_figures(the_week(), plan, TODAY)
    sent = with_attachment(msg)
    assert sent.attachment is not None and sent.attachment.data.startswith(PNG)
    image = Image.open(io.BytesIO(sent.attachment.data))
    assert image.size == (900, 800)  # the week's 900 x 400 above the road's 900 x 400


# --- the road chart's figures -------------------------------------------------------------


def test_road_figures_from_the_data(plan: Plan) -> None:
    # Start Mon 30 Nov, 4h a day for 6 weeks, target 31 Jan: the road reaches 150h on day 38
    # (37 x 4h = 148h, then capped at 150h) and stays flat to the commitment's end (10 Jan),
    # then flat on to the target date.
    data = learner({D(2026, 11, 30): 120, D(2026, 12, 2): 300})
    f = road_figures(data, plan, D(2026, 12, 2))
    assert f.start == D(2026, 11, 30) and f.today == D(2026, 12, 2)
    assert f.road[:3] == (4.0, 8.0, 12.0)
    assert f.road[36] == 148.0 and f.road[37] == 150.0 and f.road[-1] == 150.0
    assert len(f.road) == (D(2027, 1, 31) - D(2026, 11, 30)).days + 1
    assert f.logged == (2.0, 2.0, 7.0)
    assert f.band == (150.0, 200.0)
    # Pace: 420 min over 3 days = 140 min/day; 150h - 7h = 8580 min -> 62 days after today.
    assert f.projection == ((D(2026, 12, 2), 7.0), (D(2027, 2, 2), 150.0))
    png = render_road_chart(f)
    assert png.startswith(PNG)
    assert Image.open(io.BytesIO(png)).size == (900, 400)


def test_road_figures_without_logs_have_no_projection(plan: Plan) -> None:
    f = road_figures(learner({}), plan, D(2026, 12, 1))
    assert f.logged == (0.0, 0.0) and f.projection is None
    assert render_road_chart(f).startswith(PNG)


# --- the calendar's cells -----------------------------------------------------------------


def test_calendar_cells_one_a_day_weeks_as_columns(plan: Plan) -> None:
    # Start Wed 2 Dec: week 1 holds Wed-Sun (rows 2-6), Mon 7 Dec opens column 1.
    data = learner({D(2026, 12, 2): 90, D(2026, 12, 7): 240}, start_date=D(2026, 12, 2))
    data.pauses = [(D(2026, 12, 5), D(2026, 12, 5))]
    f = calendar_figures(data, D(2026, 12, 8))
    assert f.columns == 2 and f.commitment_minutes == 240
    assert f.cells == (
        CalendarCell(D(2026, 12, 2), 0, 2, 90),
        CalendarCell(D(2026, 12, 3), 0, 3, 0),
        CalendarCell(D(2026, 12, 4), 0, 4, 0),
        CalendarCell(D(2026, 12, 5), 0, 5, 0, paused=True),
        CalendarCell(D(2026, 12, 6), 0, 6, 0),
        CalendarCell(D(2026, 12, 7), 1, 0, 240),
        CalendarCell(D(2026, 12, 8), 1, 1, 0),
    )
    png = render_calendar_chart(f)
    assert png.startswith(PNG)
    Image.open(io.BytesIO(png)).verify()


def test_stacked_png_is_both_images_top_to_bottom() -> None:
    def solid(w: int, h: int, colour: str) -> bytes:
        out = io.BytesIO()
        Image.new("RGB", (w, h), colour).save(out, format="PNG")
        return out.getvalue()

    image = Image.open(io.BytesIO(stack_pngs(solid(4, 2, "red"), solid(3, 1, "blue"))))
    assert image.size == (4, 3)
    assert image.getpixel((0, 0)) == (255, 0, 0) and image.getpixel((0, 2)) == (0, 0, 255)
    assert image.getpixel((3, 2)) == (255, 255, 255)


# --- zero-buffer episodes -----------------------------------------------------------------


@pytest.mark.parametrize(("by_day", "today", "logged_now", "expected"), [
    # Day one of a zero buffer (Mon 30 Nov, nothing yet): no episode of two days yet.
    ({}, D(2026, 11, 30), 0, None),
    # Tue 1 Dec, Monday ended behind, today short too: the episode began Monday.
    ({}, D(2026, 12, 1), 0, D(2026, 11, 30)),
    # Wed: the same episode, still from Monday.
    ({}, D(2026, 12, 2), 0, D(2026, 11, 30)),
    # Monday met, Tuesday missed, Wednesday short: a new episode from Tuesday.
    ({D(2026, 11, 30): 240}, D(2026, 12, 2), 240, D(2026, 12, 1)),
    # Today already back on the road: no episode.
    ({D(2026, 12, 1): 720}, D(2026, 12, 1), 720, None),
])
def test_zero_buffer_since(plan: Plan, by_day: dict[date, int], today: date, logged_now: int,
                           expected: date | None) -> None:
    road = road_of(learner(by_day), plan)
    assert zero_buffer_since(road, by_day, today, logged_now) == expected


def test_paused_days_neither_extend_nor_break_an_episode(plan: Plan) -> None:
    # Mon 30 Nov missed, Tue paused (the road is flat), Wed short: the episode began Monday.
    data = learner({})
    data.pauses = [(D(2026, 12, 1), D(2026, 12, 1))]
    assert zero_buffer_since(road_of(data, plan), {}, D(2026, 12, 2), 0) == D(2026, 11, 30)

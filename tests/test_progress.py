"""Pure progress rules on hand-built learner data."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from bot import progress as p
from bot.plan import PlanRegistry
from bot.snapshot import LearnerData, LearnerProfile, LogRow, MockRow

T0 = datetime(2026, 11, 1, tzinfo=UTC)


def learner(start: date = date(2026, 11, 1), target: date | None = None) -> LearnerData:
    return LearnerData(LearnerProfile(
        id=1, platform="console", external_id="a", display_name="A", plan_id="vllm",
        timezone="UTC", day_start_hour=0, start_date=start, target_date=target,
        commitment_minutes=240, commitment_weeks=6, goal=None, committed_on=start,
        reminder_minute=None, digest_weekday=6, digest_minute=1080, digest_every_weeks=1,
        public_posts=True, home_channel_id=None, snoozed_until=None, next_reminder_at=None,
        next_digest_at=None))


def log(data: LearnerData, day: date, minutes: int) -> None:
    data.logs.append(LogRow(len(data.logs) + 1, day, minutes, None, T0))


@pytest.mark.parametrize(("fraction", "drawn"), [
    (0, "[░░░░░░░░░░░░░░░░░░░░]"), (0.25, "[█████░░░░░░░░░░░░░░░]"),
    (1, "[████████████████████]"), (1.7, "[████████████████████]"), (-1, "[░░░░░░░░░░░░░░░░░░░░]"),
])
def test_bar_draws_like_the_spec(fraction: float, drawn: str) -> None:
    assert p.bar(fraction) == drawn


@pytest.mark.parametrize(("minutes", "text"), [(240, "4h"), (90, "1.5h"), (15, "0.25h"),
                                                (1, "0.02h"), (0, "0h")])
def test_fmt_hours(minutes: int, text: str) -> None:
    assert p.fmt_hours(minutes) == text


def test_pace_projects_from_the_last_two_weeks() -> None:
    data = learner(target=date(2027, 1, 1))
    for n in range(14):
        log(data, date(2026, 11, 1) + timedelta(days=n), 300)  # 5 h a day
    today = date(2026, 11, 14)
    pace = p.pace(data, PlanRegistry.load().get("vllm"), today)
    # 70 h done, 80 h to go at 5 h/day: 16 more days -> 30 Nov.
    assert pace.reach_min_on == date(2026, 11, 30)
    assert pace.days_vs_target == -32
    assert pace.describe(150) == ("At 5.0 h/day you reach 150 h on 30 Nov 2026, "
                                  "32 days before your target.")


def test_pace_without_logs_says_so() -> None:
    pace = p.pace(learner(), PlanRegistry.load().get("vllm"), date(2026, 11, 5))
    assert pace.reach_min_on is None
    assert "Log some time" in pace.describe(150)


def test_milestones_that_depend_on_others_are_reached_in_one_pass() -> None:
    plan = PlanRegistry.load().get("vllm")
    data = learner()
    for item in plan.items:
        data.done[item.id] = date(2026, 11, 20)
    for n in range(1, 6):
        data.mocks.append(MockRow(n, date(2026, 11, 20), 9, None))
    log(data, date(2026, 11, 20), 151 * 60)
    reached = {ms.id for ms in p.milestones_now_reached(data, plan)}
    assert {"m1", "m2", "m3", "m4", "m5", "m6", "final"} <= reached


def test_week_bars_count_study_days_per_plan_week() -> None:
    plan = PlanRegistry.load().get("vllm")
    data = learner(start=date(2026, 11, 4))
    for d in (4, 5, 10, 11, 12):
        log(data, date(2026, 11, d), 30)
    data.done["day01"] = date(2026, 11, 13)
    bars = p.week_bars(data, plan)
    assert [b.days_active for b in bars] == [3, 3, 0, 0]
    assert bars[0].render() == "Week 1: [███░░░░] 3/7 days"

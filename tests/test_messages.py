"""Pure message builders: reminders, deadlines, celebrations, a digest of a hand-computed week."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from bot.messages import (
    BUTTON_COMMANDS,
    REMINDER_BUTTONS,
    SHAREABLE,
    TEXT_LIMIT,
    build_celebration,
    build_deadline_reminder,
    build_digest,
    build_reminder,
    command_for_action,
    digest_figures,
    item_label,
    with_attachment,
)
from bot.plan import Plan, PlanRegistry
from bot.snapshot import DeadlineRow, LearnerData, LearnerProfile, LogRow, MockRow, NoteRow
from bot.wording import plural

EPOCH = datetime(2026, 1, 1, tzinfo=UTC)


@pytest.fixture(scope="module")
def plan() -> Plan:
    return PlanRegistry.load().get("vllm")


def profile(**kw: object) -> LearnerProfile:
    values: dict[str, object] = dict(
        id=1, platform="console", external_id="alice", display_name="Alice", plan_id="vllm",
        timezone="Europe/Berlin", day_start_hour=3, start_date=date(2026, 11, 23),
        target_date=date(2027, 1, 31), commitment_minutes=240, commitment_weeks=6, goal=None,
        committed_on=date(2026, 11, 23), reminder_minute=19 * 60, digest_weekday=6,
        digest_minute=18 * 60, digest_every_weeks=1, public_posts=True, home_channel_id=None,
        snoozed_until=None, next_reminder_at=None, next_digest_at=None)
    values.update(kw)
    return LearnerProfile(**values)  # type: ignore[arg-type]


def logs(minutes_by_day: dict[date, int]) -> list[LogRow]:
    return [LogRow(i, d, mins, None, EPOCH) for i, (d, mins) in
            enumerate(sorted(minutes_by_day.items())) if mins]


D = date  # short for the tables below

# The hand-computed fortnight: plan week 1 = 23-29 Nov, week 2 = 30 Nov - 6 Dec (the digest's).
WEEK1 = {D(2026, 11, 23): 120, D(2026, 11, 24): 180, D(2026, 11, 25): 60, D(2026, 11, 26): 120,
         D(2026, 11, 27): 60, D(2026, 11, 29): 60}                       # 600 min = 10 h
WEEK2 = {D(2026, 11, 30): 240, D(2026, 12, 1): 150, D(2026, 12, 3): 300, D(2026, 12, 4): 60,
         D(2026, 12, 6): 180}                                            # 930 min = 15.5 h
TODAY = D(2026, 12, 6)  # Sunday, the digest day


def the_week() -> LearnerData:
    data = LearnerData(profile())
    data.logs = logs({**WEEK1, **WEEK2})
    data.done = {"install-cuda": D(2026, 11, 25), "day01": D(2026, 11, 30),
                 "day02": D(2026, 12, 1)}
    data.scores = {"readiness": 45, "quiz-week1": 17}
    data.mocks = [MockRow(1, D(2026, 12, 3), 7, "good")]
    data.ratings = {"scheduler": {1: 2, 2: 4}, "pagedattention": {2: 3},
                    "cuda-kernels": {1: 3}, "block-manager": {1: 3, 2: 3}}
    data.notes = [
        NoteRow(1, "insight", 1, "Week one insight", None, None,
                datetime(2026, 11, 25, tzinfo=UTC)),
        NoteRow(2, "insight", 2, "Paging is virtual memory for the KV cache", None, None,
                datetime(2026, 12, 2, 9, tzinfo=UTC)),
        NoteRow(3, "challenge", None, "Old challenge", "x", "y",
                datetime(2026, 11, 25, tzinfo=UTC)),
        NoteRow(4, "challenge", None, "CUDA build failed", "pinned gcc 12", "read the matrix",
                datetime(2026, 12, 2, 10, tzinfo=UTC)),
        NoteRow(5, "question", None, "Why 16 tokens per block?", None, None,
                datetime(2026, 12, 2, 11, tzinfo=UTC)),
    ]
    data.deadlines = [DeadlineRow(1, "Mock Interview 1", D(2026, 12, 1)),
                      DeadlineRow(2, "NVIDIA Interview", D(2026, 12, 20)),
                      DeadlineRow(3, "Portfolio Due", D(2027, 1, 10)),
                      DeadlineRow(4, "Far goal", D(2027, 3, 1)),
                      DeadlineRow(5, "Farther goal", D(2027, 4, 1))]
    data.milestones = {"first-log": D(2026, 11, 23), "first-day": D(2026, 11, 30)}
    data.pauses = [(D(2026, 12, 5), D(2026, 12, 5))]
    return data


SCORE_DATES = {"readiness": D(2026, 11, 24), "quiz-week1": D(2026, 12, 2)}


def test_digest_figures_match_the_hand_computed_week(plan: Plan) -> None:
    f = digest_figures(the_week(), plan, TODAY, score_dates=SCORE_DATES)
    assert (f.first, f.last, f.week) == (D(2026, 11, 30), TODAY, 2)
    assert [d.minutes for d in f.days] == [240, 150, 0, 300, 60, 0, 180]
    assert [d.paused for d in f.days] == [False] * 5 + [True, False]
    assert f.period_minutes == 930                      # 15.5 h
    assert f.days_counted == 6                          # Saturday paused
    assert f.period_commitment_minutes == 6 * 240       # 24 h
    assert f.days_met == 2                              # Monday 4 h, Thursday 5 h
    assert f.days_active == 5
    assert f.total_minutes == 1530                      # 25.5 h
    assert f.cumulative_before_minutes == 600
    assert [i for i, _ in f.items_done] == ["day01", "day02"]
    assert (f.plan_days_done, f.plan_days_total) == (2, 14)
    assert f.scores == (("Week 1 Quiz", 17, 20, D(2026, 12, 2)),)
    assert f.mocks == ((1, 7, D(2026, 12, 3)),)
    assert f.skill_changes == (("PagedAttention", None, 3), ("Scheduler", 2, 4))
    assert f.streak.days == 3                            # Sun, (Sat paused), Fri, Thu; Wed breaks
    assert f.milestones == (("First daily plan completed", "achievement", D(2026, 11, 30)),)
    # 1530 min over the 14 days since the start: 109.29 min/day; 7470 min left -> 69 days.
    assert round(f.pace.minutes_per_day, 2) == 109.29
    assert f.pace.reach_min_on == D(2027, 2, 13)
    assert f.pace.days_vs_target == 13
    assert f.deadlines == (("NVIDIA Interview", D(2026, 12, 20), 14),
                           ("Portfolio Due", D(2027, 1, 10), 35), ("Far goal", D(2027, 3, 1), 85))
    assert f.insights == ("Paging is virtual memory for the KV cache",)
    assert f.challenges == (("CUDA build failed", "pinned gcc 12", "read the matrix"),)


def test_digest_text_shows_the_figures(plan: Plan) -> None:
    msg = build_digest(the_week(), plan, TODAY, score_dates=SCORE_DATES)
    assert msg.kind == "digest" and msg.title == "Your weekly digest"
    for expected in [
        "Week to Sun 06 Dec", "(30 Nov – 06 Dec, plan week 2)",
        "Mon 30 Nov      4h ✅", "Tue 01 Dec    2.5h", "Sat 05 Dec  paused ⏸",
        "15.5h of 24h committed (65%)", "commitment met on 2 of 6 days",
        "25.5h of 150–200h", "17%",
        "At 1.8 h/day you reach 150 h on 13 Feb 2027, 13 days after your target.",
        "**Days studied**: 5/7", "**Plan days done**: 2/14",
        "Day 01: Codebase Overview", "First daily plan completed (achievement, 30 Nov)",
        "**Streak**: 🔥 3 days",
        "Week 1 Quiz 17/20 (Wed 02 Dec)", "#1 7/10 (Thu 03 Dec)",
        "PagedAttention 3 (new)", "Scheduler 2 → 4",
        "💡 Paging is virtual memory for the KV cache",
        "🧗 CUDA build failed → pinned gcc 12 (learned: read the matrix)",
        "NVIDIA Interview 2026-12-20 (in 14 days)", "Portfolio Due 2027-01-10 (in 35 days)",
    ]:
        assert expected in msg.text, expected
    for absent in ["Week one insight", "Old challenge", "Why 16 tokens", "Farther goal",
                   "Mock Interview 1", "Readiness"]:
        assert absent not in msg.text, absent
    assert msg.chart is not None
    assert msg.chart.days == ((D(2026, 11, 30), 4.0), (D(2026, 12, 1), 2.5), (D(2026, 12, 2), 0.0),
                              (D(2026, 12, 3), 5.0), (D(2026, 12, 4), 1.0), (D(2026, 12, 5), 0.0),
                              (D(2026, 12, 6), 3.0))
    assert (msg.chart.commitment_hours, msg.chart.cumulative_before) == (4.0, 10.0)
    assert (msg.chart.target_min, msg.chart.target_max) == (150.0, 200.0)


SECTION_MARKERS = {
    "hours": ["**Hours per day**", "15.5h of 24h", "25.5h of 150–200h", "At 1.8 h/day"],
    "days": ["**Days studied**", "Day 01: Codebase Overview", "First daily plan completed"],
    "streak": ["**Streak**"],
    "scores": ["Week 1 Quiz 17/20", "Scheduler 2 → 4", "#1 7/10"],
    "notes": ["Paging is virtual memory", "CUDA build failed"],
}
NEVER_FOR_PARTNER = ["NVIDIA Interview", "Upcoming deadlines", "Portfolio Due"]


@pytest.mark.parametrize("share", [
    (), ("hours",), ("days",), ("streak",), ("scores",), ("notes",), ("hours", "streak"),
    ("days", "scores", "notes"), SHAREABLE,
])
def test_partner_digest_shows_only_shared_sections(plan: Plan, share: tuple[str, ...]) -> None:
    msg = build_digest(the_week(), plan, TODAY, score_dates=SCORE_DATES, partner=True,
                       share=share)
    assert msg.kind == "digest-partner"
    assert msg.title == "Alice's weekly digest"
    for section, markers in SECTION_MARKERS.items():
        for marker in markers:
            assert (marker in msg.text) == (section in share), (section, marker)
    for marker in NEVER_FOR_PARTNER:
        assert marker not in msg.text
    assert (msg.chart is not None) == ("hours" in share)


def test_partner_digest_ignores_unknown_share_names(plan: Plan) -> None:
    msg = build_digest(the_week(), plan, TODAY, score_dates=SCORE_DATES, partner=True,
                       share=("deadlines", "goal"))
    for markers in SECTION_MARKERS.values():
        assert not any(marker in msg.text for marker in markers)
    assert "NVIDIA" not in msg.text


def test_fortnightly_digest_covers_fourteen_days(plan: Plan) -> None:
    f = digest_figures(the_week(), plan, TODAY, weeks=2, score_dates=SCORE_DATES)
    assert (f.first, len(f.days)) == (D(2026, 11, 23), 14)
    assert f.period_minutes == 1530 and f.cumulative_before_minutes == 0
    msg = build_digest(the_week(), plan, TODAY, weeks=2, score_dates=SCORE_DATES)
    assert msg.title == "Your fortnightly digest" and "Fortnight to Sun 06 Dec" in msg.text


def test_digest_leaves_out_days_before_the_start(plan: Plan) -> None:
    data = LearnerData(profile(start_date=D(2026, 12, 4)))
    data.logs = logs({D(2026, 12, 4): 60})
    f = digest_figures(data, plan, TODAY)
    assert [d.day for d in f.days] == [D(2026, 12, 4), D(2026, 12, 5), D(2026, 12, 6)]
    assert f.period_commitment_minutes == 3 * 240


def test_digest_says_one_day_not_one_days(plan: Plan) -> None:
    # A plan started today: one day counted; the pace lands one day after the target.
    data = LearnerData(profile(start_date=TODAY, target_date=TODAY + timedelta(days=36)))
    data.logs = logs({TODAY: 240})
    text = build_digest(data, plan, TODAY).text
    assert "commitment met on 1 of 1 day\n" in text
    assert "**Streak**: 🔥 1 day" in text
    assert text.count("1 day after your target.") == 1 and "1 days" not in text


def test_late_digest_says_so_in_the_learners_zone(plan: Plan) -> None:
    due = datetime(2026, 12, 6, 17, 0, tzinfo=UTC)
    msg = build_digest(the_week(), plan, TODAY, score_dates=SCORE_DATES, late_due=due)
    assert msg.text.startswith("⏰ Sent late: this was due Sun 06 Dec 18:00 (Europe/Berlin).")


def test_digest_text_is_capped(plan: Plan) -> None:
    data = the_week()
    data.notes = [NoteRow(i, "insight", 2, "x" * 999, None, None, EPOCH) for i in range(200)]
    msg = build_digest(data, plan, TODAY, score_dates=SCORE_DATES)
    assert len(msg.text) <= TEXT_LIMIT
    assert msg.text.count("💡") == 5


def test_chart_renders_into_a_png_attachment(plan: Plan) -> None:
    msg = with_attachment(build_digest(the_week(), plan, TODAY, score_dates=SCORE_DATES))
    assert msg.chart is None and msg.attachment is not None
    assert msg.attachment.filename == "digest.png"
    assert msg.attachment.data.startswith(b"\x89PNG\r\n\x1a\n")


# --- reminders ---------------------------------------------------------------------------


def test_reminder_says_today_streak_next_item_and_deadline(plan: Plan) -> None:
    data = LearnerData(profile(start_date=D(2026, 11, 30)))
    data.logs = logs({D(2026, 11, 30): 240, D(2026, 12, 1): 240, D(2026, 12, 2): 90})
    data.done = {f"day0{i}": D(2026, 11, 30) for i in range(1, 5)}
    data.deadlines = [DeadlineRow(1, "NVIDIA Interview", D(2026, 12, 14))]
    msg = build_reminder(data, plan, D(2026, 12, 2))
    assert msg.kind == "reminder" and msg.title == "Daily reminder"
    assert msg.text.splitlines() == [
        "**Today**: 1.5h of 4h logged — 2.5h to go.",
        "**Road**: You need today's 2.5h today.",
        "**Streak**: 🔥 3 days.",
        "**Next on the plan**: Day 05: Scheduler & Batching",
        "**Next deadline**: NVIDIA Interview in 12 days (2026-12-14).",
    ]
    assert msg.buttons == REMINDER_BUTTONS


@pytest.mark.parametrize(("today_minutes", "yesterday", "expected"), [
    (0, 60, "**Streak**: 🔥 1 day — at risk: log today to keep it."),
    (0, 0, "**Streak**: none yet — today is a good day to start one."),
    (30, 60, "**Streak**: 🔥 2 days."),
])
def test_reminder_streak_line(plan: Plan, today_minutes: int, yesterday: int,
                              expected: str) -> None:
    data = LearnerData(profile(start_date=D(2026, 11, 30)))
    data.logs = logs({D(2026, 12, 1): yesterday, D(2026, 12, 2): today_minutes})
    assert expected in build_reminder(data, plan, D(2026, 12, 2)).text.splitlines()


def test_late_snoozed_reminder(plan: Plan) -> None:
    data = LearnerData(profile(timezone="Asia/Kolkata"))
    msg = build_reminder(data, plan, D(2026, 12, 2), snoozed=True,
                         late_due=datetime(2026, 12, 2, 13, 30, tzinfo=UTC))
    assert msg.kind == "snooze" and msg.title == "Snoozed reminder"
    assert msg.text.splitlines()[0] == ("⏰ Sent late: this was due Wed 02 Dec 19:00 "
                                        "(Asia/Kolkata).")


@pytest.mark.parametrize(("days", "phrase"), [(7, "in 7 days"), (1, "tomorrow")])
def test_deadline_reminder(days: int, phrase: str) -> None:
    msg = build_deadline_reminder("NVIDIA Interview", D(2027, 1, 15), days, tz="Europe/Berlin")
    assert msg.kind == "deadline"
    assert msg.text.splitlines()[0] == f"📅 **NVIDIA Interview** is {phrase} (Fri 15 Jan 2027)."


def test_celebration_for_learner_and_partner(plan: Plan) -> None:
    ms = plan.milestones_by_id["m1"]
    mine = build_celebration(ms, D(2026, 12, 2))
    theirs = build_celebration(ms, D(2026, 12, 2), learner_name="Alice")
    assert mine.text == ("🏆 You reached a milestone: **Environment setup & first example** "
                         "(02 Dec 2026).")
    assert theirs.text == ("🏆 Alice reached a milestone: **Environment setup & first example** "
                           "(02 Dec 2026).")


@pytest.mark.parametrize(("item_id", "label"), [
    ("day05", "Day 05: Scheduler & Batching"),
    ("install-cuda", None),
])
def test_item_label(plan: Plan, item_id: str, label: str | None) -> None:
    item = plan.items_by_id[item_id]
    assert item_label(item) == (label or f"{item.title} (`{item.id}`)")


def test_every_reminder_button_runs_a_known_command() -> None:
    for button in REMINDER_BUTTONS:
        assert command_for_action(button.action) == BUTTON_COMMANDS[button.action]
        action, label = button  # unpacks like the ("snooze:1h", "Snooze 1 h") pair
        assert action and label
    assert command_for_action("snooze:1h") == "/snooze 1h"
    assert command_for_action("admin:drop-tables") is None


def test_dates_are_local_study_days_not_utc(plan: Plan) -> None:
    # A challenge noted at 23:30 UTC on Sunday is Monday in Kolkata: not in the week to Sunday.
    data = LearnerData(profile(timezone="Asia/Kolkata", day_start_hour=0))
    data.notes = [NoteRow(1, "challenge", None, "late one", None, None,
                          datetime(2026, 12, 6, 23, 30, tzinfo=UTC)),
                  NoteRow(2, "challenge", None, "in time", None, None,
                          datetime(2026, 12, 6, 18, 0, tzinfo=UTC) - timedelta(minutes=1))]
    f = digest_figures(data, plan, TODAY)
    assert [c[0] for c in f.challenges] == ["in time"]


# --- plural forms (bot.wording) ------------------------------------------------------------


@pytest.mark.parametrize(("count", "singular", "plural_form", "expected"), [
    (0, "day", None, "0 days"),
    (1, "day", None, "1 day"),
    (2, "day", None, "2 days"),
    (-1, "day", None, "-1 days"),
    (1, "entry", "entries", "1 entry"),
    (3, "entry", "entries", "3 entries"),
    (1, "learner", None, "1 learner"),
])
def test_plural(count: int, singular: str, plural_form: str | None, expected: str) -> None:
    assert plural(count, singular, plural_form) == expected

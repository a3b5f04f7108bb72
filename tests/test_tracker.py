"""Tracker rules on a real store (SQLite file and PostgreSQL): what the learner sees and keeps."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import func, select

from bot import models as m
from bot.actors import Actor
from bot.app import build_services
from bot.errors import InputError, StateError
from bot.grammar import Grammar
from bot.services import Onboarding, Services
from bot.store import Store
from tests.conftest import FakeClock, dump_store


async def run(grammar: Grammar, actor: Actor, *lines: str) -> list[str]:
    out = []
    for line in lines:
        reply = await grammar.dispatch(actor, line)
        assert not reply.error, (line, reply.text)
        out.append(reply.text)
    return out


async def test_start_derives_weeks_and_schedules_the_reminder(
        services: Services, alice: Actor, store: Store) -> None:
    await services.onboarding.start(
        alice, Onboarding(timezone="Europe/Berlin", commitment_minutes=240))
    row = await services.onboarding.profile(alice)
    assert row.commitment_weeks == 6  # ceil(150 h / (4 h * 7))
    assert row.start_date == date(2026, 11, 30)
    # 19:00 in Berlin (UTC+1 in winter) on the same day: 18:00 UTC.
    assert row.next_reminder_at == datetime(2026, 11, 30, 18, 0, tzinfo=UTC)
    # Sunday 18:00 Berlin digest.
    assert row.next_digest_at == datetime(2026, 12, 6, 17, 0, tzinfo=UTC)


async def test_changing_zone_and_reminder_reschedules_from_next_occurrence(
        grammar: Grammar, services: Services, alice: Actor) -> None:
    await run(grammar, alice, "/start Europe/Berlin",
              "/settings timezone=America/New_York reminder=07:30")
    row = await services.onboarding.profile(alice)
    # Now is 12:00 UTC = 07:00 New York, so 07:30 today is still ahead: 12:30 UTC.
    assert row.next_reminder_at == datetime(2026, 11, 30, 12, 30, tzinfo=UTC)
    await run(grammar, alice, "/settings reminder=off")
    assert (await services.onboarding.profile(alice)).next_reminder_at is None


async def test_late_night_study_counts_for_the_previous_day(
        grammar: Grammar, services: Services, alice: Actor, clock: FakeClock) -> None:
    await run(grammar, alice, "/start Europe/Berlin start=2026-11-23 daystart=3")
    clock.set(datetime(2026, 12, 1, 1, 30, tzinfo=UTC))  # 02:30 in Berlin on 1 Dec
    await run(grammar, alice, "/log 2h night owl")
    data, _plan, today = await services.views.snapshot(alice)
    assert today == date(2026, 11, 30)
    assert data.logs[0].study_date == date(2026, 11, 30)


@pytest.mark.parametrize(("text", "minutes"), [
    ("4h", 240), ("1h30m", 90), ("90m", 90), ("2.5h", 150), ("1:30", 90), ("1h 30m", 90),
])
async def test_log_accepts_the_documented_duration_forms(
        grammar: Grammar, services: Services, alice: Actor, text: str, minutes: int) -> None:
    await run(grammar, alice, "/start Europe/Berlin", f"/log {text} topic words")
    data, _p, _t = await services.views.snapshot(alice)
    assert [(r.minutes, r.topic) for r in data.logs] == [(minutes, "topic words")]


async def test_log_dates_today_yesterday_weekday_and_iso(
        grammar: Grammar, services: Services, alice: Actor) -> None:
    await run(grammar, alice, "/start Europe/Berlin start=2026-11-20",
              "/log 1h a today", "/log 1h b yesterday", "/log 1h c fri",
              "/log 1h d 2026-11-21", "/log 1h")
    data, _p, _t = await services.views.snapshot(alice)
    got = sorted((r.study_date.isoformat(), r.topic or "") for r in data.logs)
    assert got == [("2026-11-21", "d"), ("2026-11-27", "c"), ("2026-11-29", "b"),
                   ("2026-11-30", ""), ("2026-11-30", "a")]


async def test_the_snapshot_holds_a_day_by_topic_in_the_order_first_logged(
        grammar: Grammar, services: Services, alice: Actor) -> None:
    await run(grammar, alice, "/start Europe/Berlin start=2026-11-28", "/log 30m paging",
              "/log 20m kernels", "/log 15m", "/log 10m paging", "/log 1h paging yesterday",
              "/log 5m", "/log 25m kernels")
    data, _plan, _today = await services.views.snapshot(alice)
    assert [(r.study_date.isoformat(), r.minutes, r.topic) for r in data.logs] == [
        ("2026-11-29", 60, "paging"),
        ("2026-11-30", 40, "paging"), ("2026-11-30", 45, "kernels"), ("2026-11-30", 20, None)]
    assert data.minutes_by_day() == {date(2026, 11, 29): 60, date(2026, 11, 30): 105}
    assert data.total_minutes == 165
    text = (await grammar.dispatch(alice, "/week")).text
    assert "Mon 30 Nov:  1.75h | Topics: paging; kernels" in text, text


async def test_a_day_holds_at_most_24_hours(services: Services, alice: Actor) -> None:
    await services.onboarding.start(alice, Onboarding(timezone="Asia/Kolkata"))
    await services.timelog.log_time(alice, 20 * 60)
    await services.timelog.log_time(alice, 4 * 60)
    with pytest.raises(InputError, match="cannot pass 24h"):
        await services.timelog.log_time(alice, 1)


async def test_concurrent_logs_never_pass_24_hours(services: Services, alice: Actor,
                                                   store: Store) -> None:
    await services.onboarding.start(alice, Onboarding(timezone="UTC"))
    results = await asyncio.gather(*(services.timelog.log_time(alice, 60) for _ in range(30)),
                                   return_exceptions=True)
    ok = [r for r in results if not isinstance(r, Exception)]
    refused = [r for r in results if isinstance(r, InputError)]
    assert len(ok) == 24 and len(refused) == 6, results
    async with store.read() as s:
        assert await s.scalar(select(func.sum(m.TimeLog.minutes))) == 24 * 60


@pytest.mark.parametrize("spelling", ["day05", "Day 5", "d5", "day5", "DAY 05", "5",
                                      "Scheduler & Batching", "scheduler &"])
async def test_done_understands_forgiving_spellings(grammar: Grammar, services: Services,
                                                    alice: Actor, spelling: str) -> None:
    await run(grammar, alice, "/start Europe/Berlin", f"/done {spelling}")
    data, _p, _t = await services.views.snapshot(alice)
    assert set(data.done) == {"day05"}


async def test_undone_and_undo_revert_any_kind_of_change(
        grammar: Grammar, services: Services, alice: Actor, store: Store) -> None:
    await run(grammar, alice, "/start Europe/Berlin")
    baseline = await dump_store(store)
    await run(grammar, alice, "/log 2h", "/done day01", "/quiz week1 12/20",
              "/quiz week1 18/20", "/settings reminder=21:00", "/count cuda-basic +2",
              "/rate scheduler 3", '/deadline add "Mock" 2027-01-01', "/insight learned it")
    texts = await run(grammar, alice, *["/undo"] * 9)
    assert texts[0].startswith("Undone: insight")
    assert "settings" in texts[4]
    after = await dump_store(store)
    for table in ("time_logs", "items_done", "scores", "counters", "skill_ratings",
                  "deadlines", "notes", "milestones_reached"):
        assert after[table] == baseline[table] == [], table
    row = await services.onboarding.profile(alice)
    assert row.reminder_minute == 19 * 60
    reply = await grammar.dispatch(alice, "/undo")
    assert reply.error and "Nothing to undo" in reply.text


async def test_quiz_overwrite_keeps_one_value_and_undo_restores_the_old(
        grammar: Grammar, services: Services, alice: Actor) -> None:
    await run(grammar, alice, "/start Europe/Berlin", "/quiz week1 12/20")
    text, = await run(grammar, alice, "/quiz w1 18")
    assert "18/20" in text and "was 12/20" in text
    await run(grammar, alice, "/undo")
    data, _p, _t = await services.views.snapshot(alice)
    assert data.scores == {"quiz-week1": 12}


async def test_milestones_are_recorded_once_and_reported_to_the_caller(
        grammar: Grammar, services: Services, alice: Actor, store: Store) -> None:
    await run(grammar, alice, "/start Europe/Berlin")
    first = await grammar.dispatch(alice, "/log 1h")
    assert [c.milestone_id for c in first.celebrations] == ["first-log"]
    second = await grammar.dispatch(alice, "/log 1h")
    assert second.celebrations == []
    for n in range(1, 14):
        await run(grammar, alice, f"/done day{n:02d}")
    last = await grammar.dispatch(alice, "/done day14")
    ids = {c.milestone_id for c in last.celebrations}
    assert "all-days" in ids and "m4" in ids
    mock = await grammar.dispatch(alice, "/mock 8 crisp")
    assert {"m6", "c-mock-8", "first-mock"} <= {c.milestone_id for c in mock.celebrations}
    async with store.read() as s:
        count = await s.scalar(select(func.count()).select_from(m.MilestoneReached))
    data, _p, _t = await services.views.snapshot(alice)
    assert count == len(data.milestones)
    assert data.milestones["first-log"] == date(2026, 11, 30)


async def test_mock_fills_slots_in_order_then_asks_which_to_replace(
        grammar: Grammar, services: Services, alice: Actor) -> None:
    await run(grammar, alice, "/start Europe/Berlin")
    await run(grammar, alice, *[f"/mock {n} try {n}" for n in range(3, 8)])
    reply = await grammar.dispatch(alice, "/mock 9")
    assert reply.error and "slot" in reply.text
    await run(grammar, alice, "/mock 9 much better 2026-11-29 slot=2")
    data, _p, _t = await services.views.snapshot(alice)
    assert [(x.slot, x.score) for x in data.mocks] == [(1, 3), (2, 9), (3, 5), (4, 6), (5, 7)]
    assert data.mocks[1].held_on == date(2026, 11, 29)
    assert data.mocks[1].feedback == "much better"


async def test_streak_counts_consecutive_days_and_today_does_not_break_it(
        grammar: Grammar, services: Services, alice: Actor, clock: FakeClock) -> None:
    from bot.progress import streak

    await run(grammar, alice, "/start Europe/Berlin start=2026-11-20 daystart=0",
              "/log 1h 2026-11-26", "/log 1h 2026-11-27", "/log 1h 2026-11-28",
              "/done day01 2026-11-29")
    data, _p, today = await services.views.snapshot(alice)
    s = streak(data, today)
    assert (s.days, s.today_done, s.at_risk) == (4, False, True)
    await run(grammar, alice, "/log 30m")
    data, _p, today = await services.views.snapshot(alice)
    assert streak(data, today).days == 5
    clock.advance(days=2)  # 2 Dec: 1 Dec had nothing
    data, _p, today = await services.views.snapshot(alice)
    assert streak(data, today).days == 0


async def test_pause_freezes_the_streak(grammar: Grammar, services: Services, alice: Actor,
                                        clock: FakeClock) -> None:
    from bot.progress import streak

    await run(grammar, alice, "/start Europe/Berlin start=2026-11-20 daystart=0",
              "/log 1h 2026-11-28", "/log 1h 2026-11-29", "/log 1h", "/pause until 2026-12-03")
    clock.advance(days=4)  # 4 Dec, the pause covered 30 Nov..3 Dec
    await run(grammar, alice, "/log 1h")
    data, _p, today = await services.views.snapshot(alice)
    assert today == date(2026, 12, 4)
    assert streak(data, today).days == 4  # 28, 29, 30 Nov and 4 Dec; 1-3 Dec frozen
    reply = await grammar.dispatch(alice, "/resume")
    assert reply.error and "not paused" in reply.text


async def test_progress_week_and_skills_show_correct_figures(
        grammar: Grammar, alice: Actor) -> None:
    await run(grammar, alice, "/start Europe/Berlin start=2026-11-24 target=2027-01-15",
              "/log 4h PagedAttention theory 2026-11-24", "/log 2h block manager 2026-11-25",
              "/log 90m kernels 2026-11-25", "/log 3h 2026-11-30",
              "/done day01", "/done day02", "/done day03",
              "/rate pagedattention 4 1", "/rate scheduler 3 1", "/rate scheduler 5 2",
              '/deadline add "NVIDIA Interview" 2027-01-15')
    progress = (await grammar.dispatch(alice, "/progress")).text
    assert "Week 1: [███░░░░] 3/7 days" in progress  # 24, 25 and 30 Nov
    assert "Hours Invested**: 10.5 / 150-200" in progress
    assert "Days Completed**: 3 / 14" in progress
    assert "NVIDIA Interview on 2027-01-15 (46 days)" in progress
    week = (await grammar.dispatch(alice, "/week 1")).text
    assert "Day 2 Wed 25 Nov:   3.5h | Topics: block manager; kernels" in week
    assert "Total: 10.5h" in week
    skills = (await grammar.dispatch(alice, "/skills")).text
    assert "Scheduler      | 3  | 5  | —  | —  | 4" in skills
    assert "**Overall Average**: 4.5 / 5" in skills  # latest ratings: 4 and 5


async def test_partner_invite_accept_share_and_end(grammar: Grammar, services: Services,
                                                   alice: Actor, bob: Actor,
                                                   store: Store) -> None:
    await run(grammar, alice, "/start Europe/Berlin")
    with pytest.raises(InputError, match="own accountability partner"):
        await services.partners.invite(alice, alice)
    await services.partners.invite(alice, bob)
    with pytest.raises(StateError, match="already have a partner"):
        await services.partners.invite(alice, Actor("console", "carol", "Carol"))
    await services.partners.accept(bob)
    await services.partners.share(alice, ["hours", "scores"])
    async with store.read() as s:
        ship = await s.scalar(select(m.Partnership))
    assert (ship.status, ship.share) == ("accepted", ["hours", "scores"])
    await services.partners.end(bob)
    async with store.read() as s:
        assert (await s.scalar(select(m.Partnership))).status == "ended"
    with pytest.raises(StateError):
        await services.partners.end(alice)


async def test_next_dates_the_daily_lessons_on_the_road(grammar: Grammar, alice: Actor) -> None:
    # Monday 30 Nov is day 1; with day01 and day02 done, day03 falls on Wednesday 2 Dec.
    await run(grammar, alice, "/start Europe/Berlin", "/log 4h", "/done day01", "/done day02")
    lines = (await grammar.dispatch(alice, "/next")).text.splitlines()
    assert lines[0] == "**Next 7 Days Plan**"
    assert lines[1] == "Today (Mon 30 Nov): —"
    assert lines[2] == "Tomorrow (Tue 01 Dec): 4h"
    assert lines[3] == "Day 3 (Wed 02 Dec): 4h · `day03` Block Manager Deep Dive"


async def test_notes_are_kept_per_kind(grammar: Grammar, services: Services,
                                       alice: Actor) -> None:
    await run(grammar, alice, "/start Europe/Berlin",
              "/insight week2 blocks are pages", "/challenge OOM | smaller batch | measure first",
              "/question why 16-token blocks?")
    data, _p, _t = await services.views.snapshot(alice)
    assert [(n.kind, n.week, n.text, n.solution, n.learning) for n in data.notes] == [
        ("insight", 2, "blocks are pages", None, None),
        ("challenge", None, "OOM", "smaller batch", "measure first"),
        ("question", None, "why 16-token blocks?", None, None),
    ]


async def test_settings_show_lists_every_setting(grammar: Grammar, alice: Actor) -> None:
    await run(grammar, alice, "/start Asia/Kolkata hours=2.5 weeks=8 reminder=7pm "
                               'goal="Ship a kernel"')
    text = (await grammar.dispatch(alice, "/settings")).text
    for part in ("Asia/Kolkata", "2.5h per day for 8 weeks", "Ship a kernel", "19:00",
                 "Sunday 18:00, weekly"):
        assert part in text


async def test_counters_and_scores_tick_the_items_they_stand_for(
        grammar: Grammar, services: Services, alice: Actor) -> None:
    await run(grammar, alice, "/start Europe/Berlin", "/count mock-coding +4")
    data, _p, _t = await services.views.snapshot(alice)
    assert "cp-mock-sessions" not in data.done
    await run(grammar, alice, "/count mock-coding +1", "/readiness 40")
    data, _p, _t = await services.views.snapshot(alice)
    assert {"cp-mock-sessions", "prereq-score"} <= set(data.done)
    await run(grammar, alice, "/undo")  # the readiness score and its tick go together
    data, _p, _t = await services.views.snapshot(alice)
    assert "prereq-score" not in data.done and "readiness" not in data.scores


async def test_a_second_plan_can_be_chosen_per_space(store: Store, clock: FakeClock,
                                                     tmp_path, alice: Actor) -> None:  # type: ignore[no-untyped-def]
    from pathlib import Path

    from bot.plan import BUILTIN_PLAN_DIR, PlanRegistry

    source = (Path(BUILTIN_PLAN_DIR) / "vllm.toml").read_text(encoding="utf-8")
    extra = tmp_path / "plans"
    extra.mkdir()
    (extra / "mini.toml").write_text(
        source.replace('id = "vllm"', 'id = "mini"', 1).replace(
            'title = "vLLM Mastery Progress Tracker"', 'title = "Mini plan"', 1),
        encoding="utf-8")
    grammar = Grammar(build_services(store, PlanRegistry.load([extra]), clock=clock))
    listing = (await grammar.dispatch(alice, "/plan")).text
    assert "`mini` — Mini plan" in listing and "`vllm`" in listing
    bad = await grammar.dispatch(alice, "/plan use nosuch")
    assert bad.error and "mini" in bad.text
    await run(grammar, alice, "/plan use mini", "/start Europe/Berlin")
    assert (await grammar.services.onboarding.profile(alice)).plan_id == "mini"
    other_space = Actor("console", "zed", "Zed", space_id="elsewhere")
    await run(grammar, other_space, "/start Europe/Berlin")
    assert (await grammar.services.onboarding.profile(other_space)).plan_id == "vllm"


async def test_notices_reach_the_learner_once_at_their_next_command(
        grammar: Grammar, services: Services, alice: Actor) -> None:
    await run(grammar, alice, "/start Europe/Berlin")
    row = await services.onboarding.profile(alice)
    await services.units.add_notice(row.id, "Your reminder could not be delivered: DMs are closed.")
    first = await grammar.dispatch(alice, "/progress")
    assert first.notices == ["Your reminder could not be delivered: DMs are closed."]
    assert (await grammar.dispatch(alice, "/progress")).notices == []
    await services.units.add_notice(row.id, "second")
    assert (await grammar.dispatch(alice, "/log 1h")).notices == ["second"]


async def test_new_learners_follow_the_configured_public_default(
        store: Store, plans, clock: FakeClock, alice: Actor) -> None:  # type: ignore[no-untyped-def]
    services = build_services(store, plans, clock=clock, public_by_default=False)
    await services.onboarding.start(alice, Onboarding(timezone="Europe/Berlin"))
    assert (await services.onboarding.profile(alice)).public_posts is False


async def test_set_field_shows_percentages_as_percent(grammar: Grammar, alice: Actor) -> None:
    _, text = await run(grammar, alice, "/start Europe/Berlin", "/set p1-performance 85")
    assert text == "Project 1 Performance vs vLLM: 85%."

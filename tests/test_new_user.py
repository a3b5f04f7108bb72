"""Defects a new user met (issue "What a new user trips over"), each as its class of case."""

from __future__ import annotations

import ast
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from bot.actors import Actor
from bot.app import build_services
from bot.grammar import _HANDLERS, COMMANDS, Grammar
from bot.plan import PlanRegistry
from bot.services import Services
from bot.store import Store
from tests.conftest import FakeClock, dump_store

SECOND_PLAN = """
[plan]
id = "sprint"
title = "Go Sprint"
goal = "Write a Go service"
hours_min = 10
hours_max = 20
weeks = 2

[[phases]]
id = "basics"
title = "Basics"
short = "Basics"
weeks = "1-2"

[[sections]]
id = "reading"
phase = "basics"
title = "Reading"

[[items]]
id = "tour"
section = "reading"
title = "Take the Go tour"

[[items]]
id = "book"
section = "reading"
title = "Read the book"
"""


async def ok(grammar: Grammar, actor: Actor, line: str) -> str:
    reply = await grammar.dispatch(actor, line)
    assert not reply.error, (line, reply.text)
    return reply.text


async def refused(grammar: Grammar, store: Store, actor: Actor, line: str) -> str:
    before = await dump_store(store)
    reply = await grammar.dispatch(actor, line)
    assert reply.error, (line, reply.text)
    assert await dump_store(store) == before, line
    return reply.text


# --- "today" at onboarding is the study day ------------------------------------------------


@pytest.mark.parametrize(("zone", "utc_now", "study_day"), [
    # 01:30 in Berlin on 2 Dec: before the 03:00 day start, still 1 Dec.
    ("Europe/Berlin", datetime(2026, 12, 2, 0, 30, tzinfo=UTC), date(2026, 12, 1)),
    # 02:59 in Kolkata on 2 Dec.
    ("Asia/Kolkata", datetime(2026, 12, 1, 21, 29, tzinfo=UTC), date(2026, 12, 1)),
    # 03:00 sharp in New York: the new day has begun.
    ("America/New_York", datetime(2026, 12, 2, 8, 0, tzinfo=UTC), date(2026, 12, 2)),
])
async def test_onboarding_today_is_the_study_day(
        grammar: Grammar, services: Services, clock: FakeClock, alice: Actor, zone: str,
        utc_now: datetime, study_day: date) -> None:
    clock.set(utc_now)
    await ok(grammar, alice, f"/start {zone} start=today")
    assert (await services.onboarding.profile(alice)).start_date == study_day
    # Logging "today" right after onboarding is accepted: today is not before the start.
    await ok(grammar, alice, "/log 1h")


async def test_onboarding_after_midnight_with_a_later_day_start(
        grammar: Grammar, services: Services, clock: FakeClock, alice: Actor) -> None:
    clock.set(datetime(2026, 12, 2, 3, 30, tzinfo=UTC))  # 04:30 in Berlin
    await ok(grammar, alice, "/start Europe/Berlin daystart=5")
    assert (await services.onboarding.profile(alice)).start_date == date(2026, 12, 1)


# --- messages -----------------------------------------------------------------------------


async def test_a_counter_without_a_target_shows_no_target(grammar: Grammar, alice: Actor) -> None:
    await ok(grammar, alice, "/start Europe/Berlin")
    text = await ok(grammar, alice, "/count weak-area-hours =6")
    assert "None" not in text and text.endswith(": 6.")


async def test_plural_forms(grammar: Grammar, alice: Actor) -> None:
    await ok(grammar, alice, "/start Europe/Berlin")
    assert "(1 day from today)" in await ok(grammar, alice, '/deadline add "A" tomorrow')
    assert "(today)" in await ok(grammar, alice, '/deadline add "B" today')
    assert "(2 days from today)" in await ok(grammar, alice, '/deadline add "C" 2026-12-02')
    await ok(grammar, alice, "/log 1h")
    progress = await ok(grammar, alice, "/progress")
    assert "**Current Streak**: 1 day" in progress and "1 days" not in progress


@pytest.mark.parametrize(("line", "words"), [
    ("/count cuda-basic +1.5", ("whole number",)),
    ("/count cuda-basic 2,5", ("whole number",)),
    ("/set nosuchfield 3", ("track", "next-steps", "final-ready")),
    ("/notes remove abc", ("not a note number", "#1")),
    ("/notes remove 7", ("no note #7", "#1")),
    ("/notes remove 99999999999999", ("#1",)),
])
async def test_specific_messages(grammar: Grammar, store: Store, alice: Actor, line: str,
                                 words: tuple[str, ...]) -> None:
    await ok(grammar, alice, "/start Europe/Berlin")
    await ok(grammar, alice, "/question why pages?")
    text = await refused(grammar, store, alice, line)
    assert "counter" not in text or "whole number" in text
    for word in words:
        assert word in text, (line, text)
    assert "2147483647" not in text


async def test_help_gives_a_sentence_per_command_and_usage_with_an_example(
        grammar: Grammar, alice: Actor) -> None:
    listing = await ok(grammar, alice, "/help")
    for name, entry in COMMANDS.items():
        assert f"`/{name}` — {entry.summary}" in listing
        assert entry.summary.endswith(".") and entry.example.startswith(f"/{name}")
    detail = await ok(grammar, alice, "/help log")
    assert "Usage: `/log DURATION [TOPIC] [DATE]`" in detail and "Example: `/log " in detail


async def test_start_again_names_the_setting_command(grammar: Grammar, store: Store,
                                                      alice: Actor) -> None:
    await ok(grammar, alice, "/start Europe/Berlin")
    plain = await refused(grammar, store, alice, "/start Europe/Berlin")
    assert "already set up" in plain and "NAME=VALUE" not in plain
    with_options = await refused(grammar, store, alice, "/start Europe/Berlin hours=3 weeks=4")
    assert "hours=…, weeks=…" in with_options and "/settings NAME=VALUE" in with_options


# --- a second plan ------------------------------------------------------------------------


@pytest.fixture
def two_plans(tmp_path: Path) -> PlanRegistry:
    folder = tmp_path / "plans"
    folder.mkdir()
    (folder / "sprint.toml").write_text(SECOND_PLAN, encoding="utf-8")
    return PlanRegistry.load([folder])


async def test_a_second_plan_shows_only_what_it_has(
        store: Store, two_plans: PlanRegistry, clock: FakeClock, alice: Actor) -> None:
    grammar = Grammar(build_services(store, two_plans, clock=clock))
    await ok(grammar, alice, "/start Europe/Berlin")
    await ok(grammar, alice, "/settings plan=sprint")
    settings = await ok(grammar, alice, "/settings")
    assert "Write a Go service" in settings and "vLLM" not in settings.split("**Plan**")[-1]
    await ok(grammar, alice, "/done tour")
    progress = await ok(grammar, alice, "/progress")
    assert "Days Completed" not in progress and "0 / 0" not in progress
    summary = await ok(grammar, alice, "/summary")
    assert summary.startswith("**Total Time Invested**")
    for vllm_only in ("Components Mastered", "Projects Completed", "Mock Interview",
                      "Quiz", "Confidence", "Ready for Interview", "Next Steps"):
        assert vllm_only not in summary
    assert "no self-assessment matrix" in await ok(grammar, alice, "/skills")


def test_every_catalogued_command_has_a_line_handler_and_discord_shares_its_words() -> None:
    assert set(COMMANDS) <= set(_HANDLERS)
    described = {}
    for path in Path(__file__).resolve().parents[1].joinpath("cogs").glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call) and any(k.arg == "name" for k in node.keywords):
                kw = {k.arg: k.value for k in node.keywords}
                name = kw["name"]
                if isinstance(name, ast.Constant) and "description" in kw:
                    described[name.value] = ast.unparse(kw["description"])
    shared = {n for n in described if n in COMMANDS} - {"plan"}
    assert {"log", "done", "quiz", "export", "milestones", "start"} <= shared
    for name in shared - {"help", "progress", "week", "skills", "summary", "next"}:
        assert described[name] == f"CATALOGUE[{name!r}].summary", name

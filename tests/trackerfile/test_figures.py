"""The derived figures the tracker file shows: rules of bot.progress, written once."""

from __future__ import annotations

from datetime import date

import pytest

from bot import progress as p
from bot.plan import PlanRegistry
from bot.snapshot import DeadlineRow
from bot.trackerfile import render_markdown
from tests.trackerfile.learners import bare_learner

TODAY = date(2026, 11, 5)


@pytest.mark.parametrize(("ticked", "band"), [
    (0, "0-25%"), (4, "0-25%"), (5, "26-50%"), (9, "26-50%"), (10, "51-75%"), (14, "76-99%"),
    (17, "76-99%"), (18, "100%!"),
])
def test_readiness_band_follows_the_share_of_the_checklist(plans: PlanRegistry, ticked: int,
                                                          band: str) -> None:
    plan = plans.get("vllm")
    ids = [i.id for s in plan.sections if s.id.startswith(p.READINESS_PREFIX)
           for i in plan.items_in_section(s.id)]
    assert len(ids) == 18
    data = bare_learner()
    data.done.update(dict.fromkeys(ids[:ticked], TODAY))
    assert p.readiness_band(data, plan) == band
    line = next(x for x in render_markdown(data, plan, TODAY).split("\n")
                if x.startswith("**Overall Readiness**"))
    assert f"☑ {band}" in line and line.count("☑") == 1


@pytest.mark.parametrize(("done", "status"), [(0, "Not Started"), (2, "In Progress"),
                                              (5, "Completed")])
def test_project_status_comes_from_its_items(plans: PlanRegistry, done: int,
                                             status: str) -> None:
    plan = plans.get("vllm")
    data = bare_learner()
    data.done.update({i.id: TODAY for i in plan.items_in_section("project1")[:done]})
    assert p.section_status(data, plan, "project1") == status


def test_days_until_the_interview_count_to_the_plans_last_default_deadline(
        plans: PlanRegistry) -> None:
    plan = plans.get("vllm")
    data = bare_learner()
    assert p.days_until_goal(data, plan, TODAY) is None
    data.deadlines += [DeadlineRow(1, "nvidia interview", date(2026, 11, 1)),
                       DeadlineRow(2, "NVIDIA Interview", date(2026, 11, 15))]
    assert p.days_until_goal(data, plan, TODAY) == 10  # the one still ahead
    assert "**Days Until Interview**: 10" in render_markdown(data, plan, TODAY)


def test_week_bars_of_the_export_are_the_progress_views_bars(plans: PlanRegistry) -> None:
    plan = plans.get("vllm")
    data = bare_learner()
    data.done.update({"day01": date(2026, 11, 2), "day02": date(2026, 11, 4)})
    text = render_markdown(data, plan, TODAY)
    for bar in p.week_bars(data, plan):
        assert bar.render() in text
    assert p.week_bar(data, 1).gauge == "[██░░░░░] 2/7 days"
    assert f"{p.overall_bar(data, plan)}\n" in text

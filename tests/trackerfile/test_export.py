"""The Markdown export: the spec's structure filled from the store (golden files)."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from bot.actors import Actor
from bot.grammar import Grammar
from bot.plan import PlanRegistry
from bot.progress import exact_hours
from bot.services import Services
from bot.services.data import DataService
from bot.snapshot import LogRow
from bot.trackerfile import render_markdown
from bot.trackerfile.blocks import (
    Block,
    ChallengesBlock,
    DeadlinesBlock,
    ExtrasBlock,
    InsightsBlock,
    MocksBlock,
    QuestionsBlock,
    TimeLogBlock,
)
from bot.trackerfile.fill import Ctx, render_line
from bot.trackerfile.language import TLine, parse_line
from bot.trackerfile.templates import template_for
from tests.tracker_histories import GOLDEN, assert_golden, build_rich, export_of, run
from tests.trackerfile.learners import bare_learner, mini_learner

SPEC = GOLDEN / "vllm_progress_tracker.spec.md"

# The lines of the spec that an empty learner's export fills (docs/export-format.md lists them).
FILLED_WHEN_EMPTY = {
    "> **Start Date**:": "the start date is set by /start",
    "[█████░░░░░░░░░░░░░░░] 25%": "the overall bar is computed",
    "**Current Phase**:": "the current phase is computed (top choice and bottom name)",
    "**Status**:": "project statuses are computed (Not Started)",
    "**Overall Readiness**:": "computed from the readiness checklist (0-25%)",
    "Tomorrow:": "the next 7 days list the next open items of the plan",
    "Day 2: ______": "next 7 days", "Day 3: ______": "next 7 days",
    "Day 4: ______": "next 7 days", "Day 5: ______": "next 7 days",
    "Day 6: ______": "next 7 days", "Day 7: ______": "next 7 days",
    "**Commitment**:": "hours a day and weeks are set by /start",
    "**Signature**:": "the learner's name and the day they committed (/start)",
    "**Last Updated**:": "the day of the export",
}


async def test_empty_export_is_the_spec_with_only_the_stored_fields_filled(
        grammar: Grammar, dc: DataService, alice: Actor) -> None:
    await run(grammar, alice, "/start Europe/Berlin")
    text = await export_of(dc, alice)
    assert_golden("vllm_empty.md", text)
    spec = SPEC.read_text(encoding="utf-8").split("\n")
    out = text.split("\n")
    assert len(out) == len(spec)
    differing = [(s, o) for s, o in zip(spec, out, strict=True) if s != o]
    unexpected = [s for s, _ in differing if not any(s.startswith(p) for p in FILLED_WHEN_EMPTY)]
    assert unexpected == []
    used = {p for p in FILLED_WHEN_EMPTY if any(s.startswith(p) for s, _ in differing)}
    assert used == set(FILLED_WHEN_EMPTY)  # each documented line really is filled
    assert ("> **Start Date**: _______________", "> **Start Date**: 2026-11-30") in differing


async def test_rich_export_matches_golden(grammar: Grammar, services: Services, dc: DataService,
                                          clock: object, alice: Actor, bob: Actor) -> None:
    await build_rich(grammar, services, clock, alice, bob)
    text = await export_of(dc, alice)
    assert_golden("vllm_rich.md", text)


RICH_LINES = [
    "> **Start Date**: 2026-11-02",
    "> **Target Completion**: 2027-01-15",
    "> **Goal**: Land the inference role",
    "- [x] Install CUDA toolkit (done 2026-11-02)",
    "- [x] Calculate readiness score: 42 / 60 (done 2026-11-02)",
    "- [ ] Study weak areas (6 hours)",
    "**Score**: 42 / 60 | **Track**: ☐ Advanced ☑ Standard ☐ Foundation",
    "  - [x] Complete quiz (score: 2 / 3) (done 2026-11-05)",
    "**Confidence Level**: ☐ 1 ☐ 2 ☑ 3 ☐ 4 ☐ 5",
    "Day 01: [☑] Codebase Overview (done 2026-11-04)",
    "Day 06: [☐] Model Executor",
    "- Basic: 3 / 10",
    "**Kernels Analyzed**: 7 / 20+",
    "**Status**: ☐ Not Started ☐ In Progress ☑ Completed",
    "**Performance vs vLLM**: 85%",
    "Interview 1: 2026-11-09 | Score: 6/10 | Feedback: Explain paging more concretely",
    "Interview 3: ___/___/___ | Score: ___/10 | Feedback: _______________",
    "**Average Mock Score**: 7 / 10",
    "| **PagedAttention** | 3 | 4 | ___ | ___ | 5 |",
    "Day 3: 1.5h | Topics: PagedAttention theory",
    "Day 1: 0.5h | Topics: week five review",
    "**Week 5**:",
    "**Week 1 Quiz** (Score: 17/20)",
    "1. Blocks make KV memory non-contiguous",
    "1. **Challenge**: Build failed on CUDA 12.4",
    "   **Solution**: Sampled every 100th step",
    "2. Why 16-token blocks?<br>Would 32 be better?",
    "- [x] **Milestone 1**: Environment setup & first example (Week 0) (reached 2026-11-03)",
    "- Mock Interview 1: 2026-12-10",
    "- **NVIDIA Interview**: 2027-01-12",
    "- Send resume: 2026-12-20",
    "**Commitment**: I will dedicate 3.5 hours per day for 8 weeks.",
    "**Name**: bob",
    "**Progress Shared**: ☑ Weekly ☐ Bi-weekly",
    "🎊 First CUDA kernel compiled: 2026-11-08",
    "**Last Updated**: 2026-11-30",
    "**Days Until Interview**: 43",
    "## 🗂️ Also Tracked by Pacer",
    "- **Nsight profiles read**: 4 / 10+",
    "- Paused: 2026-11-10 to 2026-11-13",
]


async def test_rich_export_fills_each_kind_of_blank(grammar: Grammar, services: Services,
                                                    dc: DataService, clock: object, alice: Actor,
                                                    bob: Actor) -> None:
    await build_rich(grammar, services, clock, alice, bob)
    text = (await export_of(dc, alice)).split("\n")
    assert [line for line in RICH_LINES if line not in text] == []


def test_vllm_template_places_every_entry_of_the_plan(plans: PlanRegistry) -> None:
    plan = plans.get("vllm")
    template = template_for(plan)
    placed = {(s.kind, s.arg.split(":")[0]) for e in template.entries if isinstance(e, TLine)
              for s in e.slots}
    assert {i.id for i in plan.items} == {a for k, a in placed if k in ("item", "tick")}
    assert {s.id for s in plan.scores} <= {a for k, a in placed if k == "score"}
    assert {f.id for f in plan.fields} <= {a for k, a in placed if k in ("field", "choice")}
    assert {s.id for s in plan.skills} <= {a for k, a in placed if k == "rating"}
    shown = {ms.id for ms in plan.milestones if ms.kind != "achievement"}
    assert shown <= {a for k, a in placed if k in ("ms", "msdate")}
    extras = next(b for b in template.blocks if isinstance(b, ExtrasBlock))
    assert [key for key, _ in extras.lines] == [
        "counter:nsight-profiles",
        *(f"ms:{ms.id}" for ms in plan.milestones if ms.kind == "achievement")]


def test_time_log_before_the_start_gets_its_own_block(plans: PlanRegistry) -> None:
    data = bare_learner()
    data.logs.append(LogRow(1, date(2026, 10, 30), 90, "warm-up",
                            datetime(2026, 10, 30, 12, tzinfo=UTC)))
    text = render_markdown(data, plans.get("vllm"), date(2026, 11, 3))
    block = text.split("### Weekly Time Log\n\n", 1)[1].split("**Week 1**", 1)[0]
    assert block == ("**Before Week 1**:\n```\n2026-10-30: 1.5h | Topics: warm-up\n"
                     "Total: 1.5h\n```\n\n")


@pytest.mark.parametrize(("today", "weeks_with_days"), [
    (date(2026, 11, 2), [1]),  # week 1 always shows its days
    (date(2026, 11, 9), [1, 2]),  # a week that has begun shows them
    (date(2026, 11, 23), [1, 2, 3, 4]),
])
def test_weeks_not_begun_keep_the_fill_in_placeholder(plans: PlanRegistry, today: date,
                                                      weeks_with_days: list[int]) -> None:
    text = render_markdown(bare_learner(), plans.get("vllm"), today)
    log = text.split("### Weekly Time Log", 1)[1].split("**Cumulative**", 1)[0]
    blocks = log.split("**Week ")[1:]
    shown = [int(b.split("*", 1)[0]) for b in blocks if "Day 1:" in b]
    assert shown == weeks_with_days
    assert all("[Fill in as you progress]" in b for b in blocks if "Day 1:" not in b)


@pytest.mark.parametrize(("minutes", "shown"), [(1, "0.02"), (7, "0.12"), (90, "1.5"),
                                                (135, "2.25"), (240, "4"), (1440, "24")])
def test_hours_are_written_exactly_enough_to_read_back(minutes: int, shown: str) -> None:
    assert exact_hours(minutes) == shown
    assert round(float(shown) * 60) == minutes


@pytest.mark.parametrize(("text", "rendered"), [
    ("a {{b}} c", "a {b} c"),
    ("- {item:x} T", "- [x] T (done 2026-11-02)"),
    ("**S**: {score:s|___} / 5", "**S**: ___ / 5"),
])
def test_template_lines_parse_placeholders_and_escapes(text: str, rendered: str,
                                                       plans: PlanRegistry) -> None:
    data = bare_learner()
    data.done["x"] = date(2026, 11, 2)
    assert render_line(Ctx(data, plans.get("vllm"), date(2026, 11, 3)), parse_line(text)) ==\
        rendered


async def test_other_plans_get_a_generic_tracker_following_their_sections(
        store: object, mini_plans: PlanRegistry, clock: object, alice: Actor) -> None:
    clock.set(datetime(2026, 11, 20, 12, tzinfo=UTC))  # type: ignore[attr-defined]
    _services, dc, grammar = await mini_learner(store, mini_plans, clock, alice)
    await run(grammar, alice, '/log 2h "pinning" yesterday', "/done book", "/done book-ch1",
              "/done tokio", "/count exercises =5", "/count prs =4", "/score review 15/20",
              "/quiz week1 8/10", "/rate futures 3 week1", "/set mood Good", "/set focus 2",
              "/set coverage 70", "/set notes Pin before polling", "/mock 4 Good pacing",
              '/deadline add "Crate released" 2026-12-15', "/insight week2 Wakers wake tasks")
    clock.advance(days=1)  # type: ignore[attr-defined]
    text = await export_of(dc, alice)
    assert_golden("mini_rich.md", text)
    for line in ("## Phase 2: Build {it} (Week 2)", "- [x] Read the async book (done 2026-11-20)",
                 "  - [x] Chapter 1: futures (done 2026-11-20)", "- Exercises: 5 / 12",
                 "- Pull requests: 4 / 3+", "**Mood**: ☑ Good ☐ Meh", "**Coverage**: 70%",
                 "**Code review score**: 15 / 20", "**Quiz 1**: 8 / 10",
                 "- [x] **Reading done** (Week 1) (reached 2026-11-20)",
                 # The first log was for yesterday: the milestone is dated by it.
                 "- [x] First log (reached 2026-11-19)", "- Crate released: 2026-12-15"):
        assert line in text.split("\n")


def test_blocks_declare_where_they_start() -> None:
    for block in (TimeLogBlock, InsightsBlock, ChallengesBlock, QuestionsBlock, MocksBlock,
                  DeadlinesBlock, ExtrasBlock):
        assert issubclass(block, Block)
        assert block.entry.startswith("#")

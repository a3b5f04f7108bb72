"""The template language and the templates: the vLLM tracker is a data file beside its plan."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from bot.plan import PlanRegistry
from bot.trackerfile import render_markdown
from bot.trackerfile.blocks import DeadlinesBlock
from bot.trackerfile.language import Lit, Slot, TLine, parse_line
from bot.trackerfile.templates import (
    build_template,
    generic_template_text,
    read_template_file,
    template_file,
    template_for,
    template_text,
)
from tests.trackerfile.learners import MINI_PLAN, bare_learner

PLAN_DIR = Path(__file__).resolve().parents[2] / "bot" / "plans"


def test_the_vllm_tracker_is_the_data_file_next_to_the_plan(plans: PlanRegistry) -> None:
    plan = plans.get("vllm")
    assert template_file(plan) == PLAN_DIR / "vllm.tracker.md"
    assert template_text(plan) == read_template_file(PLAN_DIR / "vllm.tracker.md")
    deadlines = next(b for b in template_for(plan).blocks if isinstance(b, DeadlinesBlock))
    assert deadlines.bold == "nvidia interview"


def test_every_line_of_the_data_file_reads_back_to_its_own_text(plans: PlanRegistry) -> None:
    text = template_text(plans.get("vllm"))
    lines = [line for line in text.split("\n") if not line.startswith("@")]
    assert [parse_line(line).source() for line in lines] == lines


@pytest.mark.parametrize(("text", "line"), [
    ("a {{b}} c", TLine((Lit("a {b} c"),))),
    ("- {item:x} T", TLine((Lit("- "), Slot("item", "x"), Lit(" T")))),
    ("{rating:s:2|___}", TLine((Slot("rating", "s:2", "___"),))),
    ("{calc:overall_bar}", TLine((Slot("calc", "overall_bar"),))),
])
def test_template_lines_parse_into_literals_and_slots(text: str, line: TLine) -> None:
    assert parse_line(text) == line
    assert line.source() == text


def test_a_bad_placeholder_or_block_is_refused(plans: PlanRegistry) -> None:
    with pytest.raises(ValueError, match="bad placeholder"):
        parse_line("{Item}")
    with pytest.raises(ValueError, match="unknown block @agenda"):
        build_template(plans.get("vllm"), "# t\n@agenda")
    with pytest.raises(ValueError, match="bold=TITLE"):
        build_template(plans.get("vllm"), "# t\n@deadlines italic=x")


def test_a_plan_may_ship_its_own_tracker_file(tmp_path: Path) -> None:
    (tmp_path / "mini.toml").write_text(MINI_PLAN, encoding="utf-8")
    registry = PlanRegistry.load([tmp_path])
    generic = registry.get("mini")
    assert template_file(generic) is None
    assert template_text(generic) == generic_template_text(generic)
    own = "# 📊 Rust Async Sprint\n\n> **Start Date**: {start}\n- {item:book} Read it\n@extras\n"
    (tmp_path / "mini.tracker.md").write_text(own, encoding="utf-8")
    plan = PlanRegistry.load([tmp_path]).get("mini")
    data = bare_learner("mini")
    data.done["book"] = date(2026, 11, 3)
    assert render_markdown(data, plan, date(2026, 11, 4)) == (
        "# 📊 Rust Async Sprint\n\n> **Start Date**: 2026-11-02\n"
        "- [x] Read it (done 2026-11-03)\n")

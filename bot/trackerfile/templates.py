"""Which tracker template a plan has: its own data file, else one built from the plan.

A plan may ship its tracker next to its TOML file: ``vllm.toml`` has ``vllm.tracker.md``, the
spec itself with placeholders (``bot.trackerfile.language``) and ``@name`` block lines
(``bot.trackerfile.blocks``; ``@name OPTION`` passes the block an option). A plan without one
gets a generic tracker built from the plan: phases, sections, items, counters, scores, fields,
mock interviews, skills, time log, notes, milestones, deadlines, commitment.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from bot.plan import Counter, Field, Plan
from bot.trackerfile.blocks import (
    Block,
    ChallengesBlock,
    DeadlinesBlock,
    ExtrasBlock,
    InsightsBlock,
    MocksBlock,
    QuestionsBlock,
    TimeLogBlock,
    goal_text,
)
from bot.trackerfile.fill import Ctx, render_line
from bot.trackerfile.language import BLANK_DATE, U3, U5, U15, TLine, esc, parse_line

log = logging.getLogger(__name__)

TEMPLATE_SUFFIX = ".tracker.md"

Entry = TLine | Block


@dataclass(frozen=True)
class Template:
    """A plan's tracker: its lines and blocks in order."""

    plan: Plan
    entries: tuple[Entry, ...]

    def render(self, ctx: Ctx) -> str:
        """Render the whole tracker file."""
        lines: list[str] = []
        for e in self.entries:
            if isinstance(e, Block):
                lines += e.render(ctx)
            else:
                lines.append(render_line(ctx, e))
        return "\n".join(lines) + "\n"

    @property
    def blocks(self) -> tuple[Block, ...]:
        """Return the blocks of the template, in order."""
        return tuple(e for e in self.entries if isinstance(e, Block))

    @property
    def lines(self) -> tuple[TLine, ...]:
        """Return the static lines of the template, in order."""
        return tuple(e for e in self.entries if isinstance(e, TLine))


def _placed(lines: Iterable[TLine]) -> set[tuple[str, str]]:
    out = set()
    for line in lines:
        for s in line.slots:
            arg = s.arg.split(":", 1)[0] if s.kind == "rating" else s.arg
            out.add((s.kind, arg))
    return out


BLOCKS: dict[str, type[Block]] = {b.name: b for b in (
    TimeLogBlock, InsightsBlock, ChallengesBlock, QuestionsBlock, MocksBlock, DeadlinesBlock)}


def build_template(plan: Plan, text: str) -> Template:
    """Build a template from its text: one line per line, ``@name [OPTION]`` for blocks."""
    raw = text.split("\n")
    static = [parse_line(line) for line in raw if not line.startswith("@")]
    entries: list[Entry] = []
    for line in raw:
        if not line.startswith("@"):
            entries.append(parse_line(line))
            continue
        name, _, option = line[1:].strip().partition(" ")
        if name == ExtrasBlock.name:
            entries.append(ExtrasBlock(plan, _placed(static)))
        elif name in BLOCKS:
            entries.append(BLOCKS[name](plan, option.strip()))
        else:
            raise ValueError(f"unknown block @{name} in the tracker template of {plan.id}")
    return Template(plan, tuple(entries))


def template_file(plan: Plan) -> Path | None:
    """Return the tracker template shipped next to the plan's file, if there is one."""
    if plan.source is None:
        return None
    path = plan.source.with_name(plan.source.stem + TEMPLATE_SUFFIX)
    return path if path.is_file() else None


def read_template_file(path: Path) -> str:
    """Read a template data file (one trailing newline is not a line of the template)."""
    return path.read_text(encoding="utf-8").removesuffix("\n")


# --- the generic template ----------------------------------------------------------------------


def _matrix_lines(plan: Plan) -> list[str]:
    return [f"| **{esc(s.title)}** | "
            + " | ".join(f"{{rating:{s.id}:{w}|{U3}}}" for w in range(1, plan.weeks + 1))
            + f" | {s.target} |" for s in plan.skills]


def _item_lines(plan: Plan, section_id: str) -> list[str]:
    lines = []
    for item in plan.items_in_section(section_id):
        depth, parent = 0, item.parent
        while parent is not None:
            depth += 1
            parent = plan.items_by_id[parent].parent
        lines.append(f"{'  ' * depth}- {{item:{item.id}}} {esc(item.title)}")
    return lines


def _field_line(f: Field) -> str:
    if f.kind in ("choice", "scale"):
        return f"**{esc(f.title)}**: {{choice:{f.id}}}"
    if f.kind == "percent":
        return f"**{esc(f.title)}**: {{field:{f.id}|{U5}}}%"
    return f"**{esc(f.title)}**: {{field:{f.id}|{U15}}}"


def _counter_line(c: Counter) -> str:
    unit = f" {esc(c.unit)}" if c.unit else ""
    return f"- {esc(c.title)}: {{counter:{c.id}|{U5}}}{goal_text(c.max, c.target)}{unit}"


def _header(plan: Plan) -> list[str]:
    out = [f"# 📊 {esc(plan.title)}", "", "> **Your Learning Journey Dashboard**",
           f"> **Start Date**: {{start|{U15}}}", f"> **Target Completion**: {{target|{U15}}}",
           f"> **Goal**: {{goal|{U15}}}", "", "---", "", "## 🎯 Overall Progress", "", "```",
           "{calc:overall_bar}", ""]
    out += [f"Week {w}: {{calc:week_bar:{w}}}" for w in range(1, plan.weeks + 1)]
    out += ["```", "", "**Current Phase**: {phase}", "",
            f"**Hours Invested**: {{calc:hours|{U5}}} / {plan.hours_min}-{plan.hours_max} hours",
            "", "---"]
    return out


def _phases(plan: Plan, placed_scores: set[str], placed_fields: set[str]) -> list[str]:
    out: list[str] = []
    for n, phase in enumerate(plan.phases, start=1):
        out += ["", f"## Phase {n}: {esc(phase.title)} (Week {esc(phase.weeks)})"]
        for section in plan.sections:
            if section.phase != phase.id:
                continue
            out += ["", f"### {esc(section.title)}"]
            out += _item_lines(plan, section.id)
            counters = [_counter_line(c) for c in plan.counters if c.section == section.id]
            if counters:
                out += ["", *counters]
            for s in plan.scores:
                if s.completes_item and plan.items_by_id[s.completes_item].section == section.id:
                    placed_scores.add(s.id)
                    out += ["", f"**{esc(s.title)}**: {{score:{s.id}|{U5}}} / {s.max}"]
            for f in plan.fields:
                if f.section == section.id:
                    placed_fields.add(f.id)
                    out += ["", _field_line(f)]
        out += ["", "---"]
    return out


def _scores_and_fields(plan: Plan, placed_scores: set[str], placed_fields: set[str]) -> list[str]:
    out: list[str] = []
    rest_scores = [s for s in plan.scores if s.id not in placed_scores]
    if rest_scores:
        out += ["", "## 🎓 Scores", ""]
        out += [f"**{esc(s.title)}**: {{score:{s.id}|{U5}}} / {s.max}" for s in rest_scores]
        if plan.quiz_scores:
            target = f" (Target: {plan.quiz_target}+)" if plan.quiz_target else ""
            top = max(s.max for s in plan.quiz_scores)
            out += ["", f"**Average Quiz Score**: {{calc:quiz_avg|{U5}}} / {top}{target}"]
        out += ["", "---"]
    rest_fields = [f for f in plan.fields if f.id not in placed_fields]
    if rest_fields:
        out += ["", "## 🗒️ More About You", ""]
        for f in rest_fields:
            out += [_field_line(f), ""]
        out += ["---"]
    return out


def _practice(plan: Plan) -> list[str]:
    out: list[str] = []
    if plan.mock_interviews:
        out += ["", "## 🎤 Interview Practice", "", "### Mock Interviews", "```", "@mocks", "```",
                "", f"**Average Mock Score**: {{calc:mock_avg|{U5}}} / {plan.mock_max}", "",
                "---"]
    if plan.skills:
        lo, hi = plan.skill_scale
        weeks = " | ".join(f"Week {w}" for w in range(1, plan.weeks + 1))
        dashes = "|".join("--------" for _ in range(plan.weeks))
        out += ["", "## 📈 Skill Progression Tracking", "",
                f"### Self-Assessment Matrix ({lo}-{hi} scale)", "",
                f"| Component | {weeks} | Target |", f"|-----------|{dashes}|--------|"]
        out += _matrix_lines(plan)
        out += ["", f"**Overall Average**: {{calc:skills_avg|{U5}}} / {hi}", "", "---"]
    return out


def _milestones(plan: Plan) -> list[str]:
    if not plan.milestones:
        return []
    ms_lines = [f"- {{ms:{ms.id}}} **{esc(ms.title)}**"
                + (f" (Week {esc(ms.week)})" if ms.week else "")
                for ms in plan.milestones_of_kind("milestone")]
    celebrations = [f"🎊 {esc(ms.title)}: {{msdate:{ms.id}|{BLANK_DATE}}}"
                    for ms in plan.milestones_of_kind("celebration")]
    achievements = [f"- {{ms:{ms.id}}} {esc(ms.title)}"
                    for ms in plan.milestones_of_kind("achievement")]
    out = ["", "## 🏆 Milestones & Achievements"]
    if ms_lines:
        out += ["", *ms_lines, "",
                f"**Milestones Achieved**: {{calc:milestones|{U5}}} / {len(ms_lines)}"]
    if celebrations:
        out += ["", "### Celebration Moments", "", "```", *celebrations, "```"]
    if achievements:
        out += ["", "### Achievements", "", *achievements]
    out += ["", "---"]
    return out


_TIME_AND_NOTES = [
    "", "## ⏱️ Time Tracking", "", "### Weekly Time Log", "", "@timelog", "",
    f"**Cumulative**: {{calc:hours|{U5}}} hours", "", "---",
    "", "## 📝 Notes & Reflections", "", "### Key Insights Gained", "", "@insights", "",
    "### Challenges Overcome", "", "@challenges", "",
    "### Questions for Further Study", "", "@questions", "", "---"]

_CLOSING = [
    "", "## 📅 Study Schedule", "", "### Upcoming Deadlines", "", "@deadlines", "", "---",
    "", "## 💪 Motivation & Accountability", "",
    f"**Commitment**: I will dedicate {{commit_hours|{U5}}} hours per day for "
    f"{{commit_weeks|{U5}}} weeks.", "",
    f"**Signature**: {{signature|{U15}}} **Date**: {{committed_on|{BLANK_DATE}}}", "",
    "### Accountability Partner", "", f"**Name**: {{partner|{U15}}}", "", "---", "",
    f"**Total Time Invested**: {{calc:hours|{U5}}} hours",
    f"**Last Updated**: {{calc:last_updated|{BLANK_DATE}}}",
    f"**Current Phase**: {{calc:phase_name|{U15}}}", "@extras"]


def generic_template_text(plan: Plan) -> str:
    """Build the tracker text of any plan: phases -> sections -> items, then the rest."""
    placed_scores: set[str] = set()
    placed_fields: set[str] = set()
    out = _header(plan)
    out += _phases(plan, placed_scores, placed_fields)
    out += _scores_and_fields(plan, placed_scores, placed_fields)
    out += _practice(plan)
    out += _TIME_AND_NOTES
    out += _milestones(plan)
    out += _CLOSING
    return "\n".join(out)


def template_text(plan: Plan) -> str:
    """Return the template text of a plan: its data file, else the generic tracker."""
    path = template_file(plan)
    return generic_template_text(plan) if path is None else read_template_file(path)


_TEMPLATES: dict[int, Template] = {}


def template_for(plan: Plan) -> Template:
    """Return the tracker template of a plan (built once per plan object)."""
    found = _TEMPLATES.get(id(plan))
    if found is None or found.plan is not plan:
        found = build_template(plan, template_text(plan))
        _TEMPLATES[id(plan)] = found
    return found

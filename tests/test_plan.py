"""Tests for bot.plan: the shipped vLLM plan, lookups, validation and the registry."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from bot.errors import InputError, PlanError
from bot.plan import (
    BUILTIN_PLAN_DIR,
    CONDITION_KEYS,
    Plan,
    PlanRegistry,
    condition_milestones,
    load_plan,
)


@pytest.fixture(scope="module")
def plan() -> Plan:
    return load_plan(BUILTIN_PLAN_DIR / "vllm.toml")


# --- the shipped plan --------------------------------------------------------------------

DAY_TITLES = [
    "Codebase Overview", "PagedAttention Theory", "Block Manager Deep Dive",
    "Attention Kernels Analysis", "Scheduler & Batching", "Model Executor",
    "Week 1 Review & Integration", "KV Cache Management", "Quantization Techniques",
    "Sampling Methods", "Distributed Inference (TP)", "Pipeline Parallelism",
    "Custom Operators", "Week 2 Review & Project",
]


def test_shipped_plan_header(plan: Plan) -> None:
    assert (plan.id, plan.title, plan.goal) == (
        "vllm", "vLLM Mastery Progress Tracker", "NVIDIA Interview Readiness")
    assert (plan.hours_min, plan.hours_max, plan.weeks) == (150, 200, 4)
    assert (plan.mock_interviews, plan.mock_max) == (5, 10)
    assert plan.skill_scale == (1, 5)
    assert plan.skill_target_average == 4.0
    assert plan.quiz_target == 16
    assert plan.default_deadlines == (
        "Mock Interview 1", "Project 1 Complete", "Week 2 Review", "Portfolio Due",
        "NVIDIA Interview")


def test_daily_items_in_order_with_spec_titles(plan: Plan) -> None:
    days = plan.daily_items
    assert [d.id for d in days] == [f"day{n:02d}" for n in range(1, 15)]
    assert [d.title for d in days] == DAY_TITLES
    assert [d.week for d in days] == [1] * 7 + [2] * 7


def test_phases_match_spec(plan: Plan) -> None:
    assert [(p.short, p.weeks) for p in plan.phases] == [
        ("Foundation", "0-1"), ("Concepts", "1-2"), ("Components", "2-3"),
        ("Implementation", "3-4"), ("Advanced", "4+")]


@pytest.mark.parametrize(
    ("section", "count"),
    [
        ("prerequisites", 4), ("environment", 6), ("exploration", 4), ("pa-mastery", 14),
        ("architecture", 4), ("components", 6), ("cuda-practice", 3), ("daily", 14),
        ("walkthroughs", 5), ("kernel-analysis", 5), ("project1", 5), ("project2", 4),
        ("project3", 5), ("portfolio", 5), ("advanced", 5), ("coding-practice", 4),
        ("design-practice", 4), ("optimization-practice", 4), ("readiness-technical", 6),
        ("readiness-practical", 4), ("readiness-communication", 4),
        ("readiness-confidence", 4), ("weekly-commitment", 5), ("quiz-week1", 4),
        ("quiz-week2", 4), ("quiz-week3", 4), ("quiz-week4", 4),
    ],
)
def test_section_sizes_match_spec(plan: Plan, section: str, count: int) -> None:
    assert len(plan.items_in_section(section)) == count


def test_every_spec_checkbox_is_an_item(plan: Plan) -> None:
    # The spec has 133 "- [ ]" boxes, 7 of them milestones, plus 14 daily "[☐]" boxes.
    assert len(plan.items) == 133 - 7 + 14
    assert len(plan.checklist_items) == len(plan.items)


def test_every_section_has_items_and_a_phase(plan: Plan) -> None:
    for section in plan.sections:
        assert plan.items_in_section(section.id), section.id
        assert section.phase in plan.phases_by_id


@pytest.mark.parametrize(
    ("kind", "count"), [("milestone", 7), ("celebration", 6), ("achievement", 6)]
)
def test_milestone_counts(plan: Plan, kind: str, count: int) -> None:
    assert len(plan.milestones_of_kind(kind)) == count


def test_spec_milestones_and_celebrations(plan: Plan) -> None:
    assert [m.id for m in plan.milestones_of_kind("milestone")] == [
        "m1", "m2", "m3", "m4", "m5", "m6", "final"]
    assert [m.title for m in plan.milestones_of_kind("celebration")] == [
        "First successful vLLM inference", "Understood PagedAttention",
        "First CUDA kernel compiled", "First project completed", "Mock interview score 8+",
        "Ready for NVIDIA"]
    extra = {m.id for m in plan.milestones_of_kind("achievement")}
    assert {"first-log", "first-day", "all-days", "first-mock"} <= extra


@pytest.mark.parametrize(
    ("milestone", "condition"),
    [
        ("m1", {"items": ("environment",)}),
        ("m3", {"items": ("project1",)}),
        ("m4", {"items": ("daily",)}),
        ("m5", {"items": ("portfolio",)}),
        ("m6", {"mock_score_min": 8}),
        ("first-log", {"logs_min": 1}),
        ("all-days", {"items": ("daily",)}),
        ("first-mock", {"mock_score_min": 0}),
        ("c-first-kernel", {"counter_min": {"counter": "cuda-basic", "value": 1}}),
    ],
)
def test_milestone_conditions(plan: Plan, milestone: str, condition: dict) -> None:
    when = plan.milestones_by_id[milestone].when
    assert {k: (dict(v) if k == "counter_min" else v) for k, v in when.items()} == condition


def test_final_milestone_needs_all_milestones_and_readiness(plan: Plan) -> None:
    final = plan.milestones_by_id["final"].when
    assert condition_milestones(final) == {"m1", "m2", "m3", "m4", "m5", "m6"}
    parts = final["all_of"]
    assert {"items": ("readiness-technical", "readiness-practical",
                      "readiness-communication", "readiness-confidence")} in parts


def test_m2_needs_parts_one_and_two_not_optional_part_three(plan: Plan) -> None:
    ids = set(plan.milestones_by_id["m2"].when["items"])
    part1 = {i.id for i in plan.children_of("pa-part1")} | {"pa-part1"}
    part2 = {i.id for i in plan.children_of("pa-part2")} | {"pa-part2"}
    assert ids == part1 | part2
    assert all(plan.items_by_id[i].optional for i in ("pa-part3", "pa3-opportunities"))


def test_every_condition_key_is_known(plan: Plan) -> None:
    def walk(cond):
        (key, value), = cond.items()
        assert key in CONDITION_KEYS
        if key == "all_of":
            for sub in value:
                walk(sub)

    for ms in plan.milestones:
        walk(ms.when)


def test_ids_are_slugs_and_unique(plan: Plan) -> None:
    slug = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")
    groups = {
        "items+sections": [x.id for x in (*plan.items, *plan.sections)],
        "milestones": [m.id for m in plan.milestones],
        "counters": [c.id for c in plan.counters],
        "scores": [s.id for s in plan.scores],
        "skills": [s.id for s in plan.skills],
        "fields": [f.id for f in plan.fields],
    }
    for name, ids in groups.items():
        assert len(ids) == len(set(ids)), name
        assert all(slug.fullmatch(i) for i in ids), name


SKILLS = [
    ("pagedattention", 5), ("cuda-kernels", 5), ("scheduler", 4), ("block-manager", 5),
    ("model-executor", 4), ("quantization", 4), ("distributed", 4), ("system-design", 5),
    ("profiling", 4), ("cpp", 4),
]


def test_skills_matrix(plan: Plan) -> None:
    assert [(s.id, s.target) for s in plan.skills] == SKILLS


def test_quizzes_and_scores(plan: Plan) -> None:
    assert [(s.id, s.max, s.week) for s in plan.quiz_scores] == [
        (f"quiz-week{w}", 20, w) for w in range(1, 5)]
    assert plan.scores_by_id["readiness"].max == 60
    assert plan.scores_by_id["pa-quiz"].max == 3
    assert plan.scores_by_id["pa-quiz"].completes_item == "pa1-quiz"


@pytest.mark.parametrize(
    ("counter", "max_", "target", "open_ended"),
    [
        ("cuda-basic", 10, None, False), ("cuda-reduction", 5, None, False),
        ("cuda-matrix", 5, None, False), ("cuda-advanced", 10, None, False),
        ("kernels-analysed", None, 20, True), ("nsight-profiles", None, 10, True),
        ("mock-coding", 5, None, False), ("mock-design", 3, None, False),
        ("weak-area-hours", None, None, True),
    ],
)
def test_counters(plan: Plan, counter: str, max_: int | None, target: int | None,
                  open_ended: bool) -> None:
    c = plan.counters_by_id[counter]
    assert (c.max, c.target, c.open_ended) == (max_, target, open_ended)


def test_confidence_fields(plan: Plan) -> None:
    assert [f.id for f in plan.confidence_fields] == [
        "pa-confidence", "coding-confidence", "design-confidence", "optimization-confidence"]
    assert all((f.kind, f.min, f.max) == ("scale", 1, 5) for f in plan.confidence_fields)


@pytest.mark.parametrize(
    ("field_id", "choices"),
    [
        ("track", ("Advanced", "Standard", "Foundation")),
        ("env-verified", ("Not Started", "In Progress", "Completed", "Tested")),
        ("pa-explain", ("No", "Partially", "Yes", "Expert")),
        ("kernel-modify", ("No", "Simple Changes", "Complex Optimizations")),
        ("p3-working", ("Yes", "No", "Partially")),
        ("interview-ready", ("Not Yet", "Almost", "Ready!", "Very Confident")),
        ("final-ready", ("Yes!", "Need More Time")),
    ],
)
def test_choice_fields(plan: Plan, field_id: str, choices: tuple[str, ...]) -> None:
    f = plan.fields_by_id[field_id]
    assert (f.kind, f.choices) == ("choice", choices)


def test_structure_helpers(plan: Plan) -> None:
    assert plan.section_of("day05").id == "daily"
    assert plan.phase_of("day05").id == "components"
    assert plan.phase_of(plan.items_by_id["install-cuda"]).short == "Foundation"
    assert plan.week_of("day09") == 2
    assert plan.week_of("install-cuda") is None
    assert [i.id for i in plan.children_of("pa-part1")] == [
        "pa1-memory-problem", "pa1-block-allocation", "pa1-memory-savings", "pa1-quiz"]
    assert plan.expand_ids(["portfolio", "day01"])[-1] == "day01"
    assert len(plan.expand_ids(["portfolio", "pf-repo"])) == 5
    assert plan.has_section("daily") and not plan.has_section("day01")
    assert plan.has_item("day01") and not plan.has_item("daily")
    assert {i.section for i in plan.items_in_phase("foundation")} == {
        "prerequisites", "environment", "exploration", "weekly-commitment"}
    with pytest.raises(KeyError):
        plan.items_in_section("nope")


# --- lookups -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "item_id"),
    [
        ("day05", "day05"), ("Day 5", "day05"), ("d5", "day05"), ("day5", "day05"),
        ("DAY 05", "day05"), ("5", "day05"), ("day-5", "day05"), ("D14", "day14"),
        ("  day01  ", "day01"), ("hello-world", "hello-world"), ("Hello World", "hello-world"),
        ("HELLO_WORLD", "hello-world"), ("roadmap", "read-roadmap"), ("vscode", "configure-ide"),
        ("pa1", "pa-part1"), ("Install CUDA", "install-cuda"),
        ("block manager", "comp-block-manager"), ("Block Manager Deep", "day03"),
        ("kv cache", "day08"), ("memory savings", "pa1-memory-savings"),
        ("Read MASTER_ROADMAP.md", "read-roadmap"), ("pf-slides", "pf-slides"),
        ("presentation", "pf-slides"), ("nsight", "profiling-tools"),
    ],
)
def test_find_item(plan: Plan, text: str, item_id: str) -> None:
    assert plan.find_item(text).id == item_id


@pytest.mark.parametrize(
    ("text", "fragments"),
    [
        ("day15", ["no day 15", "day 1 to day 14"]),
        ("0", ["no day 0"]),
        ("block", ["matches", "comp-block-manager", "day03", "Give the id"]),
        ("xyzzy", ["No item matches", "day05", "start of its title"]),
        ("nsigth-profile", ["Did you mean", "op-nsight-profiles"]),
        ("", ["No item given"]),
        ("@everyone", ["@\u200beveryone"]),
    ],
)
def test_find_item_errors(plan: Plan, text: str, fragments: list[str]) -> None:
    with pytest.raises(InputError) as info:
        plan.find_item(text)
    for fragment in fragments:
        assert fragment in info.value.message


def test_ambiguous_message_lists_at_most_five(plan: Plan) -> None:
    with pytest.raises(InputError) as info:
        plan.find_item("q")  # many quiz-topic ids start with q
    message = info.value.message
    total = int(re.search(r"matches (\d+) items", message)[1])
    assert total > 5
    assert f"and {total - 5} more" in message


@pytest.mark.parametrize(
    ("text", "score_id"),
    [
        ("week1", "quiz-week1"), ("w1", "quiz-week1"), ("quiz-week1", "quiz-week1"),
        ("Week 1", "quiz-week1"), ("week 4", "quiz-week4"), ("W2", "quiz-week2"),
        ("q3", "quiz-week3"), ("quiz 2", "quiz-week2"), ("week 3 quiz", "quiz-week3"),
        ("readiness", "readiness"), ("Readiness Score", "readiness"), ("pa", "pa-quiz"),
        ("pa-quiz", "pa-quiz"), ("prereq", "readiness"),
    ],
)
def test_find_score(plan: Plan, text: str, score_id: str) -> None:
    assert plan.find_score(text).id == score_id


@pytest.mark.parametrize(("text", "fragment"), [
    ("week 9", "weeks 1 to 4"), ("banana", "week1, w1 or Week 1"),
])
def test_find_score_errors(plan: Plan, text: str, fragment: str) -> None:
    with pytest.raises(InputError, match=re.escape(fragment)):
        plan.find_score(text)


@pytest.mark.parametrize(
    ("text", "skill_id"),
    [
        ("pagedattention", "pagedattention"), ("PagedAttention", "pagedattention"),
        ("pa", "pagedattention"), ("cuda", "cuda-kernels"), ("CUDA Kernels", "cuda-kernels"),
        ("C++", "cpp"), ("c++ mastery", "cpp"), ("System Design", "system-design"),
        ("system_design", "system-design"), ("sched", "scheduler"), ("quant", "quantization"),
        ("blockmanager", "block-manager"),
    ],
)
def test_find_skill(plan: Plan, text: str, skill_id: str) -> None:
    assert plan.find_skill(text).id == skill_id


def test_find_skill_unknown_lists_skills(plan: Plan) -> None:
    with pytest.raises(InputError) as info:
        plan.find_skill("zz")
    assert "Known skills: pagedattention" in info.value.message


@pytest.mark.parametrize(
    ("text", "counter_id"),
    [
        ("cuda-basic", "cuda-basic"), ("basic", "cuda-basic"), ("Reduction", "cuda-reduction"),
        ("matrix ops", "cuda-matrix"), ("kernels analyzed", "kernels-analysed"),
        ("kernels", "kernels-analysed"), ("nsight", "nsight-profiles"),
        ("mock coding", "mock-coding"), ("weak areas", "weak-area-hours"),
    ],
)
def test_find_counter(plan: Plan, text: str, counter_id: str) -> None:
    assert plan.find_counter(text).id == counter_id


@pytest.mark.parametrize(
    ("text", "field_id"),
    [
        ("pa", "pa-confidence"), ("PA", "pa-confidence"), ("coding", "coding-confidence"),
        ("design", "design-confidence"), ("optimization", "optimization-confidence"),
        ("optim", "optimization-confidence"), ("coding-confidence", "coding-confidence"),
        ("PagedAttention", "pa-confidence"),
    ],
)
def test_find_confidence(plan: Plan, text: str, field_id: str) -> None:
    assert plan.find_confidence(text).id == field_id


def test_find_confidence_unknown_names_areas(plan: Plan) -> None:
    with pytest.raises(InputError) as info:
        plan.find_confidence("track")
    assert "pa, coding, design, optimization" in info.value.message


@pytest.mark.parametrize(
    ("text", "field_id"),
    [("track", "track"), ("verified", "env-verified"),
     ("understanding", "exploration-understanding"), ("next steps", "next-steps"),
     ("impact", "impact"), ("check-in", "checkin-schedule")],
)
def test_find_field(plan: Plan, text: str, field_id: str) -> None:
    assert plan.find_field(text).id == field_id


@pytest.mark.parametrize(
    ("field_id", "text", "stored"),
    [
        ("track", "advanced", "Advanced"), ("track", "stand", "Standard"),
        ("env-verified", "not started", "Not Started"), ("env-verified", "TESTED", "Tested"),
        ("exploration-understanding", "50", "50%"), ("exploration-understanding", "100%", "100%"),
        ("final-ready", "yes", "Yes!"), ("final-ready", "need", "Need More Time"),
        ("interview-ready", "ready", "Ready!"), ("progress-shared", "biweekly", "Bi-weekly"),
        ("pa-confidence", "4", "4"), ("p1-performance", "85%", "85"),
        ("p1-performance", "120", "120"), ("next-steps", "  Apply!  ", "Apply!"),
    ],
)
def test_field_parse(plan: Plan, field_id: str, text: str, stored: str) -> None:
    assert plan.fields_by_id[field_id].coerce(text) == stored
    assert plan.fields_by_id[field_id].parse(text) == stored


@pytest.mark.parametrize(
    ("field_id", "text", "fragment"),
    [
        ("track", "expert", "choose one of Advanced, Standard, Foundation"),
        ("track", "", "choose one of"),
        ("exploration-understanding", "1", "choose one of 0%"),
        ("pa-explain", "no way", "choose one of"),
        ("pa-confidence", "6", "from 1 to 5"), ("pa-confidence", "three", "from 1 to 5"),
        ("p1-performance", "-5%", "from 0 to 1000"), ("next-steps", "x" * 501, "limit is 500"),
    ],
)
def test_field_parse_errors(plan: Plan, field_id: str, text: str, fragment: str) -> None:
    with pytest.raises(InputError, match=re.escape(fragment)):
        plan.fields_by_id[field_id].coerce(text)


def test_rating_and_score_parsing(plan: Plan) -> None:
    assert plan.parse_rating("4") == 4
    with pytest.raises(InputError, match="from 1 to 5"):
        plan.parse_rating("0")
    assert plan.scores_by_id["quiz-week1"].parse("17/20") == 17
    with pytest.raises(InputError, match="out of 20"):
        plan.scores_by_id["quiz-week1"].parse("17/10")


# --- validation --------------------------------------------------------------------------

MINI = """\
[plan]
id = "mini"
title = "Mini plan"
goal = "Learn the basics"
hours_min = 10
hours_max = 20
weeks = 2
mock_interviews = 2
mock_max = 10
quiz_target = 15

[[phases]]
id = "one"
title = "Phase one"
short = "One"
weeks = "1-2"

[[sections]]
id = "basics"
phase = "one"
title = "Basics"

[[sections]]
id = "more"
phase = "one"
title = "More"

[[items]]
id = "read"
section = "basics"
title = "Read the book"

[[items]]
id = "write"
section = "basics"
title = "Write code"
aliases = ["code"]

[[items]]
id = "extra"
section = "more"
title = "Extra reading"
week = 2

[[counters]]
id = "problems"
title = "Problems"
section = "basics"
max = 5

[[scores]]
id = "quiz-week1"
title = "Week 1 Quiz"
max = 20
week = 1

[[skills]]
id = "reading"
title = "Reading"
target = 4

[[fields]]
id = "mood"
title = "Mood"
kind = "scale"
min = 1
max = 5
confidence = true

[[milestones]]
id = "basics-done"
title = "Basics done"
kind = "milestone"
when = { items = ["basics"] }

[[milestones]]
id = "all-done"
title = "All done"
kind = "milestone"
when = { all_of = [{ milestones = ["basics-done"] }, { items = ["extra"] }] }
"""


def write(directory: Path, text: str, name: str = "mini.toml") -> Path:
    path = directory / name
    path.write_text(text, encoding="utf-8")
    return path


def test_mini_plan_is_valid(tmp_path: Path) -> None:
    plan = load_plan(write(tmp_path, MINI))
    assert plan.id == "mini"
    assert [i.id for i in plan.items] == ["read", "write", "extra"]
    assert plan.daily_items == ()
    assert plan.find_item("code").id == "write"
    assert plan.find_item("extra").week == 2


def test_mini_plan_bare_number_is_not_an_item(tmp_path: Path) -> None:
    plan = load_plan(write(tmp_path, MINI))
    with pytest.raises(InputError, match="No item matches"):
        plan.find_item("5")


def _sub(old: str, new: str) -> str:
    assert old in MINI, old
    return MINI.replace(old, new, 1)


BAD_PLANS = [
    ("invalid-toml", MINI + "\n[[items]\n", ["not valid TOML"]),
    ("unknown-top-key", MINI + "\n[extras]\nx = 1\n", ["top level", 'unknown key "extras"']),
    ("missing-plan", MINI.replace("[plan]", "[plan_]", 1), ["top level"]),
    ("unknown-plan-key", _sub('goal = "Learn the basics"', 'goal = "x"\ncolour = "red"'),
     ["[plan]", 'unknown key "colour"']),
    ("missing-plan-key", _sub("weeks = 2\n", ""), ["[plan]", 'missing required key "weeks"']),
    ("wrong-type", _sub("hours_min = 10", 'hours_min = "10"'),
     ["[plan]", '"hours_min" must be an integer, not a string']),
    ("bool-as-int", _sub("weeks = 2", "weeks = true"), ['"weeks" must be an integer']),
    ("hours-min-above-max", _sub("hours_min = 10", "hours_min = 30"),
     ['"hours_min" (30) is above "hours_max" (20)']),
    ("quiz-target-above-max", _sub("quiz_target = 15", "quiz_target = 21"),
     ['"quiz_target" is 21; it must be at most 20']),
    ("bad-plan-id", _sub('id = "mini"', 'id = "Mini Plan"'), ["[plan]", "must be a slug"]),
    ("unknown-item-key", _sub('title = "Read the book"', 'title = "Read the book"\ncolor = 1'),
     ['items[0] (id "read")', 'unknown key "color"']),
    ("missing-item-key", _sub('id = "read"\nsection = "basics"\n', 'id = "read"\n'),
     ['items[0] (id "read")', 'missing required key "section"']),
    ("item-title-type", _sub('title = "Read the book"', "title = 3"),
     ['items[0] (id "read")', '"title" must be a string, not an integer']),
    ("unknown-section",
     _sub('id = "write"\nsection = "basics"', 'id = "write"\nsection = "basicz"'),
     ['items[1] (id "write")', 'unknown section "basicz"']),
    ("unknown-phase", _sub('phase = "one"\ntitle = "More"', 'phase = "two"\ntitle = "More"'),
     ['sections[1] (id "more")', 'unknown phase "two"']),
    ("duplicate-item", _sub('id = "write"', 'id = "read"'),
     ['items[1] (id "read")', 'duplicate item or section id "read"']),
    ("item-id-is-section-id", _sub('id = "extra"', 'id = "basics"'),
     ['items[2] (id "basics")', 'duplicate item or section id "basics"']),
    ("bad-item-id", _sub('id = "extra"', 'id = "Extra_1"'),
     ['items[2] (id "Extra_1")', "must be a slug"]),
    ("unknown-parent", _sub('title = "Write code"', 'title = "Write code"\nparent = "nope"'),
     ['items[1] (id "write")', 'parent "nope" is not an item listed before it']),
    ("parent-other-section",
     _sub('title = "Extra reading"', 'title = "Extra reading"\nparent = "read"'),
     ['items[2] (id "extra")', 'parent "read" is in section "basics"']),
    ("item-week-too-big", _sub("week = 2\n", "week = 3\n"),
     ['items[2] (id "extra")', '"week" is 3; it must be at most 2']),
    ("alias-collision", _sub('aliases = ["code"]', 'aliases = ["READ"]'),
     ['items[1] (id "write")', 'alias "READ" collides with item "read"']),
    ("counter-max-zero", _sub("max = 5\n", "max = 0\n"),
     ['counters[0] (id "problems")', '"max" is 0; it must be at least 1']),
    ("counter-no-max", _sub("max = 5\n", ""), ['counters[0] (id "problems")', 'give "max"']),
    ("counter-target-not-open", _sub("max = 5\n", "target = 5\n"),
     ['counters[0] (id "problems")', '"target" needs open_ended = true']),
    ("counter-open-with-max", _sub("max = 5\n", "max = 5\nopen_ended = true\n"),
     ['counters[0] (id "problems")', 'has a "target", not a "max"']),
    ("duplicate-counter",
     MINI + '\n[[counters]]\nid = "problems"\ntitle = "P"\nsection = "more"\nmax = 2\n',
     ['counters[1] (id "problems")', 'duplicate counter id "problems"']),
    ("counter-completes-unknown", _sub("max = 5\n", 'max = 5\ncompletes_item = "nope"\n'),
     ['counters[0] (id "problems")', 'unknown item "nope"']),
    ("score-max-negative", _sub("max = 20\nweek = 1", "max = -1\nweek = 1"),
     ['scores[0] (id "quiz-week1")', '"max" is -1; it must be at least 1']),
    ("skill-target-above-scale", _sub("target = 4", "target = 6"),
     ['skills[0] (id "reading")', '"target" is 6; it must be at most 5']),
    ("bad-skill-scale", _sub("quiz_target = 15", "quiz_target = 15\nskill_scale = [5, 5]"),
     ["[plan]", '"skill_scale" [5, 5] must have 0 <= lowest < highest']),
    ("scale-min-not-below-max", _sub("min = 1\nmax = 5", "min = 5\nmax = 5"),
     ['fields[0] (id "mood")', '"min" (5) must be below "max" (5)']),
    ("field-bad-kind", _sub('kind = "scale"', 'kind = "slider"'),
     ['fields[0] (id "mood")', '"kind" must be one of scale, choice, text, percent']),
    ("field-key-for-other-kind", _sub("confidence = true", "confidence = true\nchoices = []"),
     ['fields[0] (id "mood")', 'unknown key "choices"']),
    ("milestone-unknown-item", _sub('items = ["basics"]', 'items = ["basicz"]'),
     ['milestones[0] (id "basics-done")', 'when.items: unknown item or section "basicz"']),
    ("milestone-unknown-condition", _sub('items = ["basics"]', 'itemz = ["basics"]'),
     ['milestones[0] (id "basics-done")', 'unknown condition "itemz"']),
    ("milestone-two-conditions", _sub('items = ["basics"]', 'items = ["basics"], logs_min = 1'),
     ['milestones[0] (id "basics-done")', "exactly one key"]),
    ("milestone-empty-list", _sub('items = ["basics"]', "items = []"),
     ['milestones[0] (id "basics-done")', '"when.items" must not be empty']),
    ("milestone-nested-error", _sub('{ items = ["extra"] }', '{ items = ["nope"] }'),
     ['milestones[1] (id "all-done")', 'when.all_of[1].items: unknown item or section "nope"']),
    ("milestone-unknown-milestone", _sub('milestones = ["basics-done"]', 'milestones = ["x"]'),
     ['milestones[1] (id "all-done")', 'unknown milestone "x"']),
    ("milestone-unknown-counter",
     _sub('items = ["basics"]', 'counter_min = { counter = "nope", value = 1 }'),
     ['milestones[0] (id "basics-done")', 'unknown counter "nope"']),
    ("milestone-counter-above-max",
     _sub('items = ["basics"]', 'counter_min = { counter = "problems", value = 6 }'),
     ['milestones[0] (id "basics-done")', "it must be at most 5"]),
    ("milestone-mock-above-max", _sub('items = ["basics"]', "mock_score_min = 11"),
     ['milestones[0] (id "basics-done")', '"when.mock_score_min" is 11; it must be at most 10']),
    ("milestone-bad-kind", _sub('kind = "milestone"', 'kind = "trophy"'),
     ['milestones[0] (id "basics-done")', '"kind" is "trophy"']),
    ("milestone-cycle", _sub('items = ["basics"]', 'milestones = ["all-done"]'),
     ["cycle", "basics-done -> all-done -> basics-done"]),
    ("milestone-self", _sub('items = ["basics"]', 'milestones = ["basics-done"]'),
     ['milestones[0] (id "basics-done")', "cycle"]),
    ("duplicate-milestone", _sub('id = "all-done"', 'id = "basics-done"'),
     ['milestones[1] (id "basics-done")', 'duplicate milestone id "basics-done"']),
    ("items-not-array",
     MINI.split("[[items]]")[0] + "[items]\nx = 1\n\n[[counters]]" + MINI.split("[[counters]]")[1],
     ["bad.toml: items: must be an array of tables ([[items]]), not a table"]),
]


@pytest.mark.parametrize(("text", "fragments"), [(t, f) for _, t, f in BAD_PLANS],
                         ids=[n for n, _, _ in BAD_PLANS])
def test_invalid_plans_are_refused(tmp_path: Path, text: str, fragments: list[str]) -> None:
    path = write(tmp_path, text, "bad.toml")
    with pytest.raises(PlanError) as info:
        load_plan(path)
    message = str(info.value)
    assert message.startswith("bad.toml: "), message
    for fragment in fragments:
        assert fragment in message, message


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(PlanError, match=re.escape("gone.toml: cannot read")):
        load_plan(tmp_path / "gone.toml")


# --- registry ----------------------------------------------------------------------------


def test_registry_builtin_only() -> None:
    registry = PlanRegistry.load()
    assert registry.ids() == ("vllm",)
    assert registry.default.id == "vllm"
    assert registry.default_id == "vllm"
    assert registry.get("VLLM") is registry.default


def test_registry_extra_dir_plan_can_be_chosen(tmp_path: Path) -> None:
    write(tmp_path, MINI)
    registry = PlanRegistry.load([tmp_path])
    assert registry.ids() == ("mini", "vllm")
    assert "mini" in registry and len(registry) == 2
    assert registry.get("mini").title == "Mini plan"
    assert registry.default.id == "vllm"
    chosen = PlanRegistry.load([str(tmp_path)], default_id="mini")
    assert chosen.default.id == "mini"


def test_registry_unknown_plan_lists_known(tmp_path: Path) -> None:
    write(tmp_path, MINI)
    registry = PlanRegistry.load([tmp_path])
    with pytest.raises(InputError, match="Known plans: mini, vllm"):
        registry.get("rust")


def test_registry_duplicate_plan_ids(tmp_path: Path) -> None:
    write(tmp_path, MINI, "a.toml")
    write(tmp_path, MINI, "b.toml")
    with pytest.raises(PlanError, match=r'b\.toml: plan id "mini" is already used by .*a\.toml'):
        PlanRegistry.load([tmp_path])


def test_registry_duplicate_of_builtin(tmp_path: Path) -> None:
    write(tmp_path, MINI.replace('id = "mini"', 'id = "vllm"', 1), "copy.toml")
    with pytest.raises(PlanError, match=re.escape('copy.toml: plan id "vllm"')):
        PlanRegistry.load([tmp_path])


def test_registry_bad_file_in_extra_dir(tmp_path: Path) -> None:
    write(tmp_path, MINI.replace("weeks = 2", "weeks = 0", 1), "broken.toml")
    with pytest.raises(PlanError, match=re.escape("broken.toml: [plan]")):
        PlanRegistry.load([tmp_path])


def test_registry_missing_dir_and_default(tmp_path: Path) -> None:
    with pytest.raises(PlanError, match="does not exist"):
        PlanRegistry.load([tmp_path / "nope"])
    with pytest.raises(PlanError, match='default plan "mini"'):
        PlanRegistry.load(default_id="mini")

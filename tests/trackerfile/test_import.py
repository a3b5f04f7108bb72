"""The import: read a tracker back, preview, confirm; refuse bad files without a trace."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime

import pytest
from hypothesis import HealthCheck, given, settings

from bot.actors import Actor
from bot.errors import InputError, StateError
from bot.grammar import Grammar
from bot.plan import PlanRegistry
from bot.presenting import present
from bot.services import Services
from bot.services.data import DataService
from bot.store import Store
from bot.trackerfile import MAX_BYTES, decode_upload, parse_tracker, render_markdown
from tests.conftest import dump_store
from tests.tracker_histories import (
    GOLDEN,
    History,
    build_rich,
    export_of,
    histories,
    insert_history,
    run,
)
from tests.trackerfile.learners import bare_learner, mini_learner

SPEC = (GOLDEN / "vllm_progress_tracker.spec.md").read_text(encoding="utf-8")


def line_of(text: str, needle: str) -> int:
    """Return the 1-based number of the first line containing NEEDLE."""
    return next(n for n, line in enumerate(text.split("\n"), start=1) if needle in line)


# --- the bytes of an upload ------------------------------------------------------------------


@pytest.mark.parametrize(("name", "data", "message"), [
    ("tracker.pdf", b"%PDF-1.7 binary", "is not a Markdown file"),
    ("tracker.docx", b"PK\x03\x04", "is not a Markdown file"),
    ("tracker", b"# title", "is not a Markdown file"),
    ("tracker.md", b"a" * (MAX_BYTES + 1), "at most 512 KiB"),
    ("tracker.md", b"", "is empty"),
    ("tracker.md", b"  \n\n", "is empty"),
    ("tracker.md", "# Caf\xe9 tracker".encode("cp1252"), r"not UTF-8 text \(byte 5 is 0xe9\)"),
    ("tracker.md", "# tracker".encode("utf-16-le"), "not a text file"),
    ("tracker.md", b"\xff\xfe\x00\xd8", "starts like UTF-16 text but is not valid UTF-16"),
    ("tracker.md", b"# a\x00b", "not a text file"),
])
def test_uploads_that_are_not_a_markdown_text_are_refused(name: str, data: bytes,
                                                         message: str) -> None:
    with pytest.raises(InputError, match=message):
        decode_upload(data, name)


@pytest.mark.parametrize(("data", "name"), [
    ("# Café ✓".encode(), "t.md"),
    (b"\xef\xbb\xbf" + "# Café ✓".encode(), "t.markdown"),
    (b"\xff\xfe" + "# Café ✓".encode("utf-16-le"), "t.md"),
    (b"\xfe\xff" + "# Café ✓".encode("utf-16-be"), "T.MD"),
    (b"\xff\xfe\x00\x00" + "# Café ✓".encode("utf-32-le"), "t.txt"),
])
def test_utf8_and_unicode_with_a_byte_order_mark_are_read(data: bytes, name: str) -> None:
    assert decode_upload(data, name) == "# Café ✓"


# --- refused files change nothing -------------------------------------------------------------


IMPOSSIBLE = [
    ("**Week 1 Quiz** (Score: ___/20)", "**Week 1 Quiz** (Score: 25/20)",
     "Week 1 Quiz is 25; it must be 0 to 20"),
    ("> **Start Date**: 2026-11-30", "> **Start Date**: 1900-01-01",
     "1900-01-01 is not a date Pacer keeps"),
    ("| **Scheduler** | ___ |", "| **Scheduler** | 7 |",
     "Scheduler rating of week 1 is 7; it must be 1 to 5"),
    ("Interview 2: ___/___/___ | Score: ___/10", "Interview 2: 2026-11-20 | Score: 11/10",
     "score of mock interview 2 is 11; it must be 0 to 10"),
    ("Interview 1: ___/___/___ | Score: ___", "Interview 1: 2026-12-24 | Score: 7",
     "2026-12-24 is in the future"),
    ("- [ ] Install CUDA toolkit", "- [x] Install CUDA toolkit (done 2027-02-01)",
     "done date 2027-02-01 is in the future"),
    ("- Basic: _____ / 10", "- Basic: 11 / 10", "CUDA problems: Basic is 11; it must be 0 to 10"),
    ("Day 1: ___h | Topics:", "Day 1: 25h | Topics:", "at most 24 hours"),
    ("Day 7: ___h", "Day 9: 2h", "day 9 of a week: a week has days 1 to 7"),
    ("**Performance vs vLLM**: _____%", "**Performance vs vLLM**: 2000%", "0 to 1000"),
    ("> **Target Completion**: _______________", "> **Target Completion**: 2026-11-01",
     "must come after the start date"),
    ("2. ___________________________________________", "2. " + "x" * 1001,
     "1001 characters long; the limit is 1000"),
    ("- Mock Interview 1: ___/___/___", "- Mock Interview 1: 2026-02-30",
     "2026-02-30 is not a real date"),
]


@pytest.mark.parametrize(("old", "new", "message"), IMPOSSIBLE)
async def test_impossible_values_refuse_the_file_with_the_line_and_change_nothing(
        store: Store, grammar: Grammar, dc: DataService, alice: Actor, old: str, new: str,
        message: str) -> None:
    await run(grammar, alice, "/start Europe/Berlin")
    text = await export_of(dc, alice)
    assert old in text
    text = text.replace(old, new, 1)
    lineno = line_of(text, new)
    before = await dump_store(store)
    with pytest.raises(InputError) as caught:
        await dc.preview_import(alice, text.encode(), "tracker.md")
    assert "Nothing was imported" in caught.value.message
    assert re.search(rf"Line {lineno}: .*{message}", caught.value.message), caught.value.message
    assert await dump_store(store) == before


async def test_two_lines_giving_one_value_differently_are_both_named(
        store: Store, grammar: Grammar, dc: DataService, alice: Actor) -> None:
    await run(grammar, alice, "/start Europe/Berlin")
    text = (await export_of(dc, alice)).replace(
        "Calculate readiness score: _____", "Calculate readiness score: 44", 1).replace(
        "**Score**: _____ / 60", "**Score**: 45 / 60", 1)
    first, second = line_of(text, "readiness score: 44"), line_of(text, "**Score**: 45")
    before = await dump_store(store)
    with pytest.raises(InputError, match=rf"Line {second} says 45 where line {first} says 44 "
                                         r"\(Readiness Score\)"):
        await dc.preview_import(alice, text.encode(), "tracker.md")
    assert await dump_store(store) == before


@pytest.mark.parametrize(("name", "data", "message"), [
    ("tracker.pdf", b"%PDF-1.7", "is not a Markdown file"),
    ("tracker.md", b"x" * (MAX_BYTES + 10), "at most 512 KiB"),
    ("tracker.md", "# vLLM Mastery Progress Tracker – é".encode("cp1252"), "not UTF-8"),
    ("notes.md", b"# Shopping\n\n- milk\n- eggs\n", "is titled \"Shopping\""),
    ("notes.md", b"Some notes\n\nabout nothing\n", "is not a vLLM Mastery Progress Tracker file"),
    ("rust.md", b"# \xf0\x9f\x93\x8a Rust Async Sprint\n", "not \"vLLM Mastery Progress"),
])
async def test_bad_attachments_get_a_specific_message_and_change_nothing(
        store: Store, grammar: Grammar, dc: DataService, alice: Actor, name: str, data: bytes,
        message: str) -> None:
    await run(grammar, alice, "/start Europe/Berlin")
    before = await dump_store(store)
    with pytest.raises(InputError, match=message):
        await dc.preview_import(alice, data, name)
    assert await dump_store(store) == before


# --- unreadable lines are listed, never guessed at ------------------------------------------


async def test_unreadable_lines_are_listed_and_the_rest_is_imported_on_confirmation(
        store: Store, grammar: Grammar, dc: DataService, alice: Actor) -> None:
    await run(grammar, alice, "/start Europe/Berlin")
    text = await export_of(dc, alice)
    edits = {
        "- [ ] Install CUDA toolkit": "- [x] Install CUDA toolkit",
        "**Score**: _____ / 60 | **Track**: ☐ Advanced":
            "**Score**: lots / 60 | **Track**: ☑ Advanced",
        "- Mock Interview 1: ___/___/___": "- Mock Interview 1: 12/05/26",
        "**Verified**: ☐ Not Started ☐ In Progress ☐ Completed ☐ Tested":
            "**Verified**: ☐ Not Started ☑ In Progress ☑ Completed ☐ Tested",
        "### Environment Setup": "### Environment Setup\nRemember to buy milk @everyone",
        "Day 2: ___h | Topics: _________________________":
            "Day 2: ___h | Topics: read the scheduler",
    }
    for old, new in edits.items():
        assert old in text
        text = text.replace(old, new, 1)
    before = await dump_store(store)
    reply, token = await dc.preview_import(alice, text.encode(), "tracker.md")
    assert token is not None
    assert await dump_store(store) == before  # a preview writes nothing
    for needle, reason in [("**Score**: lots", "must be a whole number"),
                           ("Mock Interview 1: 12/05/26", "not a date I can read"),
                           ("**Verified**", "2 options are ticked"),
                           ("Remember to buy milk", "not a line of"),
                           ("Day 2: ___h | Topics: read", "topics without hours")]:
        n = line_of(text, needle)
        assert re.search(rf"line {n}: .*{reason}", reply.text), (needle, reply.text)
    assert "@everyone" not in reply.text
    assert "tick Install CUDA toolkit" in reply.text
    done = present(await dc.confirm_import(alice, token))
    assert "Imported 1 change" in done.text
    data, _plan, today = await dc.snapshot(alice)
    assert data.done == {"install-cuda": today}
    assert data.fields == {} and data.deadlines == []


async def test_a_filled_in_copy_of_the_spec_imports_and_one_undo_reverts_it(
        store: Store, grammar: Grammar, dc: DataService, alice: Actor) -> None:
    await run(grammar, alice, "/start Europe/Berlin start=2026-11-20")
    text = SPEC
    edits = [
        ("> **Start Date**: _______________", "> **Start Date**: 2026-11-16"),
        ("> **Target Completion**: _______________", "> **Target Completion**: 15 Jan 2027"),
        ("- [ ] Install CUDA toolkit", "- [X] Install CUDA toolkit"),
        ("- [ ] Build vLLM from source", "- [x] Build vLLM from source (done 2026-11-17)"),
        ("**Score**: _____ / 60 | **Track**: ☐ Advanced ☐ Standard ☐ Foundation",
         "**Score**: 45/60 | **Track**: ☐ Advanced ✅ Standard ☐ Foundation"),
        ("- Basic: _____ / 10", "- Basic: 4 / 10"),
        ("Day 01: [☐] Codebase Overview", "Day 01: [x] Codebase Overview"),
        ("| **Scheduler** | ___ | ___ |", "| **Scheduler** | 3 | 4 |"),
        ("Day 1: ___h | Topics: _________________________", "Day 1: 2.5h | Topics: setup"),
        ("Day 3: ___h | Topics: _________________________", "Day 3: 1h | Topics: ___"),
        ("Interview 1: ___/___/___ | Score: ___/10 | Feedback: _______________",
         "Interview 1: 2026-11-18 | Score: 7/10 | Feedback: good on paging"),
        ("**Week 1 Quiz** (Score: ___/20)", "**Week 1 Quiz** (Score: 16/20)"),
        ("- Portfolio Due: ___/___/___", "- Portfolio Due: 2026-12-20"),
        ("**Commitment**: I will dedicate _____ hours per day for _____ weeks.",
         "**Commitment**: I will dedicate 3 hours per day for 7 weeks."),
        ("**Your Goal**: ___________________________________________", "**Your Goal**: An offer"),
        ("1. **Challenge**: ___________________________________",
         "1. **Challenge**: CUDA mismatch"),
        ("🎊 First successful vLLM inference: ___/___/___",
         "🎊 First successful vLLM inference: 2026-11-17"),
        ("**Name**: _______________", "**Name**: Dana"),
    ]
    for old, new in edits:
        assert old in text, old
        text = text.replace(old, new, 1)
    text = text.replace("**Week 1**:\n```\n1. ___", "**Week 1**:\n```\n1. Paging beats padding",
                        1)
    before = await dump_store(store)
    reply, token = await dc.preview_import(alice, text.encode("utf-16"), "vllm.md")
    assert "Not imported" in reply.text and "/partner invite" in reply.text
    assert "could not read" not in reply.text
    await dc.confirm_import(alice, token)
    data, _plan, today = await dc.snapshot(alice)
    p = data.profile
    assert (p.start_date, p.target_date) == (date(2026, 11, 16), date(2027, 1, 15))
    assert (p.commitment_minutes, p.commitment_weeks) == (180, 7)
    assert data.done == {"install-cuda": today, "build-vllm": date(2026, 11, 17),
                         "day01": today}
    assert data.scores == {"readiness": 45, "quiz-week1": 16}
    assert data.fields == {"track": "Standard", "personal-goal": "An offer"}
    assert data.counters == {"cuda-basic": 4}
    assert data.ratings == {"scheduler": {1: 3, 2: 4}}
    assert [(r.study_date, r.minutes, r.topic) for r in data.logs] == [
        (date(2026, 11, 16), 150, "setup"), (date(2026, 11, 18), 60, None)]
    assert [(x.slot, x.held_on, x.score, x.feedback) for x in data.mocks] == [
        (1, date(2026, 11, 18), 7, "good on paging")]
    assert [(d.title, d.due_date) for d in data.deadlines] == [("Portfolio Due",
                                                                date(2026, 12, 20))]
    assert [(n.kind, n.week, n.text) for n in data.notes] == [
        ("insight", 1, "Paging beats padding"), ("challenge", None, "CUDA mismatch")]
    assert data.milestones["c-first-inference"] == date(2026, 11, 17)
    assert "first-log" in data.milestones  # detected like after any change
    assert data.partners == []
    undo = await grammar.dispatch(alice, "/undo")
    assert not undo.error, undo.text
    after = await dump_store(store)
    assert {t: rows for t, rows in after.items() if t != "outbox"} == \
        {t: rows for t, rows in before.items() if t != "outbox"}
    # What stays is the record that the confirmation announced its milestones (the unit of
    # work marks them sent so the dispatcher does not announce them again), as after any change.
    assert before["outbox"] == []
    assert {(row[2], row[7], row[9]["in_reply"]) for row in after["outbox"]} == {
        ("celebration", "sent", True)}


async def test_a_pending_import_is_compared_again_when_confirmed(
        grammar: Grammar, dc: DataService, alice: Actor) -> None:
    await run(grammar, alice, "/start Europe/Berlin")
    text = (await export_of(dc, alice)).replace("- [ ] Install CUDA toolkit",
                                                "- [x] Install CUDA toolkit", 1)
    _reply, token = await dc.preview_import(alice, text.encode(), "t.md")
    await run(grammar, alice, "/done install-cuda")
    reply = present(await dc.confirm_import(alice, token))
    assert "Nothing to import" in reply.text


# --- round trips ------------------------------------------------------------------------------


async def test_rich_golden_round_trips_through_a_fresh_learner(
        grammar: Grammar, services: Services, dc: DataService, clock: object, alice: Actor,
        bob: Actor, carol: Actor) -> None:
    await build_rich(grammar, services, clock, alice, bob)
    first = await export_of(dc, alice)
    assert first == (GOLDEN / "vllm_rich.md").read_text(encoding="utf-8")
    await run(grammar, carol, "/start America/New_York")
    reply, token = await dc.preview_import(carol, first.encode(), "vllm_rich.md")
    assert "could not read" not in reply.text, reply.text
    await dc.confirm_import(carol, token)
    second = await export_of(dc, carol)
    # The partner's name is the one line that does not travel: a partnership needs the
    # partner's own acceptance (docs/export-format.md).
    assert second == first.replace("**Name**: bob", "**Name**: _______________")
    again, token = await dc.preview_import(carol, first.encode(), "vllm_rich.md")
    assert token is None and "nothing that differs" in again.text


async def test_generic_plan_round_trips(store: Store, clock: object, alice: Actor,
                                        carol: Actor, mini_plans: PlanRegistry) -> None:
    registry = mini_plans
    clock.set(datetime(2026, 11, 21, 12, tzinfo=UTC))  # type: ignore[attr-defined]
    _services, dc, grammar = await mini_learner(store, registry, clock, alice)
    await run(grammar, alice, "/log 2h pinning", "/done book", "/count prs =4",
              "/score review 15/20", "/set mood Meh", "/mock 4 ok", "/question Why Pin?")
    first = await export_of(dc, alice)
    await mini_learner(store, registry, clock, carol)
    _reply, token = await dc.preview_import(carol, first.encode(), "mini.md")
    await dc.confirm_import(carol, token)
    assert await export_of(dc, carol) == first


_counter = iter(range(10**9))


@settings(max_examples=30, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                 HealthCheck.data_too_large])
@given(history=histories(PlanRegistry.load().get("vllm")))
async def test_export_import_export_is_the_same_file(store: Store, plans: PlanRegistry,
                                                     services: Services, grammar: Grammar,
                                                     clock: object, history: History) -> None:
    clock.set(datetime(2026, 11, 30, 12, tzinfo=UTC))  # type: ignore[attr-defined]
    dc = services.data
    plan = plans.get("vllm")
    n = next(_counter)
    source = await insert_history(store, plan, history, f"gen-{n}")
    first = await export_of(dc, source)
    fresh = Actor("console", f"fresh-{n}", "Fresh", space_id="console")
    await run(grammar, fresh, "/start Europe/Berlin")
    reply, token = await dc.preview_import(fresh, first.encode(), "tracker.md")
    assert "could not read" not in reply.text, reply.text
    if token is not None:
        await dc.confirm_import(fresh, token)
    assert await export_of(dc, fresh) == first


def test_parse_is_pure_and_reads_its_own_empty_export(plans: PlanRegistry) -> None:
    plan = plans.get("vllm")
    data = bare_learner()
    text = render_markdown(data, plan, date(2026, 11, 5))
    result = parse_tracker(text, plan, data, date(2026, 11, 5))
    assert (result.changes, result.unreadable, result.ignored) == ([], [], [])
    spec = parse_tracker(SPEC, plan, data, date(2026, 11, 5))
    assert (spec.changes, spec.unreadable) == ([], [])


async def test_confirming_without_a_preview_is_refused(dc: DataService, grammar: Grammar,
                                                       alice: Actor) -> None:
    await run(grammar, alice, "/start Europe/Berlin")
    with pytest.raises(StateError, match="No import is waiting"):
        await dc.confirm_import(alice)

"""The diff: one typed change class per kind of difference between a file and the store."""

from __future__ import annotations

import dataclasses
from datetime import UTC, date, datetime
from typing import Any

import pytest

from bot.errors import InputError
from bot.plan import PlanRegistry
from bot.snapshot import DeadlineRow, LearnerData, MockRow, NoteRow
from bot.trackerfile.changes import (
    CHANGE_CLASSES,
    AddDeadline,
    AddNote,
    AddPause,
    Change,
    Claim,
    PutCounter,
    PutField,
    PutMock,
    PutRating,
    PutScore,
    ReachMilestone,
    RedateDeadline,
    RedateItem,
    RedateMilestone,
    ReplaceDay,
    SetSetting,
    Tick,
    UpdateNote,
    diff,
)
from tests.trackerfile.learners import bare_learner

TODAY = date(2026, 11, 5)
AT = datetime(2026, 11, 3, 12, tzinfo=UTC)


def _stored() -> LearnerData:
    data = bare_learner()
    data.done["install-cuda"] = date(2026, 11, 2)
    data.milestones["m1"] = date(2026, 11, 2)
    data.mocks.append(MockRow(1, date(2026, 11, 3), 6, None))
    data.notes.append(NoteRow(7, "challenge", None, "Build failed", None, None, AT))
    data.deadlines.append(DeadlineRow(9, "Portfolio Due", date(2026, 12, 1)))
    return data


CASES: list[tuple[tuple[Any, ...], Any, Change]] = [
    (("setting", "goal"), "An offer",
     SetSetting(column="goal", value="An offer", line=1, summary="")),
    (("done", "build-vllm"), None, Tick(item_id="build-vllm", day=TODAY, line=1, summary="")),
    (("done", "install-cuda"), date(2026, 11, 4),
     RedateItem(item_id="install-cuda", day=date(2026, 11, 4), line=1, summary="")),
    (("score", "readiness"), 40, PutScore(score_id="readiness", value=40, line=1, summary="")),
    (("counter", "cuda-basic"), 3,
     PutCounter(counter_id="cuda-basic", value=3, line=1, summary="")),
    (("field", "track"), "Standard",
     PutField(field_id="track", value="Standard", line=1, summary="")),
    (("rating", "scheduler", 1), 3,
     PutRating(skill_id="scheduler", week=1, value=3, line=1, summary="")),
    (("logdate", date(2026, 11, 3)), (90, "paging"),
     ReplaceDay(day=date(2026, 11, 3), minutes=90, topics="paging", line=1, summary="")),
    (("mock", 1), (date(2026, 11, 3), 7, "better"),
     PutMock(slot=1, held_on=date(2026, 11, 3), score=7, feedback="better", line=1,
             summary="")),
    (("ms", "m2"), None, ReachMilestone(milestone_id="m2", day=TODAY, line=1, summary="")),
    (("ms", "m1"), date(2026, 11, 3),
     RedateMilestone(milestone_id="m1", day=date(2026, 11, 3), line=1, summary="")),
    (("insight", 1, 1), "Blocks",
     AddNote(kind="insight", week=1, text="Blocks", line=1, summary="")),
    (("question", 1), "Why 16?", AddNote(kind="question", week=None, text="Why 16?", line=1,
                                         summary="")),
    (("challenge", 1), ("OOM", "Smaller batch", None),
     AddNote(kind="challenge", week=None, text="OOM", solution="Smaller batch", line=1,
             summary="")),
    (("challenge", 1), ("Build failed", "Pinned CUDA", "Read the matrix"),
     UpdateNote(note_id=7, solution="Pinned CUDA", learning="Read the matrix", line=1,
                summary="")),
    (("deadline", "send resume"), ("Send resume", date(2026, 12, 20)),
     AddDeadline(title="Send resume", due=date(2026, 12, 20), line=1, summary="")),
    (("deadline", "portfolio due"), ("Portfolio Due", date(2026, 12, 5)),
     RedateDeadline(deadline_id=9, due=date(2026, 12, 5), line=1, summary="")),
    (("pause", date(2026, 11, 10), date(2026, 11, 12), 0), True,
     AddPause(start=date(2026, 11, 10), end=date(2026, 11, 12), line=1, summary="")),
]


def _without_summary(change: Change) -> Change:
    return dataclasses.replace(change, summary="")


@pytest.mark.parametrize(("key", "value", "expected"), CASES,
                         ids=[f"{type(c[2]).__name__}-{c[0][1]}" for c in CASES])
def test_each_kind_of_difference_is_its_own_change_class(plans: PlanRegistry, key: tuple,
                                                         value: Any, expected: Change) -> None:
    changes = diff({key: Claim(value, 1)}, _stored(), plans.get("vllm"), TODAY)
    assert [_without_summary(c) for c in changes] == [expected]
    assert changes[0].summary  # the preview says each change


def test_every_change_class_is_made_by_the_diff_and_is_frozen() -> None:
    assert {type(c) for _, _, c in CASES} == set(CHANGE_CLASSES)
    with pytest.raises(dataclasses.FrozenInstanceError):
        CASES[1][2].day = TODAY  # type: ignore[misc]


@pytest.mark.parametrize(("key", "value"), [
    (("done", "install-cuda"), date(2026, 11, 2)),
    (("ms", "m1"), None),  # ticked without a date: keep the stored one
    (("mock", 1), (date(2026, 11, 3), 6, None)),
    (("challenge", 1), ("Build failed", None, None)),
    (("deadline", "portfolio due"), ("portfolio due", date(2026, 12, 1))),
])
def test_claims_the_store_already_holds_change_nothing(plans: PlanRegistry, key: tuple,
                                                       value: Any) -> None:
    assert diff({key: Claim(value, 1)}, _stored(), plans.get("vllm"), TODAY) == []


def test_the_diff_refuses_more_notes_than_pacer_keeps(plans: PlanRegistry) -> None:
    claims = {("question", n): Claim(f"q{n}", n) for n in range(1, 202)}
    with pytest.raises(InputError, match="201 notes; Pacer keeps at most 200"):
        diff(claims, bare_learner(), plans.get("vllm"), TODAY)

"""Learner histories for the export/import tests: a scripted rich learner and generated ones."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from hypothesis import strategies as st

from bot import models as m
from bot import progress
from bot.actors import Actor
from bot.grammar import Grammar
from bot.plan import Plan
from bot.services import Services
from bot.services.data import DataService
from bot.snapshot import load_one
from bot.store import Store

GOLDEN = Path(__file__).with_name("golden")
TODAY = date(2026, 11, 30)
ZONE = "Europe/Berlin"


def assert_golden(name: str, text: str) -> None:
    """Compare TEXT with tests/golden/NAME; PACER_UPDATE_GOLDEN=1 rewrites the file."""
    path = GOLDEN / name
    if os.environ.get("PACER_UPDATE_GOLDEN") == "1":
        path.write_text(text, encoding="utf-8")
    expected = path.read_text(encoding="utf-8")
    assert text == expected, f"{name} differs from the golden file (PACER_UPDATE_GOLDEN=1 "\
                             "rewrites it after a deliberate change)"


async def run(grammar: Grammar, actor: Actor, *lines: str, resolve: Any = None) -> None:
    """Run command lines, failing on the first refused one."""
    for line in lines:
        reply = await grammar.dispatch(actor, line, resolve_user=resolve)
        assert not reply.error, f"{line!r} was refused: {reply.text}"


async def build_rich(grammar: Grammar, services: Services, clock: Any, alice: Actor,
                     bob: Actor) -> None:
    """Script four weeks of a learner's life through the command layer."""
    from bot.console import console_actor

    clock.set(datetime(2026, 11, 2, 12, tzinfo=UTC))

    async def day(*lines: str) -> None:
        await run(grammar, alice, *lines, resolve=console_actor)
        clock.advance(days=1)

    await day('/start Europe/Berlin target=2027-01-15 hours=3.5 weeks=8 '
              'goal="Land the inference role"',
              '/log 2h "CUDA toolkit install"', "/done install-cuda", "/done build-vllm",
              "/readiness 42/60", "/set track Standard", "/count weak-areas =6")
    await day('/log 3h "hello world"', '/log 45m "vLLM build"', "/done configure-ide",
              "/done profiling-tools", "/done test-models", "/done hello-world",
              "/set verified Tested", "/done prereq-checklist", "/done gaps")
    await day('/log 1.5h "PagedAttention theory"', "/done day01", "/done day02",
              "/done roadmap", "/done explore-codebase", "/set understanding 50%")
    await day('/log 4h "block manager | allocation"', "/done pa1", "/done pa1-memory-problem",
              "/done pa1-block-allocation", "/score pa-quiz 2/3", "/confidence pa 3",
              "/rate pa 3 week1", "/rate scheduler 2 week1", "/rate cuda 2 week1")
    clock.advance(days=2)  # two days off
    await day('/log 2.5h "Scheduler & batching"', "/done day03", "/done day05",
              "/count cuda-basic +3", "/count reduction =2", "/count kernels-analyzed =7",
              "/insight week1 Blocks make KV memory non-contiguous",
              "/insight week1 The scheduler preempts by swapping or recomputing")
    await day('/quiz week1 17/20', '/mock 6 "Explain paging more concretely"',
              '/challenge Build failed on CUDA 12.4 | Pinned torch to the matching wheel | '
              'Read the compatibility matrix first',
              "/question How does prefix caching share blocks?",
              '/deadline add "Mock Interview 1" 2026-12-10',
              '/deadline add "NVIDIA Interview" 2027-01-12',
              '/deadline add "Send resume" 2026-12-20')
    await day("/pause until 2026-11-16")
    clock.advance(days=3)
    await day("/resume", '/log 3h "KV cache; swapping"', "/done day08", "/done day09",
              "/rate pa 4 week2", "/rate scheduler 3 week2", "/rate design 3 week2",
              "/set p1-performance 85", "/done p1-design", "/done p1-block-manager",
              "/done p1-kernel", "/done p1-benchmark", "/done p1-compare",
              "/count nsight-profiles =4")
    await day('/log 2h "portfolio writeup"', "/done pf-writeup",
              '/set p2-insights "Launch overhead dominates small batches"',
              "/set checkin Sundays 18:00", "/set progress-shared Weekly",
              '/mock 8 "Strong on scheduling, weaker on kernels"',
              "/confidence coding 4", "/set interview-ready Almost",
              "/insight week2 Tensor parallelism splits heads across GPUs",
              "/partner invite bob")
    await run(grammar, bob, "/partner accept Alice")
    await services.notes.add_challenge(alice, "Profiler overhead skewed timings",
                                       solution="Sampled every 100th step", learning=None)
    await services.notes.add_question(alice, "Why 16-token blocks?\nWould 32 be better?")
    clock.advance(days=5)
    await day('/log 1h "mock prep"', "/done rt-explain-pa", "/done rc-diagrams",
              "/set next-steps Apply in January", "/set final-ready Need More Time",
              '/set impact "Ship faster inference for everyone"',
              '/set goal "Get the offer"', "/quiz week2 15/20", "/done day04")
    clock.set(datetime(2026, 11, 30, 12, tzinfo=UTC))
    await run(grammar, alice, '/log 30m "week five review"')


# --- generated histories ------------------------------------------------------------------------

_ALPHABET = st.sampled_from(list("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
                                 "     .,;:!?'()-/#&+%=éüßçñ中文🚀❤️"))


def texts(max_size: int = 40, newlines: bool = False) -> st.SearchStrategy[str]:
    """Draw a stored text: stripped, with a letter or digit, maybe with line breaks."""
    alphabet = st.one_of(_ALPHABET, st.just("\n")) if newlines else _ALPHABET
    return (st.lists(alphabet, min_size=1, max_size=max_size).map("".join)
            .map(lambda t: "\n".join(line.strip() for line in t.strip().split("\n")).strip())
            .filter(lambda t: any(c.isalnum() for c in t) and "\n\n" not in t))


def _dates(lo: date, hi: date) -> st.SearchStrategy[date]:
    return st.dates(min_value=lo, max_value=hi)


@dataclass
class History:
    """Everything stored about one generated learner (milestones filled in on insert)."""

    profile: dict[str, Any]
    done: dict[str, date] = field(default_factory=dict)
    logs: list[tuple[date, int, str | None]] = field(default_factory=list)
    scores: dict[str, int] = field(default_factory=dict)
    counters: dict[str, int] = field(default_factory=dict)
    fields: dict[str, str] = field(default_factory=dict)
    ratings: dict[tuple[str, int], int] = field(default_factory=dict)
    mocks: dict[int, tuple[date, int, str | None]] = field(default_factory=dict)
    notes: list[tuple[str, int | None, str, str | None, str | None]] = field(
        default_factory=list)
    deadlines: dict[str, date] = field(default_factory=dict)
    pauses: list[tuple[date, date]] = field(default_factory=list)
    milestones: dict[str, date] = field(default_factory=dict)


def _field_value(draw: Any, f: Any) -> str:
    if f.kind == "choice":
        return draw(st.sampled_from(f.choices))
    if f.kind in ("scale", "percent"):
        return str(draw(st.integers(f.min, f.max)))
    return draw(texts(min(f.max_length, 60)))


@st.composite
def histories(draw: Any, plan: Plan) -> History:
    """Draw a learner history that the tracker could have produced."""
    start = TODAY - timedelta(days=draw(st.integers(0, 70)))
    target = draw(st.one_of(st.none(), _dates(start + timedelta(days=1),
                                              start + timedelta(days=200))))
    profile = {
        "display_name": draw(texts(30)), "start_date": start, "target_date": target,
        "commitment_minutes": draw(st.integers(1, 24 * 60)),
        "commitment_weeks": draw(st.integers(1, 104)),
        "goal": draw(st.one_of(st.just(plan.goal), texts(80))),
        "committed_on": draw(_dates(date(2020, 1, 1), TODAY)),
    }
    h = History(profile)
    early = start - timedelta(days=10)
    for item in draw(st.lists(st.sampled_from(plan.items), unique_by=lambda i: i.id,
                              max_size=40)):
        h.done[item.id] = draw(_dates(early, TODAY))
    pre_start = draw(st.booleans()) and draw(st.booleans())
    first_log = start - timedelta(days=5) if pre_start else start
    for day in draw(st.lists(_dates(first_log, TODAY), unique=True, max_size=20)):
        for _ in range(draw(st.integers(1, 3))):
            h.logs.append((day, draw(st.integers(1, 400)),
                           draw(st.one_of(st.none(), texts(50)))))
    for s in draw(st.lists(st.sampled_from(plan.scores), unique_by=lambda s: s.id)):
        h.scores[s.id] = draw(st.integers(0, s.max))
    for c in draw(st.lists(st.sampled_from(plan.counters), unique_by=lambda c: c.id)):
        h.counters[c.id] = draw(st.integers(0, c.max if c.max is not None else 500))
    for f in draw(st.lists(st.sampled_from(plan.fields), unique_by=lambda f: f.id)):
        h.fields[f.id] = _field_value(draw, f)
    for s in draw(st.lists(st.sampled_from(plan.skills), unique_by=lambda s: s.id,
                           max_size=5)):
        for w in draw(st.lists(st.integers(1, plan.weeks), unique=True, min_size=1)):
            h.ratings[(s.id, w)] = draw(st.integers(*plan.skill_scale))
    for slot in draw(st.lists(st.integers(1, plan.mock_interviews), unique=True)):
        h.mocks[slot] = (draw(_dates(early, TODAY)), draw(st.integers(0, plan.mock_max)),
                         draw(st.one_of(st.none(), texts(60))))
    for _ in range(draw(st.integers(0, 5))):
        kind = draw(st.sampled_from(("insight", "challenge", "question")))
        text = draw(texts(60, newlines=True))
        week = draw(st.integers(1, plan.weeks)) if kind == "insight" else None
        solution = learning = None
        if kind == "challenge":
            solution = draw(st.one_of(st.none(), texts(40)))
            learning = draw(st.one_of(st.none(), texts(40)))
        h.notes.append((kind, week, text, solution, learning))
    for title in draw(st.lists(st.one_of(st.sampled_from(plan.default_deadlines), texts(30)
                                         .filter(lambda t: "\n" not in t)),
                               unique_by=str.casefold, max_size=6)):
        h.deadlines[title] = draw(_dates(TODAY - timedelta(days=60), TODAY + timedelta(days=200)))
    for _ in range(draw(st.integers(0, 2))):
        a = draw(_dates(start, TODAY + timedelta(days=20)))
        h.pauses.append((a, a + timedelta(days=draw(st.integers(0, 20)))))
    for ms in draw(st.lists(st.sampled_from(plan.milestones), unique_by=lambda x: x.id,
                            max_size=4)):
        h.milestones[ms.id] = draw(_dates(early, TODAY))
    h.profile["milestone_day"] = draw(_dates(early, TODAY))
    return h


async def insert_history(store: Store, plan: Plan, h: History, external_id: str) -> Actor:
    """Store a generated history directly, then record every milestone that holds."""
    actor = Actor("console", external_id, h.profile["display_name"], space_id="console")
    now = datetime(2026, 11, 30, 12, tzinfo=UTC)
    p = {k: v for k, v in h.profile.items() if k != "milestone_day"}
    async with store.write() as s:
        row = m.Learner(platform="console", external_id=external_id, plan_id=plan.id,
                        timezone=ZONE, day_start_hour=3, reminder_minute=19 * 60,
                        digest_weekday=6, digest_minute=18 * 60, digest_every_weeks=1,
                        public_posts=True, created_at=now, updated_at=now, **p)
        s.add(row)
        await s.flush()
        lid = row.id
        s.add_all([m.ItemDone(learner_id=lid, item_id=i, study_date=d, done_at=now)
                   for i, d in h.done.items()])
        s.add_all([m.TimeLog(learner_id=lid, study_date=d, minutes=n, topic=t, created_at=now)
                   for d, n, t in h.logs])
        s.add_all([m.ScoreEntry(learner_id=lid, score_id=k, value=v, recorded_on=TODAY)
                   for k, v in h.scores.items()])
        s.add_all([m.CounterValue(learner_id=lid, counter_id=k, value=v)
                   for k, v in h.counters.items()])
        s.add_all([m.FieldValue(learner_id=lid, field_id=k, value=v)
                   for k, v in h.fields.items()])
        s.add_all([m.SkillRating(learner_id=lid, skill_id=k, week=w, value=v)
                   for (k, w), v in h.ratings.items()])
        s.add_all([m.MockInterview(learner_id=lid, slot=k, held_on=d, score=v, feedback=f)
                   for k, (d, v, f) in h.mocks.items()])
        s.add_all([m.Note(learner_id=lid, kind=k, week=w, text=t, solution=a, learning=b,
                          created_at=now) for k, w, t, a, b in h.notes])
        s.add_all([m.Deadline(learner_id=lid, title=t, due_date=d, created_at=now)
                   for t, d in h.deadlines.items()])
        s.add_all([m.Pause(learner_id=lid, start_date=a, end_date=b) for a, b in h.pauses])
        s.add_all([m.MilestoneReached(learner_id=lid, milestone_id=k, reached_on=d,
                                      reached_at=now) for k, d in h.milestones.items()])
        await s.flush()
        data = await load_one(s, lid)
        s.add_all([m.MilestoneReached(learner_id=lid, milestone_id=ms.id,
                                      reached_on=h.profile["milestone_day"], reached_at=now)
                   for ms in progress.milestones_now_reached(data, plan)])
    return actor


async def export_of(dc: DataService, actor: Actor) -> str:
    """Export a learner's tracker as text."""
    file = await dc.export_file(actor, "markdown")
    return file.data.decode("utf-8")

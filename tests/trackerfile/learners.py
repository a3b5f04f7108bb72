"""Learners and a second plan shared by the tracker-file tests."""

from __future__ import annotations

from datetime import date
from typing import Any

from bot.actors import Actor
from bot.app import build_services
from bot.grammar import Grammar
from bot.plan import PlanRegistry
from bot.services import Services
from bot.services.data import DataService
from bot.snapshot import LearnerData, LearnerProfile
from bot.store import Store
from tests.tracker_histories import run

MINI_PLAN = """
[plan]
id = "mini"
title = "Rust Async Sprint"
goal = "Ship an async crate"
hours_min = 20
hours_max = 30
weeks = 2
mock_interviews = 2
mock_max = 5
quiz_target = 8
default_deadlines = ["Crate released"]

[[phases]]
id = "basics"
title = "Basics"
short = "Basics"
weeks = "1"

[[phases]]
id = "build"
title = "Build {it}"
short = "Build"
weeks = "2"

[[sections]]
id = "reading"
phase = "basics"
title = "Reading"

[[sections]]
id = "project"
phase = "build"
title = "Project"

[[items]]
id = "book"
section = "reading"
title = "Read the async book"

[[items]]
id = "book-ch1"
section = "reading"
parent = "book"
title = "Chapter 1: futures"

[[items]]
id = "tokio"
section = "reading"
title = "Tokio tutorial"

[[items]]
id = "crate"
section = "project"
title = "Write the crate"

[[items]]
id = "publish"
section = "project"
title = "Publish it"

[[counters]]
id = "exercises"
title = "Exercises"
section = "reading"
max = 12

[[counters]]
id = "prs"
title = "Pull requests"
section = "project"
open_ended = true
target = 3

[[scores]]
id = "quiz1"
title = "Quiz 1"
max = 10
week = 1

[[scores]]
id = "review"
title = "Code review score"
max = 20
completes_item = "crate"

[[skills]]
id = "futures"
title = "Futures"
target = 4

[[skills]]
id = "pinning"
title = "Pinning"
target = 3

[[fields]]
id = "mood"
title = "Mood"
section = "reading"
kind = "choice"
choices = ["Good", "Meh"]

[[fields]]
id = "focus"
title = "Focus"
kind = "scale"
min = 1
max = 3
confidence = true

[[fields]]
id = "notes"
title = "Notes"
kind = "text"
max_length = 200

[[fields]]
id = "coverage"
title = "Coverage"
section = "project"
kind = "percent"

[[milestones]]
id = "read"
title = "Reading done"
kind = "milestone"
week = "1"
when = { items = ["reading"] }

[[milestones]]
id = "shipped"
title = "Shipped"
kind = "celebration"
when = { items = ["publish"] }

[[milestones]]
id = "first"
title = "First log"
kind = "achievement"
when = { logs_min = 1 }
"""


def bare_learner(plan_id: str = "vllm", start: date = date(2026, 11, 2)) -> LearnerData:
    """Build an empty learner of PLAN_ID who started on START, without a store."""
    profile = LearnerProfile(
        id=1, platform="console", external_id="x", display_name="X", plan_id=plan_id,
        timezone="UTC", day_start_hour=0, start_date=start, target_date=None,
        commitment_minutes=240, commitment_weeks=6, goal=None, committed_on=None,
        reminder_minute=None, digest_weekday=6, digest_minute=0, digest_every_weeks=1,
        public_posts=True, home_channel_id=None, snoozed_until=None, next_reminder_at=None,
        next_digest_at=None)
    return LearnerData(profile)


async def mini_learner(store: Store, mini_plans: PlanRegistry, clock: Any,
                       actor: Actor) -> tuple[Services, DataService, Grammar]:
    """Start ACTOR on the mini plan with its own services and grammar."""
    services = build_services(store, mini_plans, clock=clock)
    grammar = Grammar(services)
    dc = services.data
    await run(grammar, actor, "/start Europe/Berlin start=2026-11-16 hours=2 weeks=3",
              "/settings plan=mini")
    return services, dc, grammar



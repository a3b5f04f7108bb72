"""Study plans as data: TOML files in bot/plans/ and in configured folders.

The package: ``model`` (the typed plan), ``lookup`` (what a user typed to one entry),
``loading`` (strict validation of a file), ``registry`` (the plans of an installation).

A plan file has these tables (unknown keys are errors; ``?`` marks optional keys):

- ``[plan]``: id, title, goal, hours_min, hours_max, weeks, mock_interviews?, mock_max?,
  skill_scale? ([lo, hi]), skill_target_average?, quiz_target?, default_deadlines?
- ``[[phases]]``: id, title, short, weeks (a label such as ``"0-1"`` or ``"4+"``)
- ``[[sections]]``: id, phase, title
- ``[[items]]``: id, section, title, parent? (an earlier item of the same section),
  aliases?, week? (1..weeks), optional? (true: not required by the plan, e.g. "(optional)")
- ``[[counters]]``: id, title, section, then either ``max`` (a hard cap) or
  ``open_ended = true`` with an optional ``target``; unit?, completes_item?, aliases?
- ``[[scores]]``: id, title, max, week? (quizzes), completes_item?, aliases?
- ``[[skills]]``: id, title, target (within skill_scale), aliases?
- ``[[fields]]``: id, title, kind, section?, aliases?, and by kind: ``scale`` min, max,
  confidence?; ``percent`` min?, max? (default 0-100); ``choice`` choices; ``text`` max_length
- ``[[milestones]]``: id, title, kind (milestone | celebration | achievement), week? (a label),
  when (one condition)

A condition is a table with exactly one key: ``items`` (every listed item done; a section id
means every item of that section), ``any_items`` (at least one listed id done, same rule),
``any_sections_complete`` (section ids), ``mock_score_min``, ``hours_min``, ``logs_min``,
``counter_min = {counter, value}``, ``milestones`` (ids reached), ``all_of`` (conditions).

Ids are slugs (``[a-z0-9]`` words joined by single hyphens, at most 64 characters). Items and
sections share one id space (conditions may name either); every other kind has its own.
"""

from __future__ import annotations

from bot.plan.loading import condition_milestones, load_plan
from bot.plan.model import (
    BUILTIN_PLAN_DIR,
    CONDITION_KEYS,
    DEFAULT_PLAN_ID,
    FIELD_KINDS,
    MILESTONE_KINDS,
    Counter,
    Field,
    Item,
    Milestone,
    Phase,
    Plan,
    Score,
    Section,
    Skill,
)
from bot.plan.registry import PlanRegistry

__all__ = [
    "BUILTIN_PLAN_DIR",
    "CONDITION_KEYS",
    "DEFAULT_PLAN_ID",
    "FIELD_KINDS",
    "MILESTONE_KINDS",
    "Counter",
    "Field",
    "Item",
    "Milestone",
    "Phase",
    "Plan",
    "PlanRegistry",
    "Score",
    "Section",
    "Skill",
    "condition_milestones",
    "load_plan",
]

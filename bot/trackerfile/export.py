"""Export a learner's tracker: the plan's template filled in from the store."""

from __future__ import annotations

import logging
from datetime import date

from bot.plan import Plan
from bot.snapshot import LearnerData
from bot.trackerfile.fill import Ctx
from bot.trackerfile.templates import template_for

log = logging.getLogger(__name__)


def render_markdown(data: LearnerData, plan: Plan, today: date) -> str:
    """Render the learner's filled-in tracker for their plan as of their study day TODAY."""
    return template_for(plan).render(Ctx(data, plan, today))


def export_filename(plan: Plan, today: date) -> str:
    """Name the exported tracker file."""
    return f"{plan.id}-progress-tracker-{today.isoformat()}.md"

"""The typed core every front calls: one service per feature over one unit of work.

See docs/typed-core.md for the contract. ``Services`` wires them together for one context
(store, plans, clock); fronts reach a feature as ``core.services.timelog.log_time(...)``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.services.accounts import AccountService
from bot.services.charts import ChartService
from bot.services.checklist import ChecklistService
from bot.services.context import Context
from bot.services.deadlines import DeadlineService
from bot.services.history import HistoryService
from bot.services.notes import NoteService
from bot.services.onboarding import Onboarding, OnboardingService
from bot.services.partners import PartnerService
from bot.services.pauses import PauseService
from bot.services.reminders import ReminderService
from bot.services.scores import ScoreService
from bot.services.spaces import SpaceService
from bot.services.status import StatusService
from bot.services.timelog import TimeLogService
from bot.services.units import Units
from bot.services.views import ViewService

if TYPE_CHECKING:
    from bot.services.data import DataService


class Services:
    """Every feature service of one context."""

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        self.units = Units(ctx)
        self.onboarding = OnboardingService(ctx, self.units)
        self.timelog = TimeLogService(ctx, self.units)
        self.checklist = ChecklistService(ctx, self.units)
        self.history = HistoryService(ctx, self.units)
        self.scores = ScoreService(ctx, self.units)
        self.notes = NoteService(ctx, self.units)
        self.deadlines = DeadlineService(ctx, self.units)
        self.pauses = PauseService(ctx, self.units)
        self.partners = PartnerService(ctx, self.units)
        self.spaces = SpaceService(ctx, self.units)
        self.views = ViewService(ctx, self.units)
        self.charts = ChartService(ctx, self.units)
        self.reminders = ReminderService(ctx, self.units)
        self.accounts = AccountService(ctx, self.units)
        self.status = StatusService(ctx)
        # The data rights (export, import, forget-me) apply imports through the services
        # above, so they are wired in by bot.app.build_services, not imported here.
        self.data: DataService


__all__ = ["Context", "Onboarding", "Services"]

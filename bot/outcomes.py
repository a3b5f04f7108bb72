"""Typed outcomes of the services: what a command did, in figures; never a sentence.

``bot.presenting`` turns each into the words users read. Every write outcome carries the
milestones the change reached (``celebrations``), the learner's pending notices, and whether
the learner posts publicly (``public``), so a front decides visibility from data in hand.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time

from bot.charts import CalendarFigures, RoadFigures
from bot.messages import ChartSpec
from bot.replies import Celebration
from bot.road import Standing


@dataclass(kw_only=True)
class Outcome:
    """What every write reports besides its own figures."""

    celebrations: list[Celebration] = field(default_factory=list)
    notices: list[str] = field(default_factory=list)
    public: bool = False


@dataclass(kw_only=True)
class Started(Outcome):
    learner_id: int
    plan_title: str
    start: date
    timezone: str
    commitment_minutes: int
    weeks: int
    reminder: time | None
    today: date


@dataclass(kw_only=True)
class SettingsUpdated(Outcome):
    names: tuple[str, ...]


@dataclass(kw_only=True)
class TimeLogged(Outcome):
    minutes: int
    topic: str | None
    day: date
    day_minutes: int
    commitment_minutes: int
    is_today: bool


@dataclass(kw_only=True)
class ItemCompleted(Outcome):
    item_id: str
    item_title: str
    done_count: int
    item_count: int


@dataclass(kw_only=True)
class ItemReopened(Outcome):
    item_id: str
    item_title: str


@dataclass(kw_only=True)
class Undone(Outcome):
    description: str


@dataclass(kw_only=True)
class ScoreRecorded(Outcome):
    score_id: str
    title: str
    value: int
    maximum: int
    previous: int | None


@dataclass(kw_only=True)
class MockRecorded(Outcome):
    slot: int
    day: date
    score: int
    maximum: int


@dataclass(kw_only=True)
class SkillRated(Outcome):
    skill_id: str
    title: str
    value: int
    scale_max: int
    week: int
    target: float | int | None


@dataclass(kw_only=True)
class FieldSet(Outcome):
    field_id: str
    title: str
    value: str
    unit: str


@dataclass(kw_only=True)
class CounterChanged(Outcome):
    counter_id: str
    title: str
    value: int
    maximum: int | None
    target: int | None


@dataclass(kw_only=True)
class NoteAdded(Outcome):
    note_id: int
    kind: str
    week: int | None


@dataclass(kw_only=True)
class NoteRemoved(Outcome):
    note_id: int


@dataclass(kw_only=True)
class DeadlineAdded(Outcome):
    deadline_id: int
    title: str
    due: date
    days_left: int


@dataclass(kw_only=True)
class DeadlineRemoved(Outcome):
    title: str


@dataclass(kw_only=True)
class Paused(Outcome):
    until: date


@dataclass(kw_only=True)
class Resumed(Outcome):
    pass


@dataclass(kw_only=True)
class Snoozed(Outcome):
    until: datetime | None  # None: the snooze was cancelled
    timezone: str


@dataclass(kw_only=True)
class PartnerInvited(Outcome):
    partner_name: str
    shared: tuple[str, ...]


@dataclass(kw_only=True)
class PartnerAccepted(Outcome):
    learner_id: int
    learner_name: str


@dataclass(kw_only=True)
class PartnershipEnded(Outcome):
    pass


@dataclass(kw_only=True)
class ShareChanged(Outcome):
    shared: tuple[str, ...]


@dataclass(kw_only=True)
class SpacePlanChosen(Outcome):
    plan_id: str
    plan_title: str


@dataclass(kw_only=True)
class FallbackChannelSet(Outcome):
    channel_id: str | None


@dataclass(kw_only=True)
class Imported(Outcome):
    changes: int
    filename: str


@dataclass(kw_only=True)
class LinkCodeIssued(Outcome):
    code: str
    minutes: int
    platform: str


@dataclass(kw_only=True)
class IdentityLinked(Outcome):
    learner_name: str
    platform: str
    delivery_platform: str


@dataclass(kw_only=True)
class DeliveryMoved(Outcome):
    platform: str
    changed: bool


@dataclass(kw_only=True)
class ChartDrawn(Outcome):
    """A chart drawn on demand: its PNG and the figures behind its caption.

    ``road``, ``calendar`` or ``week`` holds the figures of the KIND drawn; ``path`` is set
    when the console wrote the PNG to a file.
    """

    kind: str
    today: date
    png: bytes
    filename: str
    standing: Standing
    road: RoadFigures | None = None
    calendar: CalendarFigures | None = None
    week: ChartSpec | None = None
    path: str | None = None

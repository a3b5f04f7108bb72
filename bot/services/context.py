"""What every service shares: the store, the plans, the clock, and the learner lookups."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from bot import models as m
from bot.actors import Actor
from bot.errors import StateError
from bot.learners import learner_query
from bot.plan import Plan, PlanRegistry
from bot.store import Store
from bot.timing import study_date

log = logging.getLogger(__name__)

NOT_STARTED = ("You have not started a plan yet. Run /start with your timezone first, "
               "e.g. `/start Europe/Berlin`.")


def _utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass
class Context:
    """The store, plans and clock every service uses; the clock is injected for tests."""

    store: Store
    plans: PlanRegistry
    clock: Callable[[], datetime] = field(default=_utc_now)
    default_plan: str | None = None
    public_by_default: bool = True

    def __post_init__(self) -> None:
        self.default_plan = self.default_plan or self.plans.default_id

    def now(self) -> datetime:
        value = self.clock()
        if value.tzinfo is None:
            raise ValueError("the clock must return aware datetimes")
        return value.astimezone(UTC)

    def today_for(self, row: Any) -> date:
        """Return the learner's study day now (their zone and day-start hour)."""
        return study_date(self.now(), row.timezone, row.day_start_hour)

    def plan_for(self, row: Any) -> Plan:
        return self.plans.get(row.plan_id)

    async def learner(self, session: AsyncSession, actor: Actor, *,
                      lock: bool = False) -> m.Learner:
        """Return the actor's learner row (locked for writing on PostgreSQL) or say to /start."""
        row = await self.find(session, actor, lock=lock)
        if row is None:
            raise StateError(NOT_STARTED)
        return row

    async def find_learner(self, actor: Actor) -> m.Learner | None:
        """Return the actor's learner row, or None before /start (own read transaction)."""
        async with self.store.read() as session:
            return await self.find(session, actor)

    async def find(self, session: AsyncSession, actor: Actor, *,
                   lock: bool = False) -> m.Learner | None:
        stmt = learner_query(actor)
        # SQLite's BEGIN IMMEDIATE already serialises writers; PostgreSQL locks the row.
        return await session.scalar(stmt.with_for_update() if lock else stmt)

    async def space(self, session: AsyncSession, actor: Actor, *,
                    create: bool = False) -> m.Space | None:
        """Find (or, race-free, create) the actor's server or workspace; None in a DM."""
        if actor.space_id is None:
            return None
        where = (m.Space.platform == actor.platform, m.Space.external_id == actor.space_id)
        space = await session.scalar(select(m.Space).where(*where))
        if space is None and create:
            insert = pg_insert if self.store.dialect == "postgresql" else sqlite_insert
            await session.execute(insert(m.Space).values(
                platform=actor.platform, external_id=actor.space_id, created_at=self.now(),
            ).on_conflict_do_nothing(index_elements=["platform", "external_id"]))
            space = await session.scalar(select(m.Space).where(*where))
        return space

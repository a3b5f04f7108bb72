"""Accountability partners: invite, accept, end, choose what they see."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot import models as m
from bot.actors import Actor
from bot.errors import InputError, StateError
from bot.outcomes import PartnerAccepted, PartnerInvited, PartnershipEnded, ShareChanged
from bot.services.base import Service
from bot.services.units import Unit

SHAREABLE = ("hours", "days", "streak", "scores", "notes")
DEFAULT_SHARE = ("hours", "days", "streak")


async def active_partnership(session: AsyncSession, learner_id: int) -> m.Partnership | None:
    """Return the learner's invited or accepted partnership, if any."""
    return await session.scalar(select(m.Partnership).where(
        m.Partnership.learner_id == learner_id,
        m.Partnership.status.in_(("invited", "accepted"))).limit(1))


def _as_partner(actor: Actor, statuses: tuple[str, ...]):  # type: ignore[no-untyped-def]
    return select(m.Partnership, m.Learner).join(
        m.Learner, m.Learner.id == m.Partnership.learner_id).where(
        m.Partnership.partner_platform == actor.platform,
        m.Partnership.partner_external_id == actor.external_id,
        m.Partnership.status.in_(statuses))


def check_share(parts: Sequence[str]) -> tuple[str, ...]:
    """Return the shareable parts named, in order, without repeats; refuse unknown ones."""
    chosen: list[str] = []
    for p in parts:
        key = p.strip().lower()
        if key not in SHAREABLE:
            raise InputError(f"{p!r} is not something to share; choose from "
                             f"{', '.join(SHAREABLE)}.")
        if key not in chosen:
            chosen.append(key)
    return tuple(chosen)


class PartnerService(Service):
    """Manage the learner's accountability partner."""

    async def invite(self, actor: Actor, partner: Actor) -> PartnerInvited:
        """Invite PARTNER; they accept with /partner accept."""
        if (partner.platform, partner.external_id) == (actor.platform, actor.external_id):
            raise InputError("You cannot be your own accountability partner; invite someone "
                             "else.")

        async def build(u: Unit) -> PartnerInvited:
            active = await active_partnership(u.session, u.row.id)
            if active is not None:
                raise StateError(f"You already have a partner ({active.status}): "
                                 f"{active.partner_name}. End it with /partner end first.")
            await u.changes.add(m.Partnership(
                learner_id=u.row.id, partner_platform=partner.platform,
                partner_external_id=partner.external_id,
                partner_name=partner.display_name[:100], status="invited",
                share=list(DEFAULT_SHARE), created_at=u.now))
            u.description = "invite partner"
            return PartnerInvited(partner_name=partner.display_name, shared=DEFAULT_SHARE)

        return await self.units.run(actor, build)

    async def accept(self, partner: Actor, learner_name: str | None = None) -> PartnerAccepted:
        """Accept a waiting invitation (naming the learner when several invited you)."""
        async def body(session: AsyncSession) -> Any:
            rows = (await session.execute(_as_partner(partner, ("invited",)))).all()
            if learner_name:
                rows = [r for r in rows if r[1].display_name.casefold() == learner_name.casefold()
                        or r[1].external_id == learner_name]
            if not rows:
                raise StateError("No invitation to be a partner is waiting for you.")
            if len(rows) > 1:
                names = ", ".join(r[1].display_name for r in rows)
                raise InputError(f"Several learners invited you ({names}); name the one to "
                                 "accept.")
            ship, learner = rows[0]
            ship.status = "accepted"
            ship.accepted_at = self.ctx.now()
            return PartnerAccepted(learner_id=learner.id, learner_name=learner.display_name)
        return await self.units.transact(body)

    async def end(self, actor: Actor, learner_name: str | None = None) -> PartnershipEnded:
        """End a partnership from either side; delivery to the partner stops at once."""
        async def body(session: AsyncSession) -> Any:
            me = await self.ctx.find(session, actor)
            ships: list[m.Partnership] = []
            if me is not None and not learner_name:
                active = await active_partnership(session, me.id)
                if active is not None:
                    ships.append(active)
            if not ships:
                found = (await session.execute(
                    _as_partner(actor, ("invited", "accepted")))).all()
                if learner_name:
                    found = [r for r in found
                             if r[1].display_name.casefold() == learner_name.casefold()]
                if len(found) > 1:
                    raise InputError("You partner several learners; name the one to stop.")
                ships = [r[0] for r in found]
            if not ships:
                raise StateError("You have no partnership to end.")
            ships[0].status = "ended"
            ships[0].ended_at = self.ctx.now()
            return PartnershipEnded()
        return await self.units.transact(body)

    async def share(self, actor: Actor, parts: Sequence[str]) -> ShareChanged:
        """Choose what the partner's digest shows."""
        chosen = check_share(parts)

        async def build(u: Unit) -> ShareChanged:
            ship = await active_partnership(u.session, u.row.id)
            if ship is None:
                raise StateError("You have no partner; invite one with /partner invite.")
            u.changes.set(ship, share=list(chosen))
            u.description = "partner share"
            return ShareChanged(shared=chosen)

        return await self.units.run(actor, build)

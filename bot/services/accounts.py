"""One learner across fronts: link another front's identity with a one-time code.

A learner asks for a code on the front where their tracker lives (``/link``); it is shown only
to them, lasts ``CODE_MINUTES`` and works once. Typed on another front (``/link CODE``), it
adds that identity to the same tracker: both fronts then read and write it. Reminders and
digests go to the learner's delivery identity; ``/link here`` makes the current one it.
Whoever holds a code can join the tracker, so it is never posted publicly; guessing one is a
search of 32^10 codes, each valid for minutes.
"""

from __future__ import annotations

import secrets
from datetime import timedelta
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot import models as m
from bot.actors import Actor
from bot.errors import InputError, StateError
from bot.outcomes import DeliveryMoved, IdentityLinked, LinkCodeIssued
from bot.services.base import Service

CODE_MINUTES = 10
CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I
CODE_LENGTH = 10


def normalize_code(text: str) -> str:
    """Return a typed code without spaces and dashes, upper case."""
    return "".join(ch for ch in text.upper() if ch.isalnum())


def show_code(code: str) -> str:
    return f"{code[:5]}-{code[5:]}"


class AccountService(Service):
    """Link identities of one learner across fronts."""

    async def link_code(self, actor: Actor) -> LinkCodeIssued:
        """Issue a one-time code that links another front's identity to this tracker."""
        now = self.ctx.now()

        async def body(session: AsyncSession) -> LinkCodeIssued:
            row = await self.ctx.learner(session, actor, lock=True)
            await session.execute(delete(m.LinkCode).where(
                (m.LinkCode.learner_id == row.id) | (m.LinkCode.expires_at <= now)))
            code = "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))
            expires = now + timedelta(minutes=CODE_MINUTES)
            session.add(m.LinkCode(code=code, learner_id=row.id, expires_at=expires))
            return LinkCodeIssued(code=show_code(code), minutes=CODE_MINUTES,
                                  platform=row.platform)

        return await self.units.transact(body)

    async def link(self, actor: Actor, code: str) -> IdentityLinked:
        """Join the tracker the code belongs to with ACTOR's identity."""
        typed = normalize_code(code)
        if len(typed) != CODE_LENGTH:
            raise InputError(f"A link code has {CODE_LENGTH} letters and digits, like "
                             "`ABCDE-23456`; run `/link` where your tracker is to get one.")
        now = self.ctx.now()

        async def body(session: AsyncSession) -> IdentityLinked:
            found = await session.scalar(select(m.LinkCode).where(
                m.LinkCode.code == typed, m.LinkCode.expires_at > now))
            if found is None:
                raise InputError("That code is not valid: it is mistyped, used already or "
                                 f"older than {CODE_MINUTES} minutes. Run `/link` where your "
                                 "tracker is for a new one.")
            mine = await self.ctx.find(session, actor)
            if mine is not None and mine.id == found.learner_id:
                raise StateError("This identity is already linked to that tracker.")
            if mine is not None:
                raise StateError("You already have a tracker here; a code links an identity "
                                 "that has none. `/forget-me` here first to join the other one.")
            learner = await session.get(m.Learner, found.learner_id)
            assert learner is not None
            await session.delete(found)
            session.add(m.LinkedIdentity(learner_id=learner.id, platform=actor.platform,
                                         external_id=actor.external_id,
                                         display_name=actor.display_name[:100],
                                         linked_at=now))
            return IdentityLinked(learner_name=learner.display_name, platform=actor.platform,
                                  delivery_platform=learner.platform)

        return await self.units.transact(body)

    async def deliver_here(self, actor: Actor) -> DeliveryMoved:
        """Send reminders and digests to ACTOR's identity (one linked to the tracker)."""
        async def body(session: AsyncSession) -> DeliveryMoved:
            row = await self.ctx.learner(session, actor, lock=True)
            if (row.platform, row.external_id) == (actor.platform, actor.external_id):
                return DeliveryMoved(platform=row.platform, changed=False)
            ident = await session.scalar(select(m.LinkedIdentity).where(
                m.LinkedIdentity.platform == actor.platform,
                m.LinkedIdentity.external_id == actor.external_id))
            assert ident is not None  # find() reached the row through this link
            swap: dict[str, Any] = {"platform": row.platform, "external_id": row.external_id,
                                    "display_name": row.display_name}
            # Flush the identity away first: (platform, external_id) is unique in both tables.
            ident.platform, ident.external_id = "swap", f"{row.id}:{ident.id}"
            await session.flush()
            row.platform, row.external_id = actor.platform, actor.external_id
            row.home_channel_id = row.home_space_id = None  # a server of the other front
            await session.flush()
            for key, value in swap.items():
                setattr(ident, key, value)
            return DeliveryMoved(platform=actor.platform, changed=True)

        return await self.units.transact(body)

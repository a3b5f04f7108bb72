"""Find a learner by any of their identities (their own, or one linked from another front)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import and_, or_, select

from bot import models as m
from bot.actors import Actor


def learner_of(actor: Actor) -> Any:
    """Return the condition that picks ACTOR's learner row, linked identities included."""
    linked = select(m.LinkedIdentity.learner_id).where(
        m.LinkedIdentity.platform == actor.platform,
        m.LinkedIdentity.external_id == actor.external_id).scalar_subquery()
    own = and_(m.Learner.platform == actor.platform, m.Learner.external_id == actor.external_id)
    return or_(own, m.Learner.id == linked)


def learner_query(actor: Actor) -> Any:
    """Select the learner row of ACTOR."""
    return select(m.Learner).where(learner_of(actor))


def learner_id_query(actor: Actor) -> Any:
    """Select the id of ACTOR's learner."""
    return select(m.Learner.id).where(learner_of(actor))

"""Find a learner by any of their identities (their own, or one linked from another front).

The condition is built once with bound parameters (``ACTOR_LEARNER``, filled by
``actor_params``): the hot write path executes one prepared statement per command instead of
building the expression again each time.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import and_, bindparam, or_, select

from bot import models as m
from bot.actors import Actor

_PLATFORM = bindparam("actor_platform")
_EXTERNAL_ID = bindparam("actor_external_id")
ACTOR_LEARNER = or_(
    and_(m.Learner.platform == _PLATFORM, m.Learner.external_id == _EXTERNAL_ID),
    m.Learner.id == select(m.LinkedIdentity.learner_id).where(
        m.LinkedIdentity.platform == _PLATFORM,
        m.LinkedIdentity.external_id == _EXTERNAL_ID).scalar_subquery())


def actor_params(actor: Actor) -> dict[str, str]:
    """Return the parameters of ``ACTOR_LEARNER`` for ACTOR."""
    return {"actor_platform": actor.platform, "actor_external_id": actor.external_id}


_LEARNER = select(m.Learner).where(ACTOR_LEARNER)
_LEARNER_ID = select(m.Learner.id).where(ACTOR_LEARNER)


def learner_query(actor: Actor) -> Any:
    """Select the learner row of ACTOR."""
    return _LEARNER.params(actor_params(actor))


def learner_id_query(actor: Actor) -> Any:
    """Select the id of ACTOR's learner."""
    return _LEARNER_ID.params(actor_params(actor))

"""The registry from message kind to payload type and builder, and what delivery is told.

The dispatcher's claim, lease and send machinery (``bot.scheduling``) knows nothing of what a
kind means: it hands each claimed row to ``KindRegistry.prepare`` and gets back a ``Letter``
to send or a ``Skip`` to record, the way RoboDanny's timers dispatch
``f"{timer.event}_timer_complete"`` to whoever listens.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Generic, Literal, TypeVar

from bot.dispatch._payloads import Payload
from bot.messages import OutMessage
from bot.plan import Plan, PlanRegistry
from bot.snapshot import DispatchData

log = logging.getLogger(__name__)

P = TypeVar("P", bound=Payload)


@dataclass(frozen=True)
class Skip:
    """Nothing is sent for a claimed message; REASON is recorded as the row's error."""

    reason: str


@dataclass(frozen=True)
class Due(Generic[P]):
    """What a builder gets: the parsed payload, the learner's data and plan, the recipient.

    ``late_due`` is the instant the message was due when it is sent late, else None.
    """

    payload: P
    data: DispatchData
    plan: Plan
    recipient_platform: str
    recipient_id: str
    late_due: datetime | None = None


Builder = Callable[[Due[P]], OutMessage | Skip]


@dataclass(frozen=True)
class Kind(Generic[P]):
    """One message kind: its payload type, its builder, and how a failed delivery treats it.

    ``label`` names it in the notice a closed DM leaves (``your daily reminder``);
    ``channel_fallback``: the learner's own message may be posted in a server channel when
    their DMs are closed (a short message holding nothing private); ``grace``: which window
    (``reminder_grace_hours`` or ``digest_grace_hours``) it may still be sent late within.
    """

    name: str
    payload: type[P]
    build: Builder[P]
    label: str
    channel_fallback: bool = False
    grace: Literal["reminder", "digest"] = "reminder"


@dataclass(frozen=True)
class Letter:
    """A built message and what delivery needs to know of its kind."""

    message: OutMessage
    label: str
    to_partner: bool
    channel_fallback: bool  # a closed DM may fall back to a channel post


class KindRegistry:
    """Map each kind name to its ``Kind``; builders join with ``register``."""

    def __init__(self, kinds: Mapping[str, Kind[Any]] | None = None) -> None:
        self._kinds: dict[str, Kind[Any]] = dict(kinds or {})

    def register(self, name: str, payload: type[P], *, label: str,
                 channel_fallback: bool = False,
                 grace: Literal["reminder", "digest"] = "reminder"
                 ) -> Callable[[Builder[P]], Builder[P]]:
        """Register the decorated function as the builder of kind NAME."""

        def decorate(build: Builder[P]) -> Builder[P]:
            if name in self._kinds:
                raise ValueError(f"message kind {name!r} is registered twice")
            self._kinds[name] = Kind(name, payload, build, label, channel_fallback, grace)
            return build

        return decorate

    def named(self, *, grace: Literal["reminder", "digest"]) -> frozenset[str]:
        """Return the names of the kinds sent within the GRACE window."""
        return frozenset(name for name, kind in self._kinds.items() if kind.grace == grace)

    def copy(self) -> KindRegistry:
        """Return a registry holding the same kinds (to add one in a test)."""
        return KindRegistry(self._kinds)

    def get(self, name: str) -> Kind[Any] | None:
        return self._kinds.get(name)

    def __iter__(self) -> Iterator[str]:
        return iter(self._kinds)

    def __len__(self) -> int:
        return len(self._kinds)

    def prepare(self, kind_name: str, payload: Mapping[str, Any], data: DispatchData | None,
                plans: PlanRegistry, *, recipient_platform: str, recipient_id: str,
                late_due: datetime | None = None) -> Letter | Skip:
        """Parse a claimed row's payload and build its message, or say why it is skipped.

        A malformed payload or a builder's bug raises: the caller fails that row alone.
        """
        kind = self._kinds.get(kind_name)
        if kind is None:
            return Skip(f"unknown kind {kind_name}")
        parsed = kind.payload.from_json(payload)
        if data is None:
            return Skip("the learner no longer exists")
        due = Due(parsed, data, plans.get(data.profile.plan_id), recipient_platform,
                  recipient_id, late_due)
        built = kind.build(due)
        if isinstance(built, Skip):
            return built
        return Letter(built, kind.label, parsed.to_partner,
                      kind.channel_fallback and not parsed.to_partner)

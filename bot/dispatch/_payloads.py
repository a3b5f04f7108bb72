"""The typed payload of each message kind, and its JSON form in ``Outbox.payload``.

The claims (``bot.outbox``) write a payload with ``to_json`` when they insert the row; the
dispatcher parses it once with ``from_json`` before building the message. The JSON keys are
those the outbox has always stored, so rows claimed by an older version still parse.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any, Self


class Payload:
    """What a claim recorded about one message."""

    @property
    def to_partner(self) -> bool:
        """Say whether the message goes to a partner of the learner it is about."""
        return False

    @classmethod
    def from_json(cls, raw: Mapping[str, Any]) -> Self:
        """Parse the payload stored in an outbox row (KeyError/ValueError when malformed)."""
        raise NotImplementedError

    def to_json(self) -> dict[str, Any]:
        """Return the JSON object stored in the outbox row."""
        raise NotImplementedError


@dataclass(frozen=True)
class ReminderPayload(Payload):
    """A daily or snoozed reminder for the study day ``study_date``."""

    study_date: date

    @classmethod
    def from_json(cls, raw: Mapping[str, Any]) -> Self:
        return cls(date.fromisoformat(raw["study_date"]))

    def to_json(self) -> dict[str, Any]:
        return {"study_date": self.study_date.isoformat()}


@dataclass(frozen=True)
class DeadlinePayload(Payload):
    """A reminder DAYS (7 or 1) before a deadline, riding on the reminder of ``study_date``."""

    deadline_id: int
    title: str
    due_date: date
    days: int
    study_date: date

    @classmethod
    def from_json(cls, raw: Mapping[str, Any]) -> Self:
        return cls(int(raw["deadline_id"]), str(raw["title"]),
                   date.fromisoformat(raw["due_date"]), int(raw["days"]),
                   date.fromisoformat(raw["study_date"]))

    def to_json(self) -> dict[str, Any]:
        return {"deadline_id": self.deadline_id, "title": self.title,
                "due_date": self.due_date.isoformat(), "days": self.days,
                "study_date": self.study_date.isoformat()}


@dataclass(frozen=True)
class CelebrationPayload(Payload):
    """A milestone reached on ``reached_on``: the learner's message, or their partner's."""

    milestone_id: str
    reached_on: date
    partner: bool = False

    @property
    def to_partner(self) -> bool:
        return self.partner

    @classmethod
    def from_json(cls, raw: Mapping[str, Any]) -> Self:
        return cls(str(raw["milestone_id"]), date.fromisoformat(raw["reached_on"]),
                   bool(raw.get("partner", False)))

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"milestone_id": self.milestone_id,
                               "reached_on": self.reached_on.isoformat()}
        if self.partner:
            out["partner"] = True
        return out


@dataclass(frozen=True)
class DigestPayload(Payload):
    """The learner's digest of the WEEKS weeks ending with ``study_date``."""

    study_date: date
    weeks: int = 1

    @classmethod
    def from_json(cls, raw: Mapping[str, Any]) -> Self:
        return cls(date.fromisoformat(raw["study_date"]), int(raw.get("weeks", 1)))

    def to_json(self) -> dict[str, Any]:
        return {"study_date": self.study_date.isoformat(), "weeks": self.weeks}


@dataclass(frozen=True)
class PartnerDigestPayload(DigestPayload):
    """The partner's digest of a learner: the same period, only the shared sections."""

    @property
    def to_partner(self) -> bool:
        return True

"""What the dispatcher sends: a registry from message kind to typed payload and builder.

``KINDS`` holds the six kinds (``_kinds``); the claims write payloads with the classes of
``_payloads``; the dispatcher (``bot.scheduling``) prepares each claimed row through a
``KindRegistry`` (``_registry``) and sends the ``Letter`` or records the ``Skip``.
"""

from bot.dispatch._kinds import KINDS
from bot.dispatch._payloads import (
    CelebrationPayload,
    DeadlinePayload,
    DigestPayload,
    PartnerDigestPayload,
    Payload,
    ReminderPayload,
)
from bot.dispatch._registry import Builder, Due, Kind, KindRegistry, Letter, Skip

__all__ = [
    "KINDS",
    "Builder",
    "CelebrationPayload",
    "DeadlinePayload",
    "DigestPayload",
    "Due",
    "Kind",
    "KindRegistry",
    "Letter",
    "PartnerDigestPayload",
    "Payload",
    "ReminderPayload",
    "Skip",
]

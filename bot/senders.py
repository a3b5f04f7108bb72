"""The sender interface the dispatcher delivers through, and the console's sender.

A front (Discord, Slack, the console) implements ``Sender`` for its platform and hands it to
``bot.scheduling.Dispatcher`` in a mapping keyed by platform name. The contract:

- ``send(recipient_platform, recipient_id, message)`` delivers MESSAGE privately to one user
  (a DM on Discord). ``recipient_id`` is the user's id on that platform (``Learner.external_id``
  or ``Partnership.partner_external_id``).
- ``post(platform, channel_id, message, mention_id)`` posts MESSAGE in a channel, mentioning
  ``mention_id`` (the user the message is for). The dispatcher uses it only as the fallback
  for a closed DM, and only for the learner's own short messages (reminders, deadline
  reminders, celebrations), never for digests, which hold scores and notes.
- Both return None on success and raise ``DeliveryError`` on failure: ``permanent=True`` when
  retrying cannot help (closed DMs, unknown user, missing access), ``False`` for a transient
  failure (timeouts, 5xx, rate limits not absorbed by the client); ``code`` carries the
  platform's error code. A user who does not accept DMs MUST raise
  ``DeliveryError(..., permanent=True, code=CLOSED_DM)`` (Discord's 50007) from ``send``:
  that is what triggers the fallback. Any other exception is treated as a permanent failure
  and logged with its traceback; it never stops the dispatcher.
- ``message.text`` and ``message.title`` may contain text a learner typed (topics, notes,
  display names): a sender must not let it mention anyone (Discord: ``AllowedMentions.none()``
  except ``users=[mention_id]`` in ``post``).
- ``message.attachment`` is already rendered (PNG bytes); ``message.buttons`` are neutral
  ``(action, label)`` pairs: Discord shows them as persistent buttons with the stable custom
  id ``"pacer:" + action`` and, on a press, runs
  ``commands.dispatch(actor, bot.messages.command_for_action(action))``.
- The dispatcher already bounds concurrency and the global request rate; a sender sends
  at once and may keep its own per-route rate-limit handling (discord.py does). The rate
  bucket counts ONE token per ``send`` or ``post``, so a sender should spend as few platform
  requests per message as it can: cache what stays valid (the Discord sender keeps the ids
  of DM channels it opened rather than opening one per message) and keep the platform's
  specifics behind this interface, which names no platform type.
"""

from __future__ import annotations

import logging
import sys
from typing import Protocol, TextIO, runtime_checkable

from bot.messages import OutMessage, command_for_action

log = logging.getLogger(__name__)

CLOSED_DM = 50007  # Discord: "Cannot send messages to this user"


class DeliveryError(Exception):
    """A message could not be delivered; PERMANENT says whether a retry could help."""

    def __init__(self, message: str, *, permanent: bool, code: int | None = None) -> None:
        super().__init__(message)
        self.permanent = permanent
        self.code = code

    @property
    def closed_dm(self) -> bool:
        return self.code == CLOSED_DM


@runtime_checkable
class Sender(Protocol):
    """Deliver dispatcher messages on one platform."""

    async def send(self, recipient_platform: str, recipient_id: str,
                   message: OutMessage) -> None:
        """Deliver MESSAGE privately to the user; raise DeliveryError when that fails."""
        ...

    async def post(self, platform: str, channel_id: str, message: OutMessage,
                   mention_id: str | None) -> None:
        """Post MESSAGE in a channel, mentioning MENTION_ID; raise DeliveryError on failure."""
        ...


def format_message(message: OutMessage) -> str:
    """Turn a message into terminal text."""
    parts = [f"== {message.title} ==", message.text]
    if message.buttons:
        parts.append("[" + " · ".join(f"{b.label}: {cmd}" for b in message.buttons
                                      if (cmd := command_for_action(b.action))) + "]")
    if message.attachment is not None:
        parts.append(f"[attachment {message.attachment.filename}: "
                     f"{len(message.attachment.data)} bytes]")
    return "\n".join(parts)


class ConsoleSender:
    """Print messages to a terminal (the console front's sender)."""

    def __init__(self, out: TextIO | None = None) -> None:
        self.out = out

    def _write(self, text: str) -> None:
        print(text, file=self.out or sys.stdout, flush=True)

    async def send(self, recipient_platform: str, recipient_id: str,
                   message: OutMessage) -> None:
        self._write(f"\n📬 for {recipient_id}\n{format_message(message)}")

    async def post(self, platform: str, channel_id: str, message: OutMessage,
                   mention_id: str | None) -> None:
        who = f" for {mention_id}" if mention_id else ""
        self._write(f"\n📢 in #{channel_id}{who}\n{format_message(message)}")

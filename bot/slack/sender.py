"""Deliver the dispatcher's messages on Slack: DMs through a cached channel, paced per channel.

- A DM needs a channel: ``conversations.open`` is called once per user and its answer kept
  in ``dm_channels`` (``bot.dm_channels``, through ``DmChannels``), so later DMs cost one
  request, also after a restart; a channel Slack no longer knows is dropped and reopened.
- ``chat.postMessage`` allows about one message per second per channel: ``ChannelPacer``
  spaces posts to one channel by ``interval`` seconds. Other methods are well within their
  tiers at Pacer's volume; a 429 from any of them is answered by the client's
  ``AsyncRateLimitErrorRetryHandler``, which waits for ``Retry-After`` and sends the same
  request again. Slack did nothing with a refused request, so a retried post appears once.
  The client has no retry on dropped connections: a post whose answer was lost could have
  been delivered, so it is left to the dispatcher (a transient DeliveryError, retried after
  the lease), as for any send the outbox is not sure of.
- Slack's answer decides the failure: errors in ``PERMANENT_ERRORS`` cannot be helped by a
  retry (``DeliveryError(permanent=True)``, the Slack error in ``slack_error`` and the
  message); ``messages_tab_disabled`` is Slack's closed DM and carries ``CLOSED_DM`` so the
  dispatcher falls back to the learner's channel. Anything else is transient.
- The digest chart is uploaded with ``files.getUploadURLExternal``, a POST to the returned
  URL and ``files.completeUploadExternal`` (slack_sdk's ``files_upload_v2``).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

import aiohttp
from slack_sdk.errors import SlackApiError, SlackRequestError
from slack_sdk.web.async_client import AsyncWebClient

from bot import dm_channels
from bot.messages import OutMessage
from bot.senders import CLOSED_DM, DeliveryError
from bot.slack.blocks import fallback_text, message_messages
from bot.store import Store

log = logging.getLogger(__name__)

PLATFORM = "slack"
CLOSED_DM_ERRORS = frozenset({"messages_tab_disabled"})
PERMANENT_ERRORS = frozenset({
    "channel_not_found", "user_not_found", "cannot_dm_bot", "not_in_channel", "is_archived",
    "user_disabled", "account_inactive", "invalid_auth", "not_authed", "token_revoked",
    "missing_scope", "restricted_action", "user_not_visible", "msg_too_long", "no_text",
    "invalid_blocks", "invalid_arguments", "missing_argument", "too_many_attachments",
    "ekm_access_denied", "team_access_not_granted", "channel_is_archived",
    *CLOSED_DM_ERRORS,
})


class SlackDeliveryError(DeliveryError):
    """A Slack delivery failure; ``slack_error`` is Slack's own code (``channel_not_found``)."""

    def __init__(self, message: str, *, permanent: bool, slack_error: str | None,
                 code: int | None = None) -> None:
        super().__init__(message, permanent=permanent, code=code)
        self.slack_error = slack_error


def delivery_error(exc: Exception, what: str) -> SlackDeliveryError:
    """Classify a failed Slack call as a permanent or transient delivery error."""
    if isinstance(exc, SlackApiError):
        error = str(exc.response.get("error") or f"http_{exc.response.status_code}")
        status = exc.response.status_code
        permanent = error in PERMANENT_ERRORS or status in (401, 403, 404)
        return SlackDeliveryError(f"{what}: {error}", permanent=permanent, slack_error=error,
                                  code=CLOSED_DM if error in CLOSED_DM_ERRORS else None)
    return SlackDeliveryError(f"{what}: {type(exc).__name__}: {exc}", permanent=False,
                              slack_error=None)


TRANSPORT_ERRORS = (SlackApiError, SlackRequestError, aiohttp.ClientError, TimeoutError)


class ChannelPacer:
    """Space posts to one channel INTERVAL seconds apart (Slack: about 1 message/s)."""

    def __init__(self, interval: float = 1.0,
                 monotonic: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], Awaitable[Any]] = asyncio.sleep) -> None:
        self.interval = interval
        self.monotonic = monotonic
        self.sleep = sleep
        self._next: dict[str, float] = {}
        self._locks: dict[str, asyncio.Lock] = {}

    async def wait(self, channel: str) -> None:
        """Wait until CHANNEL may receive the next post, and book the slot after it."""
        lock = self._locks.setdefault(channel, asyncio.Lock())
        async with lock:
            ready = self._next.get(channel, 0.0) - self.monotonic()
            if ready > 0:
                await self.sleep(ready)
            self._next[channel] = self.monotonic() + self.interval
        if len(self._next) > 10_000:
            self._forget_idle()

    def _forget_idle(self) -> None:
        now = self.monotonic()
        for channel in [c for c, t in self._next.items() if t < now]:
            self._next.pop(channel, None)
            lock = self._locks.get(channel)
            if lock is not None and not lock.locked():
                self._locks.pop(channel, None)


class DmChannels:
    """Find a user's DM channel with Pacer: memory, then ``dm_channels``, then Slack (once)."""

    def __init__(self, store: Store, client: AsyncWebClient,
                 clock: Callable[[], datetime]) -> None:
        self.store = store
        self.client = client
        self.clock = clock
        self._known: dict[str, str] | None = None  # loaded from dm_channels at first use
        self._lock = asyncio.Lock()

    async def channel_for(self, user_id: str) -> str:
        """Return the DM channel of USER_ID, opening it once (raises SlackApiError)."""
        async with self._lock:
            if self._known is None:
                self._known = await dm_channels.known_channels(self.store, PLATFORM)
        known = self._known.get(user_id)
        if known is not None:
            return known
        response = await self.client.conversations_open(users=user_id)
        channel = str(response["channel"]["id"])
        await dm_channels.remember_channel(self.store, PLATFORM, user_id, channel, self.clock())
        self._known[user_id] = channel
        return channel

    async def drop(self, user_id: str) -> None:
        """Forget USER_ID's channel, stored and in memory (it no longer works)."""
        await dm_channels.forget_channel(self.store, PLATFORM, user_id)
        self.forget(user_id)

    def forget(self, user_id: str) -> None:
        """Drop the memory of USER_ID's channel (after forget-me)."""
        if self._known is not None:
            self._known.pop(user_id, None)


class SlackSender:
    """The dispatcher's Sender for Slack: DMs, fallback posts, the digest chart."""

    def __init__(self, client: AsyncWebClient, dms: DmChannels,
                 pacer: ChannelPacer | None = None) -> None:
        self.client = client
        self.dms = dms
        self.pacer = pacer or ChannelPacer()

    async def send(self, recipient_platform: str, recipient_id: str,
                   message: OutMessage) -> None:
        """DM the user MESSAGE (with its buttons and chart)."""
        if recipient_platform != PLATFORM:
            raise DeliveryError(f"the Slack sender cannot reach {recipient_platform} users",
                                permanent=True)
        try:
            channel = await self.dms.channel_for(recipient_id)
        except TRANSPORT_ERRORS as exc:
            raise delivery_error(exc, f"conversations.open for {recipient_id}") from exc
        try:
            await self.deliver(channel, message, None)
        except SlackDeliveryError as exc:
            if exc.slack_error == "channel_not_found":  # a stale channel: open a new one next
                await self.dms.drop(recipient_id)
            raise

    async def post(self, platform: str, channel_id: str, message: OutMessage,
                   mention_id: str | None) -> None:
        """Post MESSAGE in a channel, mentioning only MENTION_ID."""
        if platform != PLATFORM:
            raise DeliveryError(f"the Slack sender cannot post on {platform}", permanent=True)
        await self.deliver(channel_id, message, mention_id)

    async def deliver(self, channel: str, message: OutMessage, mention_id: str | None) -> None:
        """Post the message's pages, then upload its attachment, in CHANNEL."""
        text = fallback_text(message.title, message.text)
        try:
            for blocks in message_messages(message, mention_id):
                await self.post_blocks(channel, text, blocks)
            if message.attachment is not None:
                file = message.attachment
                await self.client.files_upload_v2(
                    channel=channel, file=file.data, filename=file.filename,
                    title=file.description or file.filename,
                    alt_txt=file.description or file.filename)
        except TRANSPORT_ERRORS as exc:
            raise delivery_error(exc, f"post in {channel}") from exc

    async def post_blocks(self, channel: str, text: str, blocks: list[dict[str, Any]]) -> str:
        """Post one message (paced for its channel, no link_names); return its ts."""
        await self.pacer.wait(channel)
        response = await self.client.chat_postMessage(
            channel=channel, text=text, blocks=blocks, unfurl_links=False, unfurl_media=False)
        return str(response.get("ts", ""))

"""Deliver the dispatcher's messages on Discord: DMs to users, fallback posts in a channel.

A DM costs one REST request in steady state: the DM channel is opened once
(``POST /users/@me/channels``), its id is stored (``bot.dm_channels``) and reused, also after a
restart, and the message goes to it through a ``PartialMessageable``: no user is fetched.
A stored channel Discord no longer knows (10003) is opened again once. Every request passes
the bot's one global limiter (``bot.discord.ratelimit``).

Each message carries the dispatcher's ``dedupe_key`` (its outbox row) as a ``nonce`` with
``enforce_nonce`` (discord.py adds it): Discord then creates a message once per nonce within
a few minutes and answers a repeat with the first, so a row resent after a crash between
the send and its mark, or after an answer lost on the way back, is not delivered twice. A
nonce is at most 25 characters: ``o<row id>.<part>`` (``p`` for a fallback post).
"""

from __future__ import annotations

import asyncio
import io
import logging
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import aiohttp
import discord

from bot import dm_channels
from bot.discord.buttons import button_view
from bot.discord.replies import COLOR_CELEBRATE, COLOR_INFO, pack, text_embeds
from bot.messages import OutMessage
from bot.senders import CLOSED_DM, DeliveryError
from bot.store import Store

log = logging.getLogger(__name__)

PLATFORM = "discord"
UNKNOWN_CHANNEL = 10003
PERMANENT_CODES = {CLOSED_DM, UNKNOWN_CHANNEL, 10013, 50001, 50013, 50033}


def delivery_error(exc: Exception, what: str) -> DeliveryError:
    """Classify a failed request: permanent when retrying cannot help."""
    if isinstance(exc, discord.HTTPException):
        permanent = exc.code in PERMANENT_CODES or exc.status in (401, 403, 404)
        return DeliveryError(f"{what}: {exc.status} {exc.code} {exc.text}",
                             permanent=permanent, code=exc.code or None)
    return DeliveryError(f"{what}: {type(exc).__name__}: {exc}", permanent=False)


def message_embeds(message: OutMessage) -> list[discord.Embed]:
    """Turn a neutral message into embeds (gold for celebrations)."""
    color = COLOR_CELEBRATE if message.kind == "celebration" else COLOR_INFO
    return text_embeds(message.text, title=message.title, color=color)


def _file(message: OutMessage) -> discord.File | None:
    if message.attachment is None:
        return None
    return discord.File(io.BytesIO(message.attachment.data),
                        filename=message.attachment.filename,
                        description=message.attachment.description or None)


class DiscordSender:
    """Deliver scheduler messages: DMs to users, fallback posts in a server channel."""

    def __init__(self, client: discord.Client, store: Store,
                 clock: Callable[[], datetime] = lambda: datetime.now(UTC)) -> None:
        self.client = client
        self.store = store
        self.clock = clock
        self._channels: dict[str, str] | None = None
        self._loading = asyncio.Lock()

    async def _known(self) -> dict[str, str]:
        if self._channels is None:
            async with self._loading:
                if self._channels is None:
                    self._channels = await dm_channels.known_channels(self.store, PLATFORM)
        return self._channels

    async def dm_channel_id(self, user_id: str, *, reopen: bool = False) -> int:
        """Return the DM channel of USER_ID, opening (and storing) it only the first time."""
        known = await self._known()
        if not reopen and (stored := known.get(user_id)) is not None:
            return int(stored)
        data = await self.client.http.start_private_message(int(user_id))
        channel_id = str(data["id"])
        known[user_id] = channel_id
        await dm_channels.remember_channel(self.store, PLATFORM, user_id, channel_id,
                                           self.clock())
        return int(channel_id)

    async def _deliver(self, channel: discord.abc.Messageable, message: OutMessage,
                       content: str | None, mentions: discord.AllowedMentions,
                       where: str) -> None:
        groups = pack(message_embeds(message))
        for index, group in enumerate(groups):
            first, last = index == 0, index == len(groups) - 1
            kwargs: dict[str, Any] = {"embeds": group, "allowed_mentions": mentions}
            if message.dedupe_key:  # discord.py sends it with enforce_nonce
                kwargs["nonce"] = f"{message.dedupe_key}{where}{index}"
            if first and content:
                kwargs["content"] = content
            if first and (file := _file(message)) is not None:
                kwargs["file"] = file
            if last and (view := button_view(message)) is not None:
                kwargs["view"] = view
            await channel.send(**kwargs)

    async def _dm(self, user_id: str, message: OutMessage, *, reopen: bool = False) -> None:
        channel_id = await self.dm_channel_id(user_id, reopen=reopen)
        channel = self.client.get_partial_messageable(channel_id,
                                                      type=discord.ChannelType.private)
        await self._deliver(channel, message, None, discord.AllowedMentions.none(), ".")

    async def send(self, recipient_platform: str, recipient_id: str,
                   message: OutMessage) -> None:
        """DM the user; closed DMs raise DeliveryError(code=50007, permanent=True)."""
        if recipient_platform != PLATFORM:
            raise DeliveryError(f"the Discord sender cannot reach {recipient_platform} users",
                                permanent=True)
        if not recipient_id.isdigit():
            raise DeliveryError(f"{recipient_id!r} is not a Discord user id", permanent=True)
        try:
            try:
                await self._dm(recipient_id, message)
            except discord.NotFound as exc:
                if exc.code != UNKNOWN_CHANNEL:
                    raise
                log.info("stored DM channel of %s is gone; opening it again", recipient_id)
                await self._dm(recipient_id, message, reopen=True)
        except (discord.HTTPException, aiohttp.ClientError, TimeoutError) as exc:
            raise delivery_error(exc, f"DM to {recipient_id}") from exc

    async def post(self, platform: str, channel_id: str, message: OutMessage,
                   mention_id: str | None) -> None:
        """Post in a server channel, pinging only MENTION_ID."""
        if platform != PLATFORM:
            raise DeliveryError(f"the Discord sender cannot post on {platform}", permanent=True)
        if not channel_id.isdigit():
            raise DeliveryError(f"{channel_id!r} is not a Discord channel id", permanent=True)
        mention = mention_id if mention_id and mention_id.isdigit() else None
        mentions = discord.AllowedMentions(
            everyone=False, roles=False, replied_user=False,
            users=[discord.Object(int(mention))] if mention else False)
        content = f"<@{mention}>" if mention else None
        channel = self.client.get_partial_messageable(int(channel_id))
        try:
            await self._deliver(channel, message, content, mentions, "p")
        except (discord.HTTPException, aiohttp.ClientError, TimeoutError) as exc:
            raise delivery_error(exc, f"post in {channel_id}") from exc

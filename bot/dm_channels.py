"""The direct-message channels opened for users, so that a DM costs one request in steady state.

A platform opens a DM channel once (Discord: ``POST /users/@me/channels``); its id is stored
in ``dm_channels`` and reused, also after a restart. "Forget me" deletes a user's row
(``bot.data_rights``). Query helpers never commit: each function runs its own short
transaction through the store.
"""

from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from bot.models import DmChannel
from bot.store import Store

log = logging.getLogger(__name__)


async def known_channels(store: Store, platform: str) -> dict[str, str]:
    """Map each user id of PLATFORM with a stored DM channel to that channel's id."""
    async with store.read() as session:
        rows = await session.execute(select(DmChannel.user_id, DmChannel.channel_id)
                                     .where(DmChannel.platform == platform))
        return {user_id: channel_id for user_id, channel_id in rows}


async def remember_channel(store: Store, platform: str, user_id: str, channel_id: str,
                           opened_at: datetime) -> None:
    """Store (or replace) the DM channel opened for USER_ID."""
    values = {"platform": platform, "user_id": user_id, "channel_id": channel_id,
              "opened_at": opened_at}
    insert = pg_insert if store.dialect == "postgresql" else sqlite_insert
    statement = insert(DmChannel).values(**values)
    statement = statement.on_conflict_do_update(
        index_elements=[DmChannel.platform, DmChannel.user_id],
        set_={"channel_id": channel_id, "opened_at": opened_at})
    async with store.write() as session:
        await session.execute(statement)


async def forget_channel(store: Store, platform: str, user_id: str) -> None:
    """Drop the stored DM channel of USER_ID (it no longer works)."""
    async with store.write() as session:
        await session.execute(delete(DmChannel).where(DmChannel.platform == platform,
                                                      DmChannel.user_id == user_id))

"""Sync the slash commands (``python -m bot sync``, ``/pacer sync``) and build the invite URL.

Commands are synced on request, never on every start: to one guild (instant, the development
guild by default) or globally (up to an hour to appear).
"""

from __future__ import annotations

import logging

import discord
from discord import app_commands

from bot.app import build_core
from bot.config import ConfigError, Settings
from bot.discord.client import PacerBot, apply_discord_urls, create_bot

log = logging.getLogger(__name__)

INVITE_SCOPES = ("bot", "applications.commands")
# What Pacer does in a channel: read it, post embeds and files there, and answer commands.
INVITE_PERMISSIONS = discord.Permissions(
    view_channel=True,
    send_messages=True,
    send_messages_in_threads=True,
    embed_links=True,
    attach_files=True,
    read_message_history=True,
    use_application_commands=True,
)


async def sync_commands(bot: PacerBot, guild_id: int | None) -> list[app_commands.AppCommand]:
    """Sync the slash commands to one guild (copying the global ones) or globally (None)."""
    if guild_id is not None:
        guild = discord.Object(guild_id)
        bot.tree.copy_global_to(guild=guild)
        synced = await bot.tree.sync(guild=guild)
        log.info("synced %d commands to guild %s", len(synced), guild_id)
        return synced
    synced = await bot.tree.sync()
    log.info("synced %d commands globally", len(synced))
    return synced


def sync_target(settings: Settings, guild_id: int | None, global_: bool) -> int | None:
    """Choose the sync target: --global, --guild ID, or the configured development guild."""
    if global_ and guild_id is not None:
        raise ConfigError("choose either --guild ID or --global, not both")
    if global_:
        return None
    target = guild_id or settings.discord.dev_guild_id
    if target is None:
        raise ConfigError("no guild to sync to: pass --guild ID, set discord.dev_guild_id, "
                          "or pass --global (global commands take up to an hour to appear)")
    return target


async def sync_from_cli(settings: Settings, token: str, *, guild_id: int | None = None,
                        global_: bool = False) -> list[str]:
    """Log in (no gateway), sync the commands, and return their names (python -m bot sync)."""
    target = sync_target(settings, guild_id, global_)
    core = await build_core(settings)
    try:
        bot = create_bot(core, settings)
        async with bot:
            await _login(bot, token)  # runs setup_hook: the cogs are loaded
            synced = await sync_commands(bot, target)
    finally:
        await core.close()
    return [c.name for c in synced]


async def _login(client: discord.Client, token: str) -> None:
    try:
        await client.login(token)
    except discord.LoginFailure:
        raise ConfigError("Discord refused the token (check DISCORD_TOKEN)") from None


def invite_url(client_id: int | str) -> str:
    """Build the OAuth2 URL that adds Pacer to a server with the minimal permissions."""
    return discord.utils.oauth_url(client_id, permissions=INVITE_PERMISSIONS,
                                   scopes=INVITE_SCOPES)


async def fetch_application_id(settings: Settings, token: str) -> int:
    """Ask Discord (GET /oauth2/applications/@me) for the application id of TOKEN."""
    apply_discord_urls(settings)
    client = discord.Client(intents=discord.Intents.none())
    async with client:
        await _login(client, token)
        if client.application_id is None:
            raise ConfigError("Discord did not tell the application id; pass --client-id")
        return client.application_id


async def invite_from_cli(settings: Settings, token: str | None,
                          client_id: int | None = None) -> str:
    """Return the invite URL, asking Discord for the application id when none is given."""
    if client_id is None:
        if not token:
            raise ConfigError("pass --client-id, or configure a token so Pacer can ask Discord")
        client_id = await fetch_application_id(settings, token)
    return invite_url(client_id)

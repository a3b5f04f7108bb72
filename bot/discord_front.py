"""The Discord front's glue: the bot class, start-up, sync, invite URL, DM sender, error path.

``run_discord`` is what ``python -m bot run`` calls; ``sync_from_cli`` and ``invite_from_cli``
back ``python -m bot sync`` and ``python -m bot invite``. All three build the bot with
``create_bot``, which points discord.py at the configured REST base and gateway URLs (Discord's
own by default, a REST proxy or the test stand-in otherwise).
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import logging
import pkgutil
import re
import signal
import uuid
from typing import Any

import aiohttp
import discord
import discord.http
import yarl
from discord import app_commands
from discord.ext import commands
from discord.gateway import DiscordWebSocket

import cogs
from bot.app import Core, build_core
from bot.config import ConfigError, Settings
from bot.errors import PacerError
from bot.messages import OutMessage, command_for_action
from bot.scheduling import Dispatcher
from bot.senders import CLOSED_DM, DeliveryError
from cogs import _replies

log = logging.getLogger(__name__)

PLATFORM = "discord"
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
BUTTON_PREFIX = "pacer:"
PERMANENT_CODES = {CLOSED_DM, 10003, 10013, 50001, 50013, 50033}


# --- configuration of discord.py ---------------------------------------------------------


def apply_discord_urls(settings: Settings) -> None:
    """Point discord.py's REST routes and gateway at the configured URLs."""
    discord.http.Route.BASE = settings.discord.rest_base_url.rstrip("/")
    DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(settings.discord.gateway_url)


def cog_names() -> list[str]:
    """List the extension modules of cogs/ (helpers starting with _ are skipped)."""
    return sorted(f"{cogs.__name__}.{m.name}" for m in pkgutil.iter_modules(cogs.__path__)
                  if not m.name.startswith("_"))


# --- persistent buttons ------------------------------------------------------------------


class ActionButton(discord.ui.DynamicItem[discord.ui.Button[Any]],
                   template=r"pacer:(?P<action>[a-z0-9][a-z0-9:_-]{0,90})"):
    """A button whose custom id ``pacer:ACTION`` survives restarts; a press runs its command."""

    def __init__(self, action: str, label: str | None = None) -> None:
        style = (discord.ButtonStyle.primary if action.startswith("log:")
                 else discord.ButtonStyle.secondary)
        super().__init__(discord.ui.Button(label=(label or action)[:80], style=style,
                                           custom_id=f"{BUTTON_PREFIX}{action}"))
        self.action = action

    @classmethod
    async def from_custom_id(cls, interaction: discord.Interaction,
                             item: discord.ui.Button[Any], match: re.Match[str]) -> ActionButton:
        return cls(match["action"], item.label)

    async def callback(self, interaction: discord.Interaction) -> None:
        try:
            await run_button_action(interaction, self.action)
        except Exception as exc:
            await report_error(interaction, exc)


async def run_button_action(interaction: discord.Interaction, action: str) -> None:
    """Run the text command behind a button for the user who pressed it."""
    command = command_for_action(action)
    if command is None:
        raise UnknownButton("This button no longer does anything; use the slash commands.")
    core: Core = interaction.client.core  # type: ignore[attr-defined]
    actor = _replies.actor_of(interaction)
    await _replies.respond(interaction, core.commands.dispatch(actor, command))


def button_view(message: OutMessage) -> discord.ui.View | None:
    """Build the persistent view showing the message's neutral buttons."""
    if not message.buttons:
        return None
    view = discord.ui.View(timeout=None)
    for button in message.buttons[:25]:
        view.add_item(ActionButton(button.action, button.label))
    return view


class UnknownButton(PacerError):
    """A pressed button carries an action this version does not know."""


class OwnerOnly(app_commands.CheckFailure):
    """Only the bot's owner may run this command."""


# --- the error path ----------------------------------------------------------------------


def _unwrap(error: BaseException) -> BaseException:
    while True:
        if isinstance(error, app_commands.CommandInvokeError):
            error = error.original
        elif isinstance(error, app_commands.TransformerError) and isinstance(
                error.__cause__, PacerError):
            error = error.__cause__
        else:
            return error


def error_text(interaction: discord.Interaction, error: BaseException) -> str:
    """Say what went wrong: the domain message, or an apology with a logged error id."""
    original = _unwrap(error)
    if isinstance(original, PacerError):
        return original.message
    if isinstance(original, app_commands.CommandNotFound):
        return (f"/{original.name} is not a command of this Pacer (it may have been renamed "
                "or removed). Type / to see the commands, or /help.")
    if isinstance(original, app_commands.CheckFailure):
        return str(original) or "You cannot use this command here."
    if isinstance(original, app_commands.TransformerError):
        shown = f"{str(original.value)[:40]!r}"
        offered: list[str] = []
        if isinstance(interaction.command, app_commands.Command):
            for param in interaction.command.parameters:
                values = [str(c.value) for c in param.choices]
                if values and str(original.value) not in values:
                    offered = values
                    break
        if offered:
            return f"{shown} is not one of the choices here: {', '.join(offered)}."
        return f"{shown} is not a valid {original.type.name.lower().replace('_', ' ')} here."
    error_id = uuid.uuid4().hex[:8]
    command = interaction.command.qualified_name if interaction.command else interaction.data
    log.error("unexpected error %s in %s (user %s, guild %s)", error_id, command,
              interaction.user.id, interaction.guild_id, exc_info=original)
    return (f"Sorry, something went wrong on Pacer's side. It has been logged as error "
            f"`{error_id}`; please try again, and mention that id if it keeps happening.")


async def report_error(interaction: discord.Interaction, error: BaseException) -> None:
    """Answer an interaction that failed: always ephemeral, never silent."""
    text = error_text(interaction, error)
    try:
        await _replies.send(interaction, [_replies.error_embed(text)], ephemeral=True)
    except discord.HTTPException:
        log.exception("could not tell user %s about an error", interaction.user.id)


# --- the bot -----------------------------------------------------------------------------


class PacerBot(commands.Bot):
    """Pacer on Discord: slash commands from cogs/ over an injected Core."""

    def __init__(self, core: Core, settings: Settings | None = None, *,
                 start_scheduler: bool = False, defer_after: float = _replies.DEFER_AFTER_SECONDS,
                 **options: Any) -> None:
        settings = settings or core.settings
        intents = discord.Intents.none()
        intents.guilds = True  # channel cache for fallback posts; no message content needed
        super().__init__(
            command_prefix=commands.when_mentioned,
            intents=intents,
            help_command=None,
            allowed_mentions=discord.AllowedMentions.none(),
            owner_ids=set(settings.discord.owner_ids),
            allowed_contexts=app_commands.AppCommandContext(guild=True, dm_channel=True),
            allowed_installs=app_commands.AppInstallationType(guild=True, user=False),
            **options,
        )
        self.core = core
        self.settings = settings
        self.defer_after = defer_after
        self.start_scheduler = start_scheduler
        self.scheduler: Dispatcher | None = None
        self.sender = DiscordSender(self)
        self.tree.on_error = self.on_app_command_error  # type: ignore[method-assign]

    async def setup_hook(self) -> None:
        """Load every cog, register the persistent buttons, start the scheduler if asked."""
        for name in cog_names():
            await self.load_extension(name)
        self.add_dynamic_items(ActionButton)
        if self.start_scheduler:
            self.scheduler = await start_scheduler(self)
        log.info("Discord front ready to connect: %d cogs, %d commands", len(self.cogs),
                 len(self.tree.get_commands()))

    async def on_app_command_error(self, interaction: discord.Interaction,
                                   error: app_commands.AppCommandError) -> None:
        """Show domain errors to the user; log anything else with an error id."""
        await report_error(interaction, error)

    async def close(self) -> None:
        """Stop the scheduler (letting in-flight sends finish), then disconnect."""
        scheduler, self.scheduler = self.scheduler, None
        if scheduler is not None:
            await scheduler.stop()
        await super().close()


async def start_scheduler(bot: PacerBot) -> Dispatcher:
    """Start the reminder and digest dispatcher, delivering through the Discord sender."""
    core = bot.core
    dispatcher = Dispatcher(core.store, core.plans, {PLATFORM: bot.sender},
                            settings=core.settings.scheduler, clock=core.tracker.clock)
    await dispatcher.start()
    return dispatcher


def create_bot(core: Core, settings: Settings | None = None, **options: Any) -> PacerBot:
    """Build the PacerBot exactly as `python -m bot run` does (URLs applied first)."""
    settings = settings or core.settings
    apply_discord_urls(settings)
    return PacerBot(core, settings, **options)


def _close_on_signals(bot: PacerBot) -> None:
    """Close the bot on SIGTERM/SIGINT: stop claiming, finish in-flight sends, disconnect."""
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        with contextlib.suppress(NotImplementedError, RuntimeError):  # not on Windows/threads
            loop.add_signal_handler(sig, lambda s=sig: _closing(bot, s))


def _closing(bot: PacerBot, sig: signal.Signals) -> None:
    log.info("received %s: shutting down", sig.name)
    bot.loop.create_task(bot.close())


async def run_discord(settings: Settings, token: str) -> int:
    """Connect to Discord with TOKEN and serve until stopped; return the exit status."""
    core = await build_core(settings)
    try:
        bot = create_bot(core, settings, start_scheduler=True)
        _close_on_signals(bot)
        async with bot:
            await bot.start(token)
    except discord.LoginFailure:
        log.error("Discord refused the token (check DISCORD_TOKEN)")
        return 2
    finally:
        await core.close()
    return 0


# --- sync and invite ---------------------------------------------------------------------


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


# --- delivery for the scheduler ------------------------------------------------------------


def _delivery_error(exc: Exception, what: str) -> DeliveryError:
    if isinstance(exc, discord.HTTPException):
        permanent = exc.code in PERMANENT_CODES or exc.status in (401, 403, 404)
        return DeliveryError(f"{what}: {exc.status} {exc.code} {exc.text}",
                             permanent=permanent, code=exc.code or None)
    return DeliveryError(f"{what}: {type(exc).__name__}: {exc}", permanent=False)


def message_embeds(message: OutMessage) -> list[discord.Embed]:
    """Turn a neutral message into embeds (gold for celebrations)."""
    color = _replies.COLOR_CELEBRATE if message.kind == "celebration" else _replies.COLOR_INFO
    return _replies.text_embeds(message.text, title=message.title, color=color)


def _file(message: OutMessage) -> discord.File | None:
    if message.attachment is None:
        return None
    return discord.File(io.BytesIO(message.attachment.data),
                        filename=message.attachment.filename,
                        description=message.attachment.description or None)


class DiscordSender:
    """Deliver scheduler messages: DMs to users, fallback posts in a server channel."""

    def __init__(self, bot: PacerBot) -> None:
        self.bot = bot

    async def _deliver(self, channel: discord.abc.Messageable, message: OutMessage,
                       content: str | None, mentions: discord.AllowedMentions) -> None:
        groups = _replies.pack(message_embeds(message))
        for index, group in enumerate(groups):
            first, last = index == 0, index == len(groups) - 1
            kwargs: dict[str, Any] = {"embeds": group, "allowed_mentions": mentions}
            if first and content:
                kwargs["content"] = content
            if first and (file := _file(message)) is not None:
                kwargs["file"] = file
            if last and (view := button_view(message)) is not None:
                kwargs["view"] = view
            await channel.send(**kwargs)

    async def send(self, recipient_platform: str, recipient_id: str,
                   message: OutMessage) -> None:
        """DM the user; closed DMs raise DeliveryError(code=50007, permanent=True)."""
        if recipient_platform != PLATFORM:
            raise DeliveryError(f"the Discord sender cannot reach {recipient_platform} users",
                                permanent=True)
        try:
            user_id = int(recipient_id)
        except ValueError:
            raise DeliveryError(f"{recipient_id!r} is not a Discord user id",
                                permanent=True) from None
        try:
            user = self.bot.get_user(user_id) or await self.bot.fetch_user(user_id)
            channel = await user.create_dm()
            await self._deliver(channel, message, None, discord.AllowedMentions.none())
        except (discord.HTTPException, aiohttp.ClientError, TimeoutError) as exc:
            raise _delivery_error(exc, f"DM to {recipient_id}") from exc

    async def post(self, platform: str, channel_id: str, message: OutMessage,
                   mention_id: str | None) -> None:
        """Post in a server channel, pinging only MENTION_ID."""
        if platform != PLATFORM:
            raise DeliveryError(f"the Discord sender cannot post on {platform}", permanent=True)
        try:
            cid = int(channel_id)
        except ValueError:
            raise DeliveryError(f"{channel_id!r} is not a Discord channel id",
                                permanent=True) from None
        mentions = discord.AllowedMentions(everyone=False, roles=False, replied_user=False,
                                           users=[discord.Object(int(mention_id))]
                                           if mention_id and mention_id.isdigit() else False)
        content = f"<@{mention_id}>" if mention_id and mention_id.isdigit() else None
        try:
            channel = self.bot.get_channel(cid) or await self.bot.fetch_channel(cid)
            if not isinstance(channel, discord.abc.Messageable):
                raise DeliveryError(f"channel {channel_id} cannot hold messages", permanent=True)
            await self._deliver(channel, message, content, mentions)
        except (discord.HTTPException, aiohttp.ClientError, TimeoutError) as exc:
            raise _delivery_error(exc, f"post in {channel_id}") from exc


"""The Discord client: PacerBot over an injected Core, start-up, and ``python -m bot run``.

``create_bot`` builds the bot exactly as ``run_discord`` does, pointing discord.py at the
configured REST base and gateway URLs (Discord's own by default, a REST proxy or the test
stand-in otherwise). With ``discord.shard_count`` or ``discord.shard_ids`` set it builds a
``ShardedPacerBot``: the same PacerBot over discord.py's ``AutoShardedBot``, connecting only
this process's shards. Direct messages and DM interactions reach shard 0 alone, so some
process must own shard 0; nothing else here depends on a shard (DMs and the dispatcher's
sends are REST, which any process may use). The cogs are loaded by extension name from the
``cogs`` folder; this package never imports a cog module (the cogs import from it).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import pkgutil
import signal
from pathlib import Path
from typing import Any

import discord
import discord.http
import yarl
from discord import app_commands
from discord.ext import commands
from discord.gateway import DiscordWebSocket

from bot.app import Core, build_core, start_metrics_server
from bot.config import Settings
from bot.discord.buttons import ActionButton
from bot.discord.errors import report_error
from bot.discord.observed import ObservedTree, shard_latencies
from bot.discord.pacing import CONCURRENCY, Pacing
from bot.discord.ratelimit import GlobalLimiter, sweep_buckets_sparingly
from bot.discord.sender import PLATFORM, DiscordSender
from bot.metrics_server import MetricsServer
from bot.scheduling import Dispatcher

log = logging.getLogger(__name__)

COGS_PACKAGE = "cogs"
COGS_FOLDER = Path(__file__).resolve().parents[2] / COGS_PACKAGE


def apply_discord_urls(settings: Settings) -> None:
    """Point discord.py's REST routes and gateway at the configured URLs."""
    discord.http.Route.BASE = settings.discord.rest_base_url.rstrip("/")
    DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(settings.discord.gateway_url)


def cog_names() -> list[str]:
    """List the extension names in the cogs folder (helpers starting with _ are skipped)."""
    return sorted(f"{COGS_PACKAGE}.{m.name}" for m in pkgutil.iter_modules([str(COGS_FOLDER)])
                  if not m.name.startswith("_"))


class PacerBot(commands.Bot):
    """Pacer on Discord: slash commands from cogs/ over an injected Core."""

    def __init__(self, core: Core, settings: Settings | None = None, *,
                 start_scheduler: bool = False, pacing: Pacing | None = None,
                 limiter: GlobalLimiter | None = None, **options: Any) -> None:
        settings = settings or core.settings
        intents = discord.Intents.none()
        intents.guilds = True  # channel cache for fallback posts; no message content needed
        self.limiter = limiter or GlobalLimiter(settings.discord.rate_per_process,
                                                metrics=core.metrics)
        super().__init__(
            tree_cls=ObservedTree,
            command_prefix=commands.when_mentioned,
            intents=intents,
            help_command=None,
            allowed_mentions=discord.AllowedMentions.none(),
            owner_ids=set(settings.discord.owner_ids),
            allowed_contexts=app_commands.AppCommandContext(guild=True, dm_channel=True),
            allowed_installs=app_commands.AppInstallationType(guild=True, user=False),
            http_trace=self.limiter.trace_config(),
            **options,
        )
        self.core = core
        self.settings = settings
        sweep_buckets_sparingly(self.http)  # one bucket per DM channel: sweep on a timer
        # SQLite serialises writers and its busy handler is not fair: commands queued in
        # our own semaphore wait in order instead of timing out in the database.
        self.pacing = pacing or Pacing(
            concurrency=1 if core.store.dialect == "sqlite" else CONCURRENCY)
        self.start_scheduler = start_scheduler
        self.scheduler: Dispatcher | None = None
        self.metrics_server: MetricsServer | None = None
        self.sender = DiscordSender(self, core.store, core.clock)
        core.process.add_front(PLATFORM)
        core.process.shards = lambda: shard_latencies(self)  # the heartbeat reports them
        self.tree.on_error = self.on_app_command_error  # type: ignore[method-assign]

    async def setup_hook(self) -> None:
        """Load every cog, register the persistent buttons, start the scheduler if asked."""
        for name in cog_names():
            await self.load_extension(name)
        self.add_dynamic_items(ActionButton)
        if self.start_scheduler:
            self.scheduler = await start_scheduler(self)
            self.metrics_server = await start_metrics_server(self.core, self.scheduler)
        log.info("Discord front ready to connect: %d cogs, %d commands", len(self.cogs),
                 len(self.tree.get_commands()))

    async def on_app_command_error(self, interaction: discord.Interaction,
                                   error: app_commands.AppCommandError) -> None:
        """Show domain errors to the user; log anything else with an error id."""
        await report_error(interaction, error)

    async def close(self) -> None:
        """Let commands being answered finish, stop the scheduler (and its sends), disconnect.

        A command whose data is written but whose answer is still on its way would otherwise
        lose its answer with the HTTP session (the user sees "thinking…" for good).
        """
        if not await self.pacing.drain(DRAIN_SECONDS):
            log.warning("closing with %d commands still unanswered", self.pacing.in_flight)
        scheduler, self.scheduler = self.scheduler, None
        server, self.metrics_server = self.metrics_server, None
        if server is not None:
            await server.stop()
        if scheduler is not None:
            await scheduler.stop()
        await super().close()


DRAIN_SECONDS = 10.0  # at close, the longest wait for commands still being answered


class ShardedPacerBot(PacerBot, commands.AutoShardedBot):
    """PacerBot over discord.py's AutoShardedBot: the shards of ``discord.shard_ids``."""


def bot_class(settings: Settings) -> type[PacerBot]:
    """Choose the bot's base: sharded when the configuration names shards."""
    return ShardedPacerBot if settings.discord.sharded else PacerBot


def shard_options(settings: Settings) -> dict[str, Any]:
    """Return discord.py's shard arguments for this process (empty: one unsharded bot)."""
    discord_settings = settings.discord
    if not discord_settings.sharded:
        return {}
    ids = discord_settings.shard_ids
    return {"shard_count": discord_settings.shard_count,
            "shard_ids": list(ids) if ids is not None else None}


async def start_scheduler(bot: PacerBot) -> Dispatcher:
    """Start the reminder and digest dispatcher, delivering through the Discord sender."""
    dispatcher = bot.core.dispatcher({PLATFORM: bot.sender})
    await dispatcher.start()
    return dispatcher


def create_bot(core: Core, settings: Settings | None = None, **options: Any) -> PacerBot:
    """Build the PacerBot exactly as `python -m bot run` does (URLs applied first)."""
    settings = settings or core.settings
    apply_discord_urls(settings)
    return bot_class(settings)(core, settings, **{**shard_options(settings), **options})


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

"""Pacer's launcher: ``python -m bot [run|console|migrate|status|sync|invite|backup|export]``."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import logging
import signal
import sys
from collections.abc import Sequence
from pathlib import Path

from sqlalchemy.exc import SQLAlchemyError

from bot.app import build_core, setup_logging, start_metrics_server
from bot.config import ConfigError, Settings, load_settings
from bot.console import PROMPT, ConsoleFront, console_actor
from bot.data_rights import BackupError, backup_sqlite
from bot.errors import PacerError, PlanError
from bot.presenting import present
from bot.senders import Sender
from bot.store import migrate, safe_url

log = logging.getLogger(__name__)

# Subcommands that do one thing and exit: their result is one line on stdout, and only
# warnings reach stderr unless --verbose asks for the log.
ONE_SHOT = frozenset({"migrate", "status", "sync", "invite", "backup", "export"})


async def _console(settings: Settings) -> int:
    core = await build_core(settings)
    front = ConsoleFront(core, settings.console_user,
                         prompt=PROMPT if sys.stdin.isatty() else None)
    # The dispatcher prints through the front's own output, which keeps the prompt in sight.
    dispatcher = front.dispatcher(settings.scheduler)
    await dispatcher.start()  # prints reminders and digests as they fall due
    metrics = await start_metrics_server(core, dispatcher)
    try:
        await front.run()
    finally:
        if metrics is not None:
            await metrics.stop()
        await dispatcher.stop()
        await core.close()
    return 0


async def _status(settings: Settings, as_json: bool) -> int:
    """Print the operator's status report (text, or one JSON object)."""
    core = await build_core(settings, migrate=False)  # a status never changes the schema
    try:
        status = await core.services.status.report()
    except SQLAlchemyError as exc:
        print(f"pacer: cannot read the database at {safe_url(settings.database.url)} "
              f"({type(exc).__name__}); is it migrated (python -m bot migrate)?",
              file=sys.stderr)
        return 2
    finally:
        await core.close()
    if as_json:
        print(json.dumps(status.to_json(), indent=2))
    else:
        print(present(status).text)
    return 0


# The Discord front is imported only by the subcommands that need it: discord.py is a heavy
# import, and the console, migrate, backup and export must work without loading it.

async def _run(settings: Settings) -> int:
    token = settings.discord_token()
    if settings.slack.active:
        return await _serve(settings, token)
    if not token:
        print("No Discord token configured (set DISCORD_TOKEN or discord.token_file) and the "
              "Slack front is off; starting the console front instead.", file=sys.stderr)
        return await _console(settings)
    from bot.discord import run_discord

    return await run_discord(settings, token)


async def _serve(settings: Settings, discord_token: str | None) -> int:
    """Run Slack, and Discord when a token is set, in one loop with ONE dispatcher."""
    from bot.slack.runner import start_slack  # the slack extra: only when Slack runs

    core = await build_core(settings)
    stopping = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, stopping.set)
    slack = None
    try:
        slack = await start_slack(core, settings.slack)
        senders: dict[str, Sender] = {"slack": slack.sender}
        bot = None
        if discord_token:
            from bot.discord import create_bot

            bot = create_bot(core, settings)  # no scheduler of its own: the one below
            senders["discord"] = bot.sender
        dispatcher = core.dispatcher(senders)
        await dispatcher.start()
        metrics = await start_metrics_server(core, dispatcher)
        try:
            if bot is None:
                await stopping.wait()
            else:
                import discord

                async with bot:
                    login = asyncio.create_task(bot.start(discord_token or ""))
                    stop = asyncio.create_task(stopping.wait())
                    done, _ = await asyncio.wait({login, stop},
                                                 return_when=asyncio.FIRST_COMPLETED)
                    if stop in done:
                        await bot.close()
                    stop.cancel()
                    try:
                        await login
                    except discord.LoginFailure:
                        log.error("Discord refused the token (check DISCORD_TOKEN)")
                        return 2
        finally:
            if metrics is not None:
                await metrics.stop()
            await dispatcher.stop()
    finally:
        if slack is not None:
            await slack.stop()
        await core.close()
    return 0


async def _sync(settings: Settings, guild: int | None, global_: bool) -> int:
    token = settings.discord_token()
    if not token:
        print("pacer: sync needs a Discord token (DISCORD_TOKEN or discord.token_file)",
              file=sys.stderr)
        return 2
    from bot.discord import sync_from_cli

    names = await sync_from_cli(settings, token, guild_id=guild, global_=global_)
    where = "globally" if global_ else f"to guild {guild or settings.discord.dev_guild_id}"
    print(f"synced {len(names)} commands {where}: {', '.join(names)}")
    return 0


async def _invite(settings: Settings, client_id: int | None) -> int:
    from bot.discord import invite_from_cli

    print(await invite_from_cli(settings, None if client_id else settings.discord_token(),
                                client_id))
    return 0


def _backup(settings: Settings, dest: str) -> int:
    try:
        path = backup_sqlite(settings.database.url, dest)
    except BackupError as exc:
        print(f"pacer: {exc}", file=sys.stderr)
        return 2
    print(f"backed up the database to {path}")
    return 0


async def _export_file(settings: Settings, user: str, fmt: str) -> bytes | None:
    core = await build_core(settings)
    try:
        file = await core.services.data.export_file(console_actor(user), fmt)
    except PacerError as exc:
        print(f"pacer: {exc.message}", file=sys.stderr)
        return None
    finally:
        await core.close()
    return file.data


def _export(settings: Settings, user: str, fmt: str, dest: str) -> int:
    data = asyncio.run(_export_file(settings, user, fmt))
    if data is None:
        return 2
    Path(dest).expanduser().write_bytes(data)
    print(f"wrote {dest} ({len(data)} bytes)")
    return 0


def _migrate(settings: Settings) -> int:
    migrate(settings.database.url)
    print("database is at the latest schema")
    return 0


def _common_options() -> argparse.ArgumentParser:
    """Build the options every subcommand accepts, before or after its name."""
    common = argparse.ArgumentParser(add_help=False)
    # SUPPRESS: a subcommand's parser must not reset what was given before the subcommand.
    common.add_argument("--config", metavar="PATH", default=argparse.SUPPRESS,
                        help="path to config.toml (default: $PACER_CONFIG or ./config.toml; "
                             "every key has a default)")
    common.add_argument("-v", "--verbose", action="store_true", default=argparse.SUPPRESS,
                        help="show the log on stderr (one-shot commands and the console "
                             "show only warnings without it)")
    return common


def build_parser() -> argparse.ArgumentParser:
    """Build the launcher's argument parser."""
    common = _common_options()
    parser = argparse.ArgumentParser(prog="python -m bot",
                                     description="Run Pacer, or one of its maintenance tasks.",
                                     parents=[common])
    sub = parser.add_subparsers(dest="command")
    run = sub.add_parser("run", parents=[common],
                         help="run on Discord when a token is configured, else the console "
                              "(the default)")
    console = sub.add_parser("console", parents=[common],
                             help="run the console front as the local learner")
    for running in (run, console):
        running.add_argument("--json", dest="log_json", action="store_true", default=None,
                             help="log one JSON object per line (also: log_json = true)")
    sub.add_parser("migrate", parents=[common], help="apply database migrations and exit")
    status = sub.add_parser("status", parents=[common],
                            help="show the version, database, schema, learners, dispatcher "
                                 "lag, outbox and running processes, then exit")
    status.add_argument("--json", action="store_true", help="print the report as JSON")
    sync = sub.add_parser("sync", parents=[common],
                          help="sync the Discord slash commands, then exit")
    where = sync.add_mutually_exclusive_group()
    where.add_argument("--guild", type=int, metavar="ID",
                       help="sync to this guild (default: discord.dev_guild_id)")
    where.add_argument("--global", dest="global_", action="store_true",
                       help="sync globally (takes up to an hour to reach every server)")
    invite = sub.add_parser("invite", parents=[common],
                            help="print the URL that adds the bot to a server")
    invite.add_argument("--client-id", type=int, metavar="ID",
                        help="the application id (default: ask Discord with the token)")
    backup = sub.add_parser("backup", parents=[common],
                            help="copy the SQLite database safely while the bot runs")
    backup.add_argument("path", help="the backup file to write")
    export = sub.add_parser("export", parents=[common],
                            help="export a console learner's data to a file")
    export.add_argument("--user", required=True, help="the console learner's name")
    export.add_argument("--format", default="markdown", choices=("markdown", "json", "csv"))
    export.add_argument("path", help="the file to write")
    return parser


def stderr_level(command: str, settings: Settings, verbose: bool) -> int | None:
    """Return the lowest level shown on stderr (None: the configured log level)."""
    if verbose:
        return None
    # In the console the terminal is the conversation; a one-shot's output is its result.
    interactive = command == "console" or (command == "run" and not settings.discord_token()
                                           and not settings.slack.active)
    return logging.WARNING if interactive or command in ONE_SHOT else None


def main(argv: Sequence[str] | None = None) -> int:
    """Parse the command line, set up logging and run one subcommand."""
    args = build_parser().parse_args(argv)
    command = args.command or "run"
    try:
        settings = load_settings(getattr(args, "config", None))
        secrets = [s for s in (settings.discord_token(), *settings.slack.secrets()) if s]
    except ConfigError as exc:
        print(f"pacer: configuration error: {exc}", file=sys.stderr)
        return 2
    setup_logging(settings, secrets,
                  stderr_level=stderr_level(command, settings, getattr(args, "verbose", False)),
                  json_lines=getattr(args, "log_json", None))
    try:
        if command == "migrate":
            return _migrate(settings)
        if command == "status":
            return asyncio.run(_status(settings, args.json))
        if command == "console":
            return asyncio.run(_console(settings))
        if command == "backup":
            return _backup(settings, args.path)
        if command == "export":
            return _export(settings, args.user, args.format, args.path)
        if command == "sync":
            return asyncio.run(_sync(settings, args.guild, args.global_))
        if command == "invite":
            return asyncio.run(_invite(settings, args.client_id))
        return asyncio.run(_run(settings))
    except (PlanError, ConfigError) as exc:
        print(f"pacer: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())

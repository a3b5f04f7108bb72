"""Pacer's launcher: ``python -m bot [run|console|migrate|sync|invite|backup]``."""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from collections.abc import Sequence

from bot.app import build_core, setup_logging
from bot.config import ConfigError, Settings, load_settings
from bot.errors import PlanError

log = logging.getLogger("bot")


async def _console(settings: Settings) -> int:
    from bot.console import ConsoleFront

    core = await build_core(settings)
    try:
        await ConsoleFront(core, settings.console_user).run()
    finally:
        await core.close()
    return 0


async def _run(settings: Settings) -> int:
    token = settings.discord_token()
    if not token:
        print("No Discord token configured (set DISCORD_TOKEN or discord.token_file); "
              "starting the console front instead.", file=sys.stderr)
        return await _console(settings)
    from bot.discord_front import run_discord

    return await run_discord(settings, token)


def _migrate(settings: Settings) -> int:
    from bot.store import migrate

    migrate(settings.database.url)
    print("database is at the latest schema")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m bot", description=__doc__)
    parser.add_argument("--config", help="path to config.toml (default: $PACER_CONFIG or "
                                         "./config.toml; every key has a default)")
    sub = parser.add_subparsers(dest="command")
    sub.add_parser("run", help="run on Discord when a token is configured, else the console "
                               "(the default)")
    sub.add_parser("console", help="run the console front as the local learner")
    sub.add_parser("migrate", help="apply database migrations and exit")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        settings = load_settings(args.config)
    except ConfigError as exc:
        print(f"pacer: configuration error: {exc}", file=sys.stderr)
        return 2
    secrets = []
    try:
        secrets = [s for s in (settings.discord_token(), settings.slack.bot_token,
                               settings.slack.signing_secret) if s]
    except ConfigError as exc:
        print(f"pacer: configuration error: {exc}", file=sys.stderr)
        return 2
    setup_logging(settings, secrets)
    command = args.command or "run"
    try:
        if command == "migrate":
            return _migrate(settings)
        if command == "console":
            return asyncio.run(_console(settings))
        return asyncio.run(_run(settings))
    except (PlanError, ConfigError) as exc:
        print(f"pacer: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())

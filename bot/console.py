"""The console front: the same command grammar as Slack, typed in a terminal, as a local learner."""

from __future__ import annotations

import asyncio
import logging
import sys
from collections.abc import Callable
from typing import TextIO

from bot.actors import Actor
from bot.app import Core
from bot.replies import Reply

log = logging.getLogger(__name__)

PLATFORM = "console"
BANNER = ("Pacer console — type /help for the commands, /quit to leave. "
          "New here? Start with `/start Europe/Berlin` (your own IANA timezone).")


def format_reply(reply: Reply) -> str:
    """Turn a reply into terminal text."""
    parts = []
    if reply.error:
        parts.append(f"✗ {reply.text}")
    else:
        if reply.title:
            parts.append(f"== {reply.title} ==")
        parts.append(reply.text)
    for c in reply.celebrations:
        parts.append(f"🎉 {c.kind.capitalize()} reached: {c.title} ({c.reached_on.isoformat()})")
    for n in reply.notices:
        parts.append(f"ℹ️ {n}")
    if reply.attachment is not None:
        parts.append(f"[attachment {reply.attachment.filename}: {len(reply.attachment.data)} "
                     "bytes]")
    return "\n".join(parts)


def console_actor(name: str) -> Actor:
    return Actor(PLATFORM, name, name, space_id="console")


class ConsoleFront:
    """Read lines, run them as the local learner, print the replies."""

    def __init__(self, core: Core, user: str, out: TextIO = sys.stdout) -> None:
        self.core = core
        self.actor = console_actor(user)
        self.out = out

    def write(self, text: str) -> None:
        print(text, file=self.out, flush=True)

    async def handle(self, line: str) -> str | None:
        """Run one line and return what to print (None for a blank line)."""
        line = line.strip()
        if not line or line.startswith("#"):
            return None
        if line.lower() in {"/as", "/whoami"}:
            return f"You are {self.actor.external_id}."
        if line.lower().startswith("/as "):
            # Switch the local learner, e.g. to act as an accountability partner.
            name = line[4:].strip()
            if not name or len(name) > 64:
                return "✗ Give a name of 1 to 64 characters, e.g. `/as alice`."
            self.actor = console_actor(name)
            return f"You are now {name}."
        reply = await self.core.grammar.dispatch(self.actor, line, resolve_user=console_actor)
        return format_reply(reply)

    async def run(self, read_line: Callable[[], str] | None = None) -> None:
        """Loop until end of input or /quit."""
        reader = read_line or sys.stdin.readline
        self.write(BANNER)
        loop = asyncio.get_running_loop()
        while True:
            if sys.stdin.isatty() and read_line is None:
                print("pacer> ", end="", file=self.out, flush=True)
            line = await loop.run_in_executor(None, reader)
            if not line:
                break
            if line.strip().lower() in {"/quit", "/exit"}:
                break
            try:
                text = await self.handle(line)
            except Exception:  # one bad line must not end the session
                log.exception("console command failed: %r", line)
                text = "✗ Something went wrong; the details are in the log."
            if text:
                self.write(text)

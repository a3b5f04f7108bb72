"""The console front: the same command grammar as Slack, typed in a terminal, as a local learner."""

from __future__ import annotations

import asyncio
import io
import logging
import sys
from collections.abc import Callable
from typing import TextIO

from bot.actors import Actor
from bot.app import Core
from bot.config import SchedulerSettings
from bot.grammar import Grammar, command_name
from bot.metrics import observe
from bot.replies import Reply
from bot.scheduling import Dispatcher
from bot.senders import ConsoleSender

log = logging.getLogger(__name__)

PLATFORM = "console"
PROMPT = "pacer> "
BANNER = ("Pacer console — type /help for the commands, /quit to leave. "
          "New here? Start with `/start Europe/Berlin` (your own IANA timezone).")
# Lines the console answers itself, before the command grammar sees them.
WHOAMI_COMMANDS = frozenset({"/as", "/whoami"})
QUIT_COMMANDS = frozenset({"/quit", "/exit"})
CONSOLE_COMMANDS = WHOAMI_COMMANDS | QUIT_COMMANDS
NAME_MAX = 64


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
    """Return the actor of the local learner NAME."""
    return Actor(PLATFORM, name, name, space_id="console")


def is_quit(line: str) -> bool:
    """Tell whether LINE asks to leave the console."""
    return line.strip().lower() in QUIT_COMMANDS


class Terminal:
    """The output the console front and its sender share; keeps the prompt in sight.

    Replies are printed between two reads. The dispatcher's messages (reminders, digests,
    notices) arrive at any time, also while the learner sits at the prompt: the prompt is then
    printed again after each of them, so the learner never types on a bare line.
    """

    def __init__(self, out: TextIO, prompt: str | None) -> None:
        self.out = out
        self.prompt = prompt
        self.at_prompt = False

    def write(self, text: str) -> None:
        """Print one reply or banner line."""
        print(text, file=self.out, flush=True)

    def ask(self) -> None:
        """Show the prompt before a read."""
        self.at_prompt = True
        if self.prompt:
            print(self.prompt, end="", file=self.out, flush=True)

    def answered(self) -> None:
        """Note that the learner entered a line: the prompt is gone."""
        self.at_prompt = False

    def message(self, text: str) -> None:
        """Print an asynchronous message, then the prompt again if the learner was at it."""
        self.out.write(text)
        if self.at_prompt and self.prompt:
            self.out.write(self.prompt)
        self.out.flush()


class _MessageStream(io.TextIOBase):
    """A text stream for ConsoleSender: each flushed write is one message to the terminal."""

    def __init__(self, terminal: Terminal) -> None:
        super().__init__()
        self.terminal = terminal
        self.pending: list[str] = []

    def writable(self) -> bool:
        return True

    def write(self, text: str) -> int:
        self.pending.append(text)
        return len(text)

    def flush(self) -> None:
        # ConsoleSender prints each message with flush=True: a flush ends one message.
        if self.pending:
            text, self.pending = "".join(self.pending), []
            self.terminal.message(text)


class ConsoleFront:
    """Read lines, run them as the local learner, print the replies."""

    def __init__(self, core: Core, user: str, out: TextIO = sys.stdout, *,
                 prompt: str | None = None) -> None:
        self.core = core
        # `/partner invite bob` names a local learner: the console resolves names to actors.
        self.grammar = Grammar(core.services, resolve_user=console_actor)
        self.actor = console_actor(user)
        self.terminal = Terminal(out, prompt)

    @property
    def out(self) -> TextIO:
        return self.terminal.out

    def write(self, text: str) -> None:
        """Print TEXT on the console."""
        self.terminal.write(text)

    def sender(self) -> ConsoleSender:
        """Return the sender the dispatcher prints through, sharing this console's output."""
        return ConsoleSender(_MessageStream(self.terminal))

    def dispatcher(self, settings: SchedulerSettings) -> Dispatcher:
        """Build the dispatcher that prints reminders and digests on this console."""
        return self.core.dispatcher({PLATFORM: self.sender()}, settings=settings)

    async def reply(self, line: str) -> Reply | None:
        """Run one line and return its reply (None for a blank line or a comment)."""
        line = line.strip()
        if not line or line.startswith("#"):
            return None
        # One log line and one metric per line typed (never its arguments).
        name = command_name(line, also=(c.lstrip("/") for c in WHOAMI_COMMANDS))
        with observe(name, PLATFORM, self.core.metrics) as seen:
            reply = await self._reply(line)
            if reply.error:
                seen.input_error()
            return reply

    async def _reply(self, line: str) -> Reply:
        if line.lower() in WHOAMI_COMMANDS:
            return Reply(f"You are {self.actor.external_id}.")
        if line.lower().startswith("/as "):
            # Switch the local learner, e.g. to act as an accountability partner.
            name = line[4:].strip()
            if not name or len(name) > NAME_MAX:
                return Reply(f"Give a name of 1 to {NAME_MAX} characters, e.g. `/as alice`.",
                             error=True)
            self.actor = console_actor(name)
            return Reply(f"You are now {name}.")
        return await self.grammar.dispatch(self.actor, line)

    async def handle(self, line: str) -> str | None:
        """Run one line and return what to print (None for a blank line)."""
        reply = await self.reply(line)
        return None if reply is None else format_reply(reply)

    async def run(self, read_line: Callable[[], str] | None = None) -> None:
        """Loop until end of input or /quit."""
        reader = read_line or sys.stdin.readline
        self.write(BANNER)
        loop = asyncio.get_running_loop()
        while True:
            self.terminal.ask()
            try:
                line = await loop.run_in_executor(None, reader)
            finally:
                self.terminal.answered()
            if not line or is_quit(line):
                break
            try:
                text = await self.handle(line)
            except Exception:  # one bad line must not end the session
                log.exception("console command failed")  # the line itself may be personal
                text = "✗ Something went wrong; the details are in the log."
            if text:
                self.write(text)

"""Every command example of the README (and of /help) runs on the console for a learner.

The examples are read from ``README.md``: every code span of the Commands table's Example
column, and every other code span that starts with ``/``. A span with a placeholder
(``DATE``, ``[N]``, ``a|b``, ``…``) is a usage line, and a span of one word in the prose
names a command: those are checked to name a command that exists. Everything else is run (a
usage line without placeholders, such as ``/progress``, is a whole command), each example for
its own fresh learner after the preconditions it needs; a reply flagged as an error fails.
The examples `/help COMMAND` shows (``bot.catalogue.CATALOGUE``) are run the same way.
"""

from __future__ import annotations

import io
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.app import build_core
from bot.catalogue import CATALOGUE
from bot.config import DatabaseSettings, Settings
from bot.console import CONSOLE_COMMANDS, ConsoleFront, format_reply
from tests.conftest import FakeClock

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
LEARNER = "learner"
# Thursday 3 December 2026, 13:00 in Berlin; the learner started on Monday. The README's
# dates are after it (deadlines, pause) or on it (the mock interview of 3 December).
NOW = datetime(2026, 12, 3, 12, 0, tzinfo=UTC)
START = "/start Europe/Berlin start=2026-11-30"

# Examples written the Discord way: the console runs the equivalent given (None: there is
# none, the command exists only on Discord). Kept to a few entries.
DISCORD_ONLY: dict[str, str | None] = {
    "/settings set public off": "/settings public=off",  # Discord's subcommand with options
    "/pacer plan": "/plan use vllm",  # a server manager's command: the server's plan
    "/pacer channel": None,  # a server manager's command: the server's home channel
    "/pacer sync": None,  # the owner's command: syncs the slash commands with Discord
    "/pacer status": None,  # the owner's status report (Discord, Slack; the CLI's status)
}

# What an example needs done first, after `/start`: lines run as the learner (`/as` switches).
PRECONDITIONS: dict[str, list[str]] = {
    # Onboarding examples are for someone who has not started yet.
    "/start Europe/Berlin": ["/as newcomer"],
    "/start Europe/Berlin target=2027-01-15 hours=4 reminder=19:30": ["/as newcomer"],
    "/undo": ["/log 1h"],
    "/resume": ["/pause until 2026-12-27"],
    "/undone day05": ["/done day05"],
    "/notes remove 3": ["/insight week1 one", "/question two?", "/insight week1 three"],
    "/partner share hours,days,streak": ["/partner invite partner", "/as partner",
                                         "/partner accept", f"/as {LEARNER}"],
    # The learner's own tracker file, exported where the example reads it.
    "/import ~/tracker.md": ["/export markdown ~/tracker.md"],
    "/import tracker.md": ["/export markdown tracker.md"],
    # A file that differs from the database, so that the import has something to confirm.
    "/import confirm": ["/log 1h", "/export markdown ~/tracker.md", "/undo",
                        "/import ~/tracker.md"],
    "/forget-me confirm": ["/forget-me"],
}

PLACEHOLDER = re.compile(r"\b[A-Z][A-Z_]+\b|\[|…|\|")
CELL_SPLIT = re.compile(r"(?<!\\)\|")
SPAN = re.compile(r"`([^`\n]+)`")


@dataclass(frozen=True)
class Example:
    """A code span of the README that starts with `/`, and where it was found."""

    text: str
    line: int
    column: str  # "usage" or "example" in the Commands table, else "text"

    @property
    def command(self) -> str:
        return self.text.split()[0].lower()

    @property
    def runs(self) -> bool:
        """Tell whether it is a whole command to run, not a usage line or a command's name."""
        if self.column == "example":
            return True
        if PLACEHOLDER.search(re.sub(r'"[^"]*"', "", self.text)):
            return False
        return self.column == "usage" or len(self.text.split()) > 1


def readme_examples(text: str) -> list[Example]:
    """List every code span starting with `/` outside code blocks, the Example column's all."""
    found: list[Example] = []
    in_block = False
    section = ""
    for number, line in enumerate(text.splitlines(), start=1):
        if line.startswith("```"):
            in_block = not in_block
            continue
        if in_block:
            continue
        if line.startswith("## "):
            section = line[3:].strip()
        cells = CELL_SPLIT.split(line.strip().strip("|")) if line.startswith("|") else []
        if section == "Commands" and len(cells) == 3 and cells[0].strip().startswith("`/"):
            parts = [(cells[0], "usage"), (cells[1], "example"), (cells[2], "text")]
        else:
            parts = [(line, "text")]
        for part, column in parts:
            for span in SPAN.findall(part):
                # In a table a literal | is written \|, also inside code spans.
                span = span.replace("\\|", "|").strip()
                if span.startswith("/") and len(span) > 1:
                    found.append(Example(span, number, column))
    return found


EXAMPLES = readme_examples(README.read_text(encoding="utf-8"))
# The console's own commands (/as, /quit) are run by test_console_commands_are_run_by_the_loop.
RUN = sorted({DISCORD_ONLY.get(e.text, e.text) for e in EXAMPLES if e.runs}
             - {None} - CONSOLE_COMMANDS)
HELP = sorted({c.example for c in CATALOGUE.values()})
NAMED = sorted({e.command for e in EXAMPLES if not e.runs} - {"/pacer"} - CONSOLE_COMMANDS)


def test_the_readme_has_examples_of_every_kind() -> None:
    # The extraction must find what the checks below are about, or they prove nothing.
    assert len([e for e in EXAMPLES if e.column == "example"]) >= 30
    assert {"/done d5", "/undone day05", "/import confirm", "/log 4h", "/progress"} <= set(RUN)
    assert {"/pause", "/import", "/log"} <= set(NAMED)
    assert set(DISCORD_ONLY) <= {e.text for e in EXAMPLES}  # no stale exclusions
    assert set(PRECONDITIONS) <= set(RUN) | set(HELP)  # no stale preconditions
    assert "/partner invite USER" not in RUN and "/pause until DATE" not in RUN
    assert len(HELP) >= 30 and "/help log" in HELP


def test_the_extraction_reads_table_cells_and_prose() -> None:
    text = ("## Commands\n| Command | Example | What |\n|---|---|---|\n"
            "| `/x ARG` / `/x` | `/x 1 \\| 2`, `/x b` | see `/y now` and `/z` |\n"
            "## Other\nRun `/w it`, not `/w DATE`, and `/v`.\n```sh\n`/u block`\n```\n")
    found = [(e.text, e.column, e.runs) for e in readme_examples(text)]
    assert found == [("/x ARG", "usage", False), ("/x", "usage", True),
                     ("/x 1 | 2", "example", True), ("/x b", "example", True),
                     ("/y now", "text", True), ("/z", "text", False),
                     ("/w it", "text", True), ("/w DATE", "text", False), ("/v", "text", False)]


@pytest.fixture
async def front(tmp_path: Path, sqlite_template: Path,
                monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[ConsoleFront]:
    """Yield a console front on a fresh SQLite file, for a learner who ran `/start`."""
    monkeypatch.setenv("HOME", str(tmp_path))  # `~/tracker.md` lands in the test's folder
    monkeypatch.chdir(tmp_path)  # and so does `tracker.md`
    db = tmp_path / "pacer.sqlite3"
    db.write_bytes(sqlite_template.read_bytes())
    settings = Settings(database=DatabaseSettings(url=f"sqlite+aiosqlite:///{db}"))
    core = await build_core(settings, clock=FakeClock(NOW), migrate=False)
    console = ConsoleFront(core, LEARNER, out=io.StringIO())
    try:
        await run_ok(console, START, "the onboarding")
        yield console
    finally:
        await core.close()


async def run_ok(console: ConsoleFront, line: str, why: str) -> str:
    """Run LINE on the console; fail, naming WHY, when its reply is an error."""
    reply = await console.reply(line)
    assert reply is not None, f"{why}: {line!r} is not a command"
    assert not reply.error, f"{why}: `{line}` answered: {format_reply(reply)}"
    return format_reply(reply)


@pytest.mark.parametrize("example", RUN)
async def test_the_readme_example_runs(front: ConsoleFront, example: str) -> None:
    for line in PRECONDITIONS.get(example, []):
        await run_ok(front, line, f"precondition of `{example}`")
    await run_ok(front, example, f"README example (line {lines_of(example)})")


@pytest.mark.parametrize("example", HELP)
async def test_the_help_example_runs(front: ConsoleFront, example: str) -> None:
    for line in PRECONDITIONS.get(example, []):
        await run_ok(front, line, f"precondition of `{example}`")
    names = [n for n, c in CATALOGUE.items() if c.example == example]
    await run_ok(front, example, f"the example of /help {', '.join(names)}")


def lines_of(example: str) -> str:
    """Name the README lines where EXAMPLE (or the Discord form it stands for) appears."""
    forms = {example} | {k for k, v in DISCORD_ONLY.items() if v == example}
    return ", ".join(str(n) for n in sorted({e.line for e in EXAMPLES if e.text in forms}))


@pytest.mark.parametrize("command", NAMED)
async def test_the_readme_names_only_commands_that_exist(front: ConsoleFront,
                                                         command: str) -> None:
    lines = sorted({e.line for e in EXAMPLES if e.command == command})
    await run_ok(front, f"/help {command}",
                 f"README names {command} (line {', '.join(map(str, lines))})")


async def test_console_commands_are_run_by_the_loop(front: ConsoleFront) -> None:
    named = {e.command for e in EXAMPLES} & CONSOLE_COMMANDS
    assert {"/as", "/quit"} <= named
    lines = ["/as partner\n", "/whoami\n", "/quit\n", "/log 1h\n"]
    await front.run(lambda: lines.pop(0) if lines else "")
    assert isinstance(front.out, io.StringIO)
    out = front.out.getvalue()
    assert "You are now partner." in out and "You are partner." in out
    assert lines == ["/log 1h\n"]  # /quit ended the loop before the next line

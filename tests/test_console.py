"""The console front end to end: a week of study typed as lines, on a real SQLite file."""

from __future__ import annotations

import asyncio
import io
import os
import queue
import subprocess
import sys
import threading
from datetime import UTC, datetime
from pathlib import Path

from bot.app import build_core
from bot.config import DatabaseSettings, SchedulerSettings, Settings
from bot.console import PLATFORM, PROMPT, ConsoleFront
from bot.messages import OutMessage
from tests.conftest import FakeClock

ROOT = Path(__file__).resolve().parents[1]

WEEK = [
    "/start Europe/Berlin start=2026-11-23 target=2027-01-15 hours=3 weeks=7",
    "/log 3h codebase tour 2026-11-23",
    "/done day01 2026-11-23",
    "/log 2h30m paged attention 2026-11-24",
    "/done day02 2026-11-24",
    "/log 4h block manager 2026-11-25",
    "/log 1h block manager 2026-11-26",
    "/done day03 2026-11-26",
    "/log 90m kernels 2026-11-28",
    "/log 2h kernels 2026-11-29",
    "/quiz week1 17/20",
    "/mock 8 \"clear on paging\" 2026-11-29",
    "/rate pagedattention 4 1",
    "/rate cuda kernels 2 1",
    "/confidence pa 4",
    "/count cuda-basic +2",
]


async def test_a_console_week_shows_correct_figures(tmp_path: Path) -> None:
    clock = FakeClock(datetime(2026, 11, 29, 20, 0, tzinfo=UTC))  # Sunday evening in Berlin
    settings = Settings(database=DatabaseSettings(url=f"sqlite+aiosqlite:///{tmp_path}/p.db"))
    core = await build_core(settings, clock=clock)
    out = io.StringIO()
    front = ConsoleFront(core, "learner", out=out)
    try:
        for line in WEEK:
            text = await front.handle(line)
            assert text is not None and not text.startswith("✗"), (line, text)
        progress = await front.handle("/progress")
        week = await front.handle("/week")
        skills = await front.handle("/skills")
        summary = await front.handle("/summary")
    finally:
        await core.close()
    assert "Week 1: [██████░] 6/7 days" in progress  # all but Friday 27th
    assert "Hours Invested**: 14 / 150-200 hours" in progress
    assert "Days Completed**: 3 / 14" in progress
    assert "Current Streak**: 2 days" in progress  # Sat and Sun; Friday broke it
    assert "Day 3 Wed 25 Nov:     4h | Topics: block manager" in week
    assert "Day 5 Fri 27 Nov:     0h | Topics: —" in week
    assert "Total: 14h (commitment 21h)" in week
    assert "CUDA Kernels   | 2  | —  | —  | —  | 5" in skills
    assert "**Overall Average**: 3 / 5" in skills
    assert "**Total Time Invested**: 14 hours" in summary
    assert "**Mock Interview Average**: 8 / 10" in summary
    assert "**Average Quiz Score**: 17 / 20" in summary
    assert "**Confidence Level**: 4 / 5" in summary


async def test_console_reports_errors_and_switches_learner(tmp_path: Path) -> None:
    settings = Settings(database=DatabaseSettings(url=f"sqlite+aiosqlite:///{tmp_path}/p.db"))
    core = await build_core(settings)
    front = ConsoleFront(core, "alice", out=io.StringIO())
    try:
        assert (await front.handle("/log 2h")).startswith("✗ You have not started")
        await front.handle("/start Europe/Berlin")
        invited = await front.handle("/partner invite bob")
        assert "Invited bob" in invited
        assert await front.handle("/as bob") == "You are now bob."
        assert "accountability partner" in await front.handle("/partner accept")
        assert await front.handle("   ") is None
    finally:
        await core.close()


def test_python_m_bot_without_token_starts_the_console(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k not in {"DISCORD_TOKEN", "PACER_CONFIG"}}
    # The subprocess must import this tree, not whatever copy of bot is installed.
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), env.get("PYTHONPATH")) if p)
    script = "/start Asia/Kolkata\n/log 2h setup\n/progress\n/quit\n"
    result = subprocess.run(
        [sys.executable, "-m", "bot"], input=script, capture_output=True, text=True,
        cwd=tmp_path, env=env, timeout=120, check=False)
    assert result.returncode == 0, result.stderr
    assert "No Discord token configured" in result.stderr
    assert "Logged 2h on" in result.stdout
    assert "Hours Invested**: 2 / 150-200" in result.stdout
    assert (tmp_path / "data" / "pacer.sqlite3").exists()


class ScriptedReader:
    """Feed the console loop its lines one at a time, and tell when it waits for the next."""

    def __init__(self) -> None:
        self.lines: queue.Queue[str] = queue.Queue()
        self.asked = threading.Semaphore(0)

    def __call__(self) -> str:  # runs in the loop's executor thread
        self.asked.release()
        return self.lines.get(timeout=30)

    async def until_asked(self) -> None:
        assert await asyncio.to_thread(self.asked.acquire, timeout=30), "the loop never read"


async def test_the_prompt_comes_back_after_a_reminder(tmp_path: Path,
                                                      sqlite_template: Path) -> None:
    db = tmp_path / "p.db"
    db.write_bytes(sqlite_template.read_bytes())
    clock = FakeClock(datetime(2026, 11, 30, 12, 0, tzinfo=UTC))  # Monday 13:00 in Berlin
    core = await build_core(Settings(database=DatabaseSettings(url=f"sqlite+aiosqlite:///{db}")),
                            clock=clock, migrate=False)
    out = io.StringIO()
    front = ConsoleFront(core, "learner", out=out, prompt=PROMPT)
    dispatcher = front.dispatcher(SchedulerSettings(rate_per_second=0))  # as the launcher does
    reader = ScriptedReader()
    loop = asyncio.create_task(front.run(reader))
    try:
        await reader.until_asked()
        reader.lines.put("/start Europe/Berlin reminder=19:00\n")
        await reader.until_asked()
        assert out.getvalue().endswith(f"\n{PROMPT}")  # the reply, then the prompt
        clock.set(datetime(2026, 11, 30, 18, 0, tzinfo=UTC))  # 19:00 in Berlin
        await dispatcher.tick()  # the learner sits at the prompt meanwhile
        text = out.getvalue()
        reminder = text.rindex("📬 for learner\n== Daily reminder ==")
        after = text[reminder:]
        assert after.endswith(f"]\n{PROMPT}") and after.count(PROMPT) == 1, text
        assert text[:reminder].endswith(f"{PROMPT}\n")  # it left the old prompt's line
        reader.lines.put("/quit\n")
        await asyncio.wait_for(loop, 30)
    finally:
        if not loop.done():
            reader.lines.put("")
            await loop
        await core.close()


async def test_a_message_between_two_reads_adds_no_prompt(tmp_path: Path,
                                                          sqlite_template: Path) -> None:
    db = tmp_path / "p.db"
    db.write_bytes(sqlite_template.read_bytes())
    core = await build_core(Settings(database=DatabaseSettings(url=f"sqlite+aiosqlite:///{db}")),
                            migrate=False)
    out = io.StringIO()
    front = ConsoleFront(core, "learner", out=out, prompt=PROMPT)
    try:
        message = OutMessage(kind="celebration", title="Notice", text="hello")
        await front.sender().send(PLATFORM, "learner", message)  # while a command runs
        assert out.getvalue() == "\n📬 for learner\n== Notice ==\nhello\n"
    finally:
        await core.close()

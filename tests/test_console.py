"""The console front end to end: a week of study typed as lines, on a real SQLite file."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

from bot.app import build_core
from bot.config import DatabaseSettings, Settings
from bot.console import ConsoleFront
from tests.conftest import FakeClock

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
    script = "/start Asia/Kolkata\n/log 2h setup\n/progress\n/quit\n"
    result = subprocess.run(
        [sys.executable, "-m", "bot"], input=script, capture_output=True, text=True,
        cwd=tmp_path, env=env, timeout=120, check=False)
    assert result.returncode == 0, result.stderr
    assert "No Discord token configured" in result.stderr
    assert "Logged 2h on" in result.stdout
    assert "Hours Invested**: 2 / 150-200" in result.stdout
    assert (tmp_path / "data" / "pacer.sqlite3").exists()

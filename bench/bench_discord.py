"""Benchmark the Discord front against the loopback stand-in, with Discord's limits enforced.

Reminders: N learners due in one minute, delivered by the real dispatcher through the real
PacerBot (first day: DM channels opened; second day, after a restart: stored channels reused).
Reported: delivery time, REST requests per DM, the busiest second (Discord allows 50) and 429s.
Burst: M learners send /log at once; reported: the slowest and p95 first response (Discord's
deadline is 3 s), deferred answers, and late (refused) responses.

    .venv/bin/python bench/bench_discord.py                   # 500 reminders, a burst of 200
    .venv/bin/python bench/bench_discord.py --reminders 1000 --burst 400
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.store import migrate  # noqa: E402
from tests.conftest import FakeClock  # noqa: E402
from tests.discord.test_load import DUE, T, add_learners, dispatcher_for  # noqa: E402
from tests.discord_fixtures import (  # noqa: E402
    START,
    World,
    discord_globals_restored,
    running_bot,
    standin_settings,
)
from tests.standin import DiscordStandin  # noqa: E402


async def reminders(n: int, db_url: str) -> None:
    """Deliver N reminders on two days; print time, requests per DM and the busiest second."""
    with discord_globals_restored():
        async with DiscordStandin() as standin:
            settings = standin_settings(standin, db_url)
            for day in (0, 1):
                async with running_bot(standin, settings, FakeClock(T)) as (bot, core):
                    if day == 0:
                        await add_learners(core, standin, n)
                    standin.requests.clear()
                    started = time.perf_counter()
                    report = await dispatcher_for(bot, core, DUE + timedelta(days=day)).tick()
                    took = time.perf_counter() - started
                    requests = list(standin.requests)
                print(f"reminders day {day + 1}: {report.sent}/{n} sent in {took:.1f}s "
                      f"({report.sent / took:.0f}/s), {len(requests) / max(report.sent, 1):.2f} "
                      f"requests per DM, busiest second {standin.busiest_second(requests)}, "
                      f"429s {len(standin.rate_limited)}")


async def burst(n: int, db_url: str) -> None:
    """Send N /log commands at once; print the first-response delays."""
    with discord_globals_restored():
        async with DiscordStandin() as standin:
            settings = standin_settings(standin, db_url)
            async with running_bot(standin, settings, FakeClock(START)) as (bot, core):
                world = World(standin, bot, core, settings, FakeClock(START))
                users = [world.new_user("burst") for _ in range(n)]
                for user in users:
                    await world.onboard(user)
                await asyncio.sleep(1.0)
                handles = await asyncio.gather(*(standin.send_command(
                    "log", {"duration": "1h"}, user=u) for u in users))
                await asyncio.gather(*(h.response(timeout=60) for h in handles))
                delays = sorted(h.response_delay or 99.0 for h in handles)
                deferred = sum(1 for h in handles if h.callback and h.callback.type == 5)
                late = sum(h.late_responses for h in handles)
    p95 = delays[int(len(delays) * 0.95) - 1]
    print(f"burst of {n} /log: first response max {delays[-1]:.2f}s, p95 {p95:.2f}s, "
          f"median {statistics.median(delays):.2f}s; {deferred} deferred, {late} late")


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reminders", type=int, default=500)
    parser.add_argument("--burst", type=int, default=200)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        for name, run, n in (("reminders", reminders, args.reminders),
                             ("burst", burst, args.burst)):
            path = Path(folder) / f"{name}.sqlite3"
            await asyncio.to_thread(migrate, f"sqlite+aiosqlite:///{path}")
            await run(n, f"sqlite+aiosqlite:///{path}")


if __name__ == "__main__":
    asyncio.run(main())

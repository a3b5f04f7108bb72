"""Benchmark the Discord front against the loopback stand-in, with Discord's limits enforced.

Reminders: N learners due in one minute, delivered by the real dispatcher through the real
PacerBot (first day: DM channels opened; second day, after a restart: stored channels reused).
Reported: delivery time, REST requests per DM, the busiest second (Discord allows 50) and 429s.
Burst: M learners (each onboarded first) send /log at once; reported: the p50, p99 and slowest
first response (an answer or a deferral), how many were deferred, and deadline misses: first
responses later than Discord's 3 s (the stand-in refuses them with 10062) or missing.
SQLite in a temporary file (the bot's default).

    .venv/bin/python bench/bench_discord.py                   # 100 reminders, a burst of 50
    .venv/bin/python bench/bench_discord.py --full            # 500 reminders, a burst of 400
    .venv/bin/python bench/bench_discord.py --reminders 1000 --burst 400

Targets (issue "Fast and steady under load"): 500 reminders with no 429 and at most 50 requests
in any second; every interaction of a 400-user burst answered within 3 s.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench._bench import percentile  # noqa: E402
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

DEADLINE = 3.0  # Discord's window for the first response to an interaction
RESPONSE_TIMEOUT = 60.0  # how long the burst waits for its last first response


def verdict(met: bool, full_size: bool) -> str:
    """Say whether a target is met, or that this size is too small to judge it."""
    if not full_size:
        return "not judged: smaller than the target's size"
    return "met" if met else "NOT met"


async def reminders(n: int, db_url: str) -> None:
    """Deliver N reminders on two days; print time, requests per DM and the busiest second."""
    busiest = rate_limited = 0
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
                busiest = max(busiest, standin.busiest_second(requests))
                rate_limited = len(standin.rate_limited)
                print(f"reminders day {day + 1}: {report.sent}/{n} sent in {took:.1f}s "
                      f"({report.sent / took:.0f}/s), {len(requests) / max(report.sent, 1):.2f} "
                      f"requests per DM, busiest second {standin.busiest_second(requests)}, "
                      f"429s {len(standin.rate_limited)}")
    met = busiest <= 50 and rate_limited == 0
    print(f"target: 500 reminders, no 429 and <= 50 requests in any second: {n} reminders, "
          f"busiest second {busiest}, 429s {rate_limited} ({verdict(met, n >= 500)})")


async def burst(n: int, db_url: str) -> None:
    """Send N /log commands at once; print the first-response delays and deadline misses."""
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
                # Wait until every interaction was answered or refused as late, or time is up.
                await standin.wait_for(
                    lambda: all(h.callback is not None or h.late_responses for h in handles)
                    or None, timeout=RESPONSE_TIMEOUT, what="every first response")
                delays = [h.response_delay for h in handles if h.response_delay is not None]
                deferred = sum(1 for h in handles if h.callback and h.callback.type == 5)
                late = sum(1 for h in handles if h.late_responses)
                unanswered = sum(1 for h in handles if h.callback is None)
                over = sum(1 for d in delays if d > DEADLINE)
                rate_limited = len(standin.rate_limited)
    misses = unanswered + over
    print(f"burst of {n} /log: first response p50 {percentile(delays, 0.5):.2f}s, "
          f"p99 {percentile(delays, 0.99):.2f}s, max {max(delays, default=0.0):.2f}s; "
          f"{deferred} deferred, {late} refused as late, {unanswered} unanswered, "
          f"{rate_limited} 429s")
    print(f"target: every interaction of a 400-user burst answered within 3 s: {n} users, "
          f"{misses} deadline misses ({verdict(misses == 0, n >= 400)})")


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--full", action="store_true", help="500 reminders, a burst of 400")
    parser.add_argument("--reminders", type=int)
    parser.add_argument("--burst", type=int)
    parser.add_argument("--only", choices=["reminders", "burst"], help="run just one of them")
    args = parser.parse_args()
    args.reminders = args.reminders or (500 if args.full else 100)
    args.burst = args.burst or (400 if args.full else 50)
    with tempfile.TemporaryDirectory() as folder:
        for name, run, n in (("reminders", reminders, args.reminders),
                             ("burst", burst, args.burst)):
            if args.only not in (None, name):
                continue
            path = Path(folder) / f"{name}.sqlite3"
            await asyncio.to_thread(migrate, f"sqlite+aiosqlite:///{path}")
            await run(n, f"sqlite+aiosqlite:///{path}")


if __name__ == "__main__":
    asyncio.run(main())

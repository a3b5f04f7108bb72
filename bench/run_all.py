"""Run every benchmark in bench/, one after the other, and print their figures side by side.

Small sizes by default (under a minute in all on a 2-core machine); ``--full`` runs the sizes
the issues name (a 400-user burst, 500 reminders, 100k learners, 2,000 concurrent commands...).
Each benchmark runs in its own process (so one's memory and discord.py's globals cannot touch
another's), with a time limit; its output is shown as it was printed, and every ``target:``
line is gathered in the summary at the end. PostgreSQL steps use ``--url`` (a scratch database,
dropped and recreated; ``<name>_peer`` too) and are skipped, saying why, when the server does
not answer.

    .venv/bin/python bench/run_all.py                # small: under one minute
    .venv/bin/python bench/run_all.py --full         # the full sizes (several minutes)
    .venv/bin/python bench/run_all.py --url postgresql+asyncpg://postgres@127.0.0.1:5432/pacer_bench
"""

from __future__ import annotations

import argparse
import asyncio
import os
import subprocess
import sys
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
sys.path.insert(0, str(ROOT))

from bench._bench import DEFAULT_PG_URL, machine, pg_version  # noqa: E402

PG = "{url}"  # replaced by the PostgreSQL URL; a step holding it needs the server


@dataclass(frozen=True)
class Step:
    """One benchmark run: a title, its script and arguments at small and full sizes."""

    title: str
    script: str
    small: tuple[str, ...]
    full: tuple[str, ...]


STEPS = (
    Step("command latency, SQLite", "bench_latency.py", ("-n", "50"), ("--full",)),
    Step("command latency, PostgreSQL", "bench_latency.py", ("-n", "50", "--url", PG),
         ("--full", "--url", PG)),
    Step("core throughput, SQLite", "bench_core.py",
         ("--commands", "200", "--tasks", "20", "--learners", "20"), ("--full",)),
    Step("core throughput, PostgreSQL", "bench_core.py",
         ("--commands", "200", "--tasks", "20", "--learners", "20", "--url", PG),
         ("--full", "--url", PG)),
    Step("reminder fan-out", "bench_discord.py", ("--only", "reminders", "--reminders", "30"),
         ("--only", "reminders", "--full")),
    Step("burst", "bench_discord.py", ("--only", "burst", "--burst", "30"),
         ("--only", "burst", "--full")),
    Step("dispatcher idle tick, SQLite", "bench_dispatch.py",
         ("idle", "--learners", "3000", "--runs", "50"), ("idle",)),
    Step("dispatcher claiming, SQLite", "bench_dispatch.py",
         ("claim", "--learners", "3000", "--due", "1000"), ("claim",)),
    Step("digests, SQLite", "bench_dispatch.py",
         ("digests", "--learners", "200", "--weeks", "4", "--no-trace"), ("digests",)),
    Step("dispatcher, PostgreSQL", "bench_dispatch.py", (), ("all", "--url", PG)),
    Step("chart", "bench_chart.py", ("--n", "20", "--warmup", "2"), ("--n", "200")),
)


@dataclass
class Outcome:
    """What one step printed, how long it took and whether it finished."""

    step: Step
    seconds: float
    status: str
    targets: list[str]


def run_step(step: Step, args: tuple[str, ...], timeout: float) -> Outcome:
    """Run one benchmark in a child process, echo its output, collect its target lines."""
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    command = [sys.executable, str(BENCH / step.script), *args]
    print(f"\n== {step.title}: python bench/{step.script} {' '.join(args)}", flush=True)
    started = time.perf_counter()
    try:
        done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True,
                              timeout=timeout, check=False)
    except subprocess.TimeoutExpired as exc:
        out = exc.stdout.decode() if isinstance(exc.stdout, bytes) else (exc.stdout or "")
        print(out, end="")
        return Outcome(step, time.perf_counter() - started, f"stopped after {timeout:.0f}s",
                       [])
    seconds = time.perf_counter() - started
    print(done.stdout, end="", flush=True)
    status = "ok"
    if done.returncode != 0:
        status = f"FAILED (exit {done.returncode})"
        print("\n".join(done.stderr.strip().splitlines()[-15:]))
    targets = [line.removeprefix("target: ") for line in done.stdout.splitlines()
               if line.startswith("target: ")]
    return Outcome(step, seconds, status, targets)


async def pg_reachable(url: str) -> str | None:
    """Return the server's version, or None when it does not answer."""
    try:
        return await asyncio.wait_for(pg_version(url), 5)
    except Exception:  # any failure to connect means: skip the PostgreSQL steps
        return None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--full", action="store_true", help="the full sizes (several minutes)")
    parser.add_argument("--url", default=DEFAULT_PG_URL,
                        help=f"scratch PostgreSQL URL (recreated; default {DEFAULT_PG_URL})")
    args = parser.parse_args()
    timeout = 1800.0 if args.full else 120.0
    print(f"bench/run_all.py {'--full' if args.full else '(small sizes)'}, "
          f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC")
    for line in machine():
        print(line)
    version = asyncio.run(pg_reachable(args.url))
    print(f"PostgreSQL: {version or 'not reachable at ' + args.url + ': its steps are skipped'}")
    outcomes: list[Outcome] = []
    started = time.perf_counter()
    for step in STEPS:
        argv = step.full if args.full else step.small
        if not argv and not args.full:
            continue  # a full-size-only step
        if PG in argv and version is None:
            outcomes.append(Outcome(step, 0.0, "skipped: no PostgreSQL", []))
            continue
        outcomes.append(run_step(step, tuple(a.replace(PG, args.url) for a in argv), timeout))
    total = time.perf_counter() - started
    print(f"\n== summary ({total:.0f} s in all)")
    for o in outcomes:
        print(f"  {o.step.title:<45} {o.seconds:6.1f} s  {o.status}")
        for target in o.targets:
            print(f"      {target}")
    if any(o.status.startswith(("FAILED", "stopped")) for o in outcomes):
        sys.exit(1)


if __name__ == "__main__":
    main()

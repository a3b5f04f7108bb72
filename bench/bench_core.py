"""Benchmark the core write path against the raw database driver, side by side in one run.

Pacer: N `/log 10m` commands from C concurrent tasks through the typed core
(``services.timelog.log_time``), over L learners. Peer: raw single-row INSERT transactions with
the same driver and the same settings (aiosqlite: WAL, synchronous=NORMAL, BEGIN IMMEDIATE,
one connection per task; asyncpg: a pool of C connections). Afterwards every learner's total
is checked, and failed commands are counted.

    .venv/bin/python bench/bench_core.py                      # SQLite, small
    .venv/bin/python bench/bench_core.py --full               # 2,000 commands, 200 tasks
    .venv/bin/python bench/bench_core.py --url postgresql+asyncpg://postgres@127.0.0.1:5432/pacer_bench
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import aiosqlite  # noqa: E402
import asyncpg  # noqa: E402
from sqlalchemy import func, select  # noqa: E402

from bot import models as m  # noqa: E402
from bot.actors import Actor  # noqa: E402
from bot.app import build_services  # noqa: E402
from bot.plan import PlanRegistry  # noqa: E402
from bot.services import Onboarding  # noqa: E402
from bot.store import Store, create_engine, migrate  # noqa: E402

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


async def prepare(url: str | None) -> str:
    """Create a fresh, migrated database (a scratch PostgreSQL database is recreated)."""
    if url is None:
        url = f"sqlite+aiosqlite:///{Path(tempfile.mkdtemp(prefix='pacer-bench-')) / 'b.sqlite3'}"
    else:
        base, name = url.rsplit("/", 1)
        admin = await asyncpg.connect(base.replace("postgresql+asyncpg", "postgresql")
                                      + "/postgres")
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.execute(f'CREATE DATABASE "{name}"')
        await admin.close()
    await asyncio.to_thread(migrate, url)
    return url


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else 0.0


async def run_pacer(url: str, commands: int, tasks: int, learners: int) -> dict[str, float]:
    store = Store(create_engine(url))
    services = build_services(store, PlanRegistry.load(), clock=lambda: NOW)
    actors = [Actor("bench", f"u{i}", f"U{i}", space_id="bench") for i in range(learners)]
    for a in actors:
        await services.onboarding.start(a, Onboarding(timezone="UTC"))
    latencies: list[float] = []
    failures = 0
    per_task = commands // tasks

    async def worker(k: int) -> None:
        nonlocal failures
        for j in range(per_task):
            actor = actors[(k * per_task + j) % learners]
            t0 = time.perf_counter()
            try:
                await services.timelog.log_time(actor, 10, "bench")
            except Exception:  # noqa: BLE001 - counted, that is the point
                failures += 1
            latencies.append(time.perf_counter() - t0)

    t0 = time.perf_counter()
    await asyncio.gather(*(worker(k) for k in range(tasks)))
    elapsed = time.perf_counter() - t0
    async with store.read() as session:
        totals = dict((await session.execute(select(m.TimeLog.learner_id,
                                                    func.sum(m.TimeLog.minutes))
                                             .group_by(m.TimeLog.learner_id))).all())
    expected = per_task * tasks * 10 // learners
    wrong = sum(1 for v in totals.values() if v != expected) + (learners - len(totals))
    await store.close()
    return {"rate": per_task * tasks / elapsed, "p50": pct(latencies, 0.5) * 1000,
            "p99": pct(latencies, 0.99) * 1000, "failures": failures, "wrong_totals": wrong}


async def run_raw_sqlite(path: str, commands: int, tasks: int) -> dict[str, float]:
    async def connect() -> aiosqlite.Connection:
        conn = await aiosqlite.connect(path, timeout=5, isolation_level=None)
        for pragma in ("journal_mode=WAL", "busy_timeout=5000", "foreign_keys=ON",
                       "synchronous=NORMAL"):
            await conn.execute(f"PRAGMA {pragma}")
        return conn

    setup = await connect()
    await setup.execute("CREATE TABLE IF NOT EXISTS raw_log (id INTEGER PRIMARY KEY, "
                        "learner INTEGER, minutes INTEGER)")
    await setup.close()
    per_task = commands // tasks
    failures = 0
    latencies: list[float] = []

    async def worker(k: int) -> None:
        nonlocal failures
        conn = await connect()
        for j in range(per_task):
            t0 = time.perf_counter()
            try:
                await conn.execute("BEGIN IMMEDIATE")
                await conn.execute("INSERT INTO raw_log (learner, minutes) VALUES (?, 10)",
                                   (k * per_task + j,))
                await conn.execute("COMMIT")
            except Exception:  # noqa: BLE001
                failures += 1
                await conn.execute("ROLLBACK")
            latencies.append(time.perf_counter() - t0)
        await conn.close()

    t0 = time.perf_counter()
    await asyncio.gather(*(worker(k) for k in range(tasks)))
    elapsed = time.perf_counter() - t0
    return {"rate": per_task * tasks / elapsed, "p50": pct(latencies, 0.5) * 1000,
            "p99": pct(latencies, 0.99) * 1000, "failures": failures}


async def run_raw_pg(url: str, commands: int, tasks: int) -> dict[str, float]:
    dsn = url.replace("postgresql+asyncpg://", "postgresql://")
    pool = await asyncpg.create_pool(dsn, min_size=min(tasks, 20), max_size=min(tasks, 20))
    async with pool.acquire() as conn:
        await conn.execute("CREATE TABLE IF NOT EXISTS raw_log (id BIGSERIAL PRIMARY KEY, "
                           "learner INTEGER, minutes INTEGER)")
    per_task = commands // tasks
    latencies: list[float] = []

    async def worker(k: int) -> None:
        for j in range(per_task):
            t0 = time.perf_counter()
            async with pool.acquire() as conn, conn.transaction():
                await conn.execute("INSERT INTO raw_log (learner, minutes) VALUES ($1, 10)",
                                   k * per_task + j)
            latencies.append(time.perf_counter() - t0)

    t0 = time.perf_counter()
    await asyncio.gather(*(worker(k) for k in range(tasks)))
    elapsed = time.perf_counter() - t0
    await pool.close()
    return {"rate": per_task * tasks / elapsed, "p50": pct(latencies, 0.5) * 1000,
            "p99": pct(latencies, 0.99) * 1000, "failures": 0}


def show(name: str, r: dict[str, float]) -> None:
    extra = f"  wrong totals {int(r['wrong_totals'])}" if "wrong_totals" in r else ""
    print(f"  {name:<28} {r['rate']:>8,.0f} /s   p50 {r['p50']:7.2f} ms   p99 "
          f"{r['p99']:8.2f} ms   failed {int(r['failures'])}{extra}")


async def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--url", help="a scratch PostgreSQL URL (its database is recreated)")
    ap.add_argument("--full", action="store_true", help="2,000 commands from 200 tasks")
    ap.add_argument("--commands", type=int)
    ap.add_argument("--tasks", type=int)
    ap.add_argument("--learners", type=int, default=100)
    args = ap.parse_args()
    commands = args.commands or (2000 if args.full else 600)
    tasks = args.tasks or (200 if args.full else 60)
    runs = []
    for _ in range(1):
        url = await prepare(args.url)
        pacer = await run_pacer(url, commands, tasks, args.learners)
        if args.url:
            raw = await run_raw_pg(await prepare(args.url), commands, tasks)
            peer = "raw asyncpg insert"
        else:
            raw = await run_raw_sqlite(str(Path(tempfile.mkdtemp()) / "raw.sqlite3"),
                                       commands, tasks)
            peer = "raw aiosqlite insert"
        runs.append((pacer, raw))
    dialect = "postgresql" if args.url else "sqlite"
    print(f"core write path, {dialect}: {commands} commands from {tasks} concurrent tasks "
          f"over {args.learners} learners")
    for pacer, raw in runs:
        show("Pacer /log (typed core)", pacer)
        show(peer, raw)
        print(f"  ratio: Pacer at {pacer['rate'] / raw['rate']:.2f} of the raw driver; "
              f"p50 {statistics.mean([pacer['p50']]):.2f} vs {raw['p50']:.2f} ms")


if __name__ == "__main__":
    asyncio.run(main())

"""Benchmark the core write path against the raw database driver, side by side in one run.

Pacer: N ``/log 10m`` commands from C concurrent tasks through the typed core
(``services.timelog.log_time`` on ``Store(create_engine(url))``, as the bot builds it), spread
evenly over L learners. Afterwards every learner's total is read back and compared with what was
logged, and failed commands are counted (there must be none).

The peers are raw single-row INSERT transactions from the same C tasks, with the same driver and
the same settings as Pacer's engine:

- SQLite (aiosqlite; WAL, synchronous=NORMAL, busy_timeout=5000, foreign keys, BEGIN IMMEDIATE):
  *shared*: one connection that the tasks take turns on (the fastest way to write one row at a
  time, since SQLite has one writer); *per task*: a connection per task, racing for the file lock
  through SQLite's busy handler. Pacer is compared with the faster of the two.
- PostgreSQL (asyncpg): a pool as large as SQLAlchemy's default (5 + 10 overflow = 15), each
  INSERT in its own transaction.

Each peer's rows are counted afterwards too. Two more lines are references, not peers of the
target: SQLAlchemy's own floor (one prepared INSERT per ``store.write()`` session on Pacer's
engine), and the raw driver making a /log's four statements per transaction (lock the learner,
the day's total, the insert, the totals a milestone check reads, the undo entry), which shows
what the statements alone cost on that driver.

    .venv/bin/python bench/bench_core.py                      # SQLite, 600 commands, 60 tasks
    .venv/bin/python bench/bench_core.py --full               # 2,000 commands, 200 tasks
    .venv/bin/python bench/bench_core.py --url postgresql+asyncpg://postgres@127.0.0.1:5432/pacer_bench

Target (issue "Fast and steady under load"): Pacer's rate at least half the raw driver's.
"""

from __future__ import annotations

import argparse
import asyncio
import re
import sys
import time
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import aiosqlite  # noqa: E402
import asyncpg  # noqa: E402
from sqlalchemy import Column, Integer, MetaData, Table, func, insert, select  # noqa: E402

from bench._bench import percentile, pg_dsn, recreate_pg, sqlite_path, sqlite_url  # noqa: E402
from bot import models as m  # noqa: E402
from bot.actors import Actor  # noqa: E402
from bot.app import build_services  # noqa: E402
from bot.plan import PlanRegistry  # noqa: E402
from bot.services import Onboarding  # noqa: E402
from bot.store import Store, create_engine, migrate  # noqa: E402

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
MINUTES = 10
SQLALCHEMY_POOL = 15  # SQLAlchemy's default pool: 5 connections + 10 overflow
SQLITE_PRAGMAS = ("journal_mode=WAL", "busy_timeout=5000", "foreign_keys=ON",
                  "synchronous=NORMAL")  # what bot.store.create_engine sets


@dataclass
class Result:
    """One side's figures: rate, per-command latency, failures, rows that did not add up."""

    name: str
    done: int
    elapsed: float
    latencies: list[float] = field(default_factory=list)
    failures: int = 0
    wrong: int = 0

    @property
    def rate(self) -> float:
        return self.done / self.elapsed

    def line(self) -> str:
        return (f"  {self.name:<34} {self.rate:>7,.0f} /s   p50 "
                f"{percentile(self.latencies, 0.5) * 1000:7.2f} ms   p99 "
                f"{percentile(self.latencies, 0.99) * 1000:8.2f} ms   failed {self.failures}"
                f"   wrong totals {self.wrong}")


async def fan_out(commands: int, tasks: int,
                  one: Callable[[int], Awaitable[None]]) -> tuple[float, list[float], int]:
    """Run ONE(i) for i in range(COMMANDS) from TASKS tasks; return time, latencies, failures."""
    latencies: list[float] = []
    failures = 0
    numbers = iter(range(commands))

    async def worker() -> None:
        nonlocal failures
        for i in numbers:  # shared: each command is taken by exactly one task
            t0 = time.perf_counter()
            try:
                await one(i)
            except Exception:  # counted and reported: there must be none
                failures += 1
            latencies.append(time.perf_counter() - t0)

    t0 = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(tasks)))
    return time.perf_counter() - t0, latencies, failures


async def run_pacer(url: str, commands: int, tasks: int, learners: int) -> Result:
    """Log COMMANDS x 10 minutes through the typed core, then check every learner's total."""
    store = Store(create_engine(url))
    services = build_services(store, PlanRegistry.load(), clock=lambda: NOW)
    actors = [Actor("bench", f"u{i}", f"U{i}", space_id="bench") for i in range(learners)]
    for a in actors:
        await services.onboarding.start(a, Onboarding(timezone="UTC"))
    expected: Counter[str] = Counter(actors[i % learners].external_id for i in range(commands))

    async def one(i: int) -> None:
        await services.timelog.log_time(actors[i % learners], MINUTES, "bench")

    elapsed, latencies, failures = await fan_out(commands, tasks, one)
    print(f"  (group commit: {store.group.works} commands in {store.group.batches} batches)")
    async with store.read() as session:
        totals = dict((await session.execute(
            select(m.Learner.external_id, func.coalesce(func.sum(m.TimeLog.minutes), 0))
            .outerjoin(m.TimeLog, m.TimeLog.learner_id == m.Learner.id)
            .group_by(m.Learner.external_id))).all())
    await store.close()
    wrong = sum(1 for a in actors if totals.get(a.external_id) != expected[a.external_id] * MINUTES)
    return Result("Pacer /log (typed core)", commands - failures, elapsed, latencies, failures,
                  wrong)


async def sqlite_connect(path: str) -> aiosqlite.Connection:
    """Open an aiosqlite connection with Pacer's settings (we issue BEGIN ourselves)."""
    conn = await aiosqlite.connect(path, isolation_level=None)
    for pragma in SQLITE_PRAGMAS:
        await conn.execute(f"PRAGMA {pragma}")
    return conn


async def sqlite_insert(conn: aiosqlite.Connection, learner: int) -> None:
    """One single-row INSERT transaction."""
    await conn.execute("BEGIN IMMEDIATE")
    try:
        await conn.execute("INSERT INTO raw_log (learner, minutes) VALUES (?, ?)",
                           (learner, MINUTES))
    except BaseException:
        await conn.execute("ROLLBACK")
        raise
    await conn.execute("COMMIT")


async def run_raw_sqlite(path: str, commands: int, tasks: int, learners: int,
                         shared: bool) -> Result:
    """Insert COMMANDS rows, one per transaction, from TASKS tasks; then count them."""
    setup = await sqlite_connect(path)
    await setup.execute("CREATE TABLE IF NOT EXISTS raw_log (id INTEGER PRIMARY KEY, "
                        "learner INTEGER, minutes INTEGER)")
    if shared:
        lock = asyncio.Lock()

        @asynccontextmanager
        async def connection() -> AsyncIterator[aiosqlite.Connection]:
            async with lock:
                yield setup
        conns: list[aiosqlite.Connection] = []
    else:
        conns = [await sqlite_connect(path) for _ in range(tasks)]
        free: asyncio.Queue[aiosqlite.Connection] = asyncio.Queue()
        for c in conns:
            free.put_nowait(c)

        @asynccontextmanager
        async def connection() -> AsyncIterator[aiosqlite.Connection]:
            conn = await free.get()  # one per task: never waits
            try:
                yield conn
            finally:
                free.put_nowait(conn)

    async def one(i: int) -> None:
        async with connection() as conn:
            await sqlite_insert(conn, i % learners)

    elapsed, latencies, failures = await fan_out(commands, tasks, one)
    for c in conns:
        await c.close()
    async with setup.execute("SELECT count(*), coalesce(sum(minutes), 0) FROM raw_log") as cur:
        rows, minutes = await cur.fetchone() or (0, 0)
    await setup.close()
    wrong = abs(commands - failures - rows) + (minutes != rows * MINUTES)
    name = "raw aiosqlite, shared connection" if shared else "raw aiosqlite, connection per task"
    return Result(name, rows, elapsed, latencies, failures, wrong)


async def run_raw_pg(url: str, commands: int, tasks: int, learners: int) -> Result:
    """Insert COMMANDS rows, one per transaction, through a pool of 15; then count them."""
    pool = await asyncpg.create_pool(pg_dsn(url), min_size=5, max_size=SQLALCHEMY_POOL)
    await pool.execute("CREATE TABLE IF NOT EXISTS raw_log (id BIGSERIAL PRIMARY KEY, "
                       "learner INTEGER, minutes INTEGER)")

    async def one(i: int) -> None:
        async with pool.acquire() as conn, conn.transaction():
            await conn.execute("INSERT INTO raw_log (learner, minutes) VALUES ($1, $2)",
                               i % learners, MINUTES)

    elapsed, latencies, failures = await fan_out(commands, tasks, one)
    rows, minutes = await pool.fetchrow("SELECT count(*), coalesce(sum(minutes), 0) FROM raw_log")
    await pool.close()
    wrong = abs(commands - failures - rows) + (minutes != rows * MINUTES)
    return Result("raw asyncpg, pool of 15", rows, elapsed, latencies, failures, wrong)


# A /log's own statements, written straight for the raw driver (a reference line, not the peer
# of the target): lock the learner; read the day's total with the totals a milestone check
# needs; insert the entry; insert the undo entry. One transaction per command.
SHAPED_SQLITE = (
    "CREATE TABLE IF NOT EXISTS shaped_learner (id INTEGER PRIMARY KEY)",
    "CREATE TABLE IF NOT EXISTS shaped_log (id INTEGER PRIMARY KEY, learner INTEGER, "
    "day TEXT, minutes INTEGER)",
    "CREATE INDEX IF NOT EXISTS shaped_log_day ON shaped_log (learner, day)",
    "CREATE TABLE IF NOT EXISTS shaped_undo (id INTEGER PRIMARY KEY, learner INTEGER, "
    "ops TEXT)",
)
SHAPED_STEPS = (  # (statement, what it binds): ? for SQLite, $n for PostgreSQL
    ("SELECT id FROM shaped_learner WHERE id = ?{lock}", "l"),
    ("SELECT (SELECT coalesce(sum(minutes), 0) FROM shaped_log WHERE learner = ? AND day = ?), "
     "(SELECT coalesce(sum(minutes), 0) FROM shaped_log WHERE learner = ?), "
     "(SELECT count(*) FROM shaped_log WHERE learner = ?)", "ldll"),
    ("INSERT INTO shaped_log (learner, day, minutes) VALUES (?, ?, ?) RETURNING id", "ldm"),
    ("INSERT INTO shaped_undo (learner, ops) VALUES (?, ?) RETURNING id", "lo"),
)
SHAPED_DAY, SHAPED_OPS = "2026-12-01", '[{"op": "delete", "table": "time_logs", "id": 1}]'


def _shaped_args(kinds: str, learner: int) -> tuple[object, ...]:
    values = {"l": learner, "d": SHAPED_DAY, "m": MINUTES, "o": SHAPED_OPS}
    return tuple(values[k] for k in kinds)


def _pg_sql(sql: str) -> str:
    n = 0

    def number(_match: object) -> str:
        nonlocal n
        n += 1
        return f"${n}"
    return re.sub(r"\?", number, sql)


async def run_shaped_sqlite(path: str, commands: int, tasks: int, learners: int) -> Result:
    """A /log's four statements per transaction on one shared aiosqlite connection."""
    conn = await sqlite_connect(path)
    for statement in SHAPED_SQLITE:
        await conn.execute(statement)
    await conn.executemany("INSERT INTO shaped_learner (id) VALUES (?)",
                           [(i,) for i in range(learners)])
    lock = asyncio.Lock()
    steps = [(sql.format(lock=""), kinds) for sql, kinds in SHAPED_STEPS]

    async def one(i: int) -> None:
        async with lock:
            await conn.execute("BEGIN IMMEDIATE")
            try:
                for sql, kinds in steps:
                    async with conn.execute(sql, _shaped_args(kinds, i % learners)) as cur:
                        await cur.fetchall()
            except BaseException:
                await conn.execute("ROLLBACK")
                raise
            await conn.execute("COMMIT")

    elapsed, latencies, failures = await fan_out(commands, tasks, one)
    async with conn.execute("SELECT count(*) FROM shaped_log") as cur:
        (rows,) = await cur.fetchone() or (0,)
    await conn.close()
    return Result("raw aiosqlite, a /log's 4 statements", rows, elapsed, latencies, failures,
                  abs(commands - failures - rows))


async def run_shaped_pg(url: str, commands: int, tasks: int, learners: int) -> Result:
    """A /log's four statements per transaction through a pool of 15 (asyncpg)."""
    pool = await asyncpg.create_pool(pg_dsn(url), min_size=5, max_size=SQLALCHEMY_POOL)
    for statement in SHAPED_SQLITE:
        await pool.execute(statement.replace("INTEGER PRIMARY KEY", "BIGSERIAL PRIMARY KEY")
                           .replace("shaped_learner (id BIGSERIAL", "shaped_learner (id INTEGER"))
    await pool.executemany("INSERT INTO shaped_learner (id) VALUES ($1)",
                           [(i,) for i in range(learners)])
    steps = [(_pg_sql(sql.format(lock=" FOR UPDATE")), kinds) for sql, kinds in SHAPED_STEPS]

    async def one(i: int) -> None:
        async with pool.acquire() as conn, conn.transaction():
            for sql, kinds in steps:
                await conn.fetch(sql, *_shaped_args(kinds, i % learners))

    elapsed, latencies, failures = await fan_out(commands, tasks, one)
    rows = await pool.fetchval("SELECT count(*) FROM shaped_log")
    await pool.close()
    return Result("raw asyncpg, a /log's 4 statements", rows, elapsed, latencies, failures,
                  abs(commands - failures - rows))


FLOOR_TABLE = Table("raw_log_sa", MetaData(), Column("id", Integer, primary_key=True),
                    Column("learner", Integer), Column("minutes", Integer))


async def run_sqlalchemy_floor(url: str, commands: int, tasks: int, learners: int) -> Result:
    """One single-row INSERT per ``store.write()`` session: what SQLAlchemy itself costs.

    The same engine and ``Store`` as Pacer's (on SQLite its in-process writer queue), one
    prepared Core INSERT and nothing else: the floor under any command written with the
    project's mandated SQLAlchemy sessions. Not the target's peer; printed to show where the
    rest of the gap is.
    """
    store = Store(create_engine(url))
    async with store.engine.begin() as conn:
        await conn.run_sync(FLOOR_TABLE.metadata.create_all)
    stmt = insert(FLOOR_TABLE)

    async def one(i: int) -> None:
        async with store.write() as session:
            await session.execute(stmt, {"learner": i % learners, "minutes": MINUTES})

    elapsed, latencies, failures = await fan_out(commands, tasks, one)
    async with store.read() as session:
        rows, minutes = (await session.execute(select(
            func.count(), func.coalesce(func.sum(FLOOR_TABLE.c.minutes), 0)))).one()
    await store.close()
    wrong = abs(commands - failures - rows) + (minutes != rows * MINUTES)
    return Result("SQLAlchemy session, 1 INSERT", rows, elapsed, latencies, failures, wrong)


async def fresh(url: str | None, name: str) -> str:
    """Return a fresh, migrated database: a new SQLite file, or the PostgreSQL one recreated."""
    url = sqlite_url(name) if url is None else await recreate_pg(url)
    await asyncio.to_thread(migrate, url)
    return url


async def one_run(url: str | None, commands: int, tasks: int, learners: int) -> float:
    """Run Pacer and the raw peers once, print them, and return Pacer's rate / the best peer's."""
    pacer = await run_pacer(await fresh(url, "pacer.sqlite3"), commands, tasks, learners)
    if url is None:
        peers = [await run_raw_sqlite(sqlite_path(sqlite_url(f"raw-{kind}.sqlite3")),
                                      commands, tasks, learners, shared=kind == "shared")
                 for kind in ("shared", "per-task")]
    else:  # the peers make their own table: no migrations
        peers = [await run_raw_pg(await recreate_pg(url), commands, tasks, learners)]
    floor = await run_sqlalchemy_floor(await fresh(url, "floor.sqlite3"), commands, tasks,
                                       learners)
    shaped = (await run_shaped_sqlite(sqlite_path(sqlite_url("shaped.sqlite3")), commands, tasks,
                                      learners) if url is None else
              await run_shaped_pg(await recreate_pg(url), commands, tasks, learners))
    best = max(peers, key=lambda r: r.rate)
    for r in (pacer, *peers, floor, shaped):
        print(r.line())
    ratio = pacer.rate / best.rate
    ok = pacer.failures == 0 and pacer.wrong == 0
    print(f"  references: SQLAlchemy's own floor (same engine, one INSERT per session) is at "
          f"{floor.rate / best.rate:.2f} of the raw driver, Pacer at {pacer.rate / floor.rate:.2f} "
          f"of that floor; the raw driver making a /log's 4 statements is at "
          f"{shaped.rate / best.rate:.2f} of its one-INSERT rate")
    print(f"  ratio: Pacer at {ratio:.2f} of the raw driver ({best.name}); "
          f"every learner's total {'checked and right' if ok else 'WRONG or failures'}")
    print(f"target: core /log rate >= 0.5 of the raw driver, "
          f"{'postgresql' if url else 'sqlite'}: {ratio:.2f} "
          f"({'met' if ratio >= 0.5 and ok else 'NOT met'})")
    return ratio


async def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--url", help="a scratch PostgreSQL URL (its database is recreated)")
    ap.add_argument("--full", action="store_true", help="2,000 commands from 200 tasks")
    ap.add_argument("--commands", type=int)
    ap.add_argument("--tasks", type=int)
    ap.add_argument("--learners", type=int, default=100)
    ap.add_argument("--runs", type=int, default=1, help="repeat Pacer and the peers (default 1)")
    args = ap.parse_args()
    commands = args.commands or (2000 if args.full else 600)
    tasks = args.tasks or (200 if args.full else 60)
    print(f"core write path, {'postgresql' if args.url else 'sqlite'}: {commands} commands "
          f"from {tasks} concurrent tasks over {args.learners} learners")
    for _ in range(args.runs):
        await one_run(args.url, commands, tasks, args.learners)


if __name__ == "__main__":
    asyncio.run(main())

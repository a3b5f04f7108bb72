"""Benchmark the dispatcher: idle tick, claiming, building digests (and see bench_chart.py).

Run (SQLite in a temporary file unless --url names a database; a PostgreSQL URL's database is
dropped and recreated, so give it a scratch name):

    .venv/bin/python bench/bench_dispatch.py idle --learners 100000
    .venv/bin/python bench/bench_dispatch.py claim --learners 100000 --due 10000
    .venv/bin/python bench/bench_dispatch.py digests --learners 10000 --weeks 12
    .venv/bin/python bench/bench_dispatch.py all            # the three above
    add --url postgresql+asyncpg://postgres@127.0.0.1:5432/pacer_bench for PostgreSQL

Targets (issue 4): idle tick <= 5 ms; claiming >= 10k learners/s; 10k digests from 12 weeks
of logs each <= 5 s and <= 300 MB peak; a chart <= 30 ms (bench_chart.py).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time
import tracemalloc
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import asyncpg  # noqa: E402
from sqlalchemy import insert, select, text  # noqa: E402

from bot import models as m  # noqa: E402
from bot.config import SchedulerSettings  # noqa: E402
from bot.messages import build_digest  # noqa: E402
from bot.outbox import load_dispatch_data  # noqa: E402
from bot.plan import PlanRegistry  # noqa: E402
from bot.scheduling import Dispatcher  # noqa: E402
from bot.store import Store, create_engine, migrate  # noqa: E402
from bot.wording import plural  # noqa: E402

NOW = datetime(2027, 3, 1, 18, 0, 30, tzinfo=UTC)  # a Monday evening
ZONES = ("Europe/Berlin", "America/New_York", "Asia/Kolkata", "Australia/Lord_Howe",
         "America/Los_Angeles", "Asia/Tokyo")
CHUNK = 5000


class NullSender:
    async def send(self, recipient_platform: str, recipient_id: str, message: Any) -> None:
        return None

    async def post(self, platform: str, channel_id: str, message: Any,
                   mention_id: str | None) -> None:
        return None


def prepare(url: str | None) -> str:
    """Create a fresh, migrated database and return its URL."""
    if url is None:
        path = Path(tempfile.mkdtemp(prefix="pacer-bench-")) / "bench.sqlite3"
        url = f"sqlite+aiosqlite:///{path}"
    elif url.startswith("postgresql"):
        base, name = url.rsplit("/", 1)

        async def recreate() -> None:
            admin = await asyncpg.connect(base.replace("postgresql+asyncpg", "postgresql")
                                          + "/postgres")
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            await admin.execute(f'CREATE DATABASE "{name}"')
            await admin.close()

        asyncio.run(recreate())
    migrate(url)
    return url


def learner_rows(n: int, due: int, rng: random.Random) -> list[dict[str, Any]]:
    """Build N learners; the first DUE have a reminder due at NOW, the rest later."""
    created = NOW - timedelta(days=90)
    rows = []
    for i in range(n):
        later = NOW + timedelta(minutes=rng.randrange(1, 24 * 60))
        rows.append({
            "platform": "console", "external_id": f"u{i}", "display_name": f"Learner {i}",
            "plan_id": "vllm", "timezone": ZONES[i % len(ZONES)], "day_start_hour": 3,
            "start_date": date(2026, 12, 7), "target_date": date(2027, 4, 30),
            "commitment_minutes": 240, "commitment_weeks": 12,
            "reminder_minute": 19 * 60, "digest_weekday": 6, "digest_minute": 18 * 60,
            "digest_every_weeks": 1, "public_posts": True, "created_at": created,
            "updated_at": created,
            "next_reminder_at": NOW - timedelta(seconds=rng.randrange(0, 30)) if i < due
            else later,
            "next_digest_at": NOW + timedelta(days=rng.randrange(1, 7)),
        })
    return rows


async def insert_all(store: Store, model: type, rows: list[dict[str, Any]]) -> None:
    for start in range(0, len(rows), CHUNK):
        async with store.write() as session:
            await session.execute(insert(model), rows[start:start + CHUNK])


async def analyze(store: Store) -> None:
    async with store.engine.connect() as conn:
        await conn.execute(text("ANALYZE"))
        await conn.commit()


def ms_stats(values: list[float]) -> str:
    values = sorted(values)
    p = lambda q: values[max(0, round(q * len(values)) - 1)]  # noqa: E731
    return (f"mean {statistics.fmean(values):.2f} ms  p50 {p(0.5):.2f}  p95 {p(0.95):.2f}  "
            f"max {values[-1]:.2f}")


# --- idle tick ---------------------------------------------------------------------------------


async def bench_idle(url: str, learners: int, runs: int) -> None:
    store = Store(create_engine(url))
    rng = random.Random(1)
    await insert_all(store, m.Learner, learner_rows(learners, 0, rng))
    await analyze(store)
    d = Dispatcher(store, PlanRegistry.load(), {"console": NullSender()},
                   settings=SchedulerSettings(rate_per_second=0), clock=lambda: NOW)
    await d.tick(NOW)  # warm up: the first tick also runs the start-up recovery
    timings = []
    for _ in range(runs):
        started = time.perf_counter()
        report = await d.tick(NOW)
        timings.append((time.perf_counter() - started) * 1000)
        assert report.batches == 0
    print(f"idle tick, {plural(learners, 'learner')}, {store.dialect}: {ms_stats(timings)} "
          f"({plural(runs, 'tick')})")
    mean = statistics.fmean(timings)
    print(f"target: idle tick <= 5 ms at 100k learners (issue 4), {store.dialect}: mean "
          f"{mean:.2f} ms at {learners:,} ({verdict(mean <= 5, learners >= 100_000)})")
    await store.close()


# --- claiming ----------------------------------------------------------------------------------


async def bench_claim(url: str, learners: int, due: int, batch: int) -> None:
    store = Store(create_engine(url))
    rng = random.Random(2)
    await insert_all(store, m.Learner, learner_rows(learners, due, rng))
    await analyze(store)
    d = Dispatcher(store, PlanRegistry.load(), {"console": NullSender()},
                   settings=SchedulerSettings(rate_per_second=0, claim_batch=batch),
                   clock=lambda: NOW)
    claimed = batches = 0
    started = time.perf_counter()
    while True:
        got = await d.claim(NOW)
        claimed += len(got.to_send)
        batches += 1
        if not got.full:
            break
    elapsed = time.perf_counter() - started
    async with store.read() as session:
        left = await session.scalar(select(m.Learner.id).where(
            m.Learner.next_reminder_at <= NOW).limit(1))
    assert claimed == due and left is None, (claimed, left)
    print(f"claim, {due} due of {plural(learners, 'learner')}, {store.dialect}, batch {batch}: "
          f"{elapsed:.2f} s = {claimed / elapsed:,.0f} learners/s "
          f"({plural(batches, 'transaction')})")
    rate = claimed / elapsed
    print(f"target: claiming >= 10k learners/s, 10k due of 100k (issue 4), {store.dialect}: "
          f"{rate:,.0f}/s, {due:,} due of {learners:,} "
          f"({verdict(rate >= 10_000, due >= 10_000 and learners >= 100_000)})")
    await store.close()


# --- digests -------------------------------------------------------------------------------------


async def populate_digests(url: str, learners: int, weeks: int) -> None:
    store = Store(create_engine(url))
    rng = random.Random(3)
    await insert_all(store, m.Learner, learner_rows(learners, 0, rng))
    async with store.read() as session:
        ids = (await session.scalars(select(m.Learner.id).order_by(m.Learner.id))).all()
    start = NOW.date() - timedelta(days=7 * weeks)
    created = NOW - timedelta(days=1)
    logs, done, scores, ratings, notes = [], [], [], [], []
    plan = PlanRegistry.load().get("vllm")
    item_ids = [i.id for i in plan.items]
    for n, learner_id in enumerate(ids):
        for day in range(7 * weeks):
            if rng.random() < 0.8:  # 80% of days studied, one or two sessions
                for _ in range(rng.choice((1, 1, 2))):
                    logs.append({"learner_id": learner_id, "study_date": start + timedelta(day),
                                 "minutes": rng.randrange(30, 200), "topic": "paging",
                                 "created_at": created})
        for k, item in enumerate(rng.sample(item_ids, 20)):
            done.append({"learner_id": learner_id, "item_id": item,
                         "study_date": start + timedelta(days=4 * k), "done_at": created})
        scores.append({"learner_id": learner_id, "score_id": "quiz-week1", "value": 15,
                       "recorded_on": NOW.date() - timedelta(days=2)})
        for week in (weeks - 1, weeks):
            ratings.append({"learner_id": learner_id, "skill_id": "scheduler", "week": week,
                            "value": 2 + week % 3})
        notes.append({"learner_id": learner_id, "kind": "insight", "week": weeks,
                      "text": "Paging the KV cache", "created_at": created})
        if n % 1000 == 0:
            await insert_all(store, m.TimeLog, logs)
            logs.clear()
    for model, rows in ((m.TimeLog, logs), (m.ItemDone, done), (m.ScoreEntry, scores),
                        (m.SkillRating, ratings), (m.Note, notes)):
        await insert_all(store, model, rows)
    await analyze(store)
    async with store.read() as session:
        count = await session.scalar(text("SELECT count(*) FROM time_logs"))
    print(f"populated {plural(learners, 'learner')} with {count:,} time logs over "
          f"{plural(weeks, 'week')}")
    await store.close()


async def build_digests(url: str, batch: int) -> dict[str, Any]:
    """Load and build every learner's digest, batch by batch, as the dispatcher does."""
    store = Store(create_engine(url))
    plans = PlanRegistry.load()
    async with store.read() as session:
        ids = (await session.scalars(select(m.Learner.id).order_by(m.Learner.id))).all()
    today = NOW.date() - timedelta(days=1)  # the Sunday the digest covers
    built = chars = 0
    load_s = build_s = 0.0
    for start in range(0, len(ids), batch):
        t0 = time.perf_counter()
        async with store.read() as session:
            data = await load_dispatch_data(session, ids[start:start + batch])
        t1 = time.perf_counter()
        for snapshot in data.values():
            msg = build_digest(snapshot, plans.get(snapshot.profile.plan_id), today,
                               score_dates=snapshot.score_dates)
            chars += len(msg.text)
            built += 1
        load_s += t1 - t0
        build_s += time.perf_counter() - t1
    await store.close()
    return {"digests": built, "load_s": load_s, "build_s": build_s, "mean_chars": chars / built,
            "dialect": store.dialect}


def digests_child(url: str, batch: int, trace: bool) -> None:
    """Run in a fresh process so that its peak memory is the digest build's."""
    if trace:
        tracemalloc.start()
    started = time.perf_counter()
    result = asyncio.run(build_digests(url, batch))
    result["total_s"] = time.perf_counter() - started
    result["peak_rss_mib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    if trace:
        result["traced_peak_mib"] = tracemalloc.get_traced_memory()[1] / 2**20
    print(json.dumps(result))


def verdict(met: bool, full_size: bool) -> str:
    """Say whether a target is met, or that this size is too small to judge it."""
    if not full_size:
        return "not judged: smaller than the target's size"
    return "met" if met else "NOT met"


def bench_digests(url: str, learners: int, weeks: int, batch: int, traced: bool = True) -> None:
    asyncio.run(populate_digests(url, learners, weeks))
    for trace in (False, True) if traced else (False,):
        out = subprocess.run(
            [sys.executable, __file__, "digests-child", "--url", url, "--batch", str(batch)]
            + (["--trace"] if trace else []),
            check=True, capture_output=True, text=True).stdout
        r = json.loads(out.strip().splitlines()[-1])
        if not trace:
            print(f"digests, {plural(r['digests'], 'learner')} x {plural(weeks, 'week')}, "
                  f"{r['dialect']}, batch "
                  f"{batch}: {r['total_s']:.2f} s total (load {r['load_s']:.2f} s, build "
                  f"{r['build_s']:.2f} s), {r['mean_chars']:.0f} chars each, peak RSS "
                  f"{r['peak_rss_mib']:.0f} MiB (charts excluded: see bench_chart.py)")
            met = r["total_s"] <= 5 and r["peak_rss_mib"] <= 300
            print(f"target: 10k digests of 12 weeks <= 5 s and <= 300 MB (issue 4), "
                  f"{r['dialect']}: {r['total_s']:.2f} s, {r['peak_rss_mib']:.0f} MiB for "
                  f"{r['digests']:,} x {weeks} weeks "
                  f"({verdict(met, r['digests'] >= 10_000 and weeks >= 12)})")
        else:
            print(f"  same under tracemalloc: Python heap peak {r['traced_peak_mib']:.0f} MiB "
                  f"({r['total_s']:.2f} s traced)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("what", choices=["idle", "claim", "digests", "all", "digests-child"])
    parser.add_argument("--url", help="database URL (default: a temporary SQLite file)")
    parser.add_argument("--learners", type=int)
    parser.add_argument("--due", type=int, default=10_000)
    parser.add_argument("--weeks", type=int, default=12)
    parser.add_argument("--batch", type=int, default=SchedulerSettings().claim_batch)
    parser.add_argument("--runs", type=int, default=200)
    parser.add_argument("--trace", action="store_true")
    parser.add_argument("--no-trace", action="store_true",
                        help="digests: skip the second run under tracemalloc")
    args = parser.parse_args()
    if args.what == "digests-child":
        digests_child(args.url, args.batch, args.trace)
        return
    if args.what in ("idle", "all"):
        asyncio.run(bench_idle(prepare(args.url), args.learners or 100_000, args.runs))
    if args.what in ("claim", "all"):
        asyncio.run(bench_claim(prepare(args.url), args.learners or 100_000, args.due,
                                args.batch))
    if args.what in ("digests", "all"):
        bench_digests(prepare(args.url), args.learners or 10_000, args.weeks, args.batch,
                      traced=not args.no_trace)


if __name__ == "__main__":
    main()

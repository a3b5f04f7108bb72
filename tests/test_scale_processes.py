"""Three real bot processes on one PostgreSQL database, one of them killed mid-run.

Each child is ``python -m bot run`` with its own config file: the loopback Discord stand-in
(running in this test's event loop) as REST base and gateway, shard ``i`` of 3, a one-second
tick, a short lease and its share of a raised global REST budget. 20,000 learners fall due in
the same minute; after a third of the DMs have arrived one process is SIGKILLed, and the other
two send its claimed rows once its lease has run out. Every learner gets exactly one DM, no
outbox row is left pending, and the stand-in, which enforces the global limit, never answered
429. Discord grants big bots a higher global limit; the test models one (``STANDIN_LIMIT``)
so that 20,000 DMs fit a test run, and gives the bot a total below it, as an operator would.

The rows the killed process had sent but not yet marked are sent again by a survivor: Discord
(and the stand-in) answer such a resend with the first message because each carries its
outbox row as an enforced nonce (``nonce_repeats`` counts them). Timings are printed (run with
``-s``) and recorded in docs/benchmarks.md, never asserted.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import signal
import sys
import time
from collections import Counter
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, insert, select

from bot import models as m
from bot.store import Store, create_engine
from tests.conftest import PgDatabase, _truncate_pg
from tests.standin import DiscordStandin

ROOT = Path(__file__).resolve().parent.parent
LEARNERS = 20_000
PROCESSES = 3
KILLED = 1  # the index of the process killed mid-run (it owns shard 1, not shard 0)
STANDIN_LIMIT = 2000  # requests per second the stand-in grants the bot token
BOT_TOTAL = 1800  # discord.global_rate_total: each process sends at most BOT_TOTAL / 3
LEASE_SECONDS = 12.0
CLAIM_BATCH = 500  # < LEASE_SECONDS * BOT_TOTAL / PROCESSES: a batch sends within its lease
NEW_EVERY = 10  # one learner in NEW_EVERY has no DM channel yet (the first DM opens it)
DONE_WITHIN = 240.0  # seconds: a generous bound on the whole delivery, against hangs
# Measured on the 2-core machine (docs/benchmarks.md): about 80 s in all, the DMs in about
# 55 s; with BOT_TOTAL 900 it took 200 s, as each process's evenly spaced limiter lost
# milliseconds per request to CPU contention (5 processes, 2 cores).


@pytest.fixture
async def pg_store(pg_database: PgDatabase) -> AsyncIterator[Store]:
    store = Store(create_engine(pg_database.url))
    await _truncate_pg(store)
    yield store
    await _truncate_pg(store)
    await store.close()


def child_config(folder: Path, index: int, standin: DiscordStandin, db_url: str) -> Path:
    """Write the config file of process INDEX: its shard, its rate share, the short lease."""
    path = folder / f"pacer-{index}.toml"
    path.write_text(f"""
log_level = "INFO"

[database]
url = "{db_url}"

[discord]
rest_base_url = "{standin.via_base(str(index))}"
gateway_url = "{standin.gateway_url}"
shard_count = {PROCESSES}
shard_ids = [{index}]
global_rate_total = {BOT_TOTAL}
process_count = {PROCESSES}

[slack]
enabled = false

[scheduler]
tick_seconds = 1
lease_seconds = {LEASE_SECONDS}
claim_batch = {CLAIM_BATCH}
send_concurrency = 64
""", encoding="utf-8")
    return path


async def seed(store: Store, standin: DiscordStandin, users: list[int]) -> datetime:
    """Insert one learner per user, all due at the same instant; most DM channels known."""
    due = datetime.now(UTC).replace(second=0, microsecond=0)  # this minute: due at once
    created = due - timedelta(days=1)
    learners = [{
        "platform": "discord", "external_id": str(uid), "display_name": f"Scale {n}",
        "plan_id": "vllm", "timezone": "UTC", "day_start_hour": 0,
        "start_date": (due - timedelta(days=3)).date(), "commitment_minutes": 240,
        "commitment_weeks": 6, "reminder_minute": due.hour * 60 + due.minute,
        "digest_weekday": (due.weekday() + 3) % 7, "digest_minute": 18 * 60,
        "digest_every_weeks": 1, "public_posts": True, "created_at": created,
        "updated_at": created, "next_reminder_at": due,
        "next_digest_at": due + timedelta(days=3),
    } for n, uid in enumerate(users)]
    channels = [{"platform": "discord", "user_id": str(uid),
                 "channel_id": str(standin.dm_channel_id(uid)), "opened_at": created}
                for n, uid in enumerate(users) if n % NEW_EVERY]
    async with store.write() as session:
        for start in range(0, len(learners), 5000):
            await session.execute(insert(m.Learner), learners[start:start + 5000])
        for start in range(0, len(channels), 5000):
            await session.execute(insert(m.DmChannel), channels[start:start + 5000])
    return due


async def pending(store: Store) -> int:
    """Count the outbox rows claimed and not yet marked (by any process)."""
    async with store.read() as session:
        return await session.scalar(select(func.count()).select_from(m.Outbox).where(
            m.Outbox.status == "pending")) or 0


def delivered(standin: DiscordStandin, users: list[int]) -> Counter[int]:
    """Count how many users received how many DMs (0, 1, 2 ...)."""
    return Counter(len(standin.dm_messages(uid)) for uid in users)


async def until(predicate: Any, what: str, timeout: float = DONE_WITHIN,  # noqa: ASYNC109
                every: float = 0.25) -> None:
    """Poll PREDICATE every EVERY seconds (not after each request: it may be slow) until true."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        await asyncio.sleep(every)


def tail(path: Path, lines: int = 40) -> str:
    return "\n".join(path.read_text(encoding="utf-8", errors="replace").splitlines()[-lines:])


def sent_by_log(path: Path) -> int:
    """Sum the ``sent=`` of a child's dispatcher tick reports."""
    text = path.read_text(encoding="utf-8", errors="replace")
    return sum(int(n) for n in re.findall(r"dispatcher tick: TickReport\(.*?sent=(\d+)", text))


async def test_three_processes_deliver_20000_reminders_once_through_a_kill(
        pg_store: Store, pg_database: PgDatabase, tmp_path: Path) -> None:
    standin = DiscordStandin(shards=PROCESSES, global_limit=STANDIN_LIMIT, route_limits={},
                             check_openapi=False, interaction_deadline=None)
    await standin.start()
    users = [int(standin.make_user(f"scale{n}", member=False)["id"]) for n in range(LEARNERS)]
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("SLACK_", "DISCORD_", "PACER_"))}
    env.update({"PYTHONPATH": str(ROOT), "DISCORD_TOKEN": standin.token})
    children: list[asyncio.subprocess.Process] = []
    logs = [tmp_path / f"pacer-{i}.log" for i in range(PROCESSES)]
    files: list[Any] = []
    timings: dict[str, float] = {}
    try:
        started = time.monotonic()
        for i in range(PROCESSES):
            out = logs[i].open("wb")
            files.append(out)
            children.append(await asyncio.create_subprocess_exec(
                sys.executable, "-m", "bot", "run", "--config",
                str(child_config(tmp_path, i, standin, pg_database.url)),
                stdin=asyncio.subprocess.DEVNULL, stdout=out, stderr=asyncio.subprocess.STDOUT,
                cwd=tmp_path, env=env))
        await standin.wait_for(lambda: len(standin.connected_shards) == PROCESSES,
                               timeout=60, what="three shard connections")
        assert standin.connected_shards == [(i, PROCESSES) for i in range(PROCESSES)]
        timings["start"] = time.monotonic() - started

        seeded = time.monotonic()
        await seed(pg_store, standin, users)
        timings["seed"] = time.monotonic() - seeded
        t0 = time.monotonic()

        def dms() -> int:
            return len(standin.requests_to("POST", "/channels/{channel_id}/messages"))

        def victim_sending() -> bool:  # mid-batch: it holds claimed rows not yet sent
            now = time.monotonic()
            return any(r.via == str(KILLED) and now - r.received_at < 0.05
                       for r in standin.requests[-20:])

        await until(lambda: dms() >= LEARNERS // 3, "a third of the DMs")
        await until(victim_sending, "the victim sending", timeout=30, every=0.005)
        victim = children[KILLED]
        victim.send_signal(signal.SIGKILL)
        pending_at_kill = await pending(pg_store)
        await victim.wait()
        killed_at = time.monotonic()
        timings["killed after"] = killed_at - t0
        timings["dms at kill"] = dms()

        await until(lambda: dms() - standin.nonce_repeats >= LEARNERS, "a DM to every learner")
        timings["all delivered"] = time.monotonic() - t0
        # let the survivors mark what they sent, then check nothing is left to send
        async def settled() -> bool:
            async with pg_store.read() as session:
                left = await session.scalar(select(func.count()).select_from(m.Outbox).where(
                    m.Outbox.status != "sent"))
            return left == 0
        deadline = time.monotonic() + 30
        while not await settled():
            assert time.monotonic() < deadline, "outbox rows still not marked sent"
            await asyncio.sleep(0.5)
        await asyncio.sleep(LEASE_SECONDS + 2)  # a survivor resending now would be a duplicate

        timings["cpu test"] = time.process_time()
        for i in range(PROCESSES):
            if i != KILLED and (stat := Path(f"/proc/{children[i].pid}/stat")).exists():
                fields = stat.read_text().rsplit(")", 1)[1].split()  # utime, stime: 11, 12
                timings[f"cpu {i}"] = ((int(fields[11]) + int(fields[12]))
                                       / os.sysconf("SC_CLK_TCK"))
        assert delivered(standin, users) == Counter({1: LEARNERS})
        async with pg_store.read() as session:
            statuses = Counter(dict((await session.execute(
                select(m.Outbox.status, func.count()).group_by(m.Outbox.status))).all()))
        assert statuses == Counter({"sent": LEARNERS})
        assert standin.rate_limited == []
        assert standin.busiest_second() <= STANDIN_LIMIT
        survivors = [i for i in range(PROCESSES) if i != KILLED]
        assert all(children[i].returncode is None for i in survivors)  # still serving
        assert all(sent_by_log(logs[i]) > 0 for i in survivors)
        takeover = "".join(logs[i].read_text(encoding="utf-8") for i in survivors)
        assert "resending" in takeover  # a survivor took the dead process's claims over
        opened = len(standin.requests_to("POST", "/users/@me/channels"))
        assert opened >= LEARNERS // NEW_EVERY
        timings.update({
            "busiest second": standin.busiest_second(),
            "nonce repeats": standin.nonce_repeats, "dm channel opens": opened,
            "pending at kill": pending_at_kill,
            **{f"posts via {k}": v for k, v in sorted(Counter(
                r.via for r in standin.requests_to("POST", "/channels/{channel_id}/messages")
                if r.status == 200).items())},
            **{f"sent by {i}": sent_by_log(logs[i]) for i in survivors},
        })
        print("\nscale run:", ", ".join(
            f"{k} {v:.1f}" if isinstance(v, float) else f"{k} {v}" for k, v in timings.items()))
    except BaseException:
        for i, path in enumerate(logs):
            if path.exists():
                code = children[i].returncode if i < len(children) else None
                print(f"--- process {i} (exit {code}) ---\n{tail(path)}", file=sys.stderr)
        raise
    finally:
        for child in children:
            if child.returncode is None:
                child.send_signal(signal.SIGTERM)
        for child in children:
            try:
                await asyncio.wait_for(child.wait(), 15)
            except TimeoutError:
                child.kill()
                await child.wait()
        for out in files:
            out.close()
        with contextlib.suppress(Exception):
            await standin.stop()

"""Benchmark command latency: the real PacerBot against a bare discord.py bot, same stand-in.

Both bots log in to one loopback ``DiscordStandin`` (127.0.0.1, Discord's limits enforced), in
the same process, taking turns: the run is cut into ROUNDS, and in each round every bot logs in,
is measured and logs out, so that a machine that slows down or speeds up during the run weighs
on all of them alike. In each round one user per bot sends commands one at a time: WARMUP
untimed (a bot that logs in again starts cold), then N / ROUNDS timed, for ``/log 1m`` and then
``/progress``; each bot keeps its database and its user from round to round. A command's
latency is the stand-in's ``response_delay``: from the interaction's creation
(``standin.send_command``) to the bot's first interaction response (an answer, or a deferral,
which is counted and reported). The next command is sent only after the whole answer arrived.

The peer is a minimal ``discord.Client`` with an ``app_commands.CommandTree``: ``/log`` runs one
single-row INSERT transaction, ``/progress`` reads one row by primary key, and each answers with
``interaction.response.send_message``. On SQLite it uses its own file through aiosqlite (WAL,
synchronous=NORMAL, BEGIN IMMEDIATE); with ``--url`` Pacer runs on that PostgreSQL database and
the peer on asyncpg in a second scratch database (``<name>_peer``), both recreated.

Two more bots are references, not the peer (``SessionPeerStore``): the same bare bot with its
INSERT and its read in a ``Store`` session on Pacer's own engine (on PostgreSQL in
``<name>_speer``), and the bare bot making a /log's four statements through SQLAlchemy with no
rule around them (``<name>_shaped``). Their ratios to the peer show what SQLAlchemy's session
alone, and a /log's statements alone, take of the 1.5x before any rule of Pacer's runs.

    .venv/bin/python bench/bench_latency.py            # 5 rounds of 20 warm-up + 20 timed
    .venv/bin/python bench/bench_latency.py --full     # 10 rounds of 20 warm-up + 50 timed
    .venv/bin/python bench/bench_latency.py --url postgresql+asyncpg://postgres@127.0.0.1:5432/pacer_bench

Target (issue "Fast and steady under load"): Pacer's ``/log`` p50 within 1.5x of the peer's.
It is judged on the median over the rounds of (Pacer's p50 / the peer's p50 in that round): on
this project's 2-core virtual machine the CPU's speed changes from second to second (the same
commands cost 50 % more CPU time in one round than in the next), and a ratio of two bots
measured a few seconds apart, in a round where the machine ran slow for one of them, says
more about the machine than about the bots. The p50s over all rounds and their ratio are
printed beside it.
"""

from __future__ import annotations

import argparse
import asyncio
import re
import sys
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import aiosqlite  # noqa: E402
import asyncpg  # noqa: E402
import discord  # noqa: E402
from discord import app_commands  # noqa: E402
from sqlalchemy import (  # noqa: E402
    BigInteger,
    Column,
    Integer,
    MetaData,
    Table,
    Text,
    bindparam,
    func,
    insert,
    select,
)

from bench._bench import (  # noqa: E402
    percentile,
    pg_dsn,
    recreate_pg,
    sqlite_path,
    sqlite_url,
    with_database,
)
from bot.store import Store, create_engine, migrate  # noqa: E402
from tests.conftest import FakeClock  # noqa: E402
from tests.discord_fixtures import (  # noqa: E402
    START,
    World,
    collect,
    discord_globals_restored,
    running_bot,
    standin_settings,
)
from tests.standin import DiscordStandin  # noqa: E402

COMMANDS: tuple[tuple[str, dict[str, Any] | None], ...] = (
    ("log", {"duration": "1m"}),  # 1 minute: a day holds 1,440 of them (24 h a day at most)
    ("progress", None),
)
MAX_COMMANDS = 1400  # per command and bot: /log 1m stays under a day's 24 h
RESPONSE_TIMEOUT = 30.0


@dataclass
class Timings:
    """First-response delays (seconds) per command, and how many were deferrals."""

    delays: dict[str, list[float]] = field(default_factory=dict)
    deferred: dict[str, int] = field(default_factory=dict)
    round_p50: dict[str, list[float]] = field(default_factory=dict)  # each round's own p50


async def measure(standin: DiscordStandin, user: dict[str, Any], warmup: int,
                  n: int, out: Timings) -> Timings:
    """Send each command WARMUP + N times, one at a time; add the last N first-response delays."""
    for name, options in COMMANDS:
        delays = out.delays.setdefault(name, [])
        deferred = out.deferred.get(name, 0)
        first = len(delays)
        for i in range(warmup + n):
            handle = await standin.send_command(name, options, user=user)
            answer = await asyncio.wait_for(collect(handle), RESPONSE_TIMEOUT)
            if answer.callback.type not in (4, 5):
                raise AssertionError(f"/{name}: unexpected callback type {answer.callback.type}")
            if i >= warmup:
                assert handle.response_delay is not None
                delays.append(handle.response_delay)
                deferred += answer.callback.type == 5
        out.delays[name], out.deferred[name] = delays, deferred
        out.round_p50.setdefault(name, []).append(percentile(delays[first:], 0.5))
    if standin.rate_limited:
        raise AssertionError(f"{len(standin.rate_limited)} requests were rate limited")
    return out


# --- the peer: a bare discord.py bot -------------------------------------------------------------


SCHEMA = ("CREATE TABLE IF NOT EXISTS learners (user_id BIGINT PRIMARY KEY, name TEXT, "
          "timezone TEXT, created_at TEXT)",
          "CREATE TABLE IF NOT EXISTS time_logs (id {serial} PRIMARY KEY, user_id BIGINT, "
          "minutes INTEGER, created_at TEXT)")


class SqlitePeerStore:
    """aiosqlite, one connection, WAL, synchronous=NORMAL, BEGIN IMMEDIATE for the write."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.conn: aiosqlite.Connection | None = None

    async def open(self) -> None:
        self.conn = await aiosqlite.connect(self.path, isolation_level=None)
        for pragma in ("journal_mode=WAL", "busy_timeout=5000", "foreign_keys=ON",
                       "synchronous=NORMAL"):
            await self.conn.execute(f"PRAGMA {pragma}")
        for statement in SCHEMA:
            await self.conn.execute(statement.format(serial="INTEGER"))

    async def add_learner(self, user_id: int, name: str) -> None:
        assert self.conn is not None
        await self.conn.execute("INSERT INTO learners VALUES (?, ?, 'Europe/Berlin', ?)",
                                (user_id, name, datetime.now(UTC).isoformat()))

    async def log(self, user_id: int, minutes: int) -> None:
        assert self.conn is not None
        await self.conn.execute("BEGIN IMMEDIATE")
        try:
            await self.conn.execute(
                "INSERT INTO time_logs (user_id, minutes, created_at) VALUES (?, ?, ?)",
                (user_id, minutes, datetime.now(UTC).isoformat()))
        except BaseException:
            await self.conn.execute("ROLLBACK")
            raise
        await self.conn.execute("COMMIT")

    async def learner(self, user_id: int) -> tuple[Any, ...] | None:
        assert self.conn is not None
        async with self.conn.execute("SELECT * FROM learners WHERE user_id = ?",
                                     (user_id,)) as cursor:
            row = await cursor.fetchone()
        return None if row is None else tuple(row)

    async def close(self) -> None:
        if self.conn is not None:
            await self.conn.close()


class PgPeerStore:
    """asyncpg, a pool of 5, one transaction for the write."""

    def __init__(self, dsn: str) -> None:
        self.dsn = dsn
        self.pool: asyncpg.Pool | None = None

    async def open(self) -> None:
        self.pool = await asyncpg.create_pool(self.dsn, min_size=1, max_size=5)
        async with self.pool.acquire() as conn:
            for statement in SCHEMA:
                await conn.execute(statement.format(serial="BIGSERIAL"))

    async def add_learner(self, user_id: int, name: str) -> None:
        assert self.pool is not None
        await self.pool.execute("INSERT INTO learners VALUES ($1, $2, 'Europe/Berlin', $3)",
                                user_id, name, datetime.now(UTC).isoformat())

    async def log(self, user_id: int, minutes: int) -> None:
        assert self.pool is not None
        async with self.pool.acquire() as conn, conn.transaction():
            await conn.execute(
                "INSERT INTO time_logs (user_id, minutes, created_at) VALUES ($1, $2, $3)",
                user_id, minutes, datetime.now(UTC).isoformat())

    async def learner(self, user_id: int) -> tuple[Any, ...] | None:
        assert self.pool is not None
        row = await self.pool.fetchrow("SELECT * FROM learners WHERE user_id = $1", user_id)
        return None if row is None else tuple(row)

    async def close(self) -> None:
        if self.pool is not None:
            await self.pool.close()


PEER_METADATA = MetaData()
PEER_LEARNERS = Table("peer_learners", PEER_METADATA,
                      Column("user_id", BigInteger, primary_key=True), Column("name", Text),
                      Column("timezone", Text), Column("created_at", Text))
PEER_LOGS = Table("peer_time_logs", PEER_METADATA, Column("id", Integer, primary_key=True),
                  Column("user_id", BigInteger), Column("minutes", Integer),
                  Column("created_at", Text))


PEER_UNDO = Table("peer_undo", PEER_METADATA, Column("id", Integer, primary_key=True),
                  Column("user_id", BigInteger), Column("ops", Text))


class SessionPeerStore:
    """The bare bot's statements through SQLAlchemy: a ``Store`` on Pacer's own engine.

    References, not the target's peer. With ``shaped`` false, one INSERT in a
    ``store.write()`` session: what the mandated SQLAlchemy session costs before any rule runs.
    With ``shaped`` true, a /log's four statements in ``store.write_connection()`` (the
    learner's row locked, the day's total with the totals a milestone check reads, the insert,
    the undo entry), written straight, with no rule, check or reply of Pacer's around them.
    """

    def __init__(self, url: str, *, shaped: bool = False) -> None:
        self.url = url
        self.shaped = shaped
        self.store: Store | None = None

    async def open(self) -> None:
        self.store = Store(create_engine(self.url))
        async with self.store.engine.begin() as conn:
            await conn.run_sync(PEER_METADATA.create_all)

    async def add_learner(self, user_id: int, name: str) -> None:
        assert self.store is not None
        async with self.store.write() as session:
            await session.execute(insert(PEER_LEARNERS).values(
                user_id=user_id, name=name, timezone="Europe/Berlin",
                created_at=datetime.now(UTC).isoformat()))

    async def log(self, user_id: int, minutes: int) -> None:
        assert self.store is not None
        values = {"user_id": user_id, "minutes": minutes,
                  "created_at": datetime.now(UTC).isoformat()}
        if not self.shaped:
            async with self.store.write() as session:
                await session.execute(_PEER_LOG, values)
            return
        ids = {"user_id": user_id}
        async with self.store.write_connection() as conn:
            await conn.execute(_PEER_LOCK, ids)
            await conn.execute(_PEER_FACTS, ids)
            log_id = await conn.scalar(_PEER_LOG.returning(PEER_LOGS.c.id), values)
            await conn.scalar(_PEER_UNDO, {"user_id": user_id, "ops": f"delete {log_id}"})

    async def learner(self, user_id: int) -> tuple[Any, ...] | None:
        assert self.store is not None
        async with self.store.read() as session:
            row = (await session.execute(_PEER_LEARNER, {"user_id": user_id})).first()
        return None if row is None else tuple(row)

    async def close(self) -> None:
        if self.store is not None:
            await self.store.close()


_PEER_LOG = insert(PEER_LOGS)
_PEER_ID = bindparam("user_id")
_PEER_LOCK = select(PEER_LEARNERS).where(PEER_LEARNERS.c.user_id == _PEER_ID).with_for_update()
_PEER_FACTS = select(  # the day's total with the totals a milestone check reads
    select(func.coalesce(func.sum(PEER_LOGS.c.minutes), 0)).where(
        PEER_LOGS.c.user_id == _PEER_ID, PEER_LOGS.c.created_at >= "2000-01-01")
    .scalar_subquery(),
    select(func.coalesce(func.sum(PEER_LOGS.c.minutes), 0)).where(
        PEER_LOGS.c.user_id == _PEER_ID).scalar_subquery(),
    select(func.count()).select_from(PEER_LOGS).where(PEER_LOGS.c.user_id == _PEER_ID)
    .scalar_subquery())
_PEER_UNDO = insert(PEER_UNDO).returning(PEER_UNDO.c.id)
_PEER_LEARNER = select(PEER_LEARNERS).where(PEER_LEARNERS.c.user_id == bindparam("user_id"))


DURATION = re.compile(r"^(?:(\d+)h)?(?:(\d+)m)?$")


class PeerBot(discord.Client):
    """A minimal discord.py bot: a CommandTree with /log and /progress over one PeerStore."""

    def __init__(self, store: SqlitePeerStore | PgPeerStore | SessionPeerStore) -> None:
        # Like PacerBot in the benchmark, it does not wait 2 s for guilds to stream in.
        super().__init__(intents=discord.Intents.none(), guild_ready_timeout=0.01)
        self.store = store
        self.tree = app_commands.CommandTree(self)

        @self.tree.command(name="log", description="Log study time")
        @app_commands.describe(duration="How long, e.g. 1h30m")
        async def log_command(interaction: discord.Interaction, duration: str) -> None:
            match = DURATION.match(duration.strip())
            if match is None or not any(match.groups()):
                await interaction.response.send_message("Say 1h30m.", ephemeral=True)
                return
            minutes = int(match[1] or 0) * 60 + int(match[2] or 0)
            await self.store.log(interaction.user.id, minutes)
            await interaction.response.send_message(f"Logged {minutes} min.")

        @self.tree.command(name="progress", description="Show your progress")
        async def progress_command(interaction: discord.Interaction) -> None:
            row = await self.store.learner(interaction.user.id)
            text = "Not started." if row is None else f"{row[1]} studies in {row[2]}."
            await interaction.response.send_message(text, ephemeral=True)

    async def setup_hook(self) -> None:
        await self.store.open()

    async def close(self) -> None:
        await super().close()
        await self.store.close()


# --- the two runs --------------------------------------------------------------------------------


@dataclass
class Side:
    """One bot of the comparison across rounds: its user, once made, and its timings."""

    name: str
    user: dict[str, Any] | None = None
    timings: Timings = field(default_factory=Timings)


async def run_pacer(standin: DiscordStandin, db_url: str, warmup: int, n: int,
                    side: Side) -> None:
    """Measure the real PacerBot, built as `python -m bot run` builds it, for one round."""
    settings = standin_settings(standin, db_url)
    clock = FakeClock(START)
    async with running_bot(standin, settings, clock) as (bot, core):
        if side.user is None:
            world = World(standin, bot, core, settings, clock)
            side.user = world.new_user("pacer")
            await world.onboard(side.user)
        await measure(standin, side.user, warmup, n, side.timings)


async def run_peer(standin: DiscordStandin,
                   store: SqlitePeerStore | PgPeerStore | SessionPeerStore, warmup: int,
                   n: int, side: Side) -> None:
    """Measure the bare discord.py bot for one round."""
    bot = PeerBot(store)
    async with standin.run_client(bot):
        if side.user is None:
            side.user = standin.make_user(side.name, global_name=side.name)
            await store.add_learner(int(side.user["id"]), side.name)
        await measure(standin, side.user, warmup, n, side.timings)


def report(pacer: Timings, peer: Timings, label: str,
           references: dict[str, Timings] | None = None) -> dict[str, float]:
    """Print p50/p95/p99 per command for both bots and the ratios; return the ratios."""
    ratios: dict[str, float] = {}
    print(f"command latency, {label}: first response, ms (p50 / p95 / p99), "
          f"{len(pacer.delays['log'])} timed commands each")
    for name, _ in COMMANDS:
        row = []
        for who, t in (("Pacer", pacer), ("peer", peer)):
            d = t.delays[name]
            row.append(f"{who} {percentile(d, 0.5) * 1000:6.2f} / "
                       f"{percentile(d, 0.95) * 1000:6.2f} / {percentile(d, 0.99) * 1000:6.2f}"
                       + (f" ({t.deferred[name]} deferred)" if t.deferred[name] else ""))
        p50 = percentile(pacer.delays[name], 0.5) / percentile(peer.delays[name], 0.5)
        p99 = percentile(pacer.delays[name], 0.99) / percentile(peer.delays[name], 0.99)
        paired = sorted(a / b for a, b in zip(pacer.round_p50[name], peer.round_p50[name],
                                              strict=True))
        ratios[f"{name}_p50"], ratios[f"{name}_p99"] = p50, p99
        ratios[f"{name}_paired"] = percentile(paired, 0.5)
        print(f"  /{name:<9} {row[0]}   {row[1]}   ratio Pacer/peer p50 {p50:.2f}x, "
              f"p99 {p99:.2f}x; by round {ratios[f'{name}_paired']:.2f}x "
              f"({paired[0]:.2f}-{paired[-1]:.2f})")
    for name, timings in (references or {}).items():
        d = timings.delays["log"]
        floor = percentile(d, 0.5) / percentile(peer.delays["log"], 0.5)
        print(f"  reference: {name}: /log {percentile(d, 0.5) * 1000:.2f} / "
              f"{percentile(d, 0.95) * 1000:.2f} / {percentile(d, 0.99) * 1000:.2f}, "
              f"{floor:.2f}x the bare bot")
        ratios[f"reference {name}"] = floor
    met = ratios["log_paired"] <= 1.5
    print(f"target: /log p50 within 1.5x of the bare bot, {label.split(' ', 1)[0]}: "
          f"{ratios['log_paired']:.2f}x, the median of the rounds' ratios "
          f"({'met' if met else 'NOT met'}; pooled p50s {ratios['log_p50']:.2f}x)")
    return ratios


async def run(url: str | None, warmup: int, n: int, rounds: int = 1) -> dict[str, float]:
    """Run both bots on one stand-in and print the comparison."""
    if url is None:
        pacer_url = sqlite_url("pacer.sqlite3")
        peer_store: SqlitePeerStore | PgPeerStore = SqlitePeerStore(
            str(Path(sqlite_path(pacer_url)).with_name("peer.sqlite3")))
        session_url = pacer_url.replace("pacer.sqlite3", "session-peer.sqlite3")
        shaped_url = pacer_url.replace("pacer.sqlite3", "shaped-peer.sqlite3")
        label = "SQLite (Pacer: SQLAlchemy, SQLite on the loop; peer: aiosqlite)"
    else:
        pacer_url = await recreate_pg(url)
        peer_url = await recreate_pg(with_database(url, url.rsplit("/", 1)[1] + "_peer"))
        session_url = await recreate_pg(with_database(url, url.rsplit("/", 1)[1] + "_speer"))
        shaped_url = await recreate_pg(with_database(url, url.rsplit("/", 1)[1] + "_shaped"))
        peer_store = PgPeerStore(pg_dsn(peer_url))
        label = "PostgreSQL (Pacer: SQLAlchemy + asyncpg; peer: asyncpg)"
    await asyncio.to_thread(migrate, pacer_url)
    pacer, peer = Side("pacer"), Side("peer")
    references = {name: Side(f"reference{i}") for i, (name, _) in enumerate(REFERENCES)}
    with discord_globals_restored():
        async with DiscordStandin() as standin:
            for r in range(rounds):
                # Each round's share of the commands (the first rounds take the remainders).
                k = n // rounds + (r < n % rounds)
                await run_pacer(standin, pacer_url, warmup, k, pacer)
                standin.requests.clear()
                await run_peer(standin, peer_store, warmup, k, peer)
                for name, shaped in REFERENCES:
                    standin.requests.clear()
                    url_ = session_url if not shaped else shaped_url
                    await run_peer(standin, SessionPeerStore(url_, shaped=shaped), warmup, k,
                                   references[name])
                standin.requests.clear()
    return report(pacer.timings, peer.timings, f"{label}, {rounds} rounds",
                  {name: side.timings for name, side in references.items()})


REFERENCES = (("the bare bot, its INSERT in a SQLAlchemy session on Pacer's engine", False),
              ("the bare bot making a /log's 4 statements through SQLAlchemy", True))


def main(argv: list[str] | None = None) -> None:
    """Parse the arguments and run the benchmark."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", help="a scratch PostgreSQL URL for Pacer (it is recreated, "
                                      "and so is <name>_peer for the peer)")
    parser.add_argument("--full", action="store_true", help="100 warm-up + 500 timed commands")
    parser.add_argument("--warmup", type=int, help="untimed commands per round")
    parser.add_argument("-n", type=int, help="timed commands per command and bot")
    parser.add_argument("--rounds", type=int, help="turns the bots take (10 with --full, else 5)")
    args = parser.parse_args(argv)
    warmup = args.warmup if args.warmup is not None else 20
    n = args.n or (500 if args.full else 100)
    rounds = args.rounds or (10 if args.full else 5)
    if not 1 <= rounds <= n:
        parser.error("--rounds must be between 1 and the number of timed commands")
    if warmup * rounds + n > MAX_COMMANDS:
        parser.error(f"at most {MAX_COMMANDS} commands per bot (a day holds 24 h of /log 1m)")
    asyncio.run(run(args.url, warmup, n, rounds))


if __name__ == "__main__":
    main()

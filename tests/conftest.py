"""Shared fixtures: a fresh store per test on a real SQLite file and on a real PostgreSQL."""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.actors import Actor
from bot.app import build_services
from bot.grammar import Grammar
from bot.plan import PlanRegistry
from bot.services import Services
from bot.store import Store, create_engine, migrate

PG_ADMIN_URL = os.environ.get("PACER_TEST_POSTGRES_URL",
                              "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres")


class FakeClock:
    """A clock that tests move by hand; always aware UTC."""

    def __init__(self, start: datetime) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **kw: float) -> None:
        self.now += timedelta(**kw)

    def set(self, when: datetime) -> None:
        self.now = when.astimezone(UTC)


@pytest.fixture
def clock() -> FakeClock:
    # A Monday noon UTC; 13:00 in Berlin.
    return FakeClock(datetime(2026, 11, 30, 12, 0, tzinfo=UTC))


@pytest.fixture(scope="session")
def plans() -> PlanRegistry:
    return PlanRegistry.load()


def in_thread(fn, *args):  # type: ignore[no-untyped-def]
    """Run blocking set-up (asyncio.run, Alembic) off the test's running event loop."""
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(1) as pool:
        return pool.submit(fn, *args).result()


async def _pg_reachable() -> str | None:
    import asyncpg

    dsn = PG_ADMIN_URL.replace("postgresql+asyncpg://", "postgresql://")
    try:
        conn = await asyncio.wait_for(asyncpg.connect(dsn), 5)
    except Exception as exc:
        return f"{type(exc).__name__}: {exc}"
    await conn.close()
    return None


@dataclass
class PgDatabase:
    url: str
    name: str


@pytest.fixture(scope="session")
def pg_database() -> Iterator[PgDatabase]:
    """Create one migrated PostgreSQL database for the session (skip visibly if unreachable)."""
    import asyncpg

    problem = in_thread(asyncio.run, _pg_reachable())
    if problem is not None:
        if os.environ.get("CI"):
            pytest.fail(f"PostgreSQL is required in CI but unreachable at {PG_ADMIN_URL}: "
                        f"{problem}")
        pytest.skip(f"PostgreSQL not reachable at {PG_ADMIN_URL} ({problem})")
    name = f"pacer_test_{uuid.uuid4().hex[:10]}"
    dsn = PG_ADMIN_URL.replace("postgresql+asyncpg://", "postgresql://")

    async def admin(sql: str) -> None:
        conn = await asyncpg.connect(dsn)
        try:
            await conn.execute(sql)
        finally:
            await conn.close()

    in_thread(asyncio.run, admin(f'CREATE DATABASE "{name}"'))
    url = PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    in_thread(migrate, url)
    yield PgDatabase(url, name)
    in_thread(asyncio.run, admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


async def _truncate_pg(store: Store) -> None:
    from sqlalchemy import text

    from bot.models import Base

    names = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
    async with store.engine.begin() as conn:
        await conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Migrate one SQLite file once; each test copies it (migrations run once per session)."""
    path = tmp_path_factory.mktemp("template") / "pacer.sqlite3"
    in_thread(migrate, f"sqlite+aiosqlite:///{path}")
    return path


@pytest.fixture(params=["sqlite", "postgres"])
async def store(request: pytest.FixtureRequest, tmp_path: Path,
                sqlite_template: Path) -> AsyncIterator[Store]:
    """Yield a fresh, migrated store on a real SQLite file, then on a real PostgreSQL."""
    if request.param == "sqlite":
        path = tmp_path / "pacer.sqlite3"
        path.write_bytes(sqlite_template.read_bytes())
        s = Store(create_engine(f"sqlite+aiosqlite:///{path}"))
    else:
        pg = request.getfixturevalue("pg_database")
        s = Store(create_engine(pg.url))
        await _truncate_pg(s)
    yield s
    await s.close()


@pytest.fixture
async def sqlite_store(tmp_path: Path, sqlite_template: Path) -> AsyncIterator[Store]:
    path = tmp_path / "pacer.sqlite3"
    path.write_bytes(sqlite_template.read_bytes())
    s = Store(create_engine(f"sqlite+aiosqlite:///{path}"))
    yield s
    await s.close()


@pytest.fixture
def services(store: Store, plans: PlanRegistry, clock: FakeClock) -> Services:
    return build_services(store, plans, clock=clock)


@pytest.fixture
def grammar(services: Services) -> Grammar:
    return Grammar(services)


@pytest.fixture
def alice() -> Actor:
    return Actor("console", "alice", "Alice", space_id="console")


@pytest.fixture
def bob() -> Actor:
    return Actor("console", "bob", "Bob", space_id="console")


async def dump_store(store: Store) -> dict[str, list[tuple]]:
    """Read every row of every table, to assert that a refused command changed nothing."""
    from sqlalchemy import select

    from bot.models import Base

    out: dict[str, list[tuple]] = {}
    async with store.read() as session:
        for table in Base.metadata.sorted_tables:
            rows = (await session.execute(select(table).order_by(*table.primary_key.columns)))
            out[table.name] = [tuple(r) for r in rows.all()]
    return out

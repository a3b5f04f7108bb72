"""What the benchmark scripts share: percentiles, scratch databases, the machine's description.

The leading underscore says this is not a benchmark itself (``run_all.py`` runs the others).
"""

from __future__ import annotations

import math
import platform
import sqlite3
import subprocess
import tempfile
from collections.abc import Sequence
from pathlib import Path

import asyncpg

DEFAULT_PG_URL = "postgresql+asyncpg://postgres@127.0.0.1:5432/pacer_bench"


def percentile(values: Sequence[float], fraction: float) -> float:
    """Return the nearest-rank percentile (0 for no values)."""
    ordered = sorted(values)
    if not ordered:
        return 0.0
    rank = max(1, math.ceil(fraction * len(ordered)))
    return ordered[rank - 1]


def sqlite_url(name: str = "bench.sqlite3") -> str:
    """Return the URL of a new SQLite file in a fresh temporary folder."""
    return f"sqlite+aiosqlite:///{Path(tempfile.mkdtemp(prefix='pacer-bench-')) / name}"


def sqlite_path(url: str) -> str:
    """Return the file path of a sqlite+aiosqlite:/// URL."""
    return url.split(":///", 1)[1]


def pg_dsn(url: str) -> str:
    """Return the asyncpg DSN of a SQLAlchemy postgresql+asyncpg URL."""
    return url.replace("postgresql+asyncpg://", "postgresql://", 1)


def with_database(url: str, name: str) -> str:
    """Return URL with its database name replaced by NAME."""
    return url.rsplit("/", 1)[0] + "/" + name


async def recreate_pg(url: str) -> str:
    """Drop and create the (scratch) database a PostgreSQL URL names; return the URL."""
    base, name = url.rsplit("/", 1)
    if not name.replace("_", "").isalnum():
        raise ValueError(f"refusing to recreate a database named {name!r}")
    admin = await asyncpg.connect(pg_dsn(base) + "/postgres")
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    return url


async def pg_version(url: str) -> str:
    """Return SELECT version() of the server a PostgreSQL URL points at."""
    conn = await asyncpg.connect(pg_dsn(url.rsplit("/", 1)[0]) + "/postgres")
    try:
        return str(await conn.fetchval("SELECT version()"))
    finally:
        await conn.close()


def machine() -> list[str]:
    """Describe this machine as docs/benchmarks.md records it (CPU, cores, memory, versions)."""
    def run(*cmd: str) -> str:
        try:
            return subprocess.run(cmd, capture_output=True, text=True, timeout=10,
                                  check=False).stdout.strip()
        except OSError:
            return "?"

    model = next((line.split(":", 1)[1].strip() for line in run("lscpu").splitlines()
                  if line.startswith("Model name")), "?")
    memory = next((line.split()[1] for line in run("free", "-h").splitlines()
                   if line.startswith("Mem:")), "?")
    return [f"CPU: {model}, nproc {run('nproc')}, memory {memory}",
            f"Python {platform.python_version()}, SQLite {sqlite3.sqlite_version}",
            f"load average: {run('cat', '/proc/loadavg')}"]

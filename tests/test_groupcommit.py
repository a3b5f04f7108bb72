"""Group commit: works that arrive together share one transaction, and each stays all or nothing.

Every test runs on a real SQLite file and on the real PostgreSQL. The works below insert notices
(a plain table with a foreign key to a learner) on the connection each work is given, so that
what each work wrote can be counted.
``together`` puts works in one batch: they queue while a first batch is held open, and the
first of them leads the next batch with all the others in it.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import func, insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from bot import models as m
from bot.actors import Actor
from bot.app import build_services
from bot.errors import InputError
from bot.outcomes import TimeLogged
from bot.plan import PlanRegistry
from bot.services import Onboarding, Services
from bot.services.units import Unit
from bot.store import Store

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
KEY = ("console", "lane")  # one key: every work on the same lane


async def together(store: Store, *works):  # type: ignore[no-untyped-def]
    """Run WORKS on one lane so that they form one batch; return their results or errors."""
    gate = asyncio.Event()

    async def held(_conn: AsyncConnection) -> None:
        await gate.wait()

    first = asyncio.create_task(store.group.run(KEY, held))
    await asyncio.sleep(0.01)  # the held batch is open
    tasks = [asyncio.create_task(store.group.run(KEY, work)) for work in works]
    await asyncio.sleep(0.01)  # every work is queued behind it
    before = store.group.batches
    gate.set()
    await first
    results = await asyncio.gather(*tasks, return_exceptions=True)
    return results, store.group.batches - before - 1  # the held batch not counted


async def learner_ids(services: Services, n: int) -> list[int]:
    ids = []
    for i in range(n):
        actor = Actor("console", f"g{i}", f"G{i}", space_id="console")
        await services.onboarding.start(actor, Onboarding(timezone="Europe/Berlin"))
        row = await services.ctx.find_learner(actor)
        assert row is not None
        ids.append(row.id)
    return ids


async def notice_texts(store: Store) -> Counter[str]:
    async with store.read() as session:
        return Counter((await session.scalars(select(m.Notice.text))).all())


_NOTICE = insert(m.Notice.__table__)


def add_notice(learner_id: int, text: str, runs: Counter[str] | None = None):  # type: ignore[no-untyped-def]
    async def work(conn: AsyncConnection) -> str:
        if runs is not None:
            runs[text] += 1
        await conn.execute(_NOTICE, {"learner_id": learner_id, "text": text, "created_at": NOW})
        return text
    return work


async def test_works_that_arrive_together_commit_once(store: Store, services: Services) -> None:
    [lid] = await learner_ids(services, 1)
    texts, batches = await together(store, *(add_notice(lid, f"n{i}") for i in range(10)))
    assert texts == [f"n{i}" for i in range(10)]
    assert batches == 1
    assert await notice_texts(store) == Counter(f"n{i}" for i in range(10))


async def test_a_users_error_before_any_write_fails_only_its_own_work(
        store: Store, services: Services) -> None:
    [lid] = await learner_ids(services, 1)
    runs: Counter[str] = Counter()

    async def refused(_conn: AsyncConnection) -> str:
        runs["refused"] += 1
        raise InputError("no such thing")

    results, batches = await together(store, add_notice(lid, "a", runs), refused,
                                      add_notice(lid, "b", runs))
    assert results[0] == "a" and results[2] == "b"
    assert isinstance(results[1], InputError)
    assert batches == 1  # committed as one batch: nothing was run again
    assert runs == Counter(a=1, b=1, refused=1)
    assert await notice_texts(store) == Counter(a=1, b=1)


async def test_a_failure_after_a_write_rolls_back_the_batch_and_each_runs_alone(
        store: Store, services: Services) -> None:
    [lid] = await learner_ids(services, 1)
    runs: Counter[str] = Counter()

    async def half_done(conn: AsyncConnection) -> str:
        runs["half"] += 1
        await add_notice(lid, "half")(conn)
        raise InputError("changed my mind")

    results, _ = await together(store, add_notice(lid, "a", runs), half_done,
                                add_notice(lid, "b", runs))
    assert results[0] == "a" and results[2] == "b"
    assert isinstance(results[1], InputError)
    assert runs == Counter(a=2, half=2, b=1)  # b was never reached in the batch
    assert await notice_texts(store) == Counter(a=1, b=1)  # nothing of "half", no doubles


async def test_a_change_refused_before_it_flushed_leaves_nothing_behind(
        store: Store, services: Services) -> None:
    # A unit of work that added an object to its session, then refused: the object goes with
    # its session, the others in the batch commit, and nothing is run again.
    alice, bob = (Actor("console", name, name.title(), space_id="console")
                  for name in ("alice", "bob"))
    for a in (alice, bob):
        await services.onboarding.start(a, Onboarding(timezone="America/Sao_Paulo"))

    async def refuse_after_adding(u: Unit) -> TimeLogged:
        u.session.add(m.Notice(learner_id=u.learner_id, text="pending", created_at=NOW))
        raise InputError("not after all")

    before = store.group.works
    results = await asyncio.gather(services.timelog.log_time(bob, 30),
                                   services.units.run(alice, refuse_after_adding),
                                   services.timelog.log_time(bob, 15), return_exceptions=True)
    assert isinstance(results[1], InputError), results
    assert [r.day_minutes for r in (results[0], results[2])] == [30, 45]  # type: ignore[union-attr]
    assert store.group.works - before == 3  # each once: no batch was run again
    assert await notice_texts(store) == Counter()


async def test_a_database_error_fails_only_its_own_work(store: Store,
                                                         services: Services) -> None:
    [lid] = await learner_ids(services, 1)
    results, _ = await together(store, add_notice(lid, "a"), add_notice(10**9, "orphan"),
                                add_notice(lid, "b"))
    assert results[0] == "a" and results[2] == "b"
    assert isinstance(results[1], IntegrityError)
    assert await notice_texts(store) == Counter(a=1, b=1)


async def test_a_result_comes_back_only_once_committed(store: Store,
                                                       services: Services) -> None:
    [lid] = await learner_ids(services, 1)
    seen: list[int] = []

    async def look(_conn: AsyncConnection) -> str:
        # Another connection's view, while the batch is still open: nothing committed yet.
        async with store.engine.connect() as conn:
            seen.append(await conn.scalar(select(func.count()).select_from(m.Notice)))
        return "looked"

    results, batches = await together(store, add_notice(lid, "a"), look)
    assert results == ["a", "looked"] and batches == 1
    assert seen == [0]
    assert await notice_texts(store) == Counter(a=1)


async def test_a_caller_cancelled_while_waiting_is_skipped_and_the_lane_goes_on(
        store: Store, services: Services) -> None:
    [lid] = await learner_ids(services, 1)
    release = asyncio.Event()

    async def slow(conn: AsyncConnection) -> str:
        await release.wait()
        return await add_notice(lid, "slow")(conn)

    leader = asyncio.create_task(store.group.run(KEY, slow))
    await asyncio.sleep(0.01)
    waiting = asyncio.create_task(store.group.run(KEY, add_notice(lid, "cancelled")))
    behind = asyncio.create_task(store.group.run(KEY, add_notice(lid, "behind")))
    await asyncio.sleep(0.01)
    waiting.cancel()
    release.set()
    assert await leader == "slow"
    assert await behind == "behind"
    with pytest.raises(asyncio.CancelledError):
        await waiting
    assert await store.group.run(KEY, add_notice(lid, "later")) == "later"
    assert await notice_texts(store) == Counter(slow=1, behind=1, later=1)


async def test_a_cancelled_leader_loses_only_its_own_work(store: Store,
                                                          services: Services) -> None:
    [lid] = await learner_ids(services, 1)
    started = asyncio.Event()

    async def stuck(conn: AsyncConnection) -> str:
        await add_notice(lid, "stuck")(conn)
        started.set()
        await asyncio.sleep(3600)
        return "never"

    leader = asyncio.create_task(store.group.run(KEY, stuck))
    await started.wait()
    # Queued behind the leader's batch: they run in the next one.
    others = [asyncio.create_task(store.group.run(KEY, add_notice(lid, f"o{i}")))
              for i in range(3)]
    await asyncio.sleep(0.01)
    leader.cancel()
    assert await asyncio.gather(*others) == ["o0", "o1", "o2"]
    with pytest.raises(asyncio.CancelledError):
        await leader
    assert await notice_texts(store) == Counter(o0=1, o1=1, o2=1)  # nothing of "stuck"


async def test_concurrent_logs_batch_and_every_total_is_right(store: Store,
                                                              services: Services) -> None:
    actors = [Actor("console", f"c{i}", f"C{i}", space_id="console") for i in range(20)]
    for a in actors:
        await services.onboarding.start(a, Onboarding(timezone="Asia/Tokyo"))
    before = (store.group.batches, store.group.works)
    tomorrow = date.fromisoformat("2100-01-01")
    calls = [services.timelog.log_time(actors[i % 20], 5, "batch") for i in range(200)]
    calls.insert(77, services.timelog.log_time(actors[3], 5, None, day=tomorrow))
    results = await asyncio.gather(*calls, return_exceptions=True)
    assert isinstance(results[77], InputError)
    assert all(not isinstance(r, BaseException) for i, r in enumerate(results) if i != 77)
    batches = store.group.batches - before[0]
    works = store.group.works - before[1]
    assert works == 201 and batches < works / 4, (batches, works)
    for a in actors:
        assert (await services.views.progress(a)).data.total_minutes == 10 * 5, a
    # Each command is its own undo step, even though they shared transactions.
    await services.history.undo(actors[0])
    assert (await services.views.progress(actors[0])).data.total_minutes == 9 * 5


async def test_a_failed_commit_runs_every_work_again_alone(sqlite_store: Store,
                                                           plans: PlanRegistry) -> None:
    # SQLite checks deferred foreign keys at COMMIT: the batch's commit fails, every work runs
    # again in a transaction of its own, and only the one that broke the key fails.
    services = build_services(sqlite_store, plans, clock=lambda: NOW)
    [lid] = await learner_ids(services, 1)

    async def orphan_at_commit(conn: AsyncConnection) -> str:
        await conn.exec_driver_sql("PRAGMA defer_foreign_keys = ON")
        return await add_notice(10**9, "orphan")(conn)

    results, batches = await together(sqlite_store, add_notice(lid, "a"), orphan_at_commit,
                                      add_notice(lid, "b"))
    assert results[0] == "a" and results[2] == "b"
    assert isinstance(results[1], IntegrityError), results
    assert batches == 0  # the batch never committed: each ran alone
    assert await notice_texts(sqlite_store) == Counter(a=1, b=1)

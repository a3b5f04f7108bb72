"""Group commit: works that arrive together share one transaction, and each stays all or nothing.

Every test runs on a real SQLite file and on the real PostgreSQL. The works below insert notices
(a plain table with a foreign key to a learner), so that what each work wrote can be counted.
``together`` puts works in one batch: they queue while a first batch is held open, and the
first of them leads the next batch with all the others in it.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from bot import models as m
from bot.actors import Actor
from bot.errors import InputError
from bot.services import Onboarding, Services
from bot.store import Store

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
KEY = ("console", "lane")  # one key: every work on the same lane


async def together(store: Store, *works):  # type: ignore[no-untyped-def]
    """Run WORKS on one lane so that they form one batch; return their results or errors."""
    gate = asyncio.Event()

    async def held(_session: AsyncSession) -> None:
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


def add_notice(learner_id: int, text: str, runs: Counter[str] | None = None):  # type: ignore[no-untyped-def]
    async def work(session: AsyncSession) -> str:
        if runs is not None:
            runs[text] += 1
        session.add(m.Notice(learner_id=learner_id, text=text,
                             created_at=NOW))
        await session.flush()
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

    async def refused(_session: AsyncSession) -> str:
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

    async def half_done(session: AsyncSession) -> str:
        runs["half"] += 1
        session.add(m.Notice(learner_id=lid, text="half", created_at=NOW))
        await session.flush()
        raise InputError("changed my mind")

    results, _ = await together(store, add_notice(lid, "a", runs), half_done,
                                add_notice(lid, "b", runs))
    assert results[0] == "a" and results[2] == "b"
    assert isinstance(results[1], InputError)
    assert runs == Counter(a=2, half=2, b=1)  # b was never reached in the batch
    assert await notice_texts(store) == Counter(a=1, b=1)  # nothing of "half", no doubles


async def test_a_pending_unflushed_change_counts_as_a_write(store: Store,
                                                            services: Services) -> None:
    [lid] = await learner_ids(services, 1)

    async def pending(session: AsyncSession) -> str:
        session.add(m.Notice(learner_id=lid, text="pending", created_at=NOW))
        raise InputError("not flushed yet")

    results, _ = await together(store, add_notice(lid, "a"), pending)
    assert results[0] == "a" and isinstance(results[1], InputError)
    assert await notice_texts(store) == Counter(a=1)


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

    async def look(_session: AsyncSession) -> str:
        # Another connection's view, while the batch is still open: nothing committed yet.
        async with store.engine.connect() as conn:
            seen.append(await conn.scalar(select(func.count()).select_from(m.Notice)))
        return "looked"

    if store.dialect == "sqlite":
        pytest.skip("SQLite has one connection in this process while a batch writes")
    results, batches = await together(store, add_notice(lid, "a"), look)
    assert results == ["a", "looked"] and batches == 1
    assert seen == [0]
    assert await notice_texts(store) == Counter(a=1)


async def test_a_caller_cancelled_while_waiting_is_skipped_and_the_lane_goes_on(
        store: Store, services: Services) -> None:
    [lid] = await learner_ids(services, 1)
    release = asyncio.Event()

    async def slow(session: AsyncSession) -> str:
        await release.wait()
        return await add_notice(lid, "slow")(session)

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

    async def stuck(session: AsyncSession) -> str:
        await add_notice(lid, "stuck")(session)
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

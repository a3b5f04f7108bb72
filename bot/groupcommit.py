"""Group commit: units of work that arrive together share one transaction and one commit.

A good part of a command's cost is the transaction around it (the session, BEGIN, COMMIT),
not its few statements. ``GroupCommit.run(key, work)`` queues WORK on a lane (one on SQLite,
which has one writer; several on PostgreSQL, chosen by KEY so that one learner's commands stay
on one lane and lanes seldom wait for each other's row locks). When a lane is free the caller
leads: it opens one write transaction and runs, one after another, its own work and every work
queued behind it when it started (at most ``max_batch``), then commits once. Nothing waits to
fill a batch: a lone command is a batch of one. (SQLite's statements never suspend, so there
the leader first gives the loop one turn: commands already running reach the queue and join.)

Each work is isolated as if it ran alone:

- a work gets the batch's connection; whatever ORM session it needs is its own, on that
  connection, so it never sees another's objects (``services.units`` flushes and closes it);
- a work that fails with a user's error (``InputError`` …) before writing anything only
  fails itself (anything it had not flushed goes with its session); the batch goes on, and its
  error is raised to its caller after the commit;
- anything else (a database error, a failure after a write, a failed commit, the leader
  cancelled) rolls the whole batch back and every work in it runs again **alone**, in its own
  transaction, as it would without group commit: nothing half-done is ever committed, nothing
  is lost, and a transient error is retried by the caller (``services.units.retry_transient``);
- no result is handed back before the commit that made it durable.

After a batch the leader hands the lane to the next waiting caller, which leads the next batch:
no caller does more than one batch's work for others.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Awaitable, Callable, Hashable
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from typing import Any, TypeVar

from sqlalchemy import event
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

T = TypeVar("T")
MAX_BATCH = 32
_WRITES = "pacer_writes"  # connection info key: write statements run on this connection


class _Lead:
    """The signal to a waiting caller: lead the next batch."""


class _Alone:
    """The signal to a caller: your batch was rolled back; run your work alone."""


_LEAD, _ALONE = _Lead(), _Alone()


@dataclass(frozen=True)
class _Done:
    value: Any


@dataclass(frozen=True)
class _Failed:
    error: Exception


class _Redo(Exception):
    """The batch must be rolled back and each of its works run alone."""


@dataclass(eq=False)
class _Job:
    work: Callable[[AsyncConnection], Awaitable[Any]]
    done: asyncio.Future[Any]


@dataclass
class _Lane:
    queue: deque[_Job] = field(default_factory=deque)
    busy: bool = False


Writes = Callable[[AsyncConnection], int]  # a count that grows when a connection writes


def count_writes(engine: AsyncEngine) -> Writes:
    """Count each connection's write statements; return how to read a connection's count.

    (How a batch tells that a work wrote nothing. On SQLite the driver's ``total_changes``
    serves, with no hook on every statement.)
    """
    @event.listens_for(engine.sync_engine, "after_cursor_execute")
    def _counted(conn: Any, _cursor: Any, statement: str, _params: Any, context: Any,
                 _many: bool) -> None:
        if (context is not None and context.isddl is False and not context.isinsert
                and not context.isupdate and not context.isdelete
                and statement.lstrip()[:6].upper() == "SELECT"):
            return
        conn.info[_WRITES] = conn.info.get(_WRITES, 0) + 1

    def writes(conn: AsyncConnection) -> int:
        return int(conn.sync_connection.info.get(_WRITES, 0))  # type: ignore[union-attr]

    return writes


class GroupCommit:
    """Run works that arrive together in one write transaction per lane (see the module)."""

    def __init__(self, open_write: Callable[[], AbstractAsyncContextManager[AsyncConnection]],
                 writes: Writes, lanes: int, *, inline: bool = False,
                 max_batch: int = MAX_BATCH) -> None:
        self._open = open_write
        self._writes = writes
        self._inline = inline  # statements never suspend (SQLite on the loop)
        self._lanes = [_Lane() for _ in range(max(1, lanes))]
        self.max_batch = max_batch
        self.batches = 0  # committed batches and the works in them: for tests and benchmarks
        self.works = 0

    async def run(self, key: Hashable, work: Callable[[AsyncConnection], Awaitable[T]]) -> T:
        """Run WORK(connection) in a shared write transaction; return its result once committed."""
        lane = self._lanes[hash(key) % len(self._lanes)]
        job = _Job(work, asyncio.get_running_loop().create_future())
        if lane.busy:
            lane.queue.append(job)
            try:
                signal = await job.done
            except asyncio.CancelledError:
                if job.done.done() and not job.done.cancelled() and job.done.result() is _LEAD:
                    self._hand_off(lane)  # handed the lane just as we were cancelled: pass it on
                raise
        else:
            lane.busy = True
            if self._inline:
                # Statements that never suspend leave no moment for others to queue: one turn
                # of the loop lets commands already running reach the queue and join this
                # batch. Nothing waits longer. (On a server, they queue during its round trips.)
                await asyncio.sleep(0)
            signal = _LEAD
        if signal is _LEAD:
            signal = await self._lead(lane, job)
        if signal is _ALONE:
            async with self._open() as conn:
                return await work(conn)
        if isinstance(signal, _Failed):
            raise signal.error
        return signal.value  # type: ignore[no-any-return]

    async def _lead(self, lane: _Lane, first: _Job) -> _Done | _Failed | _Alone:
        """Run a batch that starts with FIRST; settle the others; return FIRST's outcome."""
        batch = [first]
        while lane.queue and len(batch) < self.max_batch:
            job = lane.queue.popleft()
            if not job.done.done():  # a caller cancelled while it waited is skipped
                batch.append(job)
        try:
            results = await self._run_batch(batch)
        except Exception:  # a work's failure after writing, a database error, a failed commit
            self._all_alone(lane, batch)
            return _ALONE
        except BaseException:  # the leader cancelled: its own work is dropped, the rest redone
            self._all_alone(lane, batch)
            raise
        self.batches += 1
        self.works += len(batch)
        for job, result in zip(batch[1:], results[1:], strict=True):
            if not job.done.done():
                job.done.set_result(result)
        self._hand_off(lane)
        return results[0]

    async def _run_batch(self, batch: list[_Job]) -> list[_Done | _Failed]:
        results: list[_Done | _Failed] = []
        async with self._open() as conn:
            for job in batch:
                writes = self._writes(conn)
                try:
                    value = await job.work(conn)
                except SQLAlchemyError as exc:
                    raise _Redo from exc
                except Exception as exc:
                    if self._writes(conn) != writes:
                        raise _Redo from exc
                    results.append(_Failed(exc))
                else:
                    results.append(_Done(value))
        return results

    def _all_alone(self, lane: _Lane, batch: list[_Job]) -> None:
        for job in batch[1:]:
            if not job.done.done():
                job.done.set_result(_ALONE)
        self._hand_off(lane)

    def _hand_off(self, lane: _Lane) -> None:
        """Give the lane to the next caller still waiting, or mark it free."""
        while lane.queue:
            job = lane.queue.popleft()
            if not job.done.done():
                job.done.set_result(_LEAD)
                return
        lane.busy = False

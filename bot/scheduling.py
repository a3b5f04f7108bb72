"""The reminder and digest dispatcher: one APScheduler tick, the database as the source of truth.

How it works
- ``Dispatcher.start()`` (call it with a running event loop, e.g. in ``setup_hook``) starts an
  ``AsyncIOScheduler(timezone="UTC")`` holding ONE job: a tick every ``tick_seconds`` with
  ``coalesce=True`` and ``max_instances=1``. There is no job per learner.
- A tick first asks one indexed query whether anything is due (the idle path). If so it
  claims a batch in one transaction (``bot.outbox``: outbox rows with unique keys, ``next_*_at``
  advanced), reads what the messages need (``outbox.load_dispatch_data``: one
  ``DispatchData`` per learner), has each row's kind build its message
  (``bot.dispatch.KINDS``: kind name -> typed payload and builder, returning an ``OutMessage``
  or a ``Skip(reason)``; this module never looks at what a kind means), then sends the
  batch outside the transaction through a pool of ``send_concurrency`` concurrent sends
  behind a token bucket of ``send_rate`` (by default this process's share of Discord's
  global budget, ``discord.rate_per_process``: the figure the REST limiter uses too).
  A writer task marks each row ``sent``, ``failed`` or ``skipped`` as its send ends (marks
  that pile up during one commit share the next). The tick repeats while batches come back
  full, within ``tick_budget`` seconds (default 80% of the interval, so that
  ``max_instances=1`` never has to skip a run; 0 means no budget).
- After each scheduled tick that succeeded, the process's heartbeat row is written (one upsert
  in a transaction of its own, ``bot.heartbeats``: name, fronts, Discord shards) and
  ``last_tick_at`` is kept for the health check; ``tick()`` itself never writes it. Every
  delivery's result is recorded in ``metrics`` (``bot.metrics``) by kind.
- Several processes may tick against one PostgreSQL database: claims use ``FOR UPDATE SKIP
  LOCKED`` and the outbox key makes a second claim of the same message a no-op. SQLite is
  for one ticking process (``BEGIN IMMEDIATE`` serialises the claims).

Delivery guarantees
- Late but within grace (``reminder_grace_hours``, ``digest_grace_hours``; each kind names
  its window, ``Kind.grace``): sent once, and the message says it is late. Older: recorded as
  ``missed`` and not sent.
- At least once, never lost within grace: a row is claimed (committed as ``pending``) before
  it is sent and marked after. If the process dies between the two, the row stays
  ``pending``; it is sent again when its lease (``scheduler.lease_seconds``, default 10
  minutes) has run out, by
  whichever process ticks then, or at once by the next start on SQLite (one process only).
  So the window in which a message can go out twice is: the sender returned, but the process
  died before its mark committed (one mark commit, milliseconds). On Discord even that window
  is closed for a few minutes: each message carries its outbox row as an enforced ``nonce``,
  so Discord answers a resend with the message it already created. Every tick looks for
  such rows, so a surviving peer picks up a dead process's rows. The lease must exceed the
  time a claimed batch takes to send (``claim_batch / send_rate``: 500 / 45 ≈ 11 s).
- Transient delivery errors keep the row pending for a retry after the lease, up to
  ``max_attempts``; permanent ones fail it. A closed DM (``DeliveryError`` code 50007) on the
  learner's own short messages (reminders, snoozed and deadline reminders, the learner's
  celebration: never a digest, never a partner's message) falls back to ONE ``Sender.post`` in
  a server channel, mentioning the learner: the ``Space.fallback_channel_id`` of the
  learner's home space (``Learner.home_space_id``), else ``Learner.home_channel_id``, and
  neither when the learner has no home space (they onboarded in a DM: the home channel is
  that DM). If there is no such channel or the post fails, the row is marked ``failed`` with
  the DM error and a Notice (recorded once while unread) tells the learner at their next
  command; a partner's closed DM tells the learner the same way. A row posted in the
  fallback channel is marked ``sent``. Once a recipient's DM has refused within a batch, the
  batch's other messages to them are not tried by DM again: they go straight to that same
  fallback. Nothing a sender raises stops the dispatcher.

What is sent (each rule lives in its kind's builder, ``bot/dispatch/_kinds.py``)
- A daily reminder at the learner's local time, skipped when today's commitment is already
  met, when paused (the streak is frozen by ``bot.progress``) or before the plan starts; the
  schedule advances anyway. A snooze (``/snooze``) holds a reminder due before it ends and
  sends one at ``snoozed_until``.
- Deadline reminders 7 days and 1 day before, claimed with that day's reminder (so at the
  reminder time, not when reminders are off or the learner is paused).
- Celebrations for milestones recorded with ``announced`` false: to the learner and to an
  accepted partner who is shown ``days``. When a command's reply already announced the
  milestone, its write recorded the learner's celebration row as ``sent`` (same key): the
  claim's insert of that key is a no-op, so only the partner's message goes out.
- The digest at the chosen weekday and time, every one or two weeks, to the learner and each
  accepted partner (re-checked at send time: ending a partnership stops delivery at once).
  Digests still go out while paused.
- A partner's road alert: ONE short notice per zero-buffer episode (the learner ended a study
  day behind the road and is still short of it at today's reminder), claimed with the daily
  reminder and keyed on the episode's first study day; only to an accepted partner shown
  ``hours``, never on a paused day. A new episode begins after the learner is back on the road.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import time as monotime
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.interval import IntervalTrigger

from bot.config import SchedulerSettings
from bot.dispatch import KINDS, KindRegistry, Letter, Skip
from bot.heartbeats import ProcessBeat, beat, forget
from bot.messages import OutMessage, with_attachment
from bot.metrics import NO_METRICS, Metrics
from bot.outbox import (
    Batch,
    Claimed,
    Grace,
    Mark,
    add_notice_once,
    anything_due,
    apply_marks,
    claim_celebrations,
    claim_digests,
    claim_reminders,
    claim_snoozes,
    fallback_channel,
    load_dispatch_data,
    reclaim_stale,
)
from bot.plan import PlanRegistry
from bot.senders import CLOSED_DM, DeliveryError, Sender
from bot.snapshot import DispatchData
from bot.store import Store
from bot.timing import utc
from bot.wording import plural

log = logging.getLogger(__name__)

JOB_ID = "pacer-dispatch"


class RateLimiter:
    """A token bucket: at most RATE acquisitions per second, in bursts of at most BURST."""

    def __init__(self, rate: float, burst: float | None = None,
                 monotonic: Callable[[], float] = monotime.monotonic,
                 sleep: Callable[[float], Awaitable[Any]] = asyncio.sleep) -> None:
        self.rate = rate
        self.burst = burst if burst is not None else max(rate, 1.0)
        self.monotonic = monotonic
        self.sleep = sleep
        self._tokens = self.burst
        self._updated = monotonic()
        self._lock = asyncio.Lock()

    def _refill(self) -> None:
        now = self.monotonic()
        self._tokens = min(self.burst, self._tokens + (now - self._updated) * self.rate)
        self._updated = now

    async def acquire(self) -> None:
        """Wait until a request may go out (returns at once when the rate is 0: unlimited)."""
        if self.rate <= 0:
            return
        async with self._lock:
            self._refill()
            if self._tokens < 1:
                await self.sleep((1 - self._tokens) / self.rate)
                self._refill()
            self._tokens -= 1


@dataclass
class TickReport:
    """What one tick did (for logs and tests)."""

    batches: int = 0
    claimed: int = 0
    sent: int = 0
    fallback: int = 0
    failed: int = 0
    skipped: int = 0
    missed: int = 0
    retried: int = 0

    def add_batch(self, batch: Batch) -> None:
        self.batches += 1
        self.claimed += len(batch.to_send)
        self.missed += batch.recorded.get("missed", 0)
        self.skipped += batch.recorded.get("skipped", 0)


class Dispatcher:
    """Claim due reminders, digests and celebrations, and deliver them through senders.

    ``senders`` maps a platform name (``Learner.platform``) to its Sender; only learners of
    those platforms are claimed. ``clock`` gives the current instant (aware); tests pass a fake
    one and call ``tick(now)`` directly, without ``start()``. ``lease``: how long a claimed,
    unconfirmed row belongs to its claimer (default ``settings.lease_seconds``);
    ``limiter``: the message-rate bucket (default ``settings.send_rate``: the process's share
    of the Discord budget unless set lower; 0 = unlimited); ``kinds``: what each message kind
    means (``bot.dispatch.KINDS``): the dispatcher itself only claims, sends and marks.
    """

    def __init__(self, store: Store, plans: PlanRegistry, senders: Mapping[str, Sender], *,
                 settings: SchedulerSettings | None = None,
                 clock: Callable[[], datetime] = lambda: datetime.now(UTC),
                 lease: timedelta | None = None, max_attempts: int = 5,
                 limiter: RateLimiter | None = None,
                 tick_budget: float | None = None, kinds: KindRegistry = KINDS,
                 metrics: Metrics = NO_METRICS, process: ProcessBeat | None = None) -> None:
        self.store = store
        self.metrics = metrics
        self.process = process  # written to process_heartbeats after each scheduled tick
        self.last_tick_at: datetime | None = None  # the last scheduled tick that succeeded
        self.plans = plans
        self.senders = dict(senders)
        self.kinds = kinds
        self.settings = settings or SchedulerSettings()
        self.clock = clock
        self.lease = lease or timedelta(seconds=self.settings.lease_seconds)
        self.max_attempts = max_attempts
        self.grace = Grace(timedelta(hours=self.settings.reminder_grace_hours),
                           timedelta(hours=self.settings.digest_grace_hours),
                           kinds.named(grace="digest"))
        self.limiter = limiter or RateLimiter(self.settings.send_rate)
        self.tick_budget = (tick_budget if tick_budget is not None
                            else self.settings.tick_seconds * 0.8)
        self._pool = asyncio.Semaphore(max(1, self.settings.send_concurrency))
        self._tick_lock = asyncio.Lock()
        self._fresh = True  # the first claim after construction recovers every pending row
        self._stopping = False
        self._scheduler: Any = None
        self._running: asyncio.Task[Any] | None = None

    # --- the scheduler ---------------------------------------------------------------------

    async def start(self) -> None:
        """Start the APScheduler tick job on the running event loop (first tick at once)."""
        if self._scheduler is not None:
            raise RuntimeError("the dispatcher is already started")
        self._stopping = False
        scheduler = AsyncIOScheduler(timezone="UTC")
        scheduler.add_job(
            self._scheduled_tick, IntervalTrigger(seconds=self.settings.tick_seconds,
                                                  timezone="UTC"),
            id=JOB_ID, name="Pacer dispatcher tick", coalesce=True, max_instances=1,
            misfire_grace_time=max(1, self.settings.tick_seconds),
            next_run_time=datetime.now(UTC), replace_existing=True)
        scheduler.start()
        self._scheduler = scheduler
        log.info("dispatcher started: tick every %ss for %s", self.settings.tick_seconds,
                 ", ".join(sorted(self.senders)) or "no platform")

    async def stop(self, grace_seconds: float = 30.0) -> None:
        """Stop claiming, let in-flight sends finish (up to GRACE_SECONDS), stop the scheduler."""
        self._stopping = True
        scheduler, self._scheduler = self._scheduler, None
        if scheduler is not None:
            scheduler.remove_all_jobs()
        running = self._running
        if running is not None and not running.done():
            done, _ = await asyncio.wait({running}, timeout=grace_seconds)
            if not done:
                log.warning("dispatcher tick still sending after %ss; cancelling it (its "
                            "pending rows are resent after the lease)", grace_seconds)
                running.cancel()
                await asyncio.gather(running, return_exceptions=True)
        if scheduler is not None and scheduler.running:
            scheduler.shutdown(wait=False)
            await asyncio.sleep(0)  # AsyncIOScheduler shuts down on the loop's next turn
        if self.process is not None and self.last_tick_at is not None:
            try:
                async with self.store.write() as session:
                    await forget(session, self.process)
            except Exception:  # the row goes stale and is pruned after a day
                log.warning("could not remove this process's heartbeat", exc_info=True)
        log.info("dispatcher stopped")

    @property
    def scheduler(self) -> Any:
        return self._scheduler

    async def _scheduled_tick(self) -> None:
        if self._stopping:
            return
        self._running = asyncio.current_task()
        started = self._now()
        try:
            report = await self.tick()
            if report.batches:
                log.info("dispatcher tick: %s", report)
        except Exception:
            log.exception("dispatcher tick failed; the next tick retries")
            return
        finally:
            self._running = None
        self.last_tick_at = started
        try:
            await self.beat(started)
        except Exception:
            log.warning("could not write this process's heartbeat", exc_info=True)

    async def beat(self, now: datetime | None = None) -> None:
        """Write this process's heartbeat row (its own small transaction, never a claim's)."""
        if self.process is None:
            return
        async with self.store.write() as session:
            await beat(session, self.process, self._now() if now is None else utc(now))

    # --- the tick --------------------------------------------------------------------------

    def _now(self) -> datetime:
        return utc(self.clock())

    async def tick(self, now: datetime | None = None) -> TickReport:
        """Claim and deliver everything due at NOW (default: the clock), batch by batch."""
        async with self._tick_lock:
            now = self._now() if now is None else utc(now)
            report = TickReport()
            lease = self._first_lease()
            async with self.store.read() as session:
                if not await anything_due(session, now, lease):
                    return report
            started = monotime.monotonic()
            while not self._stopping:
                batch = await self.claim(now)
                report.add_batch(batch)
                if batch.to_send:
                    await self.deliver(batch.to_send, report)
                if not batch.full or (self.tick_budget
                                      and monotime.monotonic() - started > self.tick_budget):
                    break
            return report

    def _first_lease(self) -> timedelta:
        # One ticking process on SQLite: at start every pending row is an orphan of a crash.
        if self._fresh and self.store.dialect == "sqlite":
            return timedelta(0)
        return self.lease

    async def claim(self, now: datetime, limit: int | None = None) -> Batch:
        """Claim one batch in one transaction: stale rows, snoozes, reminders, digests, wins."""
        limit = limit or self.settings.claim_batch
        platforms = sorted(self.senders)
        batch = Batch()
        lease = self._first_lease()
        async with self.store.write() as session:
            common = {"platforms": platforms, "grace": self.grace}
            await reclaim_stale(session, now, batch, limit=limit, lease=lease, **common)
            # The reminders' claim reads the plans for the partners' road alerts.
            reminders = functools.partial(claim_reminders, plans=self.plans)
            for claim in (claim_snoozes, reminders, claim_digests, claim_celebrations):
                room = limit - batch.selected
                if room <= 0:
                    batch.full = True
                    break
                await claim(session, now, batch, limit=room, **common)
        self._fresh = False
        for (kind, status), count in batch.by_kind.items():
            if status in ("missed", "skipped"):
                self.metrics.delivery(kind, status, count)
        return batch

    # --- delivery --------------------------------------------------------------------------

    async def deliver(self, rows: Sequence[Claimed], report: TickReport | None = None) -> None:
        """Build and send claimed rows through the bounded pool; mark each one."""
        report = report if report is not None else TickReport()
        async with self.store.read() as session:
            data = await load_dispatch_data(session, {r.learner_id for r in rows})
        marks = MarkWriter(self.store)
        jobs: list[tuple[Claimed, Letter]] = []
        now = self._now()
        for row in rows:
            try:
                built = self.build(row, data.get(row.learner_id))
            except Exception as exc:
                log.exception("could not build outbox row %s (%s)", row.id, row.key)
                marks.add(Mark(row.id, "failed", now, f"could not build: {type(exc).__name__}"))
                report.failed += 1
                self.metrics.delivery(row.kind, "failed")
                continue
            if isinstance(built, Skip):
                marks.add(Mark(row.id, "skipped", now, built.reason))
                report.skipped += 1
                self.metrics.delivery(row.kind, "skipped")
            else:
                jobs.append((row, built))
        # One recipient's letters go one after the other (in claim order), recipients side by
        # side: a DM that refused is then known before the same recipient's next letter.
        by_recipient: dict[tuple[str, str], list[tuple[Claimed, Letter]]] = {}
        for row, letter in jobs:
            by_recipient.setdefault((row.recipient_platform, row.recipient_id), []).append(
                (row, letter))
        closed: set[tuple[str, str]] = set()  # recipients whose DMs refused this batch

        async def send_all(letters: list[tuple[Claimed, Letter]]) -> None:
            for row, letter in letters:
                await self._send_one(row, letter, report, marks, closed)

        try:
            await asyncio.gather(*(send_all(letters) for letters in by_recipient.values()))
        finally:
            await marks.close()

    def build(self, row: Claimed, data: DispatchData | None) -> Letter | Skip:
        """Build the letter of a claimed row through its kind, or say why it is skipped."""
        return self.kinds.prepare(row.kind, row.payload, data, self.plans,
                                  recipient_platform=row.recipient_platform,
                                  recipient_id=row.recipient_id,
                                  late_due=row.due_at if row.late else None)

    async def _send_one(self, row: Claimed, letter: Letter, report: TickReport,
                        marks: MarkWriter, closed: set[tuple[str, str]]) -> None:
        """Send one letter; a recipient whose DMs refused earlier in the batch is not retried."""
        recipient = (row.recipient_platform, row.recipient_id)
        async with self._pool:
            # the row names the delivery: a resend of it (after a crash, or an answer lost
            # on the way back) is recognised by platforms that can (Discord's nonce)
            message = replace(letter.message, dedupe_key=f"o{row.id}")
            try:
                if recipient in closed:
                    raise DeliveryError("Cannot send messages to this user (refused earlier "
                                        "in this batch)", permanent=True, code=CLOSED_DM)
                if message.chart is not None:
                    message = await asyncio.to_thread(with_attachment, message)
                sender = self.senders.get(row.recipient_platform)
                if sender is None:
                    raise DeliveryError(f"no sender for platform {row.recipient_platform}",
                                        permanent=True)
                await self.limiter.acquire()
                await sender.send(row.recipient_platform, row.recipient_id, message)
            except DeliveryError as exc:
                if exc.closed_dm:
                    closed.add(recipient)
                await self._failed(row, letter, message, exc, report, marks)
                return
            except Exception as exc:
                log.exception("sending outbox row %s (%s) failed", row.id, row.key)
                await self._failed(row, letter, message, DeliveryError(
                    f"{type(exc).__name__}: {exc}", permanent=True), report, marks)
                return
            marks.add(Mark(row.id, "sent", self._now()))
            report.sent += 1
            self.metrics.delivery(row.kind, "sent")

    async def _failed(self, row: Claimed, letter: Letter, message: OutMessage,
                      exc: DeliveryError, report: TickReport, marks: MarkWriter) -> None:
        now = self._now()
        error = f"{exc} (code {exc.code})" if exc.code is not None else str(exc)
        if exc.closed_dm:
            if letter.channel_fallback and await self._fallback(row, message):
                marks.add(Mark(row.id, "sent", now, "DM closed; posted in the fallback channel"))
                report.sent += 1
                report.fallback += 1
                self.metrics.delivery(row.kind, "sent")
                return
            try:
                async with self.store.write() as session:
                    await add_notice_once(session, row.learner_id, _closed_dm_notice(letter),
                                          now)
            except Exception:
                log.exception("could not record the closed-DM notice of %s", row.key)
        if exc.permanent or exc.closed_dm:
            marks.add(Mark(row.id, "failed", now, error))
            report.failed += 1
            self.metrics.delivery(row.kind, "failed")
            log.info("outbox row %s failed: %s", row.key, error)
            return
        give_up = row.attempts + 1 >= self.max_attempts
        marks.add(Mark(row.id, "failed" if give_up else "pending", now, error, retry=True))
        if give_up:
            report.failed += 1
            self.metrics.delivery(row.kind, "failed")
        else:
            report.retried += 1

    async def _fallback(self, row: Claimed, message: OutMessage) -> bool:
        """Post a learner's own message in a server channel of theirs; say whether it went."""
        sender = self.senders.get(row.recipient_platform)
        if sender is None:
            return False
        async with self.store.read() as session:
            channel = await fallback_channel(session, row.learner_id)
        if channel is None:
            return False
        try:
            await self.limiter.acquire()
            await sender.post(row.recipient_platform, channel, message, row.recipient_id)
        except Exception as exc:
            log.info("fallback post for %s failed: %s", row.key, exc)
            return False
        return True


class MarkWriter:
    """Write delivery marks as they come, many per transaction under load, few when idle.

    One writer task commits whatever has accumulated while the previous commit ran, so a
    mark reaches the database within one commit's time of its send: that is the window in
    which a crash can make a message go out twice.
    """

    def __init__(self, store: Store) -> None:
        self.store = store
        self._marks: list[Mark] = []
        self._wake = asyncio.Event()
        self._closing = False
        self._task = asyncio.create_task(self._run())

    def add(self, mark: Mark) -> None:
        self._marks.append(mark)
        self._wake.set()

    async def close(self) -> None:
        """Write what is left and stop."""
        self._closing = True
        self._wake.set()
        await self._task

    async def _run(self) -> None:
        while True:
            await self._wake.wait()
            self._wake.clear()
            marks, self._marks = self._marks, []
            if marks:
                try:
                    async with self.store.write() as session:
                        await apply_marks(session, marks)
                except Exception:
                    log.exception("could not record %s; those rows stay pending and are "
                                  "resent after the lease", plural(len(marks), "delivery mark"))
            if self._closing and not self._marks:
                return


def _closed_dm_notice(letter: Letter) -> str:
    if letter.to_partner:
        return (f"Your accountability partner could not receive your {letter.label}: their "
                "DMs are closed to Pacer.")
    return (f"Pacer could not DM you your {letter.label}: your DMs are closed. Allow direct "
            "messages from server members, or ask an admin to set a fallback channel.")

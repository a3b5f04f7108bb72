"""Answer every interaction within Discord's 3 s window, however many arrive together.

Discord forgets an interaction whose first response (an answer or a deferral) reaches it more
than 3 s after the interaction was created (404 Unknown interaction, 10062), and the user sees
Discord's own "The application did not respond". A deferral buys 15 minutes for the answer.

How a command is paced (``Pacing.run``):
- Its time left is measured from the interaction's creation (its snowflake's timestamp), not
  from when this process got to it: a burst queued in the gateway has already used some of it.
  ``margin`` seconds are kept free for the answer's own request.
- At most ``concurrency`` commands run at once (a semaphore); the others wait their turn.
- When the commands ahead of this one cannot be done before the time left runs out, the
  interaction is deferred at once, before it waits. "Ahead" is estimated two ways and the
  longer wins: the semaphore's queue (``concurrency`` at a time, each taking about the
  recently observed service time: what binds when the database is slow), and every command
  admitted but not yet answered, each taking about the recently observed gap between two
  answers while others were waiting (what binds when the event loop itself is the queue:
  with SQLite on the loop a command's work never waits, so its service time says nothing
  about the hundreds of answers that share one thread in a burst). Otherwise a watchdog defers it
  when its time left runs out before the answer is ready. So the first response is never late
  unless the interaction arrived late.
- When even the deferral is refused as too late (10062), the command is not run: nothing is
  changed behind the user's back, so running it again is safe. ``InteractionExpired`` tells
  the error path to log it; no answer can reach the user any more.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
import time
from collections.abc import Awaitable, Callable
from typing import TypeVar

import discord

log = logging.getLogger(__name__)

T = TypeVar("T")

RESPONSE_WINDOW = 3.0  # Discord's deadline for the first response to an interaction
REPLY_MARGIN = 1.0  # kept free for the answer's own request, under load
CONCURRENCY = 8
FIRST_SERVICE_TIME = 0.1  # seconds a command takes, until some have been measured
FIRST_ANSWER_GAP = 0.02  # seconds between two answers under load, until some have been measured
DEFERRED_KEY = "pacer_deferred_ephemeral"
UNKNOWN_INTERACTION = 10062


class InteractionExpired(Exception):
    """Discord refused the first response as too late; the command was not run."""


async def defer(interaction: discord.Interaction) -> None:
    """Acknowledge now (ephemeral in a server: what follows may be private or an error)."""
    if interaction.response.is_done():
        return
    ephemeral = interaction.guild_id is not None
    interaction.extras[DEFERRED_KEY] = ephemeral
    try:
        await interaction.response.defer(ephemeral=ephemeral, thinking=True)
    except discord.NotFound as exc:
        if exc.code == UNKNOWN_INTERACTION:
            raise InteractionExpired(f"interaction {interaction.id} expired before it was "
                                     "acknowledged") from exc
        raise


class _Watchdog:
    """Defer an interaction when its time left runs out: a timer, so no task until it fires.

    (A sleeping task per command would cost turns of the loop to start and to cancel.)
    """

    def __init__(self, pacing: Pacing, interaction: discord.Interaction, delay: float) -> None:
        self._pacing = pacing
        self._interaction = interaction
        self._deferral: asyncio.Task[None] | None = None
        self._timer = asyncio.get_running_loop().call_later(max(0.0, delay), self._fire)

    def _fire(self) -> None:
        self._deferral = asyncio.create_task(self._pacing._defer_late(self._interaction))

    async def settle(self) -> None:
        """Stop the timer if it has not fired; let a deferral already started finish."""
        if self._deferral is None:
            self._timer.cancel()
            return
        await asyncio.gather(self._deferral, return_exceptions=True)


class Pacing:
    """Bound the commands running at once and defer each one that could miss its window."""

    def __init__(self, *, concurrency: int = CONCURRENCY, window: float = RESPONSE_WINDOW,
                 margin: float = REPLY_MARGIN,
                 clock: Callable[[], float] = time.time) -> None:
        self.concurrency = max(1, concurrency)
        self.window = window
        self.margin = margin
        self.clock = clock
        self.service_time = FIRST_SERVICE_TIME
        self.answer_gap = FIRST_ANSWER_GAP
        self.waiting = 0
        self.running = 0
        self.in_flight = 0  # admitted, not yet answered
        self._idle = asyncio.Event()  # set while none is in flight
        self._idle.set()
        self._last_answer: float | None = None
        self.acknowledging = 0  # deferrals on their way to Discord
        self._acknowledged = asyncio.Event()  # set while none is
        self._acknowledged.set()
        self._busy = False  # others were in flight at the last answer: the next gap counts
        self.deferred_early = 0  # deferred before waiting (for logs and tests)
        self._slots = asyncio.Semaphore(self.concurrency)

    def time_left(self, interaction: discord.Interaction) -> float:
        """Return the seconds left before the first response must be on its way."""
        age = max(0.0, self.clock() - interaction.created_at.timestamp())
        return self.window - self.margin - min(age, self.window)

    def expected_wait(self) -> float:
        """Estimate how long a command arriving now takes to finish."""
        rounds = (self.waiting + self.running) // self.concurrency + 1
        return max(rounds * self.service_time, (self.in_flight + 1) * self.answer_gap)

    async def drain(self, seconds: float) -> bool:
        """Wait up to SECONDS for every admitted command to be answered."""
        try:
            await asyncio.wait_for(self._idle.wait(), seconds)
        except TimeoutError:
            return False
        return True

    def _observe(self, seconds: float) -> None:
        self.service_time = 0.8 * self.service_time + 0.2 * seconds

    def _answered(self) -> None:
        now = time.monotonic()
        self.in_flight -= 1
        if not self.in_flight:
            self._idle.set()
        if self._busy and self._last_answer is not None:
            self.answer_gap = 0.8 * self.answer_gap + 0.2 * (now - self._last_answer)
        self._last_answer = now
        self._busy = self.in_flight > 0

    async def run(self, interaction: discord.Interaction, work: Awaitable[T],
                  answer: Callable[[T], Awaitable[None]] | None = None) -> T:
        """Await WORK in turn, deferring the interaction whenever its answer could be late.

        ANSWER, when given, sends the reply (after WORK's slot is free): the command counts as
        in flight until it is done.
        """
        self.in_flight += 1
        self._idle.clear()
        try:
            result = await self._work(interaction, work)
            if answer is not None:
                await answer(result)
            return result
        finally:
            self._answered()

    async def _work(self, interaction: discord.Interaction, work: Awaitable[T]) -> T:
        left = self.time_left(interaction)
        try:
            if self.expected_wait() >= left:
                self.deferred_early += 1
                await self._acknowledge(interaction)
        except BaseException:
            if inspect.iscoroutine(work):
                work.close()  # never started: nothing was changed
            raise
        watchdog = None if interaction.response.is_done() else _Watchdog(self, interaction, left)
        self.waiting += 1
        queued = True
        try:
            async with self._slots:
                # First responses go before work: a deferral on its way needs turns of the
                # loop that a command's work (SQLite runs on the loop) would otherwise take.
                await self._acknowledged.wait()
                self.waiting -= 1
                queued = False
                self.running += 1
                started = time.monotonic()
                try:
                    return await work
                finally:
                    self.running -= 1
                    self._observe(time.monotonic() - started)
        finally:
            if queued:
                self.waiting -= 1
                if inspect.iscoroutine(work):
                    work.close()
            if watchdog is not None:
                await watchdog.settle()

    async def _acknowledge(self, interaction: discord.Interaction) -> None:
        self.acknowledging += 1
        self._acknowledged.clear()
        try:
            await defer(interaction)
        finally:
            self.acknowledging -= 1
            if not self.acknowledging:
                self._acknowledged.set()

    async def _defer_late(self, interaction: discord.Interaction) -> None:
        try:
            await self._acknowledge(interaction)
        except (InteractionExpired, discord.HTTPException):
            log.warning("could not defer interaction %s in time", interaction.id,
                        exc_info=True)


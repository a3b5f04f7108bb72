"""One limiter sees every REST request the bot makes and keeps it within Discord's global limit.

Discord allows a bot token 50 requests per second over all routes (interaction endpoints
excepted), on top of per-route buckets. discord.py handles the per-route buckets
(``X-RateLimit-*`` headers, a 429's ``retry_after``) but has no global budget of its own, and
the dispatcher's own bucket counts messages, not requests. So every HTTP request of the bot's
aiohttp session passes ``GlobalLimiter.acquire`` first, through an ``aiohttp.TraceConfig``
(``Client(http_trace=...)``): retries, DM-channel opens, file uploads and command syncs are
counted like messages.

- The budget is a sliding window: at most ``per_second`` requests in any ``window`` seconds,
  starting empty, and the requests are spaced evenly (``window / per_second`` apart), so
  there is never a burst: Discord, which counts on its side, sees the same rate even when
  network or event-loop delays shift some requests (45 by default: room below Discord's 50).
- A global 429 (``"global": true`` or ``X-RateLimit-Scope: global``) pauses every request for
  its ``retry_after``; discord.py retries the refused request itself.
- Requests to the interaction endpoints (``/interactions/...`` and the interaction webhooks
  ``/webhooks/...``) are not counted, as Discord does not count them: a burst of slash
  commands is never slowed behind reminders.

Several processes of one bot share the token's budget by each taking a fixed share:
``discord.global_rate_total / discord.process_count`` (``DiscordSettings.rate_per_process``;
45 / 1 by default, and the dispatcher's message bucket uses the same figure). We chose that
over coordinating through PostgreSQL (a shared counter or advisory lock per request) because
- it costs nothing per request: a database round trip per REST call would add latency to
  every DM and load to the database the claims already use, and would fail when the
  database is slow, exactly when the bot is busiest;
- it is safe when a process dies: the others keep their share and do not speed up, so the
  total never exceeds the configured figure, even while a process is restarting or hung;
- Discord counts on its side anyway and answers an overrun with a global 429, which pauses
  this process (below); with evenly spaced requests in each process the sum stays under
  the total in every second.
The cost is idle budget: a quiet process does not lend its share to a busy one. The
dispatcher's claims spread due messages over every ticking process (``FOR UPDATE SKIP
LOCKED``), so under load each process has work for its share; an operator who runs fewer
processes lowers ``process_count`` with them.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from collections.abc import Awaitable, Callable
from types import SimpleNamespace
from typing import Any

import aiohttp
import discord.http

from bot.config import DiscordSettings
from bot.metrics import NO_METRICS, Metrics

log = logging.getLogger(__name__)

GLOBAL_PER_SECOND = DiscordSettings().rate_per_process  # 45: Discord allows 50/s per token
UNCOUNTED = ("/interactions/", "/webhooks/")
EPSILON = 1e-6  # seconds: a shorter wait is no wait (float rounding of the clock)


BUCKET_SWEEP_SECONDS = 30.0


def sweep_buckets_sparingly(http: discord.http.HTTPClient,
                            every: float = BUCKET_SWEEP_SECONDS, *,
                            monotonic: Callable[[], float] = time.monotonic) -> None:
    """Let discord.py sweep its idle per-route buckets at most once every EVERY seconds.

    discord.py keeps one bucket per route and channel, and once it holds 256 it scans all of
    them for idle ones (5 minutes unused) every time it creates another. Every DM channel is
    a bucket of its own, so a dispatcher DMing thousands of users makes each new DM scan
    thousands of buckets: quadratic, a fifth of a process's CPU at 2,000 DMs in the scale
    test (``tests/test_scale_processes.py``). Sweeping on a timer keeps the table bounded
    (idle buckets still go) at a constant cost per request. The hook is discord.py's private
    ``_try_clear_expired_ratelimits``; a discord.py without it is left as it is.
    """
    sweep = getattr(http, "_try_clear_expired_ratelimits", None)
    if sweep is None:
        log.warning("discord.py has no _try_clear_expired_ratelimits: buckets swept as it does")
        return
    last = [monotonic()]

    def sparing() -> None:
        now = monotonic()
        if now - last[0] >= every:
            last[0] = now
            sweep()

    http._try_clear_expired_ratelimits = sparing  # type: ignore[method-assign]


class GlobalLimiter:
    """At most PER_SECOND requests in any WINDOW seconds, paused by global 429s."""

    def __init__(self, per_second: float = GLOBAL_PER_SECOND, window: float = 1.0, *,
                 monotonic: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], Awaitable[Any]] = asyncio.sleep,
                 metrics: Metrics = NO_METRICS) -> None:
        self.per_second = per_second
        self.metrics = metrics  # every REST request and every 429, counted by the hooks
        self.window = window
        self.monotonic = monotonic
        self.sleep = sleep
        self._sent: deque[float] = deque()
        self._paused_until = 0.0
        self._next_slot = float("-inf")  # the earliest time the next request may go
        self._lock = asyncio.Lock()  # FIFO: requests go out in the order they asked
        self.requests = 0
        self.rate_limited = 0

    async def acquire(self) -> None:
        """Wait until one more request fits the budget, then count it."""
        if self.per_second <= 0:
            return
        async with self._lock:
            on_schedule = False  # True once this request has slept for its slot
            while True:
                now = self.monotonic()
                if now < self._paused_until - EPSILON:
                    await self.sleep(self._paused_until - now)
                    continue
                while self._sent and now - self._sent[0] >= self.window:
                    self._sent.popleft()
                wait = 0.0
                if len(self._sent) >= self.per_second:
                    wait = self.window - (now - self._sent[0])
                # Evenly spaced slots on a schedule: a request that slept for its slot takes
                # the next one from the slot, not from when it woke, so a sleep that overshoots
                # is made up instead of piling up (under CPU contention it cost a third of the
                # rate); one that finds its slot long past (an idle spell) earns no burst.
                if self._next_slot - now > EPSILON:
                    on_schedule = True
                wait = max(wait, self._next_slot - now)
                if wait > EPSILON:
                    await self.sleep(wait)
                    continue
                start = self._next_slot if on_schedule else now
                self._next_slot = start + self.window / self.per_second
                self._sent.append(now)
                self.requests += 1
                return

    def pause(self, seconds: float) -> None:
        """Hold every request for SECONDS (a global 429 said so)."""
        self._paused_until = max(self._paused_until, self.monotonic() + seconds)

    def counts(self, url: str) -> bool:
        """Return whether a request to URL uses the bot's global budget."""
        base = discord.http.Route.BASE
        if not url.startswith(base):
            return False  # the gateway, the CDN
        path = url[len(base):]
        return not path.startswith(UNCOUNTED)

    def trace_config(self) -> aiohttp.TraceConfig:
        """Build the aiohttp hooks that pass every request through this limiter."""
        trace = aiohttp.TraceConfig()

        async def on_start(_session: aiohttp.ClientSession, _ctx: SimpleNamespace,
                           params: aiohttp.TraceRequestStartParams) -> None:
            url = str(params.url)
            if url.startswith(discord.http.Route.BASE):
                self.metrics.rest_request("discord")
            if self.counts(url):
                await self.acquire()

        async def on_end(_session: aiohttp.ClientSession, _ctx: SimpleNamespace,
                         params: aiohttp.TraceRequestEndParams) -> None:
            response = params.response
            if response.status != 429:
                return
            self.rate_limited += 1
            self.metrics.rate_limited("discord")
            headers = response.headers
            scope = headers.get("X-RateLimit-Scope", "")
            is_global = headers.get("X-RateLimit-Global", "").lower() == "true" or (
                scope == "global")
            try:
                retry_after = float(headers.get("Retry-After") or 1.0)
            except ValueError:
                retry_after = 1.0
            # interaction paths hold the interaction's token: never log them
            where = (params.url.path if self.counts(str(params.url))
                     else "an interaction endpoint")
            log.warning("Discord refused %s %s with 429 (%s, retry after %.2fs)",
                        params.method, where, scope or "route", retry_after)
            if is_global:
                self.pause(retry_after)

        trace.on_request_start.append(on_start)
        trace.on_request_end.append(on_end)
        return trace

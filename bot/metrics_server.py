"""The operator's HTTP endpoints, on a local port when ``[metrics] enabled``: metrics and health.

An ``aiohttp.web`` server on the bot's own event loop (aiohttp comes with discord.py), bound
to ``[metrics] host:port`` (127.0.0.1:9108 by default: put a scraper or a proxy in front of
it, never the internet):

- ``GET /metrics``: Prometheus's text format (``bot.prometheus``). The dispatcher-lag gauge is
  read from the database on each scrape (one indexed query, ``StatusService.lag``).
- ``GET /healthz``: 200 with ``{"status": "ok", ...}`` when the store answers ``SELECT 1`` and
  this process's dispatcher ticked within three tick intervals; 503 with what is wrong
  otherwise (``database`` unreachable, ``dispatcher`` never ticked or late).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta

from aiohttp import web
from sqlalchemy import text

from bot.metrics import Metrics
from bot.prometheus import CONTENT_TYPE_LATEST, PrometheusMetrics
from bot.store import Store

log = logging.getLogger(__name__)

DB_TIMEOUT = 5.0  # seconds /healthz waits for SELECT 1


class MetricsServer:
    """Serve /metrics and /healthz for one process."""

    def __init__(self, store: Store, metrics: Metrics, lag: Callable[[], Awaitable[float]], *,
                 last_tick: Callable[[], datetime | None], tick_seconds: float,
                 clock: Callable[[], datetime]) -> None:
        self.store = store
        self.metrics = metrics
        self.lag = lag  # the dispatcher's lag in seconds, read from the database
        self.last_tick = last_tick
        self.tick_window = timedelta(seconds=3 * tick_seconds)
        self.clock = clock
        self.port: int | None = None
        self._runner: web.AppRunner | None = None

    def app(self) -> web.Application:
        """Build the aiohttp application with the two routes."""
        app = web.Application()
        app.router.add_get("/metrics", self.serve_metrics)
        app.router.add_get("/healthz", self.serve_health)
        return app

    async def start(self, host: str, port: int) -> int:
        """Listen on HOST:PORT (0: a free port); return the port bound."""
        runner = web.AppRunner(self.app(), access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, host, port)
        await site.start()
        self._runner = runner
        self.port = int(runner.addresses[0][1]) if runner.addresses else port
        log.info("metrics and health on http://%s:%s/metrics and /healthz", host, self.port)
        return self.port

    async def stop(self) -> None:
        """Stop listening."""
        runner, self._runner = self._runner, None
        if runner is not None:
            await runner.cleanup()

    async def serve_metrics(self, _request: web.Request) -> web.Response:
        try:
            self.metrics.dispatcher_lag(await asyncio.wait_for(self.lag(), DB_TIMEOUT))
        except Exception as exc:  # the figures in memory are still worth serving
            log.warning("could not read the dispatcher lag for /metrics: %s",
                        type(exc).__name__)
        body = self.metrics.render() if isinstance(self.metrics, PrometheusMetrics) else b""
        return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE_LATEST})

    async def _database_answers(self) -> bool:
        try:
            async with asyncio.timeout(DB_TIMEOUT), self.store.read() as session:
                return (await session.execute(text("SELECT 1"))).scalar_one() == 1
        except Exception as exc:
            log.warning("health check: the database did not answer (%s)", type(exc).__name__)
            return False

    async def serve_health(self, _request: web.Request) -> web.Response:
        now = self.clock()
        database = await self._database_answers()
        last = self.last_tick()
        if last is None:
            dispatcher = "never ticked"
        elif now - last > self.tick_window:
            dispatcher = f"last tick {round((now - last).total_seconds())} s ago"
        else:
            dispatcher = "ok"
        healthy = database and dispatcher == "ok"
        body = {"status": "ok" if healthy else "unhealthy",
                "database": "ok" if database else "unreachable",
                "dispatcher": dispatcher,
                "last_tick_at": last.isoformat() if last else None}
        return web.json_response(body, status=200 if healthy else 503)

"""Wire the core together from settings: store, plans, tracker, commands (no chat platform)."""

from __future__ import annotations

import json
import logging
import logging.handlers
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bot.config import SchedulerSettings, Settings
from bot.grammar import Grammar
from bot.heartbeats import ProcessBeat, default_process_name
from bot.metrics import COMMAND_FIELDS, Metrics
from bot.metrics_server import MetricsServer
from bot.plan import PlanRegistry
from bot.prometheus import build_metrics
from bot.scheduling import Dispatcher
from bot.senders import Sender
from bot.services import Context, Services
from bot.services.data import DataService
from bot.services.status import StatusService
from bot.store import Store, open_store

log = logging.getLogger(__name__)


@dataclass
class Core:
    """Everything a front needs: settings, store, plans, the typed services and the grammar."""

    settings: Settings
    store: Store
    plans: PlanRegistry
    services: Services
    grammar: Grammar
    metrics: Metrics = field(default_factory=Metrics)
    process: ProcessBeat = field(
        default_factory=lambda: ProcessBeat(default_process_name(), datetime.now(UTC)))

    @property
    def clock(self) -> Callable[[], datetime]:
        return self.services.ctx.clock

    def dispatcher(self, senders: Mapping[str, Sender],
                   settings: SchedulerSettings | None = None) -> Dispatcher:
        """Build this process's one dispatcher over SENDERS (it writes the heartbeat)."""
        for platform in senders:
            self.process.add_front(platform)
        return Dispatcher(self.store, self.plans, senders,
                          settings=settings or self.settings.scheduler, clock=self.clock,
                          metrics=self.metrics, process=self.process)

    async def close(self) -> None:
        await self.store.close()


def build_services(store: Store, plans: PlanRegistry, *,
                   clock: Callable[[], datetime] | None = None, default_plan: str | None = None,
                   public_by_default: bool = True, tick_seconds: int = 30) -> Services:
    """Build the services over one store, plan registry and clock."""
    ctx = Context(store, plans, clock or (lambda: datetime.now(UTC)),
                  default_plan=default_plan, public_by_default=public_by_default)
    services = Services(ctx)
    services.data = DataService(ctx)
    # A process is stale once it missed three ticks.
    services.status = StatusService(ctx, stale_after=timedelta(seconds=3 * tick_seconds))
    return services


async def build_core(settings: Settings, *, clock: Callable[[], datetime] | None = None,
                     migrate: bool = True) -> Core:
    """Open the store (migrating it), load the plans and build the services."""
    metrics = build_metrics(settings.metrics.enabled)  # refused first: the extra is missing
    plans = PlanRegistry.load([Path(d) for d in settings.plan_dirs])
    store = await open_store(settings.database.url,
                             busy_timeout_ms=settings.database.busy_timeout_ms,
                             run_migrations=migrate)
    services = build_services(store, plans, clock=clock, default_plan=settings.default_plan,
                              public_by_default=settings.discord.public_by_default,
                              tick_seconds=settings.scheduler.tick_seconds)
    process = ProcessBeat(default_process_name(settings.process_name), services.ctx.now())
    return Core(settings, store, plans, services, Grammar(services), metrics, process)


async def start_metrics_server(core: Core, dispatcher: Dispatcher | None,
                               port: int | None = None) -> MetricsServer | None:
    """Serve /metrics and /healthz when ``[metrics] enabled`` (PORT overrides the config)."""
    config = core.settings.metrics
    if not config.enabled:
        return None
    server = MetricsServer(core.store, core.metrics, core.services.status.lag,
                           last_tick=lambda: dispatcher.last_tick_at if dispatcher else None,
                           tick_seconds=core.settings.scheduler.tick_seconds, clock=core.clock)
    await server.start(config.host, config.port if port is None else port)
    return server


_OURS = "_pacer_handler"  # marks the handlers setup_logging installed


class _RedactSecrets(logging.Filter):
    """Replace known secret values in log records, whatever logged them."""

    def __init__(self, secrets: list[str]) -> None:
        super().__init__()
        self.secrets = [s for s in secrets if s and len(s) >= 8]

    def _redact(self, text: str) -> str:
        for s in self.secrets:
            text = text.replace(s, "[redacted]")
        return text

    def filter(self, record: logging.LogRecord) -> bool:
        if self.secrets:
            message = record.getMessage()
            if any(s in message for s in self.secrets):
                record.msg, record.args = self._redact(message), None
            # A traceback can quote a secret too (an exception's message, a local's repr).
            if record.exc_info and not record.exc_text:
                record.exc_text = logging.Formatter().formatException(record.exc_info)
            if record.exc_text:
                record.exc_text = self._redact(record.exc_text)
        return True


class JsonLines(logging.Formatter):
    """Format a record as one JSON object: time (UTC), level, logger, message, fields."""

    def format(self, record: logging.LogRecord) -> str:
        out = {"time": datetime.fromtimestamp(record.created, UTC).isoformat(
                   timespec="milliseconds"),
               "level": record.levelname, "logger": record.name,
               "message": record.getMessage()}
        for name in COMMAND_FIELDS:
            if hasattr(record, name):
                out[name] = getattr(record, name)
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            out["exception"] = record.exc_text
        return json.dumps(out, ensure_ascii=False, default=str)


def setup_logging(settings: Settings, secrets: list[str] | None = None,
                  stderr_level: int | None = None, json_lines: bool | None = None) -> None:
    """Configure logging: stderr, an optional rotating file, discord.http at WARNING.

    STDERR_LEVEL raises what stderr shows above the configured level (the file keeps it all).
    JSON_LINES (default: ``log_json``) writes one JSON object per line instead of text.
    Calling it again replaces the handlers it installed before instead of doubling them.
    """
    root = logging.getLogger()
    for old in [h for h in root.handlers if getattr(h, _OURS, False)]:
        root.removeHandler(old)
        old.close()
    root.setLevel(settings.log_level.upper())
    as_json = settings.log_json if json_lines is None else json_lines
    fmt = (JsonLines() if as_json
           else logging.Formatter("%(asctime)s %(levelname)-7s %(name)s: %(message)s"))
    stderr = logging.StreamHandler()
    if stderr_level is not None:
        stderr.setLevel(stderr_level)
    handlers: list[logging.Handler] = [stderr]
    if settings.log_file:
        Path(settings.log_file).parent.mkdir(parents=True, exist_ok=True)
        handlers.append(logging.handlers.RotatingFileHandler(
            settings.log_file, maxBytes=5_000_000, backupCount=5, encoding="utf-8"))
    redact = _RedactSecrets([*(secrets or []), *settings.slack.secrets()])
    for h in handlers:
        h.setFormatter(fmt)
        h.addFilter(redact)
        setattr(h, _OURS, True)
        root.addHandler(h)
    logging.getLogger("discord.http").setLevel(logging.WARNING)
    logging.getLogger("apscheduler").setLevel(logging.WARNING)
    logging.getLogger("alembic").setLevel(logging.WARNING)

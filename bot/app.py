"""Wire the core together from settings: store, plans, tracker, commands (no chat platform)."""

from __future__ import annotations

import logging
import logging.handlers
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from bot.config import Settings
from bot.grammar import Grammar
from bot.plan import PlanRegistry
from bot.services import Context, Services
from bot.services.data import DataService
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

    @property
    def clock(self) -> Callable[[], datetime]:
        return self.services.ctx.clock

    async def close(self) -> None:
        await self.store.close()


def build_services(store: Store, plans: PlanRegistry, *,
                   clock: Callable[[], datetime] | None = None, default_plan: str | None = None,
                   public_by_default: bool = True) -> Services:
    """Build the services over one store, plan registry and clock."""
    ctx = Context(store, plans, clock or (lambda: datetime.now(UTC)),
                  default_plan=default_plan, public_by_default=public_by_default)
    services = Services(ctx)
    services.data = DataService(ctx)
    return services


async def build_core(settings: Settings, *, clock: Callable[[], datetime] | None = None,
                     migrate: bool = True) -> Core:
    """Open the store (migrating it), load the plans and build the services."""
    plans = PlanRegistry.load([Path(d) for d in settings.plan_dirs])
    store = await open_store(settings.database.url,
                             busy_timeout_ms=settings.database.busy_timeout_ms,
                             run_migrations=migrate)
    services = build_services(store, plans, clock=clock, default_plan=settings.default_plan,
                              public_by_default=settings.discord.public_by_default)
    return Core(settings, store, plans, services, Grammar(services))


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


def setup_logging(settings: Settings, secrets: list[str] | None = None,
                  stderr_level: int | None = None) -> None:
    """Configure logging: stderr, an optional rotating file, discord.http at WARNING.

    STDERR_LEVEL raises what stderr shows above the configured level (the file keeps it all).
    Calling it again replaces the handlers it installed before instead of doubling them.
    """
    root = logging.getLogger()
    for old in [h for h in root.handlers if getattr(h, _OURS, False)]:
        root.removeHandler(old)
        old.close()
    root.setLevel(settings.log_level.upper())
    fmt = logging.Formatter("%(asctime)s %(levelname)-7s %(name)s: %(message)s")
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

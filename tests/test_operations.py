"""The operator's view: the status report, process heartbeats, the command log line, metrics.

Real parts throughout: a SQLite file and PostgreSQL for the store, the real dispatcher, the
console front, and the metrics server scraped over HTTP on a free loopback port.
"""

from __future__ import annotations

import io
import json
import logging
import subprocess
import sys
from collections.abc import Iterator
from datetime import time, timedelta
from pathlib import Path

import aiohttp
import pytest

from bot.actors import Actor
from bot.app import _OURS, build_core, build_services, setup_logging, start_metrics_server
from bot.config import DatabaseSettings, MetricsSettings, SchedulerSettings, Settings
from bot.console import ConsoleFront
from bot.heartbeats import ProcessBeat
from bot.messages import OutMessage
from bot.metrics import COMMAND_FIELDS
from bot.metrics_server import MetricsServer
from bot.plan import PlanRegistry
from bot.presenting import present
from bot.prometheus import PrometheusMetrics
from bot.scheduling import Dispatcher
from bot.senders import ConsoleSender, DeliveryError
from bot.services import Onboarding, Services
from bot.store import Store, create_engine
from tests.conftest import FakeClock

ALICE = Actor("console", "alice", "Alice", space_id="console")
NO_RATE = SchedulerSettings(rate_per_second=0.0)


class RefusingSender:
    """A sender whose every delivery fails for good (a closed account, say)."""

    async def send(self, recipient_platform: str, recipient_id: str,
                   message: OutMessage) -> None:
        raise DeliveryError("Unknown User", permanent=True, code=10013)

    async def post(self, platform: str, channel_id: str, message: OutMessage,
                   mention_id: str | None) -> None:
        raise DeliveryError("Unknown Channel", permanent=True, code=10003)


async def onboard(services: Services, actor: Actor = ALICE) -> None:
    await services.onboarding.start(actor, Onboarding(timezone="Europe/Berlin",
                                                      reminder_time=time(19, 0)))


# --- the status report ---------------------------------------------------------------------


async def test_status_counts_learners_lag_and_the_outbox(store: Store, plans: PlanRegistry,
                                                         clock: FakeClock) -> None:
    services = build_services(store, plans, clock=clock)
    first = await services.status.report()
    assert (first.learners, first.lag_seconds, first.oldest_due, first.outbox) == (0, 0.0,
                                                                                    None, {})
    assert first.database == store.dialect and first.schema_current
    assert first.schema_database == first.schema_code == "0006"
    await onboard(services)
    await onboard(services, Actor("console", "bob", "Bob", space_id="console"))
    # The reminders are due at 19:00 Berlin (18:00 UTC); ten minutes later nothing has sent them.
    clock.set(clock.now.replace(hour=18, minute=10))
    due = await services.status.report()
    assert due.learners == 2
    assert due.lag_seconds == 600 and due.oldest_due == clock.now - timedelta(minutes=10)
    assert await services.status.lag() == 600
    # A dispatcher that can reach no one: every reminder fails, and the lag is gone.
    await Dispatcher(store, plans, {"console": RefusingSender()}, settings=NO_RATE,
                     clock=clock).tick()
    after = await services.status.report()
    assert after.lag_seconds == 0 and after.oldest_due is None
    assert {k: (c.pending, c.failed) for k, c in after.outbox.items()} == {"reminder": (0, 2)}
    # Failed rows are counted for a day, then left out.
    clock.advance(days=1, minutes=1)
    assert "reminder" not in (await services.status.report()).outbox


async def test_heartbeats_show_each_process_its_shards_and_staleness(
        store: Store, plans: PlanRegistry, clock: FakeClock) -> None:
    services = build_services(store, plans, clock=clock, tick_seconds=30)
    process = ProcessBeat("host-a:101", clock(), ["console"],
                          shards=lambda: [(0, 0.0421), (1, float("inf"))])
    dispatcher = Dispatcher(store, plans, {}, settings=NO_RATE, clock=clock, process=process)
    await dispatcher.beat()
    clock.advance(seconds=20)
    await dispatcher.beat()
    [row] = (await services.status.report()).processes
    assert (row.name, row.fronts, row.stale) == ("host-a:101", ("console",), False)
    assert row.last_tick_at == clock.now and row.started_at == clock.now - timedelta(seconds=20)
    assert row.shards == ((0, 42.1), (1, None))
    clock.advance(seconds=91)  # three ticks missed
    assert (await services.status.report()).processes[0].stale
    # A day later another process beats: the long-gone row is pruned.
    clock.advance(days=1)
    other = ProcessBeat("host-b:7", clock(), ["discord"])
    await Dispatcher(store, plans, {}, settings=NO_RATE, clock=clock, process=other).beat()
    assert [p.name for p in (await services.status.report()).processes] == ["host-b:7"]


async def test_a_scheduled_tick_writes_the_heartbeat(store: Store, plans: PlanRegistry,
                                                     clock: FakeClock) -> None:
    services = build_services(store, plans, clock=clock)
    process = ProcessBeat("solo:1", clock())
    dispatcher = Dispatcher(store, plans, {"console": ConsoleSender(io.StringIO())},
                            settings=NO_RATE, clock=clock, process=process)
    assert dispatcher.last_tick_at is None
    await dispatcher._scheduled_tick()
    assert dispatcher.last_tick_at == clock.now
    assert [p.name for p in (await services.status.report()).processes] == ["solo:1"]
    assert process.fronts == []  # the fronts are added by Core.dispatcher, see below
    await dispatcher.stop()  # a clean stop leaves no row to show as stale
    assert (await services.status.report()).processes == []


async def test_the_report_reads_well_and_hides_the_password(sqlite_store: Store,
                                                            plans: PlanRegistry,
                                                            clock: FakeClock) -> None:
    services = build_services(sqlite_store, plans, clock=clock)
    await onboard(services)
    process = ProcessBeat("host-a:101", clock(), ["discord", "slack"], shards=lambda: [(0, 0.05)])
    await Dispatcher(sqlite_store, plans, {}, clock=clock, process=process).beat()
    clock.advance(seconds=12)
    status = await services.status.report()
    text = present(status).text
    assert present(status).title == "Pacer status" and present(status).private
    assert "Pacer 0.1.0 on sqlite (sqlite+aiosqlite:///" in text
    assert "Schema: 0006 (current)" in text and "Learners: 1" in text
    assert "Dispatcher lag: 0 s (nothing waiting)" in text
    assert "• host-a:101 (discord, slack): last tick 12 s ago" in text
    assert "1 shard (0: 50 ms)" in text
    as_json = json.loads(json.dumps(status.to_json()))
    assert as_json["learners"] == 1 and as_json["database"]["schema_current"] is True
    assert as_json["processes"][0]["shards"] == [{"id": 0, "latency_ms": 50.0}]


async def test_the_database_url_never_shows_its_password(pg_database, plans: PlanRegistry,
                                                         clock: FakeClock) -> None:
    url = pg_database.url.replace("postgres@", "postgres:hunter2-very-secret@")
    store = Store(create_engine(url))  # trust authentication: the password is not checked
    try:
        status = await build_services(store, plans, clock=clock).status.report()
    finally:
        await store.close()
    assert status.database == "postgresql" and "***" in status.database_url
    assert "hunter2" not in present(status).text and "hunter2" not in json.dumps(
        status.to_json())


# --- one log line per command --------------------------------------------------------------


@pytest.fixture
def json_log() -> Iterator[io.StringIO]:
    """Log as `--json` does, into a buffer; put the root logger back afterwards."""
    root = logging.getLogger()
    level, before = root.level, list(root.handlers)
    buffer = io.StringIO()
    setup_logging(Settings(log_json=True), secrets=["s3cr3t-token-value"])
    for handler in root.handlers:
        if getattr(handler, _OURS, False) and isinstance(handler, logging.StreamHandler):
            handler.setStream(buffer)
    yield buffer
    for handler in [h for h in root.handlers if h not in before]:
        root.removeHandler(handler)
        handler.close()
    root.setLevel(level)


async def console_core(tmp_path: Path, sqlite_template: Path, clock: FakeClock, *,
                       metrics: bool = False):  # type: ignore[no-untyped-def]
    db = tmp_path / "pacer.sqlite3"
    db.write_bytes(sqlite_template.read_bytes())
    settings = Settings(database=DatabaseSettings(url=f"sqlite+aiosqlite:///{db}"),
                        metrics=MetricsSettings(enabled=metrics, port=0),
                        scheduler=NO_RATE)
    return await build_core(settings, clock=clock, migrate=False)


def command_lines(buffer: io.StringIO) -> list[dict[str, object]]:
    lines = [json.loads(line) for line in buffer.getvalue().splitlines() if line.strip()]
    return [r for r in lines if r["logger"] == "bot.commands"]


async def test_each_console_command_logs_one_json_line_without_what_was_typed(
        tmp_path: Path, sqlite_template: Path, clock: FakeClock,
        json_log: io.StringIO) -> None:
    core = await console_core(tmp_path, sqlite_template, clock)
    console = ConsoleFront(core, "alice", out=io.StringIO())
    try:
        for line in ["/start Europe/Berlin", '/log 1h "secret stuff"',
                     "/question why does @everyone <@123> get pinged?", "/log 99h",
                     "/frobnicate my diary", "/whoami"]:
            await console.reply(line)
    finally:
        await core.close()
    text = json_log.getvalue()
    for typed in ("secret stuff", "everyone", "<@123>", "99h", "frobnicate", "diary",
                  "alice", "Alice"):
        assert typed not in text
    records = command_lines(json_log)
    assert [(r["command"], r["front"], r["outcome"]) for r in records] == [
        ("start", "console", "ok"), ("log", "console", "ok"), ("question", "console", "ok"),
        ("log", "console", "input error"), ("unknown", "console", "input error"),
        ("whoami", "console", "ok")]
    for r in records:
        assert set(COMMAND_FIELDS) | {"time", "level", "logger", "message"} <= set(r)
        assert r["level"] == "INFO" and str(r["time"]).endswith("+00:00")
        assert isinstance(r["latency_ms"], int) and r["latency_ms"] >= 0
    assert records[1]["message"].startswith("command log on console: ok in ")


async def test_a_command_that_breaks_is_logged_once_as_failed(
        tmp_path: Path, sqlite_template: Path, clock: FakeClock,
        json_log: io.StringIO) -> None:
    core = await console_core(tmp_path, sqlite_template, clock)
    console = ConsoleFront(core, "alice", out=io.StringIO())
    unreachable = Store(create_engine("postgresql+asyncpg://nobody@127.0.0.1:1/none"))
    core.services.ctx.store = unreachable  # the database goes away under the front
    try:
        with pytest.raises(OSError):
            await console.reply("/progress")
    finally:
        await unreachable.close()
        await core.close()
    assert [(r["command"], r["outcome"]) for r in command_lines(json_log)] == [
        ("progress", "failed")]


def test_plain_logging_keeps_the_text_format(capsys: pytest.CaptureFixture[str]) -> None:
    root = logging.getLogger()
    level, before = root.level, list(root.handlers)
    try:
        setup_logging(Settings())
        logging.getLogger("bot.commands").info("command %s on %s: %s in %d ms", "log",
                                               "console", "ok", 3)
    finally:
        for handler in [h for h in root.handlers if h not in before]:
            root.removeHandler(handler)
            handler.close()
        root.setLevel(level)
    assert "INFO    bot.commands: command log on console: ok in 3 ms" in capsys.readouterr().err


# --- metrics and health over HTTP ----------------------------------------------------------


async def scrape(session: aiohttp.ClientSession, port: int, path: str) -> tuple[int, str]:
    async with session.get(f"http://127.0.0.1:{port}{path}") as response:
        return response.status, await response.text()


def sample(text: str, name: str, **labels: str) -> float:
    """Read one sample of the Prometheus text format (0 when it is not there)."""
    wanted = ",".join(f'{k}="{v}"' for k, v in labels.items())
    head = f"{name}{{{wanted}}}" if labels else name
    for line in text.splitlines():
        if line.startswith(head + " "):
            return float(line.rsplit(" ", 1)[1])
    return 0.0


async def test_metrics_and_health_are_served_over_http(tmp_path: Path, sqlite_template: Path,
                                                       clock: FakeClock) -> None:
    core = await console_core(tmp_path, sqlite_template, clock, metrics=True)
    assert isinstance(core.metrics, PrometheusMetrics)
    console = ConsoleFront(core, "alice", out=io.StringIO())
    dispatcher = console.dispatcher(core.settings.scheduler)
    server = await start_metrics_server(core, dispatcher)
    assert server is not None and server.port
    try:
        async with aiohttp.ClientSession() as http:
            status, body = await scrape(http, server.port, "/healthz")
            assert status == 503 and json.loads(body)["dispatcher"] == "never ticked"
            await console.reply("/start Europe/Berlin reminder=13:05 hours=8")
            await console.reply("/log 1h")
            status, text = await scrape(http, server.port, "/metrics")
            assert status == 200
            ok = {"command": "log", "front": "console", "outcome": "ok"}
            assert sample(text, "pacer_commands_total", **ok) == 1
            assert sample(text, "pacer_command_seconds_count", command="log",
                          front="console") == 1
            await console.reply("/log 2h")
            await console.reply("/log 99h")
            await console.reply("/nosuchcommand")
            text = (await scrape(http, server.port, "/metrics"))[1]
            assert sample(text, "pacer_commands_total", **ok) == 2
            assert sample(text, "pacer_commands_total", command="log", front="console",
                          outcome="input error") == 1
            assert sample(text, "pacer_commands_total", command="unknown", front="console",
                          outcome="input error") == 1
            assert sample(text, "pacer_commands_failed_total", command="log",
                          front="console") == 0
            # Due and unsent ten minutes later: the milestone of the first /log (12:00 UTC,
            # its partner's celebration is the dispatcher's) and the reminder (13:05 Berlin).
            clock.advance(minutes=10)
            text = (await scrape(http, server.port, "/metrics"))[1]
            assert sample(text, "pacer_dispatcher_lag_seconds") == 600
            await dispatcher._scheduled_tick()  # sends it: console is the front
            text = (await scrape(http, server.port, "/metrics"))[1]
            assert sample(text, "pacer_deliveries_total", kind="reminder", result="sent") == 1
            assert sample(text, "pacer_dispatcher_lag_seconds") == 0
            status, body = await scrape(http, server.port, "/healthz")
            assert status == 200, body
            health = json.loads(body)
            assert health["status"] == "ok" and health["database"] == "ok"
            # The dispatcher stops ticking: unhealthy after three intervals.
            clock.advance(seconds=3 * core.settings.scheduler.tick_seconds + 1)
            status, body = await scrape(http, server.port, "/healthz")
            assert status == 503 and json.loads(body)["dispatcher"].startswith("last tick")
    finally:
        await server.stop()
        await core.close()


async def test_health_fails_when_the_store_does_not_answer(clock: FakeClock) -> None:
    store = Store(create_engine("postgresql+asyncpg://nobody@127.0.0.1:1/none"))
    metrics = PrometheusMetrics()

    async def no_lag() -> float:
        return 0.0

    server = MetricsServer(store, metrics, no_lag, last_tick=clock, tick_seconds=30,
                           clock=clock)
    port = await server.start("127.0.0.1", 0)
    try:
        async with aiohttp.ClientSession() as http:
            status, body = await scrape(http, port, "/healthz")
            assert status == 503
            assert json.loads(body) == {"status": "unhealthy", "database": "unreachable",
                                        "dispatcher": "ok",
                                        "last_tick_at": clock.now.isoformat()}
            assert (await scrape(http, port, "/metrics"))[0] == 200  # figures in memory
    finally:
        await server.stop()
        await store.close()


def test_metrics_are_off_by_default() -> None:
    assert Settings().metrics == MetricsSettings(enabled=False, host="127.0.0.1", port=9108)


def test_without_the_extra_metrics_off_still_work_and_on_is_refused_clearly() -> None:
    code = (
        "import sys\n"
        "sys.modules['prometheus_client'] = None  # as if the metrics extra were missing\n"
        "from bot.config import ConfigError\n"
        "from bot.prometheus import AVAILABLE, build_metrics\n"
        "import bot.app, bot.metrics_server\n"
        "assert not AVAILABLE and not build_metrics(False).enabled\n"
        "try:\n"
        "    build_metrics(True)\n"
        "except ConfigError as exc:\n"
        "    print(exc)\n"
    )
    root = Path(__file__).resolve().parents[1]
    result = subprocess.run([sys.executable, "-c", code], cwd=root, capture_output=True,
                            text=True, timeout=120, check=False)
    assert result.returncode == 0, result.stderr
    assert "pip install 'pacer[metrics]'" in result.stdout

"""Pacer's metrics in Prometheus form (the ``metrics`` extra: ``pip install 'pacer[metrics]'``).

``prometheus_client`` is imported here at the top, guarded: without the extra ``AVAILABLE`` is
false and ``bot.app`` refuses ``[metrics] enabled = true`` with a message saying what to
install. Each ``PrometheusMetrics`` has its own registry (not the library's global one), so
two cores in one process, as in the tests, never share or clash.

Metric names (``pacer_`` prefix):

- ``pacer_command_seconds`` histogram {command, front}; ``pacer_commands_failed_total``
  {command, front} counts the ``failed`` outcomes, ``pacer_commands_total`` {command, front,
  outcome} all of them;
- ``pacer_deliveries_total`` {kind, result}: outbox rows sent, failed, missed or skipped;
- ``pacer_dispatcher_lag_seconds``: now minus the oldest due unsent message (set at scrape time
  by the metrics server, from the database, so it is right across processes);
- ``pacer_rest_requests_total`` {platform} and ``pacer_rest_rate_limited_total`` {platform}:
  every REST request to Discord or Slack and every 429.
"""

from __future__ import annotations

from bot.config import ConfigError
from bot.metrics import Metrics

try:
    import prometheus_client as prom
    from prometheus_client.exposition import CONTENT_TYPE_LATEST
except ImportError:  # the metrics extra is not installed: metrics stay off
    prom = None
    CONTENT_TYPE_LATEST = "text/plain; version=0.0.4; charset=utf-8"

AVAILABLE = prom is not None
MISSING = ("[metrics] enabled = true needs the metrics extra: "
           "pip install 'pacer[metrics]' (prometheus-client)")
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


class PrometheusMetrics(Metrics):
    """Record Pacer's figures in a registry of its own, rendered by ``render()``."""

    enabled = True

    def __init__(self) -> None:
        if prom is None:
            raise ConfigError(MISSING)
        self.registry = prom.CollectorRegistry()
        r = self.registry
        self.command_seconds = prom.Histogram(
            "pacer_command_seconds", "Time to run one command, by command and front",
            ["command", "front"], buckets=LATENCY_BUCKETS, registry=r)
        self.commands = prom.Counter(
            "pacer_commands", "Commands run, by command, front and outcome",
            ["command", "front", "outcome"], registry=r)
        self.commands_failed = prom.Counter(
            "pacer_commands_failed", "Commands that failed on Pacer's side",
            ["command", "front"], registry=r)
        self.deliveries = prom.Counter(
            "pacer_deliveries", "Reminders, digests and other messages by kind and result",
            ["kind", "result"], registry=r)
        self.lag = prom.Gauge(
            "pacer_dispatcher_lag_seconds",
            "Now minus the due time of the oldest due message not yet sent", registry=r)
        self.rest = prom.Counter(
            "pacer_rest_requests", "REST requests to a chat platform's API", ["platform"],
            registry=r)
        self.rest_429 = prom.Counter(
            "pacer_rest_rate_limited", "429 answers of a chat platform's API", ["platform"],
            registry=r)

    def command(self, command: str, front: str, outcome: str, seconds: float) -> None:
        self.command_seconds.labels(command, front).observe(seconds)
        self.commands.labels(command, front, outcome).inc()
        if outcome == "failed":
            self.commands_failed.labels(command, front).inc()

    def delivery(self, kind: str, result: str, count: int = 1) -> None:
        if count:
            self.deliveries.labels(kind, result).inc(count)

    def dispatcher_lag(self, seconds: float) -> None:
        self.lag.set(seconds)

    def rest_request(self, platform: str) -> None:
        self.rest.labels(platform).inc()

    def rate_limited(self, platform: str) -> None:
        self.rest_429.labels(platform).inc()

    def render(self) -> bytes:
        """Return the registry in Prometheus's text format."""
        return prom.generate_latest(self.registry)


def build_metrics(enabled: bool) -> Metrics:
    """Return the metrics a core records through: Prometheus when enabled, else none."""
    if not enabled:
        return Metrics()
    if not AVAILABLE:
        raise ConfigError(MISSING)
    return PrometheusMetrics()

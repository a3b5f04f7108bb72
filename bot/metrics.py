"""What Pacer records about itself: a neutral metrics interface and the one command observation.

The core records through ``Metrics``; this base class records nothing, which is what runs when
``[metrics] enabled`` is false or the ``metrics`` extra (``prometheus-client``) is not
installed. ``bot.prometheus.PrometheusMetrics`` fills the same methods in. Nothing here
imports a metrics library, so the core's import path never needs one.

``observe(command, front, metrics)`` wraps the dispatch of one command on a front: on the way
out it records the command's latency and outcome and writes exactly ONE log line at INFO::

    command log on console: ok in 12 ms

with the structured fields ``command``, ``front``, ``latency_ms`` and ``outcome`` on the record
(``--json`` logging prints them as keys). The line never holds what the user typed beyond the
command's catalogued name (an unknown command is logged as ``unknown``), nor a name.
Outcomes: ``ok``, ``input error`` (a ``PacerError``, or a reply flagged as an error: nothing
changed, the user was told why) and ``failed`` (anything else: a bug or an outage).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from bot.errors import PacerError

log = logging.getLogger("bot.commands")

OK, INPUT_ERROR, FAILED = "ok", "input error", "failed"
OUTCOMES = (OK, INPUT_ERROR, FAILED)
UNKNOWN = "unknown"  # the name logged for a command that is not in the catalogue
COMMAND_FIELDS = ("command", "front", "latency_ms", "outcome")


class Metrics:
    """Record commands, deliveries, the dispatcher's lag and REST traffic (here: nothing)."""

    enabled = False

    def command(self, command: str, front: str, outcome: str, seconds: float) -> None:
        """Record one command's latency and outcome."""

    def delivery(self, kind: str, result: str, count: int = 1) -> None:
        """Record COUNT outbox rows of KIND ending as RESULT (sent, failed, missed, skipped)."""

    def dispatcher_lag(self, seconds: float) -> None:
        """Record how long the oldest due, unsent message has been waiting."""

    def rest_request(self, platform: str) -> None:
        """Record one REST request to a chat platform's API."""

    def rate_limited(self, platform: str) -> None:
        """Record one 429 answer of a chat platform's API."""


NO_METRICS = Metrics()


@dataclass
class Observation:
    """The command being observed: its name (settable once parsed) and its outcome."""

    command: str
    outcome: str = OK

    def input_error(self) -> None:
        """Note that the command was refused (bad input, a state it cannot run in)."""
        self.outcome = INPUT_ERROR

    def failed(self) -> None:
        """Note that the command failed on Pacer's side."""
        self.outcome = FAILED


@contextmanager
def observe(command: str, front: str, metrics: Metrics = NO_METRICS) -> Iterator[Observation]:
    """Time one command; record its metric and write its one log line on the way out."""
    observation = Observation(command)
    started = time.perf_counter()
    try:
        yield observation
    except PacerError:
        observation.input_error()
        raise
    except BaseException:
        observation.failed()
        raise
    finally:
        seconds = time.perf_counter() - started
        metrics.command(observation.command, front, observation.outcome, seconds)
        latency_ms = round(seconds * 1000)
        log.info("command %s on %s: %s in %d ms", observation.command, front,
                 observation.outcome, latency_ms,
                 extra={"command": observation.command, "front": front,
                        "latency_ms": latency_ms, "outcome": observation.outcome})

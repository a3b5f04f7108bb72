"""Charts on demand (``/chart road|calendar|week``): figures from the tracker, drawn off the loop.

Each chart is a pure function of a figures dataclass (``bot.charts``); this service reads the
learner's tracker in one read transaction, computes the figures, renders the PNG in a worker
thread (``asyncio.to_thread``: matplotlib never blocks the event loop) and returns a
``ChartDrawn`` outcome. On the console the grammar's ``line_chart`` writes the PNG to a file
in the working folder and the reply names its path, as ``/export`` does; other fronts attach it.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import date
from pathlib import Path

from bot.actors import Actor
from bot.charts import (
    calendar_figures,
    render_calendar_chart,
    render_road_chart,
    road_figures,
)
from bot.errors import InputError
from bot.messages import week_chart_spec
from bot.outcomes import ChartDrawn
from bot.parsing import quote_input
from bot.plan import Plan
from bot.road import standing
from bot.services.base import Service
from bot.snapshot import LearnerData, load_one

log = logging.getLogger(__name__)

# The console front's platform name, as in bot.services.data (importing that module from
# here would close an import cycle through bot.trackerfile.apply).
CONSOLE = "console"
CHART_KINDS = ("road", "calendar", "week")
CHART_USAGE = "/chart road|calendar|week"


class ChartService(Service):
    """Draw a learner's road, calendar or week chart."""

    async def chart(self, actor: Actor, kind: str) -> ChartDrawn:
        """Draw the chart KIND (one of CHART_KINDS) of the learner's tracker today."""
        if kind not in CHART_KINDS:
            raise InputError(f"No chart {quote_input(kind)}: choose one of "
                             f"{', '.join(CHART_KINDS)} (`{CHART_USAGE}`).")
        async with self.ctx.store.read() as session:
            row = await self.ctx.learner(session, actor)
            data = await load_one(session, row.id)
        plan, today = self.ctx.plan_for(row), self.ctx.today_for(row)
        return await asyncio.to_thread(draw, kind, data, plan, today)

    async def line_chart(self, actor: Actor, args: list[str]) -> ChartDrawn:
        """Run ``/chart KIND`` typed as text; the console gets the PNG written to a file."""
        if len(args) != 1:
            raise InputError(f"Usage: `{CHART_USAGE}`: one kind of chart, nothing after it.")
        drawn = await self.chart(actor, args[0].lower())
        if actor.platform == CONSOLE:
            drawn.path = str(await asyncio.to_thread(_write_chart, drawn))
        return drawn


def draw(kind: str, data: LearnerData, plan: Plan, today: date) -> ChartDrawn:
    """Compute the figures of chart KIND and render them (blocking: run it in a thread)."""
    st = standing(data, plan, today)
    filename = f"pacer-{kind}-{today.isoformat()}.png"
    if kind == "road":
        road = road_figures(data, plan, today)
        return ChartDrawn(kind=kind, today=today, png=render_road_chart(road),
                          filename=filename, standing=st, road=road)
    if kind == "calendar":
        cells = calendar_figures(data, today)
        return ChartDrawn(kind=kind, today=today, png=render_calendar_chart(cells),
                          filename=filename, standing=st, calendar=cells)
    spec = week_chart_spec(data, plan, today)
    return ChartDrawn(kind=kind, today=today, png=spec.render().data, filename=filename,
                      standing=st, week=spec)


def _write_chart(drawn: ChartDrawn) -> Path:
    """Write the chart's PNG in the working folder, under its own name."""
    path = Path(drawn.filename)
    try:
        path.write_bytes(drawn.png)
    except OSError as exc:
        raise InputError(f"Cannot write {path}: {exc.strerror}.") from None
    return path.resolve()

"""Render the weekly progress chart as a PNG with matplotlib's Agg canvas (never pyplot).

The road chart (cumulative hours against the road, the plan's hours band, today, the pace
projection) and the calendar heatmap (hours per study day, weeks as columns) are pure
functions of a small figures dataclass (``RoadFigures``, ``CalendarFigures``), which
``road_figures`` and ``calendar_figures`` compute from a learner's record: tests check the
figures by hand and the PNG separately.

Speed: building a Figure and drawing its axes the first time costs more than the rest of
the chart, so each thread keeps one figure skeleton (axes, lines, titles, a pool of bars and
labels) in a `threading.local` and reuses it: each call sets every artist from its own input,
hides pooled ones it does not need, draws and encodes. Figures never reach pyplot's global
registry, no figure is shared between threads, and a thread's skeleton is freed with the
thread, so nothing accumulates; charts are byte-identical whatever was drawn before.
"""

from __future__ import annotations

import io
import itertools
import math
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.colors import ListedColormap
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle
from matplotlib.text import Text
from matplotlib.ticker import MaxNLocator
from PIL import Image

from bot import progress as p
from bot.plan import Plan
from bot.road import road_of
from bot.snapshot import StudyRecord

WIDTH_PX = 900
HEIGHT_PX = 400
DPI = 100

_BAR = "#4c78a8"
_BAR_MET = "#54a24b"
_COMMITMENT = "#e45756"
_CUMULATIVE = "#4c78a8"
_BAND = "#f2cf5b"
_BAND_EDGE = "#d4a72c"
_TEXT = "#333333"
_BAR_WIDTH = 0.7
# zlib level 1: encodes in about half the time of the default 6, for ~30% larger files.
_PNG_COMPRESS_LEVEL = 1

_per_thread = threading.local()


def _check_hours(value: float, what: str) -> None:
    """Refuse negative or non-finite hour figures."""
    if not math.isfinite(value) or value < 0:
        raise ValueError(f"{what} must be a finite number of hours >= 0, got {value!r}")


def _hours(value: float) -> str:
    """Format hours with at most two decimals and no trailing zeros."""
    return f"{value:.2f}".rstrip("0").rstrip(".")


class _WeekChartSkeleton:
    """Hold one thread's figure and the artists that every week chart has."""

    def __init__(self) -> None:
        fig = Figure(figsize=(WIDTH_PX / DPI, HEIGHT_PX / DPI), dpi=DPI, facecolor="white")
        self.canvas = FigureCanvasAgg(fig)
        self.figure = fig
        # Fixed margins: tight_layout would measure every text artist on each draw.
        fig.subplots_adjust(left=0.055, right=0.985, bottom=0.1, top=0.82, wspace=0.18)
        # parse_math=False: the title may hold user text, and "$" must not start mathtext.
        self.title = fig.suptitle("", fontsize=14, color=_TEXT, parse_math=False)
        self.hours_ax, self.total_ax = fig.subplots(1, 2)
        for ax in (self.hours_ax, self.total_ax):
            ax.spines[["top", "right"]].set_visible(False)
            ax.grid(axis="y", alpha=0.3)
            ax.set_axisbelow(True)
            # No tick marks: the grid and the labels say it all, and each mark is a Line2D draw.
            ax.tick_params(labelsize=9, bottom=False, left=False)
            ax.yaxis.set_major_locator(MaxNLocator(nbins=5, steps=[1, 2, 2.5, 5, 10]))
            # The axes have no axis labels: fixing their spot skips measuring every tick label
            # on each draw to keep them clear.
            ax.xaxis.set_label_coords(0.5, -0.1)
            ax.yaxis.set_label_coords(-0.1, 0.5)
        # A fixed y stops the per-draw search for a title position clear of the tick labels.
        self.hours_title = self.hours_ax.set_title("", loc="left", fontsize=11, y=1.01)
        self.total_title = self.total_ax.set_title("", loc="left", fontsize=11, y=1.01)
        self.commitment = self.hours_ax.axhline(0, color=_COMMITMENT, linewidth=2, ls="--")
        self.band = self.total_ax.axhspan(0, 1, color=_BAND, alpha=0.35, linewidth=0)
        self.band_min = self.total_ax.axhline(0, color=_BAND_EDGE, linewidth=1.2)
        self.band_max = self.total_ax.axhline(0, color=_BAND_EDGE, linewidth=1.2)
        (self.cumulative,) = self.total_ax.plot(
            [], [], color=_CUMULATIVE, linewidth=2.5, marker="o", markersize=5
        )
        self.total_label = self.total_ax.text(0, 0, "", fontsize=10, va="bottom", color=_TEXT)
        # Bars and their value labels are pooled and reused; the pool grows to the longest input.
        self.bars: list[Rectangle] = []
        self.bar_labels: list[Text] = []

    def _pool(self, size: int) -> None:
        """Grow the bar and label pools to at least `size` and hide the surplus."""
        while len(self.bars) < size:
            bar = Rectangle((0, 0), _BAR_WIDTH, 0, linewidth=0)
            self.hours_ax.add_patch(bar)
            self.bars.append(bar)
            label = self.hours_ax.text(0, 0, "", ha="center", va="bottom", fontsize=9, color=_TEXT)
            self.bar_labels.append(label)
        for artist in (*self.bars[size:], *self.bar_labels[size:]):
            artist.set_visible(False)

    def render(
        self,
        days: Sequence[tuple[date, float]],
        commitment_hours: float,
        cumulative_before: float,
        target_min: float,
        target_max: float,
        title: str,
    ) -> bytes:
        """Draw one week chart on this skeleton and return it as PNG bytes."""
        hours = [h for _, h in days]
        positions = list(range(len(days)))
        labels = [f"{d:%a} {d.day}" for d, _ in days]
        cumulative = list(itertools.accumulate(hours, initial=cumulative_before))[1:]
        x_limits = (-0.6, max(len(days), 1) - 0.4)

        self.title.set_text(title)
        self.hours_title.set_text(f"Hours per day · commitment {_hours(commitment_hours)} h")
        self.total_title.set_text(
            f"Total hours · target {_hours(target_min)}–{_hours(target_max)} h"
        )

        hours_ax, total_ax = self.hours_ax, self.total_ax
        top = max([*hours, commitment_hours, 1.0]) * 1.18
        hours_ax.set_xlim(*x_limits)
        hours_ax.set_ylim(0, top)
        hours_ax.set_xticks(positions, labels)
        self.commitment.set_ydata([commitment_hours, commitment_hours])

        total_ax.set_xlim(*x_limits)
        y_top = max([*cumulative, target_max, cumulative_before, 1.0]) * 1.12
        total_ax.set_ylim(0, y_top)
        total_ax.set_xticks(positions, labels)
        self.band.set_y(target_min)
        self.band.set_height(target_max - target_min)
        self.band_min.set_ydata([target_min, target_min])
        self.band_max.set_ydata([target_max, target_max])
        self.cumulative.set_data(positions, cumulative)
        if cumulative:
            self.total_label.set_text(f"{_hours(cumulative[-1])} h")
            self.total_label.set_position((positions[-1], cumulative[-1] + y_top * 0.02))
            self.total_label.set_horizontalalignment("right" if len(cumulative) > 4 else "left")
        else:
            self.total_label.set_text("")

        met = commitment_hours > 0
        self._pool(len(hours))
        for x, h, bar, label in zip(positions, hours, self.bars, self.bar_labels, strict=False):
            bar.set_bounds(x - _BAR_WIDTH / 2, 0, _BAR_WIDTH, h)
            bar.set_facecolor(_BAR_MET if met and h >= commitment_hours else _BAR)
            bar.set_visible(True)
            label.set_text(_hours(h))
            label.set_position((x, h + top * 0.012))
            label.set_visible(h > 0)

        buffer = io.BytesIO()
        # Software=None keeps the matplotlib version out of the file: equal input, equal bytes.
        self.canvas.print_png(
            buffer, metadata={"Software": None}, pil_kwargs={"compress_level": _PNG_COMPRESS_LEVEL}
        )
        return buffer.getvalue()


def render_week_chart(
    days: Sequence[tuple[date, float]],
    commitment_hours: float,
    cumulative_before: float,
    target_min: float,
    target_max: float,
    title: str,
) -> bytes:
    """Render hours per day against the daily commitment, and cumulative hours against target.

    `days` is (date, hours) in date order; `commitment_hours` is the daily commitment; the
    right panel plots `cumulative_before` plus the running sum against the band
    [target_min, target_max]. Returns a WIDTH_PX x HEIGHT_PX RGB PNG.
    """
    for _, hours in days:
        _check_hours(hours, "hours per day")
    _check_hours(commitment_hours, "commitment_hours")
    _check_hours(cumulative_before, "cumulative_before")
    _check_hours(target_min, "target_min")
    _check_hours(target_max, "target_max")
    if target_max < target_min:
        raise ValueError(f"target_max {target_max} is below target_min {target_min}")
    skeleton = getattr(_per_thread, "skeleton", None)
    if skeleton is None:
        skeleton = _per_thread.skeleton = _WeekChartSkeleton()
    return skeleton.render(days, commitment_hours, cumulative_before, target_min, target_max, title)


# --- the road chart and the calendar -----------------------------------------------------


@dataclass(frozen=True)
class RoadFigures:
    """What the road chart draws, in hours: the road, the logged total, the band, today."""

    start: date
    road: tuple[float, ...]  # road[i]: committed hours at the end of start + i days
    logged: tuple[float, ...]  # logged[i]: hours logged by the end of start + i days, to today
    band: tuple[float, float]  # the plan's hours_min, hours_max
    today: date
    projection: tuple[tuple[date, float], tuple[date, float]] | None  # dashed, from today
    title: str = "Your road"

    def day(self, index: int) -> date:
        return self.start + timedelta(days=index)


@dataclass(frozen=True)
class CalendarCell:
    """One study day of the calendar: its column (week) and row (weekday, Monday 0)."""

    day: date
    column: int
    row: int
    minutes: int
    paused: bool = False


@dataclass(frozen=True)
class CalendarFigures:
    """What the calendar heatmap draws: one cell a day since the start, weeks as columns."""

    cells: tuple[CalendarCell, ...]
    columns: int
    commitment_minutes: int
    title: str = "Hours per day"


def road_figures(data: StudyRecord, plan: Plan, today: date) -> RoadFigures:
    """Compute the road chart's figures: the road, the logged total to today, the projection."""
    road = road_of(data, plan)
    by_day = data.minutes_by_day()
    logged: list[float] = []
    total = sum(m for d, m in by_day.items() if d < road.start)
    day = road.start
    while day <= today:
        total += by_day.get(day, 0)
        logged.append(round(total / 60, 2))
        day += timedelta(days=1)
    pace = p.pace(data, plan, today)
    projection = None
    if pace.reach_min_on is not None and pace.reach_min_on > today and logged:
        projection = ((today, logged[-1]), (pace.reach_min_on, float(plan.hours_min)))
    return RoadFigures(road.start, tuple(round(t / 60, 2) for t in road.totals), tuple(logged),
                       (float(plan.hours_min), float(plan.hours_max)), today, projection)


def calendar_figures(data: StudyRecord, today: date) -> CalendarFigures:
    """Compute the calendar's cells: every day from the start to today, Monday-based weeks."""
    start = data.profile.start_date
    monday = start - timedelta(days=start.weekday())
    by_day = data.minutes_by_day()
    paused = data.paused_days()
    cells = []
    day = start
    while day <= today:
        offset = (day - monday).days
        cells.append(CalendarCell(day, offset // 7, offset % 7, by_day.get(day, 0),
                                  day in paused))
        day += timedelta(days=1)
    columns = cells[-1].column + 1 if cells else 0
    return CalendarFigures(tuple(cells), columns, data.profile.commitment_minutes)


def _png(fig: Figure) -> bytes:
    buffer = io.BytesIO()
    FigureCanvasAgg(fig).print_png(
        buffer, metadata={"Software": None}, pil_kwargs={"compress_level": _PNG_COMPRESS_LEVEL}
    )
    return buffer.getvalue()


def render_road_chart(f: RoadFigures) -> bytes:
    """Render cumulative hours against the road, the hours band, today and the projection."""
    fig = Figure(figsize=(WIDTH_PX / DPI, HEIGHT_PX / DPI), dpi=DPI, facecolor="white")
    ax = fig.subplots()
    fig.subplots_adjust(left=0.07, right=0.985, bottom=0.12, top=0.88)
    ax.spines[["top", "right"]].set_visible(False)
    ax.grid(axis="y", alpha=0.3)
    ax.set_axisbelow(True)
    ax.tick_params(labelsize=9)
    ax.set_title(f.title, loc="left", fontsize=12, color=_TEXT)
    low, high = f.band
    ax.axhspan(low, high, color=_BAND, alpha=0.35, linewidth=0, label=f"target {_hours(low)}"
               f"–{_hours(high)} h")
    road_x = [f.day(i) for i in range(len(f.road))]
    ax.plot(road_x, f.road, color=_COMMITMENT, linewidth=2, label="the road")
    logged_x = [f.day(i) for i in range(len(f.logged))]
    ax.plot(logged_x, f.logged, color=_CUMULATIVE, linewidth=2.5, label="logged")
    if f.projection is not None:
        (x0, y0), (x1, y1) = f.projection
        ax.plot([x0, x1], [y0, y1], color=_CUMULATIVE, linewidth=1.5, ls="--",
                label="projection")
    ax.axvline(f.today, color=_TEXT, linewidth=1, ls=":", label="today")
    ax.set_ylim(0, max([*f.road, *f.logged, high, 1.0]) * 1.08)
    ax.legend(loc="upper left", fontsize=9, frameon=False)
    return _png(fig)


def render_calendar_chart(f: CalendarFigures) -> bytes:
    """Render hours per day as a heatmap: weekdays as rows, weeks as columns."""
    columns = max(f.columns, 1)
    grid = [[math.nan] * columns for _ in range(7)]
    for cell in f.cells:
        grid[cell.row][cell.column] = -1.0 if cell.paused else cell.minutes / 60
    fig = Figure(figsize=(max(4.0, 1.2 + 0.45 * columns), 3.6), dpi=DPI, facecolor="white")
    ax = fig.subplots()
    fig.subplots_adjust(left=0.12, right=0.9, bottom=0.12, top=0.85)
    top = max([c.minutes / 60 for c in f.cells] + [f.commitment_minutes / 60, 1.0])
    # Below 0 is a paused day, NaN no day at all.
    cmap = ListedColormap(["#f0f0f0", "#c6dbef", "#6baed6", "#2171b5", "#08306b"]).with_extremes(
        under="#bbbbbb", bad="white")
    image = ax.imshow(grid, aspect="equal", cmap=cmap, vmin=0, vmax=top)
    ax.set_yticks(range(7), ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"])
    ax.set_xticks(range(columns), [f"W{c + 1}" for c in range(columns)])
    ax.tick_params(labelsize=8, length=0)
    ax.set_title(f.title, loc="left", fontsize=12, color=_TEXT)
    fig.colorbar(image, ax=ax, label="hours", shrink=0.8)
    return _png(fig)


def stack_pngs(*pngs: bytes) -> bytes:
    """Combine PNG images into one, top to bottom, on white."""
    images = [Image.open(io.BytesIO(data)).convert("RGB") for data in pngs]
    width = max(i.width for i in images)
    out = Image.new("RGB", (width, sum(i.height for i in images)), "white")
    y = 0
    for image in images:
        out.paste(image, (0, y))
        y += image.height
    buffer = io.BytesIO()
    out.save(buffer, format="PNG", compress_level=_PNG_COMPRESS_LEVEL)
    return buffer.getvalue()

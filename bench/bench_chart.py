"""Time a chart: mean/p50/p95 ms per chart and peak RSS.

Run: .venv/bin/python bench/bench_chart.py [--n 200] [--warmup 5] [--kind week|road|calendar]
(``week``: render_week_chart; ``road``: render_road_chart of a 10-week road; ``calendar``:
render_calendar_chart of 10 weeks of days).

Target (issue 4): a week chart in at most 30 ms (mean).
"""

from __future__ import annotations

import argparse
import random
import resource
import statistics
import sys
import time
from datetime import date, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bot.charts import (
    CalendarCell,
    CalendarFigures,
    RoadFigures,
    render_calendar_chart,
    render_road_chart,
    render_week_chart,
)


def make_inputs(count: int, seed: int = 7) -> list[tuple]:
    """Build `count` varied week-chart inputs, the same ones on every run."""
    rng = random.Random(seed)
    inputs = []
    for i in range(count):
        start = date(2027, 1, 4) + timedelta(days=7 * (i % 30))
        days = [(start + timedelta(days=d), round(rng.uniform(0, 5) * 4) / 4) for d in range(7)]
        before = round(rng.uniform(0, 160), 2)
        inputs.append((days, rng.choice([1.0, 1.5, 2.0, 3.0]), before, 150.0, 200.0, f"Week {i}"))
    return inputs


def make_road_inputs(count: int, seed: int = 7) -> list[RoadFigures]:
    """Build `count` varied road charts: a 70-day road of 4 h a day, logs up to a varied day."""
    rng = random.Random(seed)
    out = []
    for i in range(count):
        today = 10 + i % 60
        logged, total = [], 0.0
        for _ in range(today):
            total += round(rng.uniform(0, 6) * 4) / 4
            logged.append(total)
        last = date(2027, 1, 4) + timedelta(today - 1)
        road = tuple(min(150.0, 4.0 * (d + 1)) for d in range(70))
        out.append(RoadFigures(date(2027, 1, 4), road, tuple(logged), (150.0, 200.0), last,
                               ((last, total), (date(2027, 4, 1), 150.0))))
    return out


def make_calendar_inputs(count: int, seed: int = 7) -> list[CalendarFigures]:
    """Build `count` calendars of 70 days with varied hours."""
    rng = random.Random(seed)
    return [CalendarFigures(tuple(CalendarCell(date(2027, 1, 4) + timedelta(d), d // 7, d % 7,
                                               rng.randrange(0, 360, 15)) for d in range(70)),
                            10, 240) for _ in range(count)]


def percentile(sorted_values: list[float], fraction: float) -> float:
    """Return the nearest-rank percentile of already sorted values."""
    rank = max(1, round(fraction * len(sorted_values)))
    return sorted_values[rank - 1]


def main() -> None:
    """Render N charts after a warm-up and print per-chart timings and peak RSS."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=200, help="charts to time (default 200)")
    parser.add_argument("--warmup", type=int, default=5, help="untimed charts first (default 5)")
    parser.add_argument("--kind", choices=("week", "road", "calendar"), default="week")
    args = parser.parse_args()

    inputs: list = make_inputs(args.n)
    render = lambda chart: render_week_chart(*chart)  # noqa: E731
    if args.kind == "road":
        inputs, render = make_road_inputs(args.n), render_road_chart
    elif args.kind == "calendar":
        inputs, render = make_calendar_inputs(args.n), render_calendar_chart
    for chart in inputs[: args.warmup]:
        render(chart)

    timings_ms = []
    total_bytes = 0
    for chart in inputs:
        started = time.perf_counter()
        png = render(chart)
        timings_ms.append((time.perf_counter() - started) * 1000)
        total_bytes += len(png)

    timings_ms.sort()
    peak_rss_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # kB on Linux
    print(f"{args.kind} charts: {args.n} (after {args.warmup} warm-up)")
    print(
        f"ms per chart: mean {statistics.fmean(timings_ms):.1f}  "
        f"p50 {percentile(timings_ms, 0.50):.1f}  p95 {percentile(timings_ms, 0.95):.1f}  "
        f"max {timings_ms[-1]:.1f}"
    )
    print(f"mean PNG size: {total_bytes / args.n / 1024:.1f} KiB")
    print(f"peak RSS: {peak_rss_mib:.1f} MiB")
    mean = statistics.fmean(timings_ms)
    print(f"target: a chart <= 30 ms (issue 4): mean {mean:.1f} ms "
          f"({'met' if mean <= 30 else 'NOT met'})")


if __name__ == "__main__":
    main()

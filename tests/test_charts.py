"""Tests for bot.charts: PNG output, size, inputs, reuse of the per-thread figure."""

from __future__ import annotations

import math
import struct
from concurrent.futures import ThreadPoolExecutor
from datetime import date, timedelta

import pytest

from bot.charts import HEIGHT_PX, WIDTH_PX, render_week_chart

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
MONDAY = date(2027, 3, 1)


def week(*hours: float) -> list[tuple[date, float]]:
    """Pair hours with consecutive dates from MONDAY."""
    return [(MONDAY + timedelta(days=i), h) for i, h in enumerate(hours)]


def png_size(png: bytes) -> tuple[int, int]:
    """Read width and height from the IHDR chunk."""
    assert png[12:16] == b"IHDR"
    width, height = struct.unpack(">II", png[16:24])
    return width, height


# (days, commitment_hours, cumulative_before, target_min, target_max, title)
CASES = {
    "zero hours": (week(0, 0, 0, 0, 0, 0, 0), 2.0, 0.0, 150.0, 200.0, "Week 1"),
    "zero everything": (week(0, 0, 0, 0, 0, 0, 0), 0.0, 0.0, 0.0, 0.0, "Nothing yet"),
    "a week of data": (week(1.5, 2, 0, 3.25, 2, 4, 1), 2.0, 40.0, 150.0, 200.0, "Week 5"),
    "above commitment": (week(9, 12, 10.5, 8, 11, 14, 9), 2.0, 180.0, 150.0, 200.0, "Sprint"),
    "partial week": (week(1, 2, 3), 1.5, 10.0, 20.0, 30.0, "Week 2 so far"),
    "no days": ([], 2.0, 12.0, 150.0, 200.0, "Week 0"),
    "mathtext-looking title": (week(1, 2), 1.0, 0.0, 5.0, 6.0, r"costs $\frac$ and more"),
}


@pytest.mark.parametrize("args", CASES.values(), ids=CASES.keys())
def test_renders_png_of_expected_size(args: tuple) -> None:
    png = render_week_chart(*args)
    assert png.startswith(PNG_SIGNATURE)
    assert png_size(png) == (WIDTH_PX, HEIGHT_PX) == (900, 400)


def test_different_inputs_give_different_bytes() -> None:
    outputs = [render_week_chart(*args) for args in CASES.values()]
    assert len(set(outputs)) == len(outputs)


@pytest.mark.parametrize(
    ("changed", "args"),
    [
        ("hours", (week(1.5, 2, 0, 3.25, 2, 4, 1.25), 2.0, 40.0, 150.0, 200.0, "Week 5")),
        ("commitment", (week(1.5, 2, 0, 3.25, 2, 4, 1), 2.5, 40.0, 150.0, 200.0, "Week 5")),
        ("before", (week(1.5, 2, 0, 3.25, 2, 4, 1), 2.0, 41.0, 150.0, 200.0, "Week 5")),
        ("target", (week(1.5, 2, 0, 3.25, 2, 4, 1), 2.0, 40.0, 140.0, 200.0, "Week 5")),
        ("title", (week(1.5, 2, 0, 3.25, 2, 4, 1), 2.0, 40.0, 150.0, 200.0, "Week 6")),
    ],
)
def test_each_input_changes_the_image(changed: str, args: tuple) -> None:
    assert render_week_chart(*args) != render_week_chart(*CASES["a week of data"])


def render_in_fresh_thread(args: tuple) -> bytes:
    """Render on a new thread, hence on a figure that has drawn nothing before."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(render_week_chart, *args).result()


def test_reused_figure_keeps_no_state_between_charts() -> None:
    fresh = [render_in_fresh_thread(args) for args in CASES.values()]
    # One thread, one figure: every chart drawn after all the others still matches.
    for _ in range(2):
        assert [render_week_chart(*args) for args in CASES.values()] == fresh
    assert [render_week_chart(*args) for args in reversed(CASES.values())] == fresh[::-1]


def test_threads_render_the_same_bytes_as_one_thread() -> None:
    cases = list(CASES.values()) * 3
    serial = [render_week_chart(*args) for args in cases]
    with ThreadPoolExecutor(max_workers=4) as pool:
        parallel = list(pool.map(lambda args: render_week_chart(*args), cases))
    assert parallel == serial


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ((week(1, -0.5), 2.0, 0.0, 1.0, 2.0, "t"), "hours per day"),
        ((week(1, math.nan), 2.0, 0.0, 1.0, 2.0, "t"), "hours per day"),
        ((week(1), math.inf, 0.0, 1.0, 2.0, "t"), "commitment_hours"),
        ((week(1), 2.0, -1.0, 1.0, 2.0, "t"), "cumulative_before"),
        ((week(1), 2.0, 0.0, 3.0, 2.0, "t"), "below target_min"),
    ],
)
def test_rejects_bad_figures(args: tuple, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        render_week_chart(*args)

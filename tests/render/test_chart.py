"""The digest's chart: its legend never hides a threshold line, whatever the rates."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
from matplotlib.image import imread

from bot.digest.models import DailyRate
from bot.settings import Thresholds
from bot.slack.chart import PNG_SIGNATURE, chart_figure, render_chart
from tests.digest.factories import TODAY, report


def _days(*rates: float) -> tuple[DailyRate, ...]:
    """30 days whose rates run through ``rates`` (as fractions), repeated."""
    return tuple(
        DailyRate(day=TODAY - timedelta(days=29 - n), rate=rates[n % len(rates)], cancelled_items=1, ordered_items=100)
        for n in range(30)
    )


# Thresholds near the top, the middle and the bottom of the plot, where a legend in a corner would sit.
CASES = {
    "rising rate": report(),
    "no day": report(daily=()),
    "rate at zero": report(daily=_days(0.0)),
    "rate above the limit": report(daily=_days(0.08, 0.09)),
    "limit at the top": report(daily=_days(0.001), thresholds=Thresholds(warning_rate=0.04, limit_rate=0.05)),
    "warning at the bottom": report(
        daily=_days(0.01, 0.06), thresholds=Thresholds(warning_rate=0.002, limit_rate=0.004)
    ),
}


@pytest.mark.parametrize("case", list(CASES))
def test_the_legend_never_covers_a_threshold_line(case: str) -> None:
    figure = chart_figure(CASES[case])
    renderer = figure.canvas.get_renderer()  # type: ignore[attr-defined]
    (axes,) = figure.axes
    legend = axes.get_legend()
    assert legend is not None
    box = legend.get_window_extent(renderer)
    labels = {str(line.get_label()) for line in axes.get_lines()}
    t = CASES[case].thresholds
    for name, percent in (("warning", t.warning_rate * 100), ("limit", t.limit_rate * 100)):
        assert f"{name} {percent:.2f}%" in labels
        # An axhline spans the plot's width at one height: in display coordinates, a horizontal segment.
        y = float(axes.transData.transform((0.0, percent))[1])
        left, right = axes.bbox.x0, axes.bbox.x1
        crosses = box.y0 <= y <= box.y1 and box.x0 < right and box.x1 > left
        assert not crosses, f"the legend {box} covers the {name} line at y={y:.0f}"
    assert figure.bbox.contains(box.x0, box.y0), "the legend is not cut off"
    assert figure.bbox.contains(box.x1, box.y1), "the legend is not cut off"


def test_the_legend_names_the_rate_and_both_thresholds() -> None:
    (axes,) = chart_figure(report()).axes
    legend = axes.get_legend()
    assert legend is not None
    assert [t.get_text() for t in legend.get_texts()] == ["estimated rate", "warning 2.00%", "limit 5.00%"]


def test_the_chart_keeps_its_size_with_the_legend_outside() -> None:
    png = render_chart(report())
    assert png.startswith(PNG_SIGNATURE)
    assert imread(io.BytesIO(png), format="png").shape == (360, 800, 4)

"""The chart is a real PNG that matplotlib itself can read back."""

from __future__ import annotations

import io

from matplotlib.image import imread

from bot.slack.chart import PNG_SIGNATURE, chart_filename, render_chart
from tests.digest.factories import report


def test_chart_is_a_png_that_decodes() -> None:
    png = render_chart(report())

    assert png.startswith(PNG_SIGNATURE)
    pixels = imread(io.BytesIO(png), format="png")
    assert pixels.shape == (360, 800, 4)
    assert pixels.std() > 0


def test_chart_draws_without_any_day() -> None:
    png = render_chart(report(daily=()))

    assert png.startswith(PNG_SIGNATURE)
    assert imread(io.BytesIO(png), format="png").shape[0] == 360


def test_chart_lines_change_the_picture() -> None:
    flat = render_chart(report(daily=tuple(r.model_copy(update={"rate": 0.0}) for r in report().daily)))

    assert flat != render_chart(report())


def test_chart_filename_names_store_and_day() -> None:
    assert chart_filename(report()) == "cancellation-rate-th-main-2026-11-20.png"

"""The digest's chart: the daily estimated rate over the last 30 days with the threshold lines, as a PNG."""

from __future__ import annotations

import io
from typing import TYPE_CHECKING

from bot.digest.models import DigestReport

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = ["PNG_SIGNATURE", "chart_figure", "chart_filename", "render_chart"]

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"

_RATE_COLOUR = "#1f5fa8"
_WARNING_COLOUR = "#d08c00"
_LIMIT_COLOUR = "#c0392b"


def chart_filename(report: DigestReport) -> str:
    """The file name the chart is uploaded under."""
    return f"cancellation-rate-{report.store_code}-{report.today.isoformat()}.png"


def render_chart(report: DigestReport) -> bytes:
    """Draw the chart and return the PNG bytes.

    CPU-bound: call it through ``asyncio.to_thread`` from async code.
    """
    buffer = io.BytesIO()
    chart_figure(report).savefig(buffer, format="png")
    return buffer.getvalue()


def chart_figure(report: DigestReport) -> Figure:
    """The chart as a matplotlib figure on its own Agg canvas (no pyplot, no global state), laid out.

    Only the store code (letters, digits, ``-`` and ``_``) and numbers are drawn, so no user text can reach
    matplotlib's text parser.
    """
    # Imported here: matplotlib is slow to import and only the poster and the CLI draw charts.
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.ticker import PercentFormatter

    positions = list(range(len(report.daily)))
    rates = [rate.rate * 100 for rate in report.daily]
    warning = report.thresholds.warning_rate * 100
    limit = report.thresholds.limit_rate * 100

    figure = Figure(figsize=(8, 3.6), dpi=100)
    FigureCanvasAgg(figure)
    axes = figure.add_subplot()
    if positions:
        axes.plot(positions, rates, color=_RATE_COLOUR, marker="o", markersize=3, linewidth=2, label="estimated rate")
    axes.axhline(warning, color=_WARNING_COLOUR, linestyle="--", linewidth=1.2, label=f"warning {warning:.2f}%")
    axes.axhline(limit, color=_LIMIT_COLOUR, linestyle="--", linewidth=1.2, label=f"limit {limit:.2f}%")
    top = max([*rates, limit]) * 1.2 or 1.0
    axes.set_ylim(0, top)
    axes.yaxis.set_major_formatter(PercentFormatter(decimals=1))
    ticks = positions[:: max(1, len(positions) // 6)]
    axes.set_xticks(ticks, [report.daily[index].day.strftime("%d %b") for index in ticks])
    axes.grid(True, axis="y", alpha=0.3)
    axes.set_title(f"Seller-fault cancellation rate (estimate), store {report.store_code}", fontsize=11)
    axes.set_ylabel("cancelled / ordered items")
    # Below the plot, in one row: inside it, a corner is wherever a threshold line happens to run.
    axes.legend(loc="upper center", bbox_to_anchor=(0.5, -0.1), ncol=3, fontsize=8, frameon=False)
    figure.tight_layout()
    return figure

"""Benchmark results as data, and the Markdown report (`docs/benchmarks.md`) written from them."""

from __future__ import annotations

import math
import platform
from collections.abc import Sequence
from datetime import datetime
from importlib import metadata
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict

__all__ = [
    "BenchResult",
    "Figure",
    "Goal",
    "Machine",
    "describe_machine",
    "percentile",
    "render_report",
    "write_report",
]

VERSIONED_PACKAGES = (
    "cancel-order-bot",
    "slack-bolt",
    "slack-sdk",
    "httpx",
    "uvicorn",
    "starlette",
    "SQLAlchemy",
    "aiosqlite",
    "asyncpg",
    "pydantic",
    "lazop-sdk",
    "requests",
)


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Goal(_Frozen):
    """What a figure must reach: its ratio (or excess over the bound) compared with ``target``."""

    op: Literal["<=", ">="]
    target: float

    def met_by(self, value: float) -> bool:
        """Whether ``value`` reaches the goal."""
        return value <= self.target if self.op == "<=" else value >= self.target

    def describe(self, unit: str = "") -> str:
        """The goal as text, e.g. ``≤ 1.3`` or ``≥ 10×``."""
        sign = "≤" if self.op == "<=" else "≥"
        return f"{sign} {_number(self.target)}{unit}"


class Figure(_Frozen):
    """One measured figure next to its bound, measured side by side in the same run.

    ``compare="ratio"`` checks the goal against ``measured / bound`` (or ``bound / measured`` when
    ``inverse``, for speed-ups); ``compare="excess"`` checks it against ``measured - bound`` in ``unit``.
    """

    label: str
    measured: float
    bound: float
    unit: str
    bound_label: str
    goal: Goal | None = None
    compare: Literal["ratio", "excess"] = "ratio"
    inverse: bool = False

    @property
    def ratio(self) -> float:
        """Measured against the bound (bound against measured when ``inverse``)."""
        numerator, denominator = (self.bound, self.measured) if self.inverse else (self.measured, self.bound)
        if denominator == 0:
            return math.inf if numerator else 1.0
        return numerator / denominator

    @property
    def excess(self) -> float:
        """How far the measured value is above its bound, in ``unit``."""
        return self.measured - self.bound

    @property
    def checked(self) -> float:
        """The value the goal applies to."""
        return self.ratio if self.compare == "ratio" else self.excess

    @property
    def met(self) -> bool | None:
        """Whether the goal is met (None when the figure has no goal)."""
        return None if self.goal is None else self.goal.met_by(self.checked)


class BenchResult(_Frozen):
    """What one benchmark found: its figures, the setup it ran with, and what it means."""

    name: str
    title: str
    figures: tuple[Figure, ...] = ()
    setup: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()
    seconds: float = 0.0
    error: str | None = None

    @property
    def missed(self) -> tuple[Figure, ...]:
        """The figures whose goal was not met."""
        return tuple(f for f in self.figures if f.met is False)


class Machine(_Frozen):
    """Where and with what the suite ran."""

    cpu: str
    cores: int
    memory_gb: float
    system: str
    python: str
    versions: tuple[tuple[str, str], ...]
    database: str


def percentile(values: Sequence[float], q: float) -> float:
    """The ``q``-th percentile (0-100) by linear interpolation between closest ranks."""
    if not values:
        raise ValueError("no values")
    ordered = sorted(values)
    position = (len(ordered) - 1) * q / 100
    low = math.floor(position)
    high = math.ceil(position)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _memory_gb() -> float:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return int(line.split()[1]) / 1024 / 1024
    except OSError:
        pass
    return 0.0


def _cores() -> int:
    import os

    return len(os.sched_getaffinity(0))


def describe_machine(database: str) -> Machine:
    """Read the CPU, cores, memory, OS, Python and package versions of this machine."""
    versions = []
    for name in VERSIONED_PACKAGES:
        try:
            versions.append((name, metadata.version(name)))
        except metadata.PackageNotFoundError:
            versions.append((name, "not installed"))
    return Machine(
        cpu=_cpu_model(),
        cores=_cores(),
        memory_gb=round(_memory_gb(), 1),
        system=f"{platform.system()} {platform.release()} ({platform.machine()})",
        python=platform.python_version(),
        versions=tuple(versions),
        database=database,
    )


def _number(value: float) -> str:
    if math.isinf(value):
        return "∞"
    if value == 0:
        return "0"
    magnitude = abs(value)
    if magnitude >= 100:
        return f"{value:,.0f}"
    if magnitude >= 10:
        return f"{value:.1f}"
    if magnitude >= 1:
        return f"{value:.2f}"
    return f"{value:.3f}"


def _with_unit(value: float, unit: str) -> str:
    return f"{_number(value)} {unit}".strip()


def _result_word(figure: Figure) -> str:
    if figure.met is None:
        return "—"
    return "met" if figure.met else "**missed**"


def _checked_text(figure: Figure) -> str:
    if figure.compare == "excess":
        return f"{'+' if figure.excess >= 0 else ''}{_with_unit(figure.excess, figure.unit)}"
    return f"{_number(figure.ratio)}×"


def _goal_text(figure: Figure) -> str:
    if figure.goal is None:
        return "—"
    return figure.goal.describe(f" {figure.unit}" if figure.compare == "excess" else "×")


def _figure_rows(results: Sequence[BenchResult], *, with_benchmark: bool) -> list[str]:
    head = "| benchmark | figure | measured | bound | ratio | goal | result |"
    rule = "|---|---|---:|---:|---:|---:|---|"
    if not with_benchmark:
        head = head.replace("| benchmark ", "")
        rule = rule.removeprefix("|---")
    rows = [head, rule]
    for result in results:
        for figure in result.figures:
            cells = [
                figure.label,
                _with_unit(figure.measured, figure.unit),
                f"{_with_unit(figure.bound, figure.unit)} ({figure.bound_label})",
                _checked_text(figure),
                _goal_text(figure),
                _result_word(figure),
            ]
            if with_benchmark:
                cells.insert(0, result.title)
            rows.append("| " + " | ".join(cells) + " |")
    return rows


def render_report(
    results: Sequence[BenchResult],
    machine: Machine,
    *,
    started: datetime,
    seconds: float,
    command: str,
    findings: Sequence[str] = (),
) -> str:
    """The Markdown report: machine, versions and date, a summary of every figure, then each benchmark."""
    lines = [
        "# Benchmarks",
        "",
        f"Generated by `{command}` on {started.strftime('%Y-%m-%d %H:%M UTC')}; the whole suite took "
        f"{seconds / 60:.1f} minutes. Do not edit by hand: run the command again.",
        "",
        "Every figure is measured side by side with its bound in the same run, and the goal applies to the",
        "ratio between them (or, where it says so, to the excess over the bound).",
        "",
        "## Machine",
        "",
        f"- CPU: {machine.cpu}, {machine.cores} cores usable, {machine.memory_gb:g} GB memory",
        f"- System: {machine.system}, Python {machine.python}",
        f"- Database: {machine.database}",
        "- Versions: " + ", ".join(f"{name} {version}" for name, version in machine.versions),
        "",
        "## Summary",
        "",
    ]
    missed = [f"{r.title}: {f.label}" for r in results for f in r.missed]
    failed = [r.title for r in results if r.error is not None]
    if not missed and not failed:
        lines += ["Every goal was met.", ""]
    else:
        if missed:
            lines += ["Goals missed in this run: " + "; ".join(missed) + ". Each one's cause is named below.", ""]
        if failed:
            lines += ["Benchmarks that did not finish: " + ", ".join(failed) + ".", ""]
    lines += _figure_rows(results, with_benchmark=True)
    lines.append("")
    for result in results:
        lines += [f"## {result.title}", ""]
        if result.error is not None:
            lines += [f"**Did not finish:** {result.error}", ""]
        if result.setup:
            lines += ["Setup:", ""]
            lines += [f"- {entry}" for entry in result.setup]
            lines.append("")
        if result.figures:
            lines += _figure_rows([result], with_benchmark=False)
            lines.append("")
        for note in result.notes:
            lines += [note, ""]
        lines += [f"_{result.seconds:.0f} s._", ""]
    if findings:
        lines += ["## Findings", ""]
        for finding in findings:
            lines += [finding, ""]
    return "\n".join(lines).rstrip() + "\n"


def write_report(path: Path, text: str) -> None:
    """Write the report, creating its folder."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")

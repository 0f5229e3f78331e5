"""The progress chart, drawn on the server as SVG geometry (no JavaScript charting)."""

from __future__ import annotations

from dataclasses import dataclass, field

from exams.models import Attempt
from questions.models import Domain

WIDTH, HEIGHT = 720, 300
LEFT, RIGHT, TOP, BOTTOM = 48, 16, 16, 40
# Each series differs by dash pattern and marker shape as well as colour.
STYLES = [
    {"css": "series-overall", "dash": "", "marker": "circle"},
    {"css": "series-d1", "dash": "6 4", "marker": "square"},
    {"css": "series-d2", "dash": "2 3", "marker": "diamond"},
    {"css": "series-d3", "dash": "10 3 2 3", "marker": "triangle"},
    {"css": "series-d4", "dash": "1 5", "marker": "cross"},
]


@dataclass
class Series:
    label: str
    css: str
    dash: str
    marker: str
    points: list[tuple[float, float, float]] = field(default_factory=list)  # x, y, percent

    @property
    def polyline(self) -> str:
        return " ".join(f"{x:.1f},{y:.1f}" for x, y, _ in self.points)


@dataclass
class Chart:
    width: int
    height: int
    series: list[Series]
    pass_mark_y: float
    pass_mark: int
    y_ticks: list[tuple[float, int]]
    x_ticks: list[tuple[float, str]]
    plot_left: int = LEFT
    plot_right: int = WIDTH - RIGHT
    plot_bottom: int = HEIGHT - BOTTOM


def _y(percent: float) -> float:
    return TOP + (100 - percent) * (HEIGHT - TOP - BOTTOM) / 100


def progress_chart(mocks: list[Attempt], domains: list[Domain], *, pass_mark: int) -> Chart:
    n = len(mocks)
    span = WIDTH - LEFT - RIGHT

    def x(i: int) -> float:
        return LEFT + (span / 2 if n == 1 else i * span / (n - 1))

    series = [Series("Overall", **STYLES[0])]
    for i, d in enumerate(domains, start=1):
        style = STYLES[min(i, len(STYLES) - 1)]
        series.append(Series(f"{d.number}. {d.name}", **style))
    by_number = {d.number: s for d, s in zip(domains, series[1:], strict=True)}
    for i, attempt in enumerate(mocks):
        percent = attempt.result.get("percent", 0.0)
        series[0].points.append((x(i), _y(percent), percent))
        for row in attempt.result.get("domains", []):
            if row["number"] in by_number:
                by_number[row["number"]].points.append((x(i), _y(row["percent"]), row["percent"]))
    return Chart(
        width=WIDTH,
        height=HEIGHT,
        series=series,
        pass_mark_y=_y(pass_mark),
        pass_mark=pass_mark,
        y_ticks=[(_y(p), p) for p in range(0, 101, 25)],
        x_ticks=[(x(i), f"#{i + 1}") for i in range(n)],
    )

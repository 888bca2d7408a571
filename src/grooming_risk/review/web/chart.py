"""Geometry of the risk charts (per message in a thread, per thread for a sender), drawn as inline
SVG by the templates: no JavaScript, nothing fetched."""

from __future__ import annotations

from dataclasses import dataclass, replace


@dataclass(frozen=True)
class ChartPoint:
    x: float
    y: float
    index: int
    risk: float
    evidence: bool


@dataclass(frozen=True)
class Tick:
    pos: float
    label: str


@dataclass(frozen=True)
class RiskChart:
    width: int
    height: int
    left: int
    top: int
    right: int
    bottom: int
    line: str  # SVG polyline points
    area: str  # SVG path for the filled area under the line
    points: list[ChartPoint]
    y_ticks: list[Tick]
    x_ticks: list[Tick]
    alert_x: float | None
    alert_index: int | None


def risk_chart(
    risks: list[float],
    evidence: set[int],
    first_alert_index: int | None,
    *,
    width: int = 720,
    height: int = 190,
) -> RiskChart | None:
    if not risks:
        return None
    left, right, top, bottom = 40, width - 14, 14, height - 28
    n = len(risks)

    def x_of(i: int) -> float:
        return left + (right - left) * (i / (n - 1) if n > 1 else 0.5)

    def y_of(r: float) -> float:
        return bottom - (bottom - top) * max(0.0, min(1.0, r))

    points = [
        ChartPoint(round(x_of(i), 1), round(y_of(r), 1), i, r, i in evidence) for i, r in enumerate(risks)
    ]
    line = " ".join(f"{p.x},{p.y}" for p in points)
    area = (
        f"M{points[0].x},{bottom} "
        + " ".join(f"L{p.x},{p.y}" for p in points)
        + f" L{points[-1].x},{bottom} Z"
    )
    step = max(1, round(n / 10))
    x_ticks = [Tick(round(x_of(i), 1), str(i)) for i in range(0, n, step)]
    if (n - 1) % step:
        x_ticks.append(Tick(round(x_of(n - 1), 1), str(n - 1)))
    y_ticks = [Tick(round(y_of(v), 1), f"{v:.1f}") for v in (0.0, 0.2, 0.4, 0.6, 0.8, 1.0)]
    alert = first_alert_index if first_alert_index is not None and first_alert_index < n else None
    return RiskChart(
        width,
        height,
        left,
        top,
        right,
        bottom,
        line,
        area,
        points,
        y_ticks,
        x_ticks,
        round(x_of(alert), 1) if alert is not None else None,
        alert,
    )


def timeline_chart(
    risks: list[float], highlighted: set[int], labels: list[str], *, width: int = 720, height: int = 190
) -> RiskChart | None:
    """A sender's risk over time: one point per thread, oldest first, x labelled by `labels`
    (e.g. dates); `highlighted` marks the threads where the sender is the suspected party."""
    chart = risk_chart(risks, highlighted, None, width=width, height=height)
    if chart is None:
        return None
    ticks = [Tick(t.pos, labels[int(t.label)]) for t in chart.x_ticks if int(t.label) < len(labels)]
    return replace(chart, x_ticks=ticks)

"""The trends chart as SVG geometry: lines, point links, axes, computed in Python.

The template only prints what :func:`trend_chart` computes: each series' polyline
and its points (with the URL of the search for that query and period), the
y-axis ticks and a readable subset of period labels. Series differ by colour,
*and* by dash pattern and marker shape, so they stay apart in greyscale.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

from flask_babel import format_percent
from flask_babel import gettext as _

from archive.research import Trend

from .i18n import count_text
from .state import link

__all__ = ["ChartPoint", "ChartLine", "Tick", "Chart", "trend_chart", "STYLES", "PHONE"]

#: (colour, dash pattern, marker) per series: dark to light, plain to dotted.
STYLES = (("#08306b", "", "circle"), ("#d94801", "8 4", "square"),
          ("#238b45", "2 3", "diamond"), ("#6a51a3", "10 3 2 3", "triangle"))
WIDTH, HEIGHT, LEFT, RIGHT, TOP, BOTTOM = 860, 320, 56, 26, 12, 48  # (RIGHT: half a period label)
#: The phone's chart (width, height, left margin, period labels): drawn at a phone's width.
PHONE = {"width": 340, "height": 260, "left": 44, "labels": 4}
#: A share over fewer articles than this says nothing (one article of one is 100 %): not drawn.
MIN_SHARE_BASE = 10


@dataclass(frozen=True)
class ChartPoint:
    """One point: where it is drawn, what it says, where it links."""

    x: float
    y: float
    label: str
    url: str
    marker: str


@dataclass(frozen=True)
class ChartLine:
    """One query's line."""

    query: str
    colour: str
    dash: str
    shape: str
    path: str
    points: list[ChartPoint]
    total: int


@dataclass(frozen=True)
class Tick:
    """A label on an axis, at a coordinate."""

    at: float
    label: str


@dataclass(frozen=True)
class Chart:
    """The whole chart: size, plot box, lines and axes."""

    width: int
    height: int
    left: int
    right: int
    top: int
    bottom: int
    lines: list[ChartLine]
    y_ticks: list[Tick]
    x_ticks: list[Tick]


def _marker(shape: str, x: float, y: float) -> str:
    """Return an SVG path drawing a marker of ``shape`` centred on (x, y)."""
    r = 3.5
    if shape == "square":
        return f"M{x - r:.1f},{y - r:.1f}h{2 * r}v{2 * r}h{-2 * r}z"
    if shape == "diamond":
        return f"M{x:.1f},{y - r - 1:.1f}l{r + 1},{r + 1}l{-r - 1},{r + 1}l{-r - 1},{-r - 1}z"
    if shape == "triangle":
        return f"M{x:.1f},{y - r - 1:.1f}l{r + 1},{2 * r + 1}h{-2 * r - 2}z"
    return f"M{x - r:.1f},{y:.1f}a{r},{r} 0 1,0 {2 * r},0a{r},{r} 0 1,0 {-2 * r},0"


def _nice_step(top: float) -> float:
    raw = top / 4 or 1
    power = 10 ** math.floor(math.log10(raw))
    return next(m * power for m in (1, 2, 2.5, 5, 10) if m * power >= raw)


def trend_chart(trend: Trend, measure: str, number: Callable[[int], str], *, width: int = WIDTH,
                height: int = HEIGHT, left: int = LEFT, labels: int = 12) -> Chart | None:
    """Return the chart of a trend as counts or shares (None without periods).

    ``width`` and ``height`` are the drawing's own pixels: a page shows it at about
    that size, so its 11-pixel labels stay 11 pixels (a phone gets a narrow chart of
    its own, :data:`PHONE`, rather than the wide one shrunk to 6-pixel labels);
    ``labels`` bounds the period labels along the bottom.
    """
    series = [s for s in trend.series if s.points]
    if not series:
        return None
    n = len(series[0].points)
    # In a small archive every period is small: the bar is then its largest period.
    base = min(MIN_SHARE_BASE, max(p.total for p in series[0].points))
    values = [[(p.share * 100 if p.total >= base else None) if measure == "share" else float(p.count)
               for p in s.points] for s in series]
    top = max((v for vs in values for v in vs if v is not None), default=0) or 1
    step = _nice_step(top) if measure == "share" else max(1.0, _nice_step(top))
    top = step * math.ceil(top / step)
    plot_w, plot_h = width - left - RIGHT, height - TOP - BOTTOM

    def x_of(i: int) -> float:
        return left + (plot_w * (i + 0.5) / n)

    def y_of(v: float) -> float:
        return TOP + plot_h * (1 - v / top)

    lines = []
    for k, (s, vs) in enumerate(zip(series, values)):
        colour, dash, shape = STYLES[k % len(STYLES)]
        points = []
        path = []
        for i, (p, v) in enumerate(zip(s.points, vs)):
            if v is None:
                path.append("")
                continue
            x, y = x_of(i), y_of(v)
            path.append(f"{'L' if path and path[-1] else 'M'}{x:.1f},{y:.1f}")
            what = count_text("%(num)s article", "%(num)s articles", p.count)
            label = _("%(query)s, %(period)s: %(what)s (%(share)s of the period's articles)",
                      query=s.query, period=p.period, what=what, share=format_percent(p.share, "#,##0.0%"))
            url = link("pages.index", q=s.query, **{"from": p.start.isoformat(), "to": p.end.isoformat()})
            points.append(ChartPoint(round(x, 1), round(y, 1), label, url, _marker(shape, x, y)))
        lines.append(ChartLine(s.query, colour, dash, shape, " ".join(c for c in path if c), points,
                               s.total_articles))
    y_ticks = []
    for j in range(round(top / step) + 1):
        v = j * step
        label = format_percent(v / 100, "#,##0.##%") if measure == "share" else number(int(v))
        y_ticks.append(Tick(round(y_of(v), 1), label))
    every = max(1, math.ceil(n / labels))
    x_ticks = [Tick(round(x_of(i), 1), p.period) for i, p in enumerate(series[0].points) if i % every == 0]
    return Chart(width, height, left, RIGHT, TOP, BOTTOM, lines, y_ticks, x_ticks)

"""Bar charts as inline SVG: no JavaScript, no fonts or scripts from the network.

Each bar is a ``<rect class="mark">`` with a ``<title>`` (its exact value, shown on hover and read
by screen readers); a target is a ``<path class="target">`` across its group. Colours are the
Okabe-Ito palette, which stays distinguishable with the common colour-vision deficiencies.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from decimal import Decimal
from html import escape

from adapters.reports.document import Chart

PALETTE = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00")
TARGET_COLOUR = "#222222"
WIDTH, HEIGHT = 760, 340
LEFT, RIGHT, TOP, BOTTOM = 56, 16, 40, 86
Scale = Callable[[float], float]


def _number(value: int | Decimal | None) -> float:
    return 0.0 if value is None else float(value)


def nice_ceiling(value: float) -> float:
    """The smallest 1, 2 or 5 x 10^k at or above ``value`` (an axis maximum people can read)."""
    if value <= 0:
        return 1.0
    exponent = math.floor(math.log10(value))
    for step in (1, 2, 5, 10):
        candidate = step * 10.0**exponent
        if candidate >= value - 1e-12:
            return candidate
    return 10.0 ** (exponent + 1)


def axis_scale(top: float) -> tuple[float, int]:
    """A round step and the number of steps that reach ``top``: whole numbers for counts."""
    step = nice_ceiling(top / 4)
    steps = max(1, math.ceil(top / step - 1e-9))
    return step, steps


def _label(value: float) -> str:
    return f"{value:g}"


def _stack_heights(chart: Chart) -> list[float]:
    if chart.kind == "stacked":
        return [
            sum(_number(s.values[i]) for s in chart.series) for i in range(len(chart.categories))
        ]
    return [
        max((_number(s.values[i]) for s in chart.series), default=0.0)
        for i in range(len(chart.categories))
    ]


def chart_svg(chart: Chart) -> str:
    """The chart as an ``<svg>`` element (a "no data" message when there is nothing to draw)."""
    heights = _stack_heights(chart)
    targets = [_number(t) for t in chart.targets]
    top_value = max([*heights, *targets, 0.0])
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" id="chart-{escape(chart.name)}" '
        f'viewBox="0 0 {WIDTH} {HEIGHT}" width="{WIDTH}" height="{HEIGHT}" role="img" '
        f'aria-label="{escape(chart.title)}">',
        f"<title>{escape(chart.title)}</title>",
    ]
    if not chart.categories or top_value <= 0:
        parts.append(
            f'<text x="{WIDTH / 2}" y="{HEIGHT / 2}" text-anchor="middle" class="empty">'
            "No data for this period</text></svg>"
        )
        return "".join(parts)
    step, steps = axis_scale(top_value)
    axis_max = step * steps
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM

    def y(value: float) -> float:
        return TOP + plot_h - value / axis_max * plot_h

    parts.extend(_axes(step, steps, y, chart.unit))
    parts.extend(_legend(chart))
    group_w = plot_w / len(chart.categories)
    for i, category in enumerate(chart.categories):
        x0 = LEFT + i * group_w
        parts.extend(_bars(chart, i, x0, group_w, y))
        if chart.targets and chart.targets[i] is not None:
            ty = y(targets[i])
            parts.append(
                f'<path class="target" d="M{x0 + group_w * 0.08:.1f} {ty:.1f} '
                f'H{x0 + group_w * 0.92:.1f}" stroke="{TARGET_COLOUR}" stroke-width="3" '
                f'stroke-dasharray="6 3"><title>{escape(chart.target_label)}: '
                f"{_label(targets[i])}</title></path>"
            )
        parts.append(_category_label(category, x0 + group_w / 2, len(chart.categories)))
    parts.append("</svg>")
    return "".join(parts)


def _axes(step: float, steps: int, y: Scale, unit: str) -> list[str]:
    parts = []
    for k in range(steps + 1):
        value = round(step * k, 9)
        py = y(value)
        parts.append(
            f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{py:.1f}" y2="{py:.1f}" '
            f'stroke="#dddddd"/><text x="{LEFT - 6}" y="{py + 4:.1f}" text-anchor="end" '
            f'class="tick">{_label(value)}</text>'
        )
    parts.append(
        f'<text x="12" y="{TOP + (HEIGHT - TOP - BOTTOM) / 2:.1f}" class="unit" '
        f'transform="rotate(-90 12 {TOP + (HEIGHT - TOP - BOTTOM) / 2:.1f})" '
        f'text-anchor="middle">{escape(unit)}</text>'
    )
    return parts


def _legend(chart: Chart) -> list[str]:
    parts = []
    x = LEFT
    entries = [(s.name, PALETTE[i % len(PALETTE)]) for i, s in enumerate(chart.series)]
    for name, colour in entries:
        parts.append(
            f'<rect class="legend" x="{x}" y="12" width="12" height="12" fill="{colour}"/>'
            f'<text x="{x + 16}" y="22" class="legend-text">{escape(name)}</text>'
        )
        x += 24 + 7 * len(name)
    if chart.targets:
        parts.append(
            f'<path class="legend" d="M{x} 18 H{x + 14}" stroke="{TARGET_COLOUR}" '
            f'stroke-width="3" stroke-dasharray="6 3"/><text x="{x + 18}" y="22" '
            f'class="legend-text">{escape(chart.target_label)}</text>'
        )
    return parts


def _bars(chart: Chart, i: int, x0: float, group_w: float, y: Scale) -> list[str]:
    parts = []
    inner = group_w * 0.8
    if chart.kind == "stacked":
        base = 0.0
        for k, series in enumerate(chart.series):
            value = _number(series.values[i])
            if value > 0:
                top, bottom = y(base + value), y(base)
                parts.append(
                    _rect(
                        x0 + group_w * 0.1,
                        top,
                        inner,
                        bottom - top,
                        k,
                        series.name,
                        chart.categories[i],
                        value,
                    )
                )
            base += value
        return parts
    width = inner / max(len(chart.series), 1)
    for k, series in enumerate(chart.series):
        value = _number(series.values[i])
        if value > 0:
            top = y(value)
            parts.append(
                _rect(
                    x0 + group_w * 0.1 + k * width,
                    top,
                    width * 0.92,
                    y(0.0) - top,
                    k,
                    series.name,
                    chart.categories[i],
                    value,
                )
            )
    return parts


def _rect(
    x: float, y: float, w: float, h: float, k: int, series: str, category: str, value: float
) -> str:
    colour = PALETTE[k % len(PALETTE)]
    return (
        f'<rect class="mark" x="{x:.1f}" y="{y:.1f}" width="{max(w, 1):.1f}" '
        f'height="{max(h, 0.5):.1f}" fill="{colour}"><title>{escape(series)}, '
        f"{escape(category)}: {_label(value)}</title></rect>"
    )


def _category_label(category: str, x: float, count: int) -> str:
    text = escape(category if len(category) <= 22 else category[:21] + "…")
    py = HEIGHT - BOTTOM + 14
    if count > 8:
        return (
            f'<text x="{x:.1f}" y="{py}" class="category" text-anchor="end" '
            f'transform="rotate(-40 {x:.1f} {py})">{text}</text>'
        )
    return f'<text x="{x:.1f}" y="{py}" class="category" text-anchor="middle">{text}</text>'

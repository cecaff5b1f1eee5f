"""Horizontal bar charts laid out on the server, for inline SVG in the dashboard (no chart library)."""

from collections.abc import Iterable

from pydantic import BaseModel

ROW_HEIGHT = 30
BAR_HEIGHT = 18
LABEL_WIDTH = 170
BAR_AREA = 330
CHART_WIDTH = LABEL_WIDTH + BAR_AREA + 90


class Bar(BaseModel):
    """One row: its label, the value as shown, and its geometry in the SVG's coordinates."""

    label: str
    shown: str
    y: float
    width: float
    alt: bool = False


class BarChart(BaseModel):
    title: str
    summary: str
    bars: list[Bar]
    width: int = CHART_WIDTH
    height: int
    label_width: int = LABEL_WIDTH
    bar_area: int = BAR_AREA
    bar_height: int = BAR_HEIGHT
    row_height: int = ROW_HEIGHT


class Row(BaseModel):
    label: str
    value: float
    shown: str
    alt: bool = False


def bar_chart(title: str, rows: Iterable[Row], *, maximum: float | None = None) -> BarChart:
    """Bars scaled to `maximum` (default: the largest value); a zero-width bar still shows its value."""
    rows = list(rows)
    top = maximum if maximum is not None else max((row.value for row in rows), default=0.0)
    scale = BAR_AREA / top if top > 0 else 0.0
    bars = [
        Bar(
            label=row.label,
            shown=row.shown,
            y=index * ROW_HEIGHT + (ROW_HEIGHT - BAR_HEIGHT) / 2,
            width=round(max(0.0, row.value) * scale, 1),
            alt=row.alt,
        )
        for index, row in enumerate(rows)
    ]
    summary = "; ".join(f"{row.label}: {row.shown}" for row in rows) or "no data yet"
    return BarChart(title=title, summary=summary, bars=bars, height=max(1, len(bars)) * ROW_HEIGHT)

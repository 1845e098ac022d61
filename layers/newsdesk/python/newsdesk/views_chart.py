"""An article's daily views for the last 30 days, as a server-rendered SVG bar chart."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from newsdesk.config import settings
from newsdesk.dal import counters

DAYS = 30
WIDTH, HEIGHT, GAP = 600, 160, 2  # SVG user units; the chart is drawn at the column's width
# The date labels ("26/11") under every LABEL_EVERY-th bar counting back from today. The SVG
# scales with the page: on a 360 px phone one unit is about 0.55 px, so the stylesheet sets the
# labels' size in units by screen width (style.css, `.chart text`: LABEL_SIZE units at most,
# 12 px or more on screen). At that size a label is about 3.2 x LABEL_SIZE units wide, less
# than LABEL_EVERY bars, so two labels never meet; the first and the last are anchored inside
# the chart so neither is cut at its edges.
LABEL_EVERY = 7
LABEL_SIZE = 22
LABEL_BAND = 34  # units below the bars for the labels


@dataclass(frozen=True)
class Bar:
    day: date
    views: int
    x: float
    y: float
    width: float
    height: float
    labelled: bool  # a date under this bar (weekly, counting back from the last day)
    label_x: float = 0.0  # where its label is anchored
    label_anchor: str = "middle"  # SVG text-anchor: "start" (first label), "end" (last)


@dataclass(frozen=True)
class Chart:
    bars: list[Bar]
    total: int  # all-time, legacy included
    period_total: int
    peak: int
    width: int = WIDTH
    height: int = HEIGHT
    label_band: int = LABEL_BAND


def daily_views(slug: str, today: date) -> tuple[list[tuple[date, int]], int]:
    """(day, views) for the last DAYS days, oldest first, and the all-time total: one
    BatchGetItem over the counter's shards."""
    days = [today - timedelta(days=offset) for offset in range(DAYS - 1, -1, -1)]
    per_day, total = counters.daily_views(slug, days)
    return list(zip(days, per_day, strict=True)), total


def chart(slug: str, now: datetime | None = None) -> Chart:
    """The last DAYS days of an article's views, oldest first, as bars scaled to the peak."""
    today = (now or datetime.now(settings().tz)).astimezone(settings().tz).date()
    per_day, total = daily_views(slug, today)
    return layout(per_day, total)


def layout(per_day: list[tuple[date, int]], total: int) -> Chart:
    """Bars and date labels for (day, views) pairs, oldest first."""
    peak = max((views for _, views in per_day), default=0)
    slot = WIDTH / len(per_day)
    last = len(per_day) - 1
    labelled = list(range(last, -1, -LABEL_EVERY))
    bars = []
    for index, (day, views) in enumerate(per_day):
        height = 0.0 if peak == 0 else round(views / peak * (HEIGHT - 10), 1)
        x, y, width = round(index * slot, 1), round(HEIGHT - height, 1), round(slot - GAP, 1)
        anchor, label_x = "middle", round(x + width / 2, 1)
        if index == labelled[-1]:  # the first label starts at its bar
            anchor, label_x = "start", x
        if index == last:  # the last ends at the chart's right edge
            anchor, label_x = "end", round(x + width, 1)
        bar = Bar(day, views, x, y, width, height, index in labelled, label_x, anchor)
        bars.append(bar)
    return Chart(bars, total, sum(views for _, views in per_day), peak)

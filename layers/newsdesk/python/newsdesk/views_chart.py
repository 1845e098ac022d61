"""An article's daily views for the last 30 days, as a server-rendered SVG bar chart."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from newsdesk.config import settings
from newsdesk.dal import counters

DAYS = 30
WIDTH, HEIGHT, GAP = 600, 160, 2


@dataclass(frozen=True)
class Bar:
    day: date
    views: int
    x: float
    y: float
    width: float
    height: float
    labelled: bool  # a date under this bar (weekly, and the last day)


@dataclass(frozen=True)
class Chart:
    bars: list[Bar]
    total: int  # all-time, legacy included
    period_total: int
    peak: int
    width: int = WIDTH
    height: int = HEIGHT


def daily_views(slug: str, today: date) -> tuple[list[tuple[date, int]], int]:
    """(day, views) for the last DAYS days, oldest first, and the all-time total: one
    BatchGetItem over the counter's shards."""
    days = [today - timedelta(days=offset) for offset in range(DAYS - 1, -1, -1)]
    per_day, total = counters.daily_views(slug, days)
    return list(zip(days, per_day, strict=True)), total


def chart(slug: str, now: datetime | None = None) -> Chart:
    today = (now or datetime.now(settings().tz)).astimezone(settings().tz).date()
    per_day, total = daily_views(slug, today)
    peak = max((views for _, views in per_day), default=0)
    slot = WIDTH / len(per_day)
    bars = []
    for index, (day, views) in enumerate(per_day):
        height = 0.0 if peak == 0 else round(views / peak * (HEIGHT - 10), 1)
        labelled = index % 7 == 0 or index == len(per_day) - 1
        x, y = round(index * slot, 1), round(HEIGHT - height, 1)
        bars.append(Bar(day, views, x, y, round(slot - GAP, 1), height, labelled))
    return Chart(bars, total, sum(views for _, views in per_day), peak)

"""Live visitors ("Đang truy cập") and total visits ("Tổng").

Connection tracking: one item per visitor in the connections table (newsdesk.dal.connections);
"online" counts only visitors whose `last_seen` falls inside the presence window.

Bounded cost:
- A heartbeat writes at most once per visitor per WRITE_INTERVAL seconds: a per-container
  memo skips repeat heartbeats, and the write's condition (`last_seen <= now - 30`) stops
  racing containers from writing twice.
- Reading the figures never scans: the online count is one COUNT query over the index
  (only recent keys match), cached per container for STATS_CACHE_SECONDS; between refreshes
  an arrival seen by this container adds one to the cached figure. Departures show up at the
  next refresh, so the figure lags the exact count by at most that cache age (see
  tests/integration/test_presence_simulation.py for the measured error).

Total visits = visits counted since launch + `legacy_visits`. A visit is a visitor's first
heartbeat after VISIT_GAP_SECONDS (30 minutes) without one, counted by one atomic ADD on the
`site` item of the counters table (newsdesk.dal.counters). The importer raises
`legacy_visits` to at least the largest legacy total or article count it has seen, so the
total is never behind any count the site shows.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from newsdesk import dal
from newsdesk.articles import iso
from newsdesk.caches import Cache
from newsdesk.config import settings
from newsdesk.dal import connections, counters
from newsdesk.observability import logger

WRITE_INTERVAL = 30
VISIT_GAP_SECONDS = 1800


@dataclass(frozen=True)
class Figures:
    """The visitor widget's figures: visitors online now, total visits, the peak (GET
    /api/stats and POST /api/visits answer them as public())."""

    online: int
    total: int
    peak: int
    peak_at: str | None
    as_of: float  # epoch seconds the online figure was computed at

    def public(self) -> dict[str, Any]:
        return {
            "online": self.online,
            "total": self.total,
            "peak": {"online": self.peak, "at": self.peak_at},
            "window_seconds": settings().presence_window_seconds,
        }


# This container's last figures (fresh for STATS_CACHE_SECONDS of the caller's clock), and
# when it last wrote each visitor's presence (epoch seconds; the least recent are dropped
# first, so a memo that forgot a visitor costs one refused conditional write, nothing more).
_figures: Cache[Figures] = Cache("presence figures", maxsize=1)
_last_write: Cache[float] = Cache("presence writes", maxsize=50_000)


def _epoch(now: datetime) -> float:
    return now.timestamp()


def count_online(now: datetime) -> int:
    """Exact count of visitors seen within the window (COUNT queries on the index)."""
    return connections.count_seen_since(int(_epoch(now)) - settings().presence_window_seconds)


def _record_peak(online: int, now: datetime, known_peak: int) -> tuple[int, str | None]:
    """Raise the all-time peak if `online` beats it (a conditional write, rare)."""
    at = iso(now)
    if counters.raise_site("peak", online, {"peak_at": at}):
        return online, at
    return known_peak, None  # someone else recorded a higher one; next refresh shows it


def cached_figures() -> Figures | None:
    """The last figures this container computed, however old (None before the first)."""
    return _figures.get("site")[1]


def current_figures(now: datetime | None = None) -> Figures:
    """The widget's figures, from the per-container cache when it is fresh enough."""
    now = now or datetime.now(UTC)
    cached = cached_figures()
    if cached is not None and _epoch(now) - cached.as_of < settings().stats_cache_seconds:
        return cached
    online = count_online(now)
    site = counters.site()
    peak, peak_at = site.peak, site.peak_at
    if online > peak:
        peak, new_at = _record_peak(online, now, peak)
        peak_at = new_at or peak_at
    return _keep(Figures(online, site.total_visits, peak, peak_at, _epoch(now)))


def _keep(figures: Figures) -> Figures:
    _figures.put("site", figures)
    return figures


def _written_recently(visitor: str, epoch: float) -> bool:
    """True when this container wrote `visitor`'s presence under WRITE_INTERVAL ago; else
    notes the write about to be made (one atomic step)."""
    fresh = _last_write.put_unless(visitor, epoch, lambda last: epoch - last < WRITE_INTERVAL)
    return not fresh


def lookback_seconds() -> int:
    """How long after local midnight a reader's presence under yesterday's id still
    matters: the presence window or the visit gap, whichever is longer."""
    return max(settings().presence_window_seconds, VISIT_GAP_SECONDS)


def heartbeat(visitor: str, now: datetime | None = None, previous: str | None = None) -> Figures:
    """Register `visitor` as present now (register()) and answer the site figures."""
    now = now or datetime.now(UTC)
    register(visitor, now, previous)
    return current_figures(now)


def register(visitor: str, now: datetime | None = None, previous: str | None = None) -> None:
    """Register `visitor` as present now; count a visit if they were away 30 minutes. At
    most one presence write per visitor per WRITE_INTERVAL (this container's memo, then the
    write's condition across containers). This container's figures, if it has any, take
    the arrival and the visit at once.

    `previous` is the same reader's id under yesterday's salt (identity.previous_visitor_id,
    shortly after midnight): the first time `visitor` is seen, that item is taken over (one
    DeleteItem), so a reader present across midnight stays one visitor online and one visit.
    Raises ClientError/BotoCoreError when DynamoDB fails (nothing is then remembered).
    """
    now = now or datetime.now(UTC)
    epoch = _epoch(now)
    if _written_recently(visitor, epoch):
        return
    seconds = int(epoch)
    keep = max(settings().presence_window_seconds, VISIT_GAP_SECONDS) + 3600
    try:
        last_seen = connections.touch(visitor, seconds, WRITE_INTERVAL, keep)
    except connections.RecentlySeen:
        return  # written by another container moments ago
    except (ClientError, BotoCoreError):
        _last_write.pop(visitor)  # not written: the next heartbeat must try again
        raise
    if last_seen is None and previous is not None:
        last_seen = connections.take(previous)  # seen before midnight under yesterday's id
    visit_total = None
    if last_seen is None or last_seen <= seconds - VISIT_GAP_SECONDS:
        visit_total = counters.add_visit()  # right after the presence write
    figures = cached_figures()
    if figures is None:
        return
    if visit_total is not None:
        figures = replace(figures, total=max(figures.total, visit_total))
    arrived = last_seen is None or last_seen <= seconds - settings().presence_window_seconds
    if arrived and figures.as_of < epoch:
        # An arrival this container saw after its cached count was taken; the peak shown
        # beside it is never below it (the next refresh records a new peak).
        online = figures.online + 1
        if online > figures.peak:
            figures = replace(figures, peak=online, peak_at=iso(now))
        figures = replace(figures, online=online)
    _keep(figures)


def shown_figures() -> Figures | None:
    """The figures to show beside a page or a beacon's answer: current ones, else this
    container's last (however old), else None; a DynamoDB failure is logged, not raised."""
    if dal.degraded():  # DynamoDB already failed in this request: do not wait on it again
        return cached_figures()
    try:
        return current_figures()
    except (ClientError, BotoCoreError) as exc:
        logger.warning("visitor figures unavailable", extra={"error": str(exc)})
        return cached_figures()


def total_at_least(count: int) -> None:
    """Make total visits at least `count`, an article's view count just read (a reader
    whose visit could not be recorded, an editor's count): nothing when the figures (the
    ones the page shows beside it, so no extra read) already show that much, else the site
    item's floor is raised (counters.raise_total_floor) and the figures kept here follow,
    so a page never shows a total below a count beside it."""
    figures = current_figures()
    if figures.total >= count:
        return
    counters.raise_total_floor(count)
    _keep(replace(figures, total=count))

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

from newsdesk.articles import iso
from newsdesk.caches import Cache
from newsdesk.config import settings
from newsdesk.dal import connections, counters

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


def heartbeat(visitor: str, now: datetime | None = None) -> Figures:
    """Register `visitor` as present now; count a visit if they were away 30 minutes."""
    now = now or datetime.now(UTC)
    epoch = _epoch(now)
    if _written_recently(visitor, epoch):
        return current_figures(now)
    seconds = int(epoch)
    keep = max(settings().presence_window_seconds, VISIT_GAP_SECONDS) + 3600
    try:
        last_seen = connections.touch(visitor, seconds, WRITE_INTERVAL, keep)
    except connections.RecentlySeen:
        return current_figures(now)  # written by another container moments ago
    except (ClientError, BotoCoreError):
        _last_write.pop(visitor)  # not written: the next heartbeat must try again
        raise
    visit_total = None
    if last_seen is None or last_seen <= seconds - VISIT_GAP_SECONDS:
        visit_total = counters.add_visit()  # right after the presence write
    figures = current_figures(now)
    if visit_total is not None:
        figures = replace(figures, total=max(figures.total, visit_total))
    arrived = last_seen is None or last_seen <= seconds - settings().presence_window_seconds
    if arrived and figures.as_of < epoch:
        # An arrival this container saw after its cached count was taken.
        figures = replace(figures, online=figures.online + 1)
    return _keep(figures)

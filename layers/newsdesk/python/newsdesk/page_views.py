"""Where a page view is counted: the rules (bots, prefetches, repeat views) and the failure
handling around the atomic counter (newsdesk.dal.counters). Counting never breaks reading."""

from __future__ import annotations

import contextlib
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from newsdesk import bots, dal, identity, presence
from newsdesk.bots import is_countable
from newsdesk.caches import Cache
from newsdesk.config import settings
from newsdesk.dal import counters
from newsdesk.observability import MetricUnit, logger, metrics

# Last total seen per article in this container: shown when the counter cannot be reached
# and for repeat views (which make no read).
_last_known: Cache[int] = Cache("last known views", maxsize=10_000)


@dataclass(frozen=True)
class View:
    views: int | None  # the total to show; None when unknown
    counted: bool
    present: bool = False  # the reader's presence (and any new visit) was registered
    heartbeat_seconds: int = 0  # when present: how often the page's script sends one


def record_view(
    slug: str,
    headers: Mapping[str, str],
    source_ip: str,
    source: str = bots.PAGE,
    body: Mapping[str, Any] | None = None,
) -> View:
    """Count one view of `slug` if a reader is asking for the first time in the window.

    `source` is what the request must be: bots.PAGE (the page opened, render mode) or
    bots.SCRIPT (the page's own beacon, whose JSON `body` may say the browser is
    automated). Bots, prefetches, automated browsers and requests that are not `source`
    are not counted (they get the current total: one read). A reader's request
    registers their presence and, after 30 minutes away, a visit, before the view is
    counted, so total visits are never behind the view; a repeat view by the same visitor
    within VIEW_DEDUPE_SECONDS is not counted. One conditional write to the reader's item
    decides all three (presence.view; after midnight, yesterday's item of the same reader
    too), then the last known total is shown. If DynamoDB fails or throttles, the failure
    is logged and counted in a metric and the last known total (or None) is returned, so
    the page still renders.
    """
    if dal.degraded():  # DynamoDB already failed in this request: do not wait on it again
        return View(_last_shown(slug), counted=False)
    try:
        if not is_countable(headers, source, body):
            metrics.add_metric(name="BotViewsSkipped", unit=MetricUnit.Count, value=1)
            return _known(slug, counters.shown_total(slug))
        return _count(slug, headers, source_ip)
    except (ClientError, BotoCoreError) as exc:
        logger.warning("view counter unavailable", extra={"slug": slug, "error": dal.failure(exc)})
        metrics.add_metric(name="CounterWriteFailures", unit=MetricUnit.Count, value=1)
        return View(_last_shown(slug), counted=False)


@dataclass(frozen=True)
class _Reader:
    visitor: str  # today's id
    previous: str | None  # the same reader's id under yesterday's salt, just after midnight


def _reader(headers: Mapping[str, str], source_ip: str, now: datetime) -> _Reader:
    user_agent = headers.get("user-agent", "")
    lookback = max(settings().view_dedupe_seconds, presence.lookback_seconds())
    return _Reader(
        identity.visitor_id(source_ip, user_agent, now),
        identity.previous_visitor_id(source_ip, user_agent, now, lookback),
    )


def _count(slug: str, headers: Mapping[str, str], source_ip: str) -> View:
    """A reader's view: presence, the visit and the repeat-view rule in one write to the
    reader's item (presence.view), then the counter unless it repeats one in the window."""
    now = datetime.now(UTC)
    reader = _reader(headers, source_ip, now)
    window = settings().view_dedupe_seconds
    marker = presence.view(reader.visitor, slug, window, now, reader.previous)
    if marker is None:
        metrics.add_metric(name="RepeatViewsSkipped", unit=MetricUnit.Count, value=1)
        shown = _last_shown(slug)
        if shown is None:
            return _present(reader, _known(slug, counters.shown_total(slug)))
        return _present(reader, View(shown, counted=False))
    try:
        total = counters.add_view(slug, now.astimezone(settings().tz).date())
    except ClientError as exc:
        # DynamoDB refused the ADD (throttled, say): close the window again, so this
        # reader's next view counts instead of being taken for a repeat of a view never
        # counted. Not after a 5xx: that view may have been counted, and a reload must not
        # count it again.
        if dal.refused(exc):
            with contextlib.suppress(ClientError, BotoCoreError):
                presence.close_window(reader.visitor, marker)
        raise
    metrics.add_metric(name="ViewsCounted", unit=MetricUnit.Count, value=1)
    try:
        presence.total_at_least(total)
    except (ClientError, BotoCoreError) as exc:  # the view is counted: the page goes on
        logger.warning("total visits not checked against the view", extra={"error": str(exc)})
    return _present(reader, _known(slug, total, counted=True))


def _present(reader: _Reader, view: View) -> View:
    every = presence.heartbeat_seconds(reader.visitor, presence.cached_figures())
    return replace(view, present=True, heartbeat_seconds=every)


def _last_shown(slug: str) -> int | None:
    return _last_known.get(slug)[1]


def _known(slug: str, total: int, counted: bool = False) -> View:
    _last_known.put(slug, total)
    return View(total, counted)


def shown_views(slug: str) -> int | None:
    """The total to show without counting (cacheable pages): one read, soft on failure."""
    try:
        return _known(slug, counters.shown_total(slug)).views
    except (ClientError, BotoCoreError) as exc:
        logger.warning("view counter unreadable", extra={"slug": slug, "error": str(exc)})
        return _last_shown(slug)

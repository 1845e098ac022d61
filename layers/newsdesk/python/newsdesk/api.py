"""The public JSON API's logic: an article's views, the beacon that counts one, the
heartbeat, and the visitor figures."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from newsdesk import articles, bots, identity, presence
from newsdesk.bots import is_countable
from newsdesk.dal import counters
from newsdesk.observability import MetricUnit, logger, metrics
from newsdesk.page_views import record_view


def views_of_published(slug: str) -> int:
    """The article's total, only if it is visible now (else ArticleNotFound): article and
    counter in one BatchGetItem, not from the article cache, so an unpublished article's
    count is gone at once."""
    headline, total = counters.views_with_headline(slug)
    if headline is None or not articles.from_item(headline).is_visible():
        raise articles.ArticleNotFound(slug)
    return total


def beacon_view(
    slug: str,
    headers: Mapping[str, str],
    source_ip: str,
    body: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """Count a view reported by the page's script: the article must be visible. `body` is
    the script's JSON (`{"webdriver": true}` from an automated browser: not counted).

    `{slug, views, counted, present}`; when `present` (the reader's presence was registered
    with the view, so the script's first heartbeat is not needed) also the site figures of
    GET /api/stats: `online`, `total`, `peak`, `window_seconds`, and `heartbeat_seconds`
    (how often this reader's script sends a heartbeat: presence.heartbeat_seconds).
    """
    articles.get_article(slug)
    view = record_view(slug, headers, source_ip, bots.SCRIPT, body)
    answer = {"slug": slug, "views": view.views, "counted": view.counted, "present": view.present}
    figures = presence.shown_figures() if view.present else None
    if figures is None:
        return answer
    return {**figures.public(), **answer, "heartbeat_seconds": view.heartbeat_seconds}


def heartbeat(
    headers: Mapping[str, str], source_ip: str, body: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    """Presence for readers; bots, prefetches and automated browsers (`body` says
    `{"webdriver": true}`) get the figures without being registered."""
    if not is_countable(headers, bots.SCRIPT, body):
        return presence.current_figures().public()
    metrics.add_metric(name="Heartbeats", unit=MetricUnit.Count, value=1)
    visitor = ""
    try:
        now, user_agent = datetime.now(UTC), headers.get("user-agent", "")
        visitor = identity.visitor_id(source_ip, user_agent, now)
        previous = identity.previous_visitor_id(
            source_ip, user_agent, now, presence.lookback_seconds()
        )
        figures = presence.heartbeat(visitor, now, previous)
        every = presence.heartbeat_seconds(visitor, figures)
        return {**figures.public(), "heartbeat_seconds": every}
    except (ClientError, BotoCoreError) as exc:
        # Fail soft: the page keeps its figures; the next heartbeat registers the reader.
        cached = presence.cached_figures()
        if cached is None:
            raise
        logger.warning("heartbeat not recorded", extra={"error": str(exc)})
        metrics.add_metric(name="HeartbeatFailures", unit=MetricUnit.Count, value=1)
        every = presence.heartbeat_seconds(visitor, cached)
        return {**cached.public(), "heartbeat_seconds": every, "stale": True}


def visitor_figures() -> dict[str, Any]:
    """Visitors online now, total visits and the peak, as the widget shows them."""
    return presence.current_figures().public()

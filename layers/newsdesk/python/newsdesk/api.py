"""JSON API logic."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from newsdesk import articles, counters, db, identity, presence
from newsdesk.articles import ArticleNotFound, from_item
from newsdesk.config import settings
from newsdesk.counters import counter_keys, total_of
from newsdesk.counting import record_view
from newsdesk.observability import MetricUnit, logger, metrics
from newsdesk.visitors import is_countable


def views_of_published(slug: str) -> int:
    """The article's total, only if it is visible: article and counter in one BatchGetItem."""
    conf = settings()
    response = db.client().batch_get_item(
        RequestItems={
            conf.articles_table: {
                "Keys": [{"slug": {"S": slug}}],
                "ProjectionExpression": "slug, title, #s, published_at",
                "ExpressionAttributeNames": {"#s": "status"},
            },
            conf.counters_table: {"Keys": counter_keys(slug)},
        }
    )
    found = response.get("Responses", {})
    article_items = found.get(conf.articles_table, [])
    if response.get("UnprocessedKeys"):
        # Rare (throttling); fall back to the two plain reads rather than answer wrongly.
        articles.get_article(slug)
        return counters.views_of([slug])[slug]
    if not article_items or not from_item(article_items[0]).is_visible():
        raise ArticleNotFound(slug)
    return sum(total_of(item) for item in found.get(conf.counters_table, []))


def beacon_view(slug: str, headers: Mapping[str, str], source_ip: str) -> dict[str, Any]:
    """Count a view reported by the page's script: the article must be visible."""
    articles.get_article(slug)
    view = record_view(slug, headers, source_ip)
    return {"slug": slug, "views": view.views, "counted": view.counted}


def heartbeat(headers: Mapping[str, str], source_ip: str) -> dict[str, Any]:
    """Presence for readers; bots and prefetches get the figures without being registered."""
    if not is_countable(headers):
        return presence.current_stats().public()
    metrics.add_metric(name="Heartbeats", unit=MetricUnit.Count, value=1)
    try:
        visitor = identity.visitor_id(source_ip, headers.get("user-agent", ""), datetime.now(UTC))
        return presence.heartbeat(visitor).public()
    except (ClientError, BotoCoreError) as exc:
        # Fail soft: the page keeps its figures; the next heartbeat registers the reader.
        cached = presence.cached_stats()
        if cached is None:
            raise
        logger.warning("heartbeat not recorded", extra={"error": str(exc)})
        metrics.add_metric(name="HeartbeatFailures", unit=MetricUnit.Count, value=1)
        return {**cached.public(), "stale": True}


def stats() -> dict[str, Any]:
    return presence.current_stats().public()

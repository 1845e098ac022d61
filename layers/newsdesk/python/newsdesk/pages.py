"""Page logic: what each HTML page needs from the data layer, rendered."""

from __future__ import annotations

from collections.abc import Mapping

from botocore.exceptions import BotoCoreError, ClientError

from newsdesk import articles, counters, db, presence
from newsdesk.config import settings
from newsdesk.counting import record_view, shown_views
from newsdesk.observability import logger
from newsdesk.rendering import render


def widget_stats() -> presence.Stats | None:
    """The visitor widget's last known figures (per-container cache); None if unreachable."""
    if db.degraded():  # DynamoDB already failed in this request: do not wait on it again
        return presence.cached_stats()
    try:
        return presence.current_stats()
    except (ClientError, BotoCoreError) as exc:
        logger.warning("visitor figures unavailable", extra={"error": str(exc)})
        return presence.cached_stats()


def article_page(slug: str, headers: Mapping[str, str], source_ip: str, base_url: str) -> str:
    """The article page. In render mode it counts the view (GetItem article, then the
    repeat-view marker and the counter update); in beacon mode the page's script counts it
    and the page only reads the current total, so the HTML can be cached."""
    article = articles.get_article(slug)
    beacon = settings().count_mode == "beacon"
    views = shown_views(slug) if beacon else record_view(slug, headers, source_ip).views
    return render(
        "article.html",
        base_url=base_url,
        article=article,
        views=views,
        canonical=f"{base_url}/articles/{slug}",
        stats=widget_stats(),
        beacon_slug=slug if beacon else None,
    )


def index_page(cursor: str | None, base_url: str) -> str:
    """Published articles newest first with their counts (one Query, one BatchGetItem)."""
    listing = articles.list_published(settings().page_size, cursor)
    try:
        views = counters.views_of(a.slug for a in listing.articles)
    except (ClientError, BotoCoreError) as exc:  # the list still shows, without counts
        logger.warning("view counts unavailable", extra={"error": str(exc)})
        views = {}
    listing = articles.Listing(listing.articles, listing.next_cursor, views)
    return render(
        "index.html",
        base_url=base_url,
        listing=listing,
        cursor=cursor,
        canonical=f"{base_url}/",
        stats=widget_stats(),
        beacon_slug=None,
    )

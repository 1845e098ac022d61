"""Page logic: what each HTML page needs from the data layer, rendered."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime

from botocore.exceptions import BotoCoreError, ClientError

from newsdesk import articles, bots, dal, mostread, presence, views_chart
from newsdesk.config import settings
from newsdesk.dal import counters
from newsdesk.observability import logger
from newsdesk.page_views import record_view, shown_views
from newsdesk.rendering import render
from newsdesk.urls import url_for


def most_read(
    current: dict[str, int] | None = None, shown: list[articles.Article] | None = None
) -> mostread.Lists | None:
    """The "most read" lists (per-container cache of one small item), agreeing with the
    `current` counts of the `shown` articles on the same page; None if unreachable."""
    if dal.degraded():
        return None
    titles = {article.slug: article.title for article in shown or []}
    try:
        return mostread.with_current(mostread.lists(), current or {}, titles)
    except (ClientError, BotoCoreError) as exc:
        logger.warning("most read lists unavailable", extra={"error": str(exc)})
        return None


def article_page(slug: str, headers: Mapping[str, str], source_ip: str, base_url: str) -> str:
    """The article page. In render mode it counts the view (GetItem article, the reader's
    presence, then the repeat-view marker and the counter update; the page's script then
    sends no first heartbeat); in beacon mode, and for a prefetch or
    prerender in any mode, the page's script counts it when shown and the page only reads
    the current total (the HTML can then be cached)."""
    article = articles.get_article(slug)
    # A prefetched or prerendered page is not a view yet; the browser may show it later
    # without asking again, so its script counts it then, as in beacon mode (once shown:
    # document.prerendering / prerenderingchange; a back/forward-cache restore runs no
    # script again, so it is not a new view).
    beacon = settings().count_mode == "beacon" or bots.is_prefetch(headers)
    view = None if beacon else record_view(slug, headers, source_ip)
    views = shown_views(slug) if view is None else view.views
    return render(
        "article.html",
        base_url=base_url,
        article=article,
        views=views,
        canonical=url_for("article", base_url=base_url, slug=slug),
        figures=presence.shown_figures(),
        beacon_slug=slug if beacon else None,
        present=view is not None and view.present,
        most_read=most_read({slug: views} if views is not None else None, [article]),
    )


def with_views(listing: articles.Listing) -> articles.Listing:
    """The listing with its articles' counts (one BatchGetItem), or without them when the
    counters cannot be read: the list still shows."""
    try:
        views = counters.views_of(a.slug for a in listing.articles)
    except (ClientError, BotoCoreError) as exc:
        logger.warning("view counts unavailable", extra={"error": str(exc)})
        views = {}
    return articles.Listing(listing.articles, listing.next_cursor, views)


def index_page(cursor: str | None, base_url: str) -> str:
    """Published articles newest first with their counts (one Query, one BatchGetItem)."""
    listing = with_views(articles.list_published(settings().page_size, cursor))
    return render(
        "index.html",
        base_url=base_url,
        listing=listing,
        cursor=cursor,
        canonical=url_for("home", base_url=base_url),
        figures=presence.shown_figures(),
        beacon_slug=None,
        most_read=most_read(listing.views, listing.articles),
    )


def category_page(category_slug: str, cursor: str | None, base_url: str) -> str:
    """One category's visible articles newest first with their counts (Query on the
    by-category index, one BatchGetItem). A category with no visible article on this page
    (unknown, or only drafts and scheduled articles) is a 404."""
    listing = articles.list_category(category_slug, settings().page_size, cursor)
    if not listing.articles:
        raise articles.CategoryNotFound(category_slug)
    return render(
        "category.html",
        base_url=base_url,
        category=listing.articles[0].category,
        listing=with_views(listing),
        cursor=cursor,
        category_slug=category_slug,
        canonical=url_for("category", base_url=base_url, category=category_slug),
        figures=presence.shown_figures(),
        beacon_slug=None,
    )


def stats_page(slug: str, base_url: str) -> str:
    """Daily views of one article for the last 30 days as an SVG chart (one BatchGetItem
    of its counter; the article itself from the cache)."""
    article = articles.get_article(slug)
    return render(
        "stats.html",
        base_url=base_url,
        article=article,
        chart=views_chart.chart(slug),
        figures=presence.shown_figures(),
    )


FEED_ITEMS = 50
SITEMAP_MAX_URLS = 50_000  # the sitemap protocol's limit per file, the home page included
_SITEMAP_PAGE = 1000


def feed_xml(base_url: str) -> str:
    """RSS 2.0 of the FEED_ITEMS newest visible articles (one Query; no view is counted)."""
    listing = articles.list_published(FEED_ITEMS)
    return render("feed.xml", base_url=base_url, articles=listing.articles, now=_now())


def sitemap_xml(base_url: str) -> str:
    """The home page and every visible article, newest first (Queries of _SITEMAP_PAGE),
    at most SITEMAP_MAX_URLS URLs."""
    found: list[articles.Article] = []
    cursor = None
    while len(found) < SITEMAP_MAX_URLS - 1:
        wanted = min(_SITEMAP_PAGE, SITEMAP_MAX_URLS - 1 - len(found))
        listing = articles.list_published(wanted, cursor)
        found += listing.articles
        cursor = listing.next_cursor
        if not cursor:
            break
    return render("sitemap.xml", base_url=base_url, articles=found[: SITEMAP_MAX_URLS - 1])


def _now() -> datetime:
    return datetime.now(UTC)

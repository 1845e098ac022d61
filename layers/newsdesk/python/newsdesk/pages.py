"""Page logic: what each HTML page needs from the data layer, rendered."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime

from botocore.exceptions import BotoCoreError, ClientError

from newsdesk import articles, bots, dal, menu, mostread, presence, sharing, views_chart
from newsdesk.config import settings
from newsdesk.dal import counters
from newsdesk.observability import logger
from newsdesk.page_views import record_view, shown_views
from newsdesk.rendering import labels, render
from newsdesk.slugs import routable
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
        lists = mostread.with_current(mostread.lists(), current or {}, titles)
    except (ClientError, BotoCoreError) as exc:
        logger.warning("most read lists unavailable", extra={"error": str(exc)})
        return None
    # Lists stored before the job left out slugs that cannot be a URL (newsdesk.slugs.routable)
    # may still hold one: never a link that cannot be built.
    return lists and {
        period: [e for e in entries if routable(e["slug"])] for period, entries in lists.items()
    }


def counts_at_render(headers: Mapping[str, str]) -> bool:
    """Whether a GET of an article with these headers counts the view as the page is
    rendered (render mode, not a prefetch): its body then depends on that reader."""
    return settings().count_mode != "beacon" and not bots.is_prefetch(headers)


def article_page(
    slug: str, headers: Mapping[str, str], source_ip: str, base_url: str, count: bool = True
) -> str:
    """The article page. In render mode it counts the view (GetItem article, the reader's
    presence, then the repeat-view marker and the counter update; the page's script then
    sends no first heartbeat); in beacon mode, and for a prefetch or
    prerender in any mode, the page's script counts it when shown and the page only reads
    the current total (the HTML can then be cached). With `count` False (a HEAD request)
    nothing is counted or registered: the page is the one a request that does not count
    gets. The head carries the article's share picture, Open Graph and X card values and
    its NewsArticle JSON-LD (newsdesk.sharing)."""
    article = articles.get_article(slug)
    # A prefetched or prerendered page is not a view yet; the browser may show it later
    # without asking again, so its script counts it then, as in beacon mode (once shown:
    # document.prerendering / prerenderingchange; a back/forward-cache restore runs no
    # script again, so it is not a new view).
    beacon = not counts_at_render(headers)
    view = record_view(slug, headers, source_ip) if count and not beacon else None
    views = shown_views(slug) if view is None else view.views
    canonical = url_for("article", base_url=base_url, slug=slug)
    image = sharing.picture(article, base_url)
    language = labels(settings().locale)["html_lang"]
    return render(
        "article.html",
        base_url=base_url,
        categories=menu.categories(),
        article=article,
        views=views,
        canonical=canonical,
        figures=presence.shown_figures(),
        beacon_slug=slug if beacon else None,
        present=view.heartbeat_seconds if view is not None and view.present else 0,
        most_read=most_read({slug: views} if views is not None else None, [article]),
        share_image=image,
        json_ld=sharing.json_ld(sharing.news_article(article, canonical, image, language)),
    )


def with_views(listing: articles.Listing) -> articles.Listing:
    """The listing with its articles' counts (one BatchGetItem), or without them when the
    counters cannot be read: the list still shows."""
    try:
        views = counters.views_of(a.slug for a in listing.articles)
    except (ClientError, BotoCoreError) as exc:
        logger.warning("view counts unavailable", extra={"error": str(exc)})
        views = {}
    return replace(listing, views=views)


def index_page(cursor: str | None, base_url: str) -> str:
    """Published articles newest first with their counts (one Query, one BatchGetItem).
    `cursor` (canonical: articles.canonical_cursor) picks an older page, which has its own
    title (its number) and canonical URL (its own, cursor included)."""
    listing = with_views(articles.list_published(settings().page_size, cursor))
    return render(
        "index.html",
        base_url=base_url,
        categories=menu.categories(),
        listing=listing,
        cursor=cursor,
        canonical=url_for("home", base_url=base_url, cursor=cursor),
        figures=presence.shown_figures(),
        beacon_slug=None,
        most_read=most_read(listing.views, listing.articles),
        share_image=sharing.picture(None, base_url),
    )


def category_page(category_slug: str, cursor: str | None, base_url: str) -> str:
    """One category's visible articles newest first with their counts (Query on the
    by-category index, one BatchGetItem), paged as index_page. A category with no visible
    article on this page (unknown, or only drafts and scheduled articles) is a 404."""
    listing = articles.list_category(category_slug, settings().page_size, cursor)
    if not listing.articles:
        raise articles.CategoryNotFound(category_slug)
    return render(
        "category.html",
        base_url=base_url,
        categories=menu.categories(),
        category=menu.name_of(category_slug, [a.category for a in listing.articles if a.category]),
        listing=with_views(listing),
        cursor=cursor,
        category_slug=category_slug,
        canonical=url_for("category", base_url=base_url, category=category_slug, cursor=cursor),
        figures=presence.shown_figures(),
        beacon_slug=None,
        share_image=sharing.picture(None, base_url),
    )


def stats_page(slug: str, base_url: str) -> str:
    """Daily views of one article for the last 30 days as an SVG chart (one BatchGetItem
    of its counter; the article itself from the cache)."""
    article = articles.get_article(slug)
    return render(
        "stats.html",
        base_url=base_url,
        categories=menu.categories(),
        article=article,
        chart=views_chart.chart(slug),
        figures=presence.shown_figures(),
    )


FEED_ITEMS = 50
SITEMAP_MAX_URLS = 50_000  # the sitemap protocol's limit per file, the home page included
_SITEMAP_PAGE = 1000  # articles per Query


def feed_xml(base_url: str) -> str:
    """RSS 2.0 of the FEED_ITEMS newest visible articles (one Query; no view is counted)."""
    listing = articles.list_published(FEED_ITEMS)
    return render("feed.xml", base_url=base_url, articles=listing.articles, now=_now())


@dataclass(frozen=True)
class SitemapCategory:
    slug: str
    lastmod: datetime  # the last edit of its newest-edited visible article


def sitemap_xml(base_url: str) -> str:
    """The home page, every category page with a visible article and every visible article
    (newest first), at most SITEMAP_MAX_URLS URLs (the oldest articles are left out first).
    Each <lastmod> is a last edit: an article's (Article.modified_at), a category's and the
    home page's the latest of their articles'. Queries of the by-published-lastmod index."""
    found = articles.lastmods(SITEMAP_MAX_URLS - 1, _SITEMAP_PAGE)
    latest: dict[str, datetime] = {}
    for article in found:
        if article.category_slug:
            known = latest.get(article.category_slug)
            latest[article.category_slug] = max(known or article.modified_at, article.modified_at)
    categories = sorted(
        (SitemapCategory(slug, lastmod) for slug, lastmod in latest.items()),
        key=lambda category: (-category.lastmod.timestamp(), category.slug),
    )
    shown = found[: SITEMAP_MAX_URLS - 1 - len(categories)]
    return render(
        "sitemap.xml",
        base_url=base_url,
        articles=shown,
        categories=categories,
        lastmod=max((article.modified_at for article in found), default=None),
    )


def robots_txt(base_url: str) -> str:
    """/robots.txt (RFC 9309): every crawler may read the pages, not the JSON API nor the
    articles' stats pages (a chart per article, nothing to index), and the sitemap is
    named by its absolute URL (as sitemaps.org's protocol asks)."""
    return (
        "User-agent: *\n"
        "Disallow: /api/\n"
        "Disallow: /articles/*/stats\n"
        "\n"
        f"Sitemap: {url_for('sitemap', base_url=base_url)}\n"
    )


def _now() -> datetime:
    return datetime.now(UTC)

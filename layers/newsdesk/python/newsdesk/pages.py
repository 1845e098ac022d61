"""Page logic: what each HTML page needs from the data layer, rendered."""

from __future__ import annotations

from collections.abc import Mapping

from newsdesk import articles, counters
from newsdesk.config import settings
from newsdesk.counting import record_view
from newsdesk.rendering import render


def article_page(slug: str, headers: Mapping[str, str], base_url: str) -> str:
    """The article page; counts the view (DynamoDB: one GetItem, one UpdateItem)."""
    article = articles.get_article(slug)
    views = record_view(slug, headers)
    return render(
        "article.html",
        base_url=base_url,
        article=article,
        views=views,
        canonical=f"{base_url}/articles/{slug}",
        stats=None,
    )


def index_page(cursor: str | None, base_url: str) -> str:
    """Published articles newest first with their counts (one Query, one BatchGetItem)."""
    listing = articles.list_published(settings().page_size, cursor)
    views = counters.views_of(a.slug for a in listing.articles)
    listing = articles.Listing(listing.articles, listing.next_cursor, views)
    return render(
        "index.html",
        base_url=base_url,
        listing=listing,
        cursor=cursor,
        canonical=f"{base_url}/",
        stats=None,
    )

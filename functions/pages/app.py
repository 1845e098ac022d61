"""HTML pages: the article index, article pages (which count a view), category pages, the
RSS feed, the sitemap and robots.txt. HEAD is answered wherever GET is, without a body and
without counting (newsdesk.web.resolve); other spellings of a page's URL get a 301 to it."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext
from newsdesk.config import settings

# A setting out of range fails Lambda's INIT here, naming it (newsdesk/config.py), instead of
# every request answering 500; before newsdesk.observability, whose Logger reads
# POWERTOOLS_LOG_LEVEL.
settings()

from newsdesk import dal, pages, web  # noqa: E402
from newsdesk.articles import ArticleNotFound, CategoryNotFound, canonical_cursor  # noqa: E402
from newsdesk.observability import logger, metrics, tracer  # noqa: E402
from newsdesk.slugs import canonical_slug  # noqa: E402
from newsdesk.urls import url_for  # noqa: E402

dal.warm()  # the DynamoDB client, during init (Lambda runs it before the first request)

app = APIGatewayHttpResolver()
web.install_error_handlers(app)


# Old spellings of a list's first page: `?page=1` (most CMSs), `?paged=1` (WordPress).
_FIRST_PAGE_PARAMETERS = ("page", "paged")


def _list_cursor(category: str | None = None) -> tuple[str | None, Response | None]:
    """The list page's cursor (None: the first page), and a redirect to the page's one URL
    when the query spells it another way: an empty `cursor=`, `?page=1` or `?paged=1`, or a
    cursor encoded otherwise than this service encodes it (BadCursor, a 400, when it is not
    one of ours). Other parameters (utm_*, fbclid) are left to the page's canonical link."""
    query = app.current_event.query_string_parameters or {}
    given = query.get("cursor")
    # Base64 without its "=" padding (links copied by hand, tools that strip it) is the
    # same cursor spelled another way: padded, it decodes, and the answer is a 301.
    cursor = canonical_cursor(given + "=" * (-len(given) % 4), category) if given else None
    first = any(query.get(name) == "1" for name in _FIRST_PAGE_PARAMETERS)
    if cursor == given and not first:
        return cursor, None
    params = {"category": category} if category else {}
    route = "category" if category else "home"
    location = url_for(route, base_url=web.base_url(app), cursor=cursor, **params)
    return cursor, web.redirect(location)


@app.get("/")
def index() -> Response:
    cursor, elsewhere = _list_cursor()
    if elsewhere:
        return elsewhere
    return web.page(app, pages.index_page(cursor, web.base_url(app)))


def _article_slug(raw: str, route: str = "article") -> tuple[str, Response | None]:
    """The canonical slug, and a redirect to `route` with it when the URL spelled it another
    way (NFD, upper case, diacritics): one URL per article page."""
    clean = canonical_slug(raw)
    if clean is None:
        raise ArticleNotFound(raw)
    if clean != raw:
        return clean, web.redirect(url_for(route, base_url=web.base_url(app), slug=clean))
    return clean, None


@app.get("/articles/<slug>")
def article(slug: str) -> Response:
    clean, elsewhere = _article_slug(slug)
    if elsewhere:
        return elsewhere
    headers = app.current_event.headers or {}
    ip, base = web.source_ip(app), web.base_url(app)
    body = pages.article_page(clean, headers, ip, base, count=not web.is_head())
    if web.is_head() and pages.counts_at_render(headers):
        web.per_reader()  # the GET would count this reader: its size is theirs alone
    return web.page(app, body)


@app.get("/articles/<slug>/stats")
def article_stats(slug: str) -> Response:
    clean, elsewhere = _article_slug(slug, "article_stats")
    if elsewhere:
        return elsewhere
    return web.page(app, pages.stats_page(clean, web.base_url(app)))


@app.get("/categories/<category>")
def category(category: str) -> Response:
    clean = canonical_slug(category)
    if clean is None:
        raise CategoryNotFound(category)
    cursor, elsewhere = _list_cursor(clean)
    if clean != category:  # the display name ("Thời sự", NFC or NFD), upper case: one URL
        location = url_for("category", base_url=web.base_url(app), category=clean, cursor=cursor)
        return web.redirect(location)
    if elsewhere:
        return elsewhere
    return web.page(app, pages.category_page(clean, cursor, web.base_url(app)))


@app.get("/feed.xml")
def feed() -> Response:
    return web.xml(app, pages.feed_xml(web.base_url(app)), web.RSS)


@app.get("/sitemap.xml")
def sitemap() -> Response:
    return web.xml(app, pages.sitemap_xml(web.base_url(app)))


@app.get("/robots.txt")
def robots() -> Response:
    return web.text(app, pages.robots_txt(web.base_url(app)))


web.only(app, "/", "GET")
web.only(app, "/articles/<slug>", "GET")
web.only(app, "/articles/<slug>/stats", "GET")
web.only(app, "/categories/<category>", "GET")
web.only(app, "/feed.xml", "GET")
web.only(app, "/sitemap.xml", "GET")
web.only(app, "/robots.txt", "GET")


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return web.resolve(app, event, context)

"""HTML pages: the article index and article pages (which count a view)."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext
from newsdesk import pages, web
from newsdesk.articles import ArticleNotFound
from newsdesk.observability import logger, metrics, tracer
from newsdesk.slugs import canonical_slug

app = APIGatewayHttpResolver()
web.install_error_handlers(app)


@app.get("/")
def index() -> Response:
    cursor = app.current_event.get_query_string_value("cursor") or None
    return web.page(app, pages.index_page(cursor, web.base_url(app)))


@app.get("/articles/<slug>")
def article(slug: str) -> Response:
    clean = canonical_slug(slug)
    if clean is None:
        raise ArticleNotFound(slug)
    if clean != slug:  # another spelling (NFD, upper case, diacritics): one URL per article
        return web.redirect(f"{web.base_url(app)}/articles/{clean}")
    headers = app.current_event.headers or {}
    body = pages.article_page(clean, headers, web.source_ip(app), web.base_url(app))
    return web.page(app, body)


web.only(app, "/", "GET")
web.only(app, "/articles/<slug>", "GET")


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return web.resolve(app, event, context)

"""Public JSON API: view counts, the page beacon, visitor heartbeats and site figures."""

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

from newsdesk import api, dal, web  # noqa: E402
from newsdesk.articles import ArticleNotFound  # noqa: E402
from newsdesk.observability import logger, metrics, tracer  # noqa: E402
from newsdesk.slugs import canonical_slug  # noqa: E402

dal.warm()  # the DynamoDB client, during init (Lambda runs it before the first request)

app = APIGatewayHttpResolver()
web.install_error_handlers(app)


def _slug(raw: str) -> str:
    clean = canonical_slug(raw)
    if clean is None:
        raise ArticleNotFound(raw)
    return clean


@app.get("/api/articles/<slug>/views")
def article_views(slug: str) -> Response:
    clean = _slug(slug)
    return web.json_response({"slug": clean, "views": api.views_of_published(clean)})


@app.post("/api/articles/<slug>/views")
def count_article_view(slug: str) -> Response:
    """The page's beacon (COUNT_MODE=beacon): counts one view under the same rules."""
    clean = _slug(slug)
    body = web.json_body(app)  # {"webdriver": true} from an automated browser; else none
    headers = app.current_event.headers or {}
    return web.json_response(api.beacon_view(clean, headers, web.source_ip(app), body))


@app.post("/api/visits")
def visit() -> Response:
    """The page's heartbeat: registers the caller's presence, answers the site figures."""
    body = web.json_body(app)  # {"webdriver": true} from an automated browser; else none
    headers = app.current_event.headers or {}
    return web.json_response(api.heartbeat(headers, web.source_ip(app), body))


@app.get("/api/stats")
def stats() -> Response:
    return web.json_response(api.visitor_figures())


web.only(app, "/api/articles/<slug>/views", "GET", "POST")
web.only(app, "/api/visits", "POST")
web.only(app, "/api/stats", "GET")


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return web.resolve(app, event, context)

"""Public JSON API: view counts."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext
from newsdesk import api, web
from newsdesk.articles import ArticleNotFound
from newsdesk.observability import logger, metrics, tracer
from newsdesk.slugs import clean_slug

app = APIGatewayHttpResolver()
web.install_error_handlers(app)


@app.get("/api/articles/<slug>/views")
def article_views(slug: str) -> Response:
    clean = clean_slug(slug)
    if clean is None:
        raise ArticleNotFound(slug)
    return web.json_response({"slug": clean, "views": api.views_of_published(clean)})


web.only(app, "/api/articles/<slug>/views", "GET")


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)

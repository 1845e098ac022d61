"""Editors' admin API: create or update an article, unpublish it, set its view count.

IAM-authorised when deployed (AWS_IAM on every route), token-authorised locally; every
request, 405s included, is authorised first, and a refused one reads and writes nothing
(newsdesk/auth.py).
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response
from aws_lambda_powertools.event_handler.middlewares import NextMiddleware
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext
from newsdesk.config import settings

# A setting out of range fails Lambda's INIT here, naming it (newsdesk/config.py), instead of
# every request answering 500; before newsdesk.observability, whose Logger reads
# POWERTOOLS_LOG_LEVEL.
settings()

from newsdesk import auth, editing, web  # noqa: E402
from newsdesk.observability import logger, metrics, tracer  # noqa: E402

app = APIGatewayHttpResolver()
web.install_error_handlers(app)


def authorised(app: APIGatewayHttpResolver, next_middleware: NextMiddleware) -> Response:
    """Before any route: who is calling (auth.Unauthorized / Forbidden otherwise)."""
    event = app.current_event
    who = auth.caller(event.raw_event.get("requestContext") or {}, event.headers or {})
    app.append_context(who=who)
    return next_middleware(app)


app.use(middlewares=[authorised])


@app.exception_handler(auth.AdminError)
def refused(exc: auth.AdminError) -> Response:
    if exc.status in (401, 403):
        logger.warning("admin call refused", extra={"status": exc.status, "reason": str(exc)})
    if isinstance(exc, editing.IdTaken):  # which field, and the article that has it
        answer = {"message": str(exc), "field": exc.field, "slug": exc.slug}
        return web.json_response(answer, exc.status)
    headers = {"WWW-Authenticate": 'Bearer realm="newsdesk-admin"'} if exc.status == 401 else None
    return web.error(app, exc.status, "bad_request", str(exc), headers)


def _done(result: dict[str, Any], status: int = 200) -> Response:
    logger.info("admin change", extra={"admin": result})  # who did what, in the function's log
    return web.json_response(result, status)


@app.put("/api/admin/articles/<slug>")
def put_article(slug: str) -> Response:
    body = web.json_body(app, limit=editing.MAX_ARTICLE_JSON_BYTES)
    result = editing.put_article(slug, body, app.context["who"])
    return _done(result, editing.HTTP_STATUS[result["outcome"]])


@app.delete("/api/admin/articles/<slug>")
def unpublish_article(slug: str) -> Response:
    return _done(editing.unpublish(slug, app.context["who"]))


@app.put("/api/admin/articles/<slug>/views")
def set_article_views(slug: str) -> Response:
    body = web.json_body(app)
    if set(body) != {"views"}:
        raise editing.Invalid('the body must be {"views": N}')
    return _done(editing.set_views(slug, body["views"], app.context["who"]))


web.only(app, "/api/admin/articles/<slug>", "PUT", "DELETE")
web.only(app, "/api/admin/articles/<slug>/views", "PUT")


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return web.resolve(app, event, context)

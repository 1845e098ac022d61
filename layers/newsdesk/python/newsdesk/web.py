"""HTTP plumbing shared by the functions: responses, base URLs, and the one place where
domain exceptions become HTTP answers (HTML pages, JSON under /api/)."""

from __future__ import annotations

import base64
import hmac
import json
import re
import unicodedata
from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response, content_types
from botocore.exceptions import BotoCoreError, ClientError

from newsdesk import dal
from newsdesk.articles import ArticleNotFound, BadCursor
from newsdesk.config import settings
from newsdesk.observability import MetricUnit, logger, metrics

ALL_METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")


MAX_JSON_BODY_BYTES = 8 * 1024  # the public API: the page's script sends no body at all


class BadRequest(ValueError):
    """The client sent something this route cannot use; the message says what."""


class PayloadTooLarge(ValueError):
    """The body is over MAX_JSON_BODY_BYTES."""


def json_body(app: APIGatewayHttpResolver, limit: int = MAX_JSON_BODY_BYTES) -> dict[str, Any]:
    """The request's JSON object body ({} when empty): 413 when over `limit` bytes, 400 when
    not JSON."""
    event = app.current_event
    raw = event.body or ""
    if not raw:
        return {}
    if len(raw) > 2 * limit:  # over the limit whatever the encoding: do not even decode it
        raise PayloadTooLarge(f"body over {limit} bytes")
    try:
        body = base64.b64decode(raw) if event.is_base64_encoded else raw.encode("utf-8")
    except ValueError:
        raise BadRequest("body is not valid JSON (nor valid base64)") from None
    if len(body) > limit:
        raise PayloadTooLarge(f"body over {limit} bytes")
    try:
        data = json.loads(body.decode("utf-8"))
    except (ValueError, UnicodeDecodeError, RecursionError):  # nested thousands deep
        raise BadRequest("body is not valid JSON") from None
    if not isinstance(data, dict):
        raise BadRequest("body must be a JSON object")
    return data


_HOST = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9.-]{0,251}[A-Za-z0-9])?(?::[0-9]{1,5})?")


def base_url(app: APIGatewayHttpResolver) -> str:
    """SITE_URL when configured, else the scheme and host the request arrived at."""
    configured = settings().site_url
    if configured:
        return configured
    headers = app.current_event.headers or {}
    scheme = headers.get("x-forwarded-proto", "https").split(",")[0].strip().lower()
    host = headers.get("host", "")
    # Both are the client's to choose: only a plain scheme and host name go into links.
    if scheme not in ("http", "https"):
        scheme = "https"
    if not _HOST.fullmatch(host):
        host = app.current_event.request_context.domain_name or ""
        host = host if _HOST.fullmatch(host) else "localhost"
    return f"{scheme}://{host}"


def source_ip(app: APIGatewayHttpResolver) -> str:
    """The reader's address (never stored; only hashed into the visitor id).

    API Gateway's sourceIp, except behind the stack's own CloudFront distribution, where
    that is an edge server: then CloudFront-Viewer-Address ("ip:port") is used, but only
    when the request carries the distribution's secret origin header, so nobody can pick
    their own address by sending that header straight to the API.
    """
    headers = app.current_event.headers or {}
    secret = settings().cdn_origin_secret
    viewer = headers.get("cloudfront-viewer-address", "")
    if secret and viewer and hmac.compare_digest(headers.get("x-origin-verify", ""), secret):
        return viewer.rsplit(":", 1)[0].strip("[]")
    return str(app.current_event.request_context.http.source_ip or "")


def compressed(app: APIGatewayHttpResolver, response: Response) -> Response:
    """Brotli or gzip for clients that accept it (the article page: 7.3 KB to 2.7 KB).

    Brotli comes from the `brotli` package (a native wheel); if it cannot be imported the
    page goes out gzipped, never broken.
    """
    body = response.body
    if not isinstance(body, str) or len(body) < 1024:
        return response
    accepted = (app.current_event.headers or {}).get("accept-encoding", "").lower()
    offered = set()
    for part in accepted.split(","):
        name, _, params = part.partition(";")
        q = params.strip().removeprefix("q=") if params.strip().startswith("q=") else "1"
        try:
            if float(q) > 0:  # "br;q=0" means "not brotli"
                offered.add(name.strip())
        except ValueError:
            continue
    raw = body.encode()
    encoding = None
    if "br" in offered:
        try:
            import brotli

            data, encoding = brotli.compress(raw, quality=5), "br"
        except ImportError:
            pass
    if encoding is None and "gzip" in offered:
        import gzip

        data, encoding = gzip.compress(raw, compresslevel=6, mtime=0), "gzip"
    if encoding is None:
        return response
    response.body = data
    response.headers["Content-Encoding"] = encoding
    response.headers["Vary"] = "Accept-Encoding"
    return response


def page(app: APIGatewayHttpResolver, body: str) -> Response:
    """An HTML page with the caching its count mode allows.

    render mode counts at render time, so pages must not be cached. beacon mode pages are
    the same for everyone: shared caches may keep them PAGE_CACHE_SECONDS, browsers
    revalidate, and a matching If-None-Match gets a bodiless 304.
    """
    conf = settings()
    if conf.count_mode != "beacon":
        return compressed(app, html(body, headers={"Cache-Control": "no-store"}))
    import hashlib

    etag = '"' + hashlib.sha256(body.encode()).hexdigest()[:32] + '"'
    headers = {
        "Cache-Control": f"public, max-age=0, s-maxage={conf.page_cache_seconds}",
        "ETag": etag,
    }
    wanted = (app.current_event.headers or {}).get("if-none-match", "")
    # A compressed copy carries its own tag ("…-br"); any copy of this page is a match.
    tags = {
        tag.strip().removeprefix("W/").split("-")[0].rstrip('"') + '"' for tag in wanted.split(",")
    }
    if etag in tags or wanted.strip() == "*":
        return Response(status_code=304, headers=headers, body="")
    response = compressed(app, html(body, headers=headers))
    encoding = response.headers.get("Content-Encoding")
    if encoding:
        response.headers["ETag"] = f'{etag[:-1]}-{encoding}"'
    return response


RSS = "application/rss+xml; charset=utf-8"
XML = "application/xml; charset=utf-8"
FEED_CACHE = "public, max-age=300"


def xml(app: APIGatewayHttpResolver, body: str, content_type: str = XML) -> Response:
    """A feed or sitemap: the same for every reader and counting nothing, so any cache may
    keep it five minutes."""
    headers = {
        "Cache-Control": FEED_CACHE,
        **SECURITY_HEADERS,
        "Content-Security-Policy": "default-src 'none'",
    }
    return compressed(app, Response(200, content_type, body, headers))


def redirect(location: str) -> Response:
    """A permanent redirect to the canonical URL."""
    return Response(
        status_code=301, headers={"Location": location, "Cache-Control": "max-age=3600"}, body=""
    )


SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "strict-origin-when-cross-origin",
}
HSTS = "max-age=31536000; includeSubDomains"


def html(body: str, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    from newsdesk.rendering import content_security_policy

    return Response(
        status_code=status,
        content_type=content_types.TEXT_HTML + "; charset=utf-8",
        body=body,
        headers={
            **SECURITY_HEADERS,
            "Content-Security-Policy": content_security_policy(),
            **(headers or {}),
        },
    )


def json_response(data: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(
        status_code=status,
        content_type=content_types.APPLICATION_JSON,
        body=json.dumps(data, ensure_ascii=False),
        headers={
            **SECURITY_HEADERS,
            "Content-Security-Policy": "default-src 'none'; frame-ancestors 'none'",
            "Cache-Control": "no-store",
            **(headers or {}),
        },
    )


def _is_api(app: APIGatewayHttpResolver) -> bool:
    return (app.current_event.raw_path or "").startswith("/api/")


def error(
    app: APIGatewayHttpResolver,
    status: int,
    key: str,
    message: str,
    headers: dict[str, str] | None = None,
) -> Response:
    """JSON `{"message": ...}` under /api/, else an HTML page in the site's language."""
    if _is_api(app):
        return json_response({"message": message}, status, headers)
    from newsdesk.rendering import labels, render

    t = labels(settings().locale)
    page = render(
        "error.html",
        base_url=base_url(app),
        title=t[f"{key}_title"],
        text=t[f"{key}_text"],
    )
    return html(page, status, {"Cache-Control": "no-store", **(headers or {})})


def only(app: APIGatewayHttpResolver, path: str, *allowed: str) -> None:
    """Answer 405 with an Allow header for every method `path` does not support.

    The template routes `ANY <path>` to the same function, so these requests arrive here
    instead of at API Gateway's bare 404.
    """
    others = [m for m in ALL_METHODS if m not in allowed]
    allow = ", ".join(allowed)

    @app.route(path, method=others)
    def method_not_allowed(**_: str) -> Response:
        return error(
            app,
            405,
            "method_not_allowed",
            f"method {app.current_event.request_context.http.method} not allowed; use {allow}",
            {"Allow": allow},
        )


def resolve(app: APIGatewayHttpResolver, event: dict[str, Any], context: Any) -> dict[str, Any]:
    """One invocation: a fresh failure budget, the router, and HSTS on HTTPS answers."""
    dal.start_request()
    # API Gateway hands the path over percent-decoded; Powertools' route patterns match
    # precomposed letters only, so a decomposed (NFD) spelling is composed first.
    for holder, key in (
        (event, "rawPath"),
        (event.get("requestContext", {}).get("http", {}), "path"),
    ):
        value = holder.get(key) if isinstance(holder, dict) else None
        if isinstance(value, str) and not value.isascii():
            holder[key] = unicodedata.normalize("NFC", value)
    response = app.resolve(event, context)
    headers = event.get("headers") or {}
    if headers.get("x-forwarded-proto", "").split(",")[0].strip() == "https":
        response.setdefault("headers", {})["Strict-Transport-Security"] = HSTS
    return response


def install_error_handlers(app: APIGatewayHttpResolver) -> None:
    """Map domain exceptions to answers in one place; a client never sees a traceback."""

    @app.not_found
    def not_found(_: Exception) -> Response:
        return error(app, 404, "not_found", "not found")

    @app.exception_handler(ArticleNotFound)
    def article_not_found(_: ArticleNotFound) -> Response:
        return error(app, 404, "not_found", "no published article with this slug")

    @app.exception_handler(BadCursor)
    def bad_cursor(_: BadCursor) -> Response:
        return error(app, 400, "bad_request", "invalid pagination cursor")

    @app.exception_handler(BadRequest)
    def bad_request(exc: BadRequest) -> Response:
        return error(app, 400, "bad_request", str(exc))

    @app.exception_handler(PayloadTooLarge)
    def too_large(exc: PayloadTooLarge) -> Response:
        return error(app, 413, "bad_request", str(exc))

    @app.exception_handler([ClientError, BotoCoreError])
    def storage_unavailable(exc: Exception) -> Response:
        logger.exception("DynamoDB request failed")
        metrics.add_metric(name="StorageErrors", unit=MetricUnit.Count, value=1)
        return error(
            app,
            503,
            "unavailable",
            "storage temporarily unavailable, retry shortly",
            {"Retry-After": "5"},
        )

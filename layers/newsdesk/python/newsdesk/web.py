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


# render mode: the page is this reader's (it counted their view, registered their presence),
# so no shared cache may keep it (`private`), and a new visit asks the server again
# (`no-cache`: stored, but revalidated before any reuse, RFC 9111 section 5.2.2.4), which
# counts it under the usual rules. Not `no-store`: the HTTP cache keeps no such page, so a
# back/forward navigation the bfcache cannot serve asked the server and counted again; and
# browsers keep a `no-store` page in the bfcache only in some cases (Chromium since 2025:
# 3 minutes, no cookie change, and no script request answered `no-store` meanwhile, which
# the widget's heartbeat is; reason "response-cache-control-no-store-with-js-network-request").
# Restored from the bfcache, or from the HTTP cache on a back/forward navigation (browsers
# reuse a stored page there without revalidating), the page makes no request and so counts
# nothing (tests/e2e/test_back_forward.py).
RENDER_CACHE = "private, no-cache"


def page(app: APIGatewayHttpResolver, body: str) -> Response:
    """An HTML page with the caching its count mode allows.

    render mode counts at render time: RENDER_CACHE (per reader, revalidated, kept by the
    back/forward cache). beacon mode pages are the same for everyone: shared caches may keep
    them PAGE_CACHE_SECONDS, browsers revalidate, and a matching If-None-Match gets a
    bodiless 304.
    """
    conf = settings()
    if conf.count_mode != "beacon":
        return compressed(app, html(body, headers={"Cache-Control": RENDER_CACHE}))
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


TEXT = "text/plain; charset=utf-8"


def text(app: APIGatewayHttpResolver, body: str) -> Response:
    """A plain-text file for crawlers (robots.txt), cached like the feed."""
    return xml(app, body, TEXT)


def redirect(location: str) -> Response:
    """A permanent redirect to the canonical URL (301: every client follows it with GET or
    HEAD, the only methods that are redirected here)."""
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
    from newsdesk import menu
    from newsdesk.rendering import labels, render

    t = labels(settings().locale)
    page = render(
        "error.html",
        base_url=base_url(app),
        categories=menu.categories(cached_only=True),  # an error page reads nothing
        title=t[f"{key}_title"],
        text=t[f"{key}_text"],
    )
    return html(page, status, {"Cache-Control": "no-store", **(headers or {})})


def only(app: APIGatewayHttpResolver, path: str, *allowed: str) -> None:
    """Answer 405 with an Allow header for every method `path` does not support.

    The template routes `ANY <path>` to the same function, so these requests arrive here
    instead of at API Gateway's bare 404. HEAD goes wherever GET does (resolve() answers it
    with the GET route), so a path allowing GET allows HEAD too.
    """
    if "GET" in allowed and "HEAD" not in allowed:
        allowed = (*allowed, "HEAD")
    others = [m for m in ALL_METHODS if m not in allowed]
    allow = ", ".join(allowed)

    @app.route(path, method=others)
    def method_not_allowed(**_: str) -> Response:
        return error(
            app,
            405,
            "method_not_allowed",
            f"method {request_method(app)} not allowed; use {allow}",
            {"Allow": allow},
        )


# What the running invocation is (one event at a time per execution environment).
_request: dict[str, bool] = {"head": False, "per_reader": False}


def is_head() -> bool:
    """Whether the running invocation is a HEAD: answered as its GET would be (same status
    and headers, Content-Length included) without a body, and never counted."""
    return _request["head"]


def per_reader() -> None:
    """The GET of this request would send a body that depends on counting this reader (the
    render-mode article page: its count, the presence it registered), which a HEAD, counting
    nothing, cannot know: its answer then has no Content-Length (see _without_body)."""
    _request["per_reader"] = True


def request_method(app: APIGatewayHttpResolver) -> str:
    """The method the client sent (HEAD is routed as GET)."""
    return "HEAD" if is_head() else str(app.current_event.request_context.http.method)


def _without_body(response: dict[str, Any]) -> dict[str, Any]:
    """A HEAD answer: the GET answer's status and headers, Content-Length the size of the
    body GET would send (RFC 9110 section 9.3.2: the server SHOULD send the same header
    fields as for GET; section 8.6: Content-Length in a HEAD response is that size), and no
    body. When GET's body depends on counting the reader (per_reader), the size is not
    known: no Content-Length (section 8.6: "a server MUST NOT send Content-Length in such a
    response unless its field value equals the decimal number of octets that would have
    been sent in the content of a response if the same request had used the GET method";
    section 9.3.2: "a server MAY omit header fields for which a value is determined only
    while generating the content"). API Gateway passes a function's headers through; the
    local server (local/server.py) does as well."""
    body = response.get("body") or ""
    raw = base64.b64decode(body) if response.get("isBase64Encoded") else body.encode("utf-8")
    headers = response.setdefault("headers", {})
    if _request["per_reader"]:
        headers.pop("Content-Length", None)
    else:
        headers["Content-Length"] = str(len(raw))
    response["body"] = ""
    response["isBase64Encoded"] = False
    return response


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
    request_context = event.get("requestContext")
    http = request_context.get("http") if isinstance(request_context, dict) else None
    _request["head"] = isinstance(http, dict) and http.get("method") == "HEAD"
    _request["per_reader"] = False
    if _request["head"]:  # API Gateway's ANY route brings HEAD here: route it as GET
        http = {**(http or {}), "method": "GET"}
        event = {**event, "requestContext": {**(request_context or {}), "http": http}}
    response = app.resolve(event, context)
    headers = event.get("headers") or {}
    if headers.get("x-forwarded-proto", "").split(",")[0].strip() == "https":
        response.setdefault("headers", {})["Strict-Transport-Security"] = HSTS
    return _without_body(response) if _request["head"] else response


def install_error_handlers(app: APIGatewayHttpResolver) -> None:
    """Map domain exceptions to answers in one place; a client never sees a traceback."""

    @app.not_found
    def not_found(_: Exception) -> Response:
        elsewhere = _canonical_redirect(app)
        return elsewhere or error(app, 404, "not_found", "not found")

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


def _canonical_redirect(app: APIGatewayHttpResolver) -> Response | None:
    """A 301 to the page a GET or HEAD of an unrouted path means when it is another
    spelling of a page's URL (newsdesk.urls.canonical_path: a trailing slash, index.html,
    upper case, doubled slashes, a CMS's feed or sitemap address), the query string kept;
    None otherwise (and always under /api/, whose clients are programs)."""
    if _is_api(app) or request_method(app) not in ("GET", "HEAD"):
        return None
    from newsdesk.slugs import canonical_slug
    from newsdesk.urls import canonical_path

    path = canonical_path(app.current_event.raw_path or "/", canonical_slug)
    if path is None:
        return None
    query = app.current_event.raw_query_string
    return redirect(base_url(app) + path + (f"?{query}" if query else ""))

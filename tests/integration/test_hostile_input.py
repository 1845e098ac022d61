"""Hostile input against every route, and hostile content through import and rendering.

1. Property-based (Hypothesis): each events/*.json event with its path, query, headers, body
   or method replaced by random input, run through the function that owns its route (moto).
   No answer may be a 5xx or an exception (API Gateway would send 500), show a traceback,
   or split a header; errors under /api/ are JSON with a message; every answer with a body
   has X-Content-Type-Options and Referrer-Policy, and HTML and JSON ones a CSP. A hang is
   ended by pytest-timeout; how fast answers are is measured by `make bench`, not here (a
   time limit in a test fails on a loaded machine). The one input known to be slow, a long
   User-Agent, is checked by what it triggers: the bot lists are never asked about it.
2. The body rules of the two POST routes (413, 400 with a message), and NFD/NFC/upper-case
   spellings of a slug reaching the same article, as a browser and as API Gateway send them.
3. Random raw requests (bytes on a socket) to the real local HTTP server over DynamoDB Local.
4. Articles whose every field carries XSS payloads, imported with the real importer and
   rendered by the pages function: nothing executable in the HTML but the widget script,
   and a Content-Security-Policy whose hashes are those of the inline script and style.
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import json
import re
import socket
import string
import unicodedata
from http.client import HTTPResponse
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote, urlencode, urlsplit

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from newsdesk import bots
from newsdesk.dal import db

from local.server import read_template
from tests.html_markup import SAFE_SCHEMES, URL_ATTRIBUTES, Markup, url_scheme
from tests.support import ROOT, SLUG, event, event_names, function_for, import_fixture, invoke
from tests.unit.test_sanitize import PAYLOADS, XSS_PAYLOADS

pytestmark = pytest.mark.timeout(240)

# functions/<dir>/app.py of each function in the template, by logical id
FUNCTION_DIRS = {
    logical_id: function.file.parent.name
    for logical_id, function in read_template(ROOT / "template.yaml")[0].items()
}
EVENTS = event_names()
HOST = "abc123.execute-api.us-east-1.amazonaws.com"  # the events' host header
TITLE = "Sơ kết chương trình phối hợp công tác năm 2018 giữa Ban Tuyên giáo Tỉnh ủy và Công an tỉnh"
MAX_BODY = 8 * 1024

# Function-scoped fixtures (moto, the imported article) are set up once per test and shared
# by its examples on purpose: counts and presence pile up, as on a live site.
FUZZ = settings(
    max_examples=300,
    deadline=None,
    database=None,  # no .hypothesis/ folder in the work tree (as tests/hypothesis_profiles.py)
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
    ],
)


@pytest.fixture
def site(
    request: pytest.FixtureRequest, moto_tables: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> dict[str, str]:
    """The fixture article in moto, in COUNT_MODE render (or the mode parametrized
    indirectly: beacon pages have ETags and answer If-None-Match)."""
    monkeypatch.setenv("COUNT_MODE", getattr(request, "param", "render"))
    db.reset()
    import_fixture()
    warm = {function_for(event(name)): name for name in EVENTS}
    for function, name in warm.items():  # each function imported and warm
        invoke(FUNCTION_DIRS[function], event(name))
    return moto_tables


# ------------------------------------------------------------------------------ checking


def call(data: dict[str, Any]) -> dict[str, Any]:
    """Invoke the function that owns the event's route and check what any answer must be.
    Returns the answer with its body as text (base64 and Content-Encoding undone)."""
    function = FUNCTION_DIRS[function_for(data)]
    try:
        response = invoke(function, data)
    except Exception as exc:  # Lambda would report an error and API Gateway answer 500
        raise AssertionError(f"{function} raised {exc!r} for {describe(data)}") from exc
    status = response["statusCode"]
    assert 200 <= status < 500, f"{function} answered {status} for {describe(data)}"
    headers = {k.lower(): str(v) for k, v in (response.get("headers") or {}).items()}
    for name, value in headers.items():
        assert not re.search(r"[\r\n\x00]", name + value), f"header split: {name}: {value!r}"
    body = text_of(response)
    assert "Traceback" not in body and 'File "' not in body, f"traceback: {body[:500]}"
    if body:
        for name in ("x-content-type-options", "referrer-policy"):
            assert name in headers, f"{name} missing on {status} for {describe(data)}"
        if headers.get("content-type", "").startswith(("text/html", "application/json")):
            assert "content-security-policy" in headers, f"no CSP on {describe(data)}"
    if data["requestContext"]["http"]["method"] == "HEAD":  # GET's answer without its body
        assert body == "" and int(headers["content-length"]) >= 0, describe(data)
    elif (data.get("rawPath") or "").startswith("/api/") and status >= 400:
        assert headers.get("content-type") == "application/json", headers
        message = json.loads(body).get("message")
        assert isinstance(message, str) and message, f"no message in {body!r}"
    return {**response, "body": body, "isBase64Encoded": False}


def text_of(response: dict[str, Any]) -> str:
    raw = response.get("body") or ""
    data = base64.b64decode(raw) if response.get("isBase64Encoded") else raw.encode()
    headers = {k.lower(): str(v) for k, v in (response.get("headers") or {}).items()}
    encoding = headers.get("content-encoding", "")
    if encoding == "gzip":
        data = gzip.decompress(data)
    elif encoding == "br":
        import brotli

        data = brotli.decompress(data)
    else:
        assert encoding in ("", "identity"), f"Content-Encoding {encoding!r}"
    return data.decode("utf-8", "replace")


def describe(data: dict[str, Any]) -> str:
    shown = {
        "method": data["requestContext"]["http"]["method"],
        "rawPath": data.get("rawPath"),
        "rawQueryString": data.get("rawQueryString"),
        "headers": data.get("headers"),
        "body": data.get("body"),
        "isBase64Encoded": data.get("isBase64Encoded"),
    }
    return repr(shown)[:2000]


def with_path(data: dict[str, Any], raw_path: str, slug: str | None = None) -> dict[str, Any]:
    data["rawPath"] = raw_path
    data["requestContext"]["http"]["path"] = raw_path
    if slug is not None:
        data["pathParameters"] = {"slug": slug}
    return data


def path_params(template: str | None) -> list[str]:
    """['slug'] for '/api/articles/{slug}/views'."""
    return re.findall(r"\{(\w+)\+?\}", template or "")


def route_path(data: dict[str, Any]) -> str | None:
    """'/articles/{slug}' for 'GET /articles/{slug}'; None for $default."""
    key = str(data["routeKey"])
    return None if key == "$default" else key.split(" ", 1)[1]


# ---------------------------------------------------------------------------- strategies

SPICY = [
    "",
    ".",
    "..",
    "../..",
    "%2e%2e",
    "%2E%2E%2F",
    "..%2f..%2fetc%2fpasswd",
    "%2F",
    "%00",
    "%",
    "%zz",
    "%C0%AE",
    "%ff%fe",
    "%25",
    "%252e",
    "\x00",
    "\x7f",
    "\r\n",
    "\\",
    "//",
    "?",
    "#",
    ";",
    "~",
    "<script>alert(1)</script>",
    "'\"",
    "${jndi:ldap://x}",
    "ﬁ",
    "Ｓｏ",
    "İ",
    "ß",
    "\u202e",
    "\ufeff",
    "\U0001f4a9",
    "Sơ kết",
    unicodedata.normalize("NFD", "Sơ kết"),
    SLUG,
    SLUG.upper(),
    SLUG + "-",
    "-" + SLUG,
    "a" * 201,
]
SEGMENTS = st.one_of(
    st.sampled_from(SPICY),
    st.text(max_size=30),  # any Unicode, control characters included
    st.text(max_size=30).map(lambda s: quote(s, safe="")),
    st.text(max_size=30).map(lambda s: unicodedata.normalize("NFD", s)),
    st.integers(200, 5000).map(lambda n: "a" * n),
)
STANDARD_METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]
# "", "/api", and the literal start of every route in the template ("/articles", "/api/stats")
PREFIXES = st.sampled_from(
    sorted(
        {"", "/api"}
        | {
            route.path.split("{")[0].rstrip("/")
            for route in read_template(ROOT / "template.yaml")[1]
            if route.path
        }
    )
)
METHODS = st.one_of(
    st.sampled_from(
        [*STANDARD_METHODS, "TRACE", "CONNECT", "PROPFIND", "get", "Post", "QUERY", "M-SEARCH"]
    ),
    st.text(string.ascii_letters + "-_", min_size=1, max_size=12),
)

# What HTTP can carry in a header: no CR, LF or NUL (API Gateway never passes them on).
HEADER_CHARS = st.characters(exclude_characters="\r\n\x00", exclude_categories=["Cs"])
TOKEN = string.ascii_lowercase + string.digits + "!#$%&'*+-.^_`|~"
HEADER_NAMES = st.one_of(
    st.sampled_from(
        [
            "user-agent",
            "host",
            "x-forwarded-proto",
            "x-forwarded-for",
            "if-none-match",
            "sec-purpose",
            "purpose",
            "x-moz",
            "x-purpose",
            "cloudfront-viewer-address",
            "x-origin-verify",
            "content-type",
            "content-length",
            "accept",
            "accept-encoding",
            "accept-language",
            "origin",
            "referer",
            "cookie",
        ]
    ),
    st.text(TOKEN, min_size=1, max_size=30),
    st.text(TOKEN.upper(), min_size=1, max_size=30),
)
FOCUS_HEADERS = [
    "user-agent",
    "x-forwarded-proto",
    "if-none-match",
    "sec-purpose",
    "accept-encoding",
]
ODD_VALUES = [
    "",
    " ",
    "Mozilla/5.0",
    "Googlebot/2.1 (+http://www.google.com/bot.html)",
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/126.0 Safari/537.36",
    "curl/8.5.0",
    "() { :; }; echo vulnerable",
    "<script>alert(1)</script>",
    "' OR '1'='1",
    "https",
    "http",
    "https, http",
    ",,,",
    "javascript",
    "prefetch;prerender",
    "*",
    "gzip",
    "br",
    "gzip, deflate, br, zstd",
    "br;q=0, gzip;q=0.5",
    "identity",
    'W/"x", "y", *',
    "1.2.3.4:5",
    "[::1]:443",
    "::::",
    "-1",
    "99999999999999999999",
    "\u202e\ufeff",
    "Mozilla/5.0 " * 1500,
]
HEADER_VALUES = st.one_of(
    st.text(HEADER_CHARS, max_size=100),
    st.sampled_from(ODD_VALUES),
    st.tuples(st.text(HEADER_CHARS, min_size=1, max_size=8), st.integers(500, 2000)).map(
        lambda t: t[0] * t[1]  # up to 16,000 characters
    ),
)

JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _cursor(value: Any) -> str:
    return base64.urlsafe_b64encode(json.dumps(value).encode()).decode()


CURSORS = st.one_of(
    st.text(max_size=200),
    st.binary(max_size=100).map(lambda b: base64.urlsafe_b64encode(b).decode()),
    JSON_VALUES.map(_cursor),
    st.fixed_dictionaries(
        {
            "slug": st.text(max_size=30),
            "status": st.sampled_from(["published", "draft", ""]),
            "published_at": st.text(max_size=30),
        }
    ).map(_cursor),
)
QUERY_KEYS = st.one_of(st.just("cursor"), st.text(max_size=20))
QUERIES = st.dictionaries(QUERY_KEYS, st.one_of(CURSORS, st.text(max_size=50)), max_size=4)

# (body, isBase64Encoded)
BODIES = st.one_of(
    st.just((None, False)),
    st.just(("", False)),
    st.just(("", True)),
    st.text(max_size=300).map(lambda t: (t, False)),
    JSON_VALUES.map(lambda v: (json.dumps(v), False)),
    st.lists(JSON_VALUES, max_size=3).map(lambda v: (json.dumps(v), False)),
    JSON_VALUES.map(lambda v: (_b64(json.dumps(v).encode()), True)),
    st.binary(max_size=300).map(lambda b: (_b64(b), True)),
    st.text(string.ascii_letters + string.digits + "+/=", max_size=100).map(lambda t: (t, True)),
    st.text(max_size=50).map(lambda t: (t, True)),  # not base64 at all
    st.integers(MAX_BODY - 16, 40_000).map(lambda n: ("x" * n, False)),
    st.integers(MAX_BODY - 16, 40_000).map(lambda n: (_b64(b"{" * n), True)),
    st.integers(2_700, 4_000).map(lambda n: ("ệ" * n, False)),  # 3 bytes a character
)


POST_ROUTES = ["visits", "article-view-beacon"]


def events_around(*focus: str) -> st.SearchStrategy[str]:
    """Any event, but half the time one of the routes that reads the part being mutated."""
    return st.one_of(st.sampled_from(focus), st.sampled_from(EVENTS))


@st.composite
def path_events(draw: st.DrawFn) -> dict[str, Any]:
    data = event(draw(events_around("article", "article-views", "article-view-beacon")))
    template = route_path(data)
    if template and path_params(template) and draw(st.booleans()):
        raw_path, params = template, {}
        for name in path_params(template):
            params[name] = draw(SEGMENTS)
            raw = quote(params[name], safe="") if draw(st.booleans()) else params[name]
            raw_path = raw_path.replace("{" + name + "}", raw).replace("{" + name + "+}", raw)
        data["pathParameters"] = params
        return with_path(data, raw_path)
    segments = draw(st.lists(SEGMENTS, max_size=5))
    raw_path = draw(PREFIXES) + "/" + "/".join(segments)
    if draw(st.integers(0, 9)) == 0:  # not even starting with a slash
        raw_path = raw_path.lstrip("/")
    return with_path(data, raw_path)


def _set_query(data: dict[str, Any], query: dict[str, str], raw: str | None) -> None:
    data["rawQueryString"] = urlencode(query) if raw is None else raw
    if query:
        data["queryStringParameters"] = query
    else:
        data.pop("queryStringParameters", None)


@st.composite
def query_events(draw: st.DrawFn) -> dict[str, Any]:
    data = event(draw(events_around("index")))
    _set_query(data, draw(QUERIES), draw(st.none() | st.text(max_size=200)))
    return data


def _set_headers(draw: st.DrawFn, data: dict[str, Any]) -> None:
    base = data["headers"]
    dropped = draw(st.sets(st.sampled_from(sorted(base))))
    headers = {k: v for k, v in base.items() if k not in dropped}
    for name in FOCUS_HEADERS:  # the headers the code reads, each changed half the time
        if draw(st.booleans()):
            headers[name] = draw(st.one_of(st.sampled_from(ODD_VALUES), HEADER_VALUES))
    headers.update(draw(st.dictionaries(HEADER_NAMES, HEADER_VALUES, max_size=6)))
    data["headers"] = headers
    data["requestContext"]["http"]["userAgent"] = headers.get("user-agent", "")


@st.composite
def header_events(draw: st.DrawFn) -> dict[str, Any]:
    data = event(draw(events_around("article", "visits", "article-view-beacon", "index")))
    _set_headers(draw, data)
    return data


@st.composite
def body_events(draw: st.DrawFn) -> dict[str, Any]:
    data = event(draw(events_around(*POST_ROUTES)))
    body, encoded = draw(BODIES)
    if body is None:
        data.pop("body", None)
    else:
        data["body"] = body
    data["isBase64Encoded"] = encoded
    if draw(st.booleans()):
        data["headers"]["content-type"] = draw(
            st.sampled_from(["application/json", "text/plain", "application/octet-stream", ""])
        )
    return data


@st.composite
def method_events(draw: st.DrawFn) -> dict[str, Any]:
    data = event(draw(st.sampled_from(EVENTS)))
    data["requestContext"]["http"]["method"] = draw(METHODS)
    return data


@st.composite
def anything_events(draw: st.DrawFn) -> dict[str, Any]:
    """Every part at once."""
    data = draw(path_events())
    data["requestContext"]["http"]["method"] = draw(METHODS)
    _set_query(data, draw(QUERIES), draw(st.none() | st.text(max_size=100)))
    _set_headers(draw, data)
    body, encoded = draw(BODIES)
    data["body"], data["isBase64Encoded"] = body, encoded
    return data


# ------------------------------------------------------------------- 1. random requests


@FUZZ
@given(data=path_events())
def test_random_paths_never_fail(site: dict[str, str], data: dict[str, Any]) -> None:
    call(data)


@FUZZ
@given(data=query_events())
def test_random_query_strings_never_fail(site: dict[str, str], data: dict[str, Any]) -> None:
    call(data)


@pytest.mark.parametrize("site", ["render", "beacon"], indirect=True)
@FUZZ
@given(data=header_events())
def test_random_headers_never_fail(site: dict[str, str], data: dict[str, Any]) -> None:
    call(data)


@FUZZ
@given(data=body_events())
def test_random_bodies_never_fail(site: dict[str, str], data: dict[str, Any]) -> None:
    call(data)


@FUZZ
@given(data=method_events())
def test_random_methods_never_fail(site: dict[str, str], data: dict[str, Any]) -> None:
    response = call(data)
    method = data["requestContext"]["http"]["method"]
    if method.upper() not in STANDARD_METHODS:  # Powertools matches methods in any case
        assert response["statusCode"] in (404, 405), (method, response["statusCode"])


@pytest.mark.parametrize("site", ["render", "beacon"], indirect=True)
@settings(FUZZ, max_examples=400)
@given(data=anything_events())
def test_random_everything_never_fails(site: dict[str, str], data: dict[str, Any]) -> None:
    call(data)


class DetectorSpy:
    """The bot lists (newsdesk.bots' matcher), with every User-Agent they are asked about
    recorded."""

    def __init__(self) -> None:
        self.real = bots._matcher()
        self.asked: list[str] = []

    def matches(self, user_agent: str) -> bool:
        self.asked.append(user_agent)
        return bool(self.real.matches(user_agent))


def article_views() -> int:
    return int(json.loads(call(event("article-views"))["body"])["views"])


def test_long_user_agent_is_a_bot_without_asking_crawlerdetect(
    site: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A User-Agent longer than bots.MAX_USER_AGENT is classified by its length alone
    (that bounds the work of one decision): the page is served, the view is not counted,
    the lists never see it."""
    spy = DetectorSpy()
    monkeypatch.setattr(bots, "_matcher", lambda: spy)
    before = article_views()
    long_ua = "Mozilla/5.0 (X11; Linux x86_64) " + "a" * 8000
    assert call(event("article", headers={"user-agent": long_ua}))["statusCode"] == 200
    assert spy.asked == []
    assert article_views() == before
    # The spy is on the handler's path: an ordinary reader's User-Agent is asked about.
    assert call(event("article", source_ip="198.51.0.99"))["statusCode"] == 200
    assert spy.asked == [event("article")["headers"]["user-agent"]]
    assert article_views() == before + 1


def test_fuzzing_reaches_every_route(site: dict[str, str]) -> None:
    """The unmutated events get their usual answers through the same checks, so `call`
    does not pass anything by accident (a 200 page, a 404, a 405, a JSON answer)."""
    statuses = {name: call(event(name))["statusCode"] for name in EVENTS}
    assert statuses["article"] == 200 and statuses["visits"] == 200
    assert statuses["article-unknown"] == 404 and statuses["article-views-unknown"] == 404
    assert statuses["visits-get"] == 405 and statuses["index-post"] == 405


# ------------------------------------------------------------------ 2. bodies and slugs


def post(name: str, body: str | None, encoded: bool = False) -> dict[str, Any]:
    data = event(name, isBase64Encoded=encoded)
    if body is not None:
        data["body"] = body
    return call(data)


def json_message(response: dict[str, Any]) -> str:
    assert response["headers"]["Content-Type"] == "application/json"
    message = json.loads(response["body"])["message"]
    assert isinstance(message, str) and message
    return message


def padded(size: int) -> str:
    """A JSON object of exactly `size` UTF-8 bytes."""
    text = json.dumps({"pad": "x" * (size - 11)})
    assert len(text.encode()) == size
    return text


OVERSIZED = {
    "8 KB + 1": (padded(MAX_BODY + 1), False),
    "1 MB": (padded(1024 * 1024), False),
    "3,011 characters, 9,000+ bytes": (json.dumps({"pad": "ệ" * 3000}, ensure_ascii=False), False),
    "base64 of 8 KB + 3": (_b64(padded(MAX_BODY + 3).encode()), True),
}


@pytest.mark.parametrize("name", POST_ROUTES)
def test_oversized_body_is_413_with_a_message(site: dict[str, str], name: str) -> None:
    for label, (body, encoded) in OVERSIZED.items():
        response = post(name, body, encoded)
        assert response["statusCode"] == 413, label
        assert "8192" in json_message(response), label


@pytest.mark.parametrize("name", POST_ROUTES)
def test_body_of_exactly_8_kb_is_accepted(site: dict[str, str], name: str) -> None:
    assert post(name, padded(MAX_BODY))["statusCode"] == 200


def test_base64_body_of_exactly_8_kb_is_accepted(site: dict[str, str]) -> None:
    assert post("visits", _b64(padded(MAX_BODY).encode()), True)["statusCode"] == 200


MALFORMED = [  # (body, isBase64Encoded, what the message says)
    ("{", False, "not valid JSON"),
    ('{"a": 1,}', False, "not valid JSON"),
    ("{'a': 1}", False, "not valid JSON"),
    ("\ufeff{}", False, "not valid JSON"),
    ("[1,2]", False, "JSON object"),
    ("null", False, "JSON object"),
    ("1", False, "JSON object"),
    ('"text"', False, "JSON object"),
    (_b64(b"\xff\xfe{}"), True, "not valid JSON"),  # not UTF-8
    (_b64(b"[]"), True, "JSON object"),
    ("%%%not base64", True, "not valid JSON"),
]


@pytest.mark.parametrize("name", POST_ROUTES)
def test_malformed_body_is_400_with_a_message(site: dict[str, str], name: str) -> None:
    for body, encoded, says in MALFORMED:
        response = post(name, body, encoded)
        assert response["statusCode"] == 400, (body, encoded)
        assert says in json_message(response), (body, encoded)


@pytest.mark.parametrize("name", POST_ROUTES)
def test_empty_or_object_body_is_accepted(site: dict[str, str], name: str) -> None:
    for body, encoded in [
        (None, False),
        ("", False),
        ("{}", False),
        ('{"any": [1, "ệ"]}', False),
        (_b64(b"{}"), True),
    ]:
        response = post(name, body, encoded)
        assert response["statusCode"] == 200, (body, encoded)
        assert "message" not in json.loads(response["body"])


@pytest.mark.parametrize(
    "spelling",
    [
        pytest.param(quote(unicodedata.normalize("NFC", TITLE)), id="NFC-percent-encoded"),
        pytest.param(quote(unicodedata.normalize("NFD", TITLE)), id="NFD-percent-encoded"),
        pytest.param(unicodedata.normalize("NFC", TITLE), id="NFC-decoded"),
        pytest.param(unicodedata.normalize("NFD", TITLE), id="NFD-decoded"),
        pytest.param(SLUG.upper(), id="upper-case"),
    ],
)
def test_other_spellings_of_a_slug_reach_the_same_article(
    site: dict[str, str], spelling: str
) -> None:
    slug = unicodedata.normalize("NFC", spelling) if "%" not in spelling else spelling
    page = call(with_path(event("article"), f"/articles/{spelling}", slug))
    assert page["statusCode"] == 301, page.get("body", "")[:200]
    assert page["headers"]["Location"] == f"https://{HOST}/articles/{SLUG}"
    canonical = call(with_path(event("article"), f"/articles/{SLUG}", SLUG))
    assert canonical["statusCode"] == 200

    api = call(with_path(event("article-views"), f"/api/articles/{spelling}/views", slug))
    assert api["statusCode"] == 200, api["body"]
    expected = call(event("article-views"))
    assert json.loads(api["body"]) == json.loads(expected["body"])
    assert json.loads(api["body"])["slug"] == SLUG


# --------------------------------------------------- 2b. forged cursors on DynamoDB Local


@pytest.mark.parametrize(
    "published_at",
    [
        pytest.param("2018-11-27T01:12:00Z", id="in-the-past"),
        pytest.param("9999-01-01T00:00:00Z", id="in-the-future"),
    ],
)
def test_forged_cursor_is_never_a_5xx(ddb_local_tables: dict[str, str], published_at: str) -> None:
    """moto does not validate ExclusiveStartKey against the key condition; DynamoDB does."""
    import_fixture()
    cursor = _cursor({"slug": "forged", "status": "published", "published_at": published_at})
    data = event(
        "index", rawQueryString=f"cursor={cursor}", queryStringParameters={"cursor": cursor}
    )
    response = call(data)
    if response["statusCode"] == 301:  # spelled otherwise than the site spells its cursors
        query = urlsplit(response["headers"]["Location"]).query
        cursor = unquote(query.removeprefix("cursor="))
        data = event("index", rawQueryString=query, queryStringParameters={"cursor": cursor})
        response = call(data)
    assert response["statusCode"] in (200, 400)


# --------------------------------------------------------- 3. the real local HTTP server

RAW_PATH_CHARS = st.one_of(
    st.sampled_from(["/", ".", "..", "%", "%2F", "%00", "%ff", "?", "#", "&", "=", ";", "~"]),
    st.sampled_from(["/articles/", "/api/", "/api/articles/", "/views", "/api/visits"]),
    st.text(max_size=10),
    st.text(max_size=10).map(lambda s: quote(unicodedata.normalize("NFD", s))),
)
RAW_PATHS = st.lists(RAW_PATH_CHARS, max_size=12).map(lambda parts: "/" + "".join(parts))
# Anything but CR and LF, which would end the request line (an HTTP/0.9 request, rightly
# answered without a status line).
RAW_BYTES = st.one_of(
    RAW_PATHS.map(lambda p: p.encode("utf-8")),
    st.binary(max_size=40).map(lambda b: b"/" + b),  # not UTF-8, controls, spaces
    st.integers(100, 9000).map(lambda n: b"/articles/" + b"a" * n),
).map(lambda b: b.replace(b"\r", b"").replace(b"\n", b""))
RAW_METHODS = st.sampled_from(
    [b"GET", b"HEAD", b"POST", b"PUT", b"DELETE", b"OPTIONS", b"PATCH", b"TRACE", b"FOO"]
)
RAW_HEADER_VALUES = st.one_of(
    st.sampled_from([v for v in ODD_VALUES if v.isascii()]),
    st.binary(max_size=60).map(
        lambda b: b.replace(b"\r", b"").replace(b"\n", b"").decode("latin-1")
    ),
)


# Not a time limit on answers: only a server that sends nothing for this long (a hang) fails
# the test here, with the request in the message, before pytest-timeout would.
HANG = 60.0


def raw_request(base_url: str, request: bytes, timeout: float = HANG) -> tuple[int, bytes]:
    """Send bytes as they are (http.client would refuse or encode them) and read the answer;
    a server that sends nothing for `timeout` seconds (a hang) fails the test."""
    parts = urlsplit(base_url)
    with socket.create_connection((parts.hostname, parts.port), timeout=timeout) as conn:
        conn.sendall(request)
        response = HTTPResponse(conn, method=request.split(b" ", 1)[0].decode("latin-1"))
        response.begin()
        return response.status, response.read()


@settings(FUZZ, max_examples=50)
@given(
    method=RAW_METHODS,
    path=RAW_BYTES,
    query=st.none() | st.text(max_size=40).map(lambda q: quote(q, safe="=&")),
    headers=st.dictionaries(st.text(TOKEN, min_size=1, max_size=20), RAW_HEADER_VALUES, max_size=4),
    body=st.binary(max_size=200) | st.integers(8000, 12000).map(lambda n: b"x" * n),
)
def test_local_server_survives_random_raw_requests(
    local_server: str,
    method: bytes,
    path: bytes,
    query: str | None,
    headers: dict[str, str],
    body: bytes,
) -> None:
    target = path + (b"?" + query.encode() if query is not None else b"")
    lines = [method + b" " + target + b" HTTP/1.1", b"Host: 127.0.0.1", b"Connection: close"]
    lines += [
        f"{k}: {v}".encode("latin-1")
        for k, v in headers.items()
        if k not in ("host", "connection", "content-length", "transfer-encoding")
    ]
    lines.append(f"Content-Length: {len(body)}".encode())
    request = b"\r\n".join(lines) + b"\r\n\r\n" + body
    status, answer = raw_request(local_server, request)
    assert status < 500, f"{status} for {request[:300]!r}: {answer[:300]!r}"
    assert b"Traceback" not in answer and b'File "' not in answer


def test_local_server_answers_raw_requests(local_server: str) -> None:
    """The raw client reads real answers (so the random test above can fail)."""
    import_fixture()
    status, answer = raw_request(
        local_server,
        b"GET /api/articles/" + SLUG.encode() + b"/views HTTP/1.1\r\nHost: x\r\n"
        b"Connection: close\r\n\r\n",
    )
    assert (status, json.loads(answer)["slug"]) == (200, SLUG)
    status, answer = raw_request(
        local_server,
        b"POST /api/visits HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Length: 1\r\n\r\n{",
    )
    assert status == 400 and json.loads(answer)["message"]


@pytest.mark.parametrize("form", ["NFC", "NFD"])
def test_vietnamese_spellings_over_http_reach_the_article(local_server: str, form: str) -> None:
    """What a browser sends for a typed or pasted Vietnamese title: UTF-8, percent-encoded."""
    import_fixture()
    path = "/articles/" + quote(unicodedata.normalize(form, TITLE))
    status, _ = raw_request(
        local_server, f"GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode()
    )
    assert status == 301
    path = "/api/articles/" + quote(unicodedata.normalize(form, TITLE)) + "/views"
    status, answer = raw_request(
        local_server, f"GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode()
    )
    assert (status, json.loads(answer).get("slug")) == (200, SLUG)


def test_local_server_answers_a_non_ascii_host(local_server: str) -> None:
    # Random Host values are kept out of the random test above for this reason.
    status, _ = raw_request(
        local_server,
        b"GET /articles/ABC HTTP/1.1\r\nHost: \xe1\xbb\x87.example\r\nConnection: close\r\n\r\n",
    )
    assert status < 500


# ------------------------------------------------------------ 4. XSS: import, then render


def import_json(tmp_path: Path, articles: list[dict[str, Any]]) -> None:
    from newsdesk.importer import import_paths

    path = tmp_path / "hostile.json"
    path.write_text(json.dumps(articles, ensure_ascii=False), encoding="utf-8")
    summary = import_paths([path], report=lambda _: None)
    assert summary.imported == len(articles) and not summary.rejected, summary


XSS_TEXT = "".join(XSS_PAYLOADS[:6]) + ' "onmouseover="window.__xss=true" x=\''
HOSTILE_FIELDS: dict[str, Any] = {
    "title": "Tin nóng " + XSS_TEXT,
    "byline": "<b onmouseover=alert(1)>Phóng viên</b>" + XSS_PAYLOADS[0],
    "summary": "Tóm tắt " + XSS_TEXT,
    "category": "<svg onload=alert(1)>Thời sự",
    "published_at": "2018-11-27T08:12:00+07:00",
    "views": 7,
}
HOSTILE_ARTICLES = [
    {  # rich body: sanitised at import, rendered as HTML
        **HOSTILE_FIELDS,
        "slug": "tin-xss-html",
        "body_html": "<p>Mở đầu</p>" + "".join(f"<p>{p}</p>" for p in XSS_PAYLOADS + PAYLOADS),
    },
    {  # plain body: every paragraph autoescaped
        **HOSTILE_FIELDS,
        "slug": "tin-xss-text",
        "body": ["Mở đầu " + XSS_TEXT, *XSS_PAYLOADS, *PAYLOADS],
    },
]

# Elements that load or run something whatever their attributes. (The site's own pages may
# draw inline SVG, e.g. a chart: SVG is checked like the rest, for handlers and URLs.)
DANGEROUS_TAGS = {
    "iframe",
    "frame",
    "object",
    "embed",
    "applet",
    "base",
    "form",
    "template",
    "noscript",
    "link",
}


def page_of(html: str) -> Markup:
    """The page's elements, and the text of its <script>, <style> and <h1>."""
    return Markup(html, text_of=("script", "style", "h1"))


def assert_nothing_runs(html: str) -> Markup:
    """The page's only script is the widget (an article adds one JSON-LD data block, which
    no browser runs, and which parses as JSON: nothing closed it early); no handler, no
    script URL, no active element."""
    page = page_of(html)
    scripts = page.all("script")
    runnable = [attrs for attrs in scripts if attrs.get("type") != "application/ld+json"]
    assert len(runnable) == 1 and runnable[0].get("id") == "nd-widget", scripts
    assert len(scripts) - len(runnable) <= 1, scripts
    for attrs, text in zip(scripts, page.text["script"], strict=True):
        if attrs.get("type") == "application/ld+json":
            assert json.loads(text)["@type"] == "NewsArticle"
    assert len(page.all("style")) == 1, "a second <style> element"
    feed_link = {"rel": "alternate", "type": "application/rss+xml"}
    for tag, attrs in page.tags():
        assert tag not in DANGEROUS_TAGS or (
            tag == "link"
            and (
                attrs.get("rel") in ("icon", "canonical")
                or {k: attrs.get(k) for k in feed_link} == feed_link
            )
        ), (tag, attrs)
        handlers = [name for name in attrs if name.startswith("on")]
        assert not handlers, f"<{tag}> has {handlers}"
        assert "style" not in attrs, f"<{tag} style=...>"
        for name in URL_ATTRIBUTES & set(attrs):
            scheme = url_scheme(attrs[name])
            if (tag, attrs.get("rel"), attrs[name]) == ("link", "icon", "data:,"):
                continue  # base.html's empty favicon: no request for /favicon.ico
            assert scheme in (None, *SAFE_SCHEMES), f"<{tag} {name}={attrs[name]!r}>"
        if tag == "meta":
            assert "http-equiv" not in attrs, attrs
    return page


def sha256_source(text: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode()).digest()).decode() + "'"


def csp(response: dict[str, Any]) -> dict[str, list[str]]:
    header = response["headers"]["Content-Security-Policy"]
    directives: dict[str, list[str]] = {}
    for part in header.split(";"):
        name, *values = part.split()
        directives[name] = values
    return directives


@pytest.fixture
def hostile(site: dict[str, str], tmp_path: Path) -> dict[str, str]:
    import_json(tmp_path, HOSTILE_ARTICLES)
    return site


def article_event(slug: str, proto: str = "https") -> dict[str, Any]:
    data = with_path(event("article"), f"/articles/{slug}", slug)
    data["headers"]["x-forwarded-proto"] = proto
    return data


def test_import_sanitises_body_html_and_keeps_text_fields_as_text(hostile: dict[str, str]) -> None:
    from newsdesk.articles import get_article

    stored = get_article("tin-xss-html")
    assert "<script" not in stored.body_html.lower() and "onerror" not in stored.body_html
    assert stored.body_html.startswith("<p>Mở đầu</p>")
    # Text fields are stored as written (normalised): escaping is the template's job.
    assert stored.title == " ".join(HOSTILE_FIELDS["title"].split())


@pytest.mark.parametrize("slug", ["tin-xss-html", "tin-xss-text"])
@pytest.mark.parametrize("mode", ["render", "beacon"])
def test_hostile_article_page_has_nothing_that_runs(
    hostile: dict[str, str], monkeypatch: pytest.MonkeyPatch, slug: str, mode: str
) -> None:
    monkeypatch.setenv("COUNT_MODE", mode)
    db.reset()
    response = call(article_event(slug))
    assert response["statusCode"] == 200
    page = assert_nothing_runs(response["body"])
    # The title is shown as text, escaped, not dropped (autoescape, not stripping).
    assert page.text["h1"] == [" ".join(HOSTILE_FIELDS["title"].split())]
    assert "&lt;script&gt;window.__xss=true&lt;/script&gt;" in response["body"]
    if slug == "tin-xss-html":
        assert "<p>Mở đầu</p>" in response["body"]  # the sanitised rich body is there
    else:
        assert "<p>&lt;img src=x onerror=window.__xss=true&gt;</p>" in response["body"]


def test_hostile_titles_on_the_index_are_text(hostile: dict[str, str]) -> None:
    response = call(event("index"))
    assert response["statusCode"] == 200
    assert_nothing_runs(response["body"])
    assert response["body"].count("Tin nóng &lt;script&gt;window.__xss=true") == 2


ROUTES = read_template(ROOT / "template.yaml")[1]


def get(url: str) -> dict[str, Any]:
    """GET a URL of the site through the function API Gateway would route it to."""
    raw_path = urlsplit(url).path
    route = next(r for r in ROUTES if r.match("GET", raw_path) is not None)
    data = with_path(event("index"), raw_path)
    data["routeKey"] = data["requestContext"]["routeKey"] = route.key
    data["pathParameters"] = route.match("GET", raw_path)
    return call(data)


def test_every_page_linked_from_hostile_articles_has_nothing_that_runs(
    hostile: dict[str, str],
) -> None:
    """Category pages, stats pages, whatever the article and index link to on this site."""
    seen: set[str] = set()
    queue = [f"https://{HOST}/", f"https://{HOST}/articles/tin-xss-html"]
    while queue and len(seen) < 30:
        url = queue.pop()
        if url in seen:
            continue
        seen.add(url)
        response = get(url)
        if response["statusCode"] != 200 or "text/html" not in response["headers"].get(
            "Content-Type", ""
        ):
            continue
        page = assert_nothing_runs(response["body"])
        for attrs in page.all("a"):
            href = attrs.get("href", "").split("?")[0]
            if href.startswith(f"https://{HOST}/") and "/articles/so-ket" not in href:
                queue.append(href)
    assert len(seen) >= 4, seen  # the index, both hostile articles, and what they link to


@pytest.mark.parametrize("mode", ["render", "beacon"])
@pytest.mark.parametrize(
    "name", ["article", "index", "not-found", "article-unknown", "article-post"]
)
def test_csp_hashes_are_those_of_the_inline_script_and_style(
    hostile: dict[str, str], monkeypatch: pytest.MonkeyPatch, name: str, mode: str
) -> None:
    monkeypatch.setenv("COUNT_MODE", mode)
    db.reset()
    response = call(event(name))
    assert response["headers"]["Content-Type"].startswith("text/html")
    page = page_of(response["body"])
    policy = csp(response)
    widget = [attrs.get("id") for attrs in page.all("script")].index("nd-widget")
    assert policy["script-src"] == [sha256_source(page.text["script"][widget])]
    assert policy["style-src"] == [sha256_source(page.text["style"][0])]
    assert policy["default-src"] == ["'none'"]
    assert policy["base-uri"] == ["'none'"]
    assert policy["frame-ancestors"] == ["'none'"]
    # imported video and audio can play (default-src 'none' would block them), from https only
    assert policy["media-src"] == ["'self'", "https:"]
    assert "object-src" not in policy or policy["object-src"] == ["'none'"]
    header = response["headers"]["Content-Security-Policy"]
    assert "unsafe-inline" not in header and "unsafe-eval" not in header
    assert "unsafe-hashes" not in header and "*" not in header.replace("*.", "")


def test_json_answers_get_a_deny_all_csp(hostile: dict[str, str]) -> None:
    for name in ("article-views", "visits", "stats", "article-views-unknown", "visits-get"):
        response = call(event(name))
        assert response["headers"]["Content-Type"] == "application/json"
        assert csp(response)["default-src"] == ["'none'"], name
        assert response["headers"]["X-Content-Type-Options"] == "nosniff"


@pytest.mark.parametrize("name", ["article", "index", "not-found", "article-views", "visits"])
def test_security_headers_and_hsts_only_over_https(hostile: dict[str, str], name: str) -> None:
    secure = call(event(name))
    plain = call(event(name, headers={"x-forwarded-proto": "http"}))
    for response in (secure, plain):
        headers = response["headers"]
        assert headers["X-Content-Type-Options"] == "nosniff"
        assert headers["Referrer-Policy"] in (
            "no-referrer",
            "same-origin",
            "strict-origin",
            "strict-origin-when-cross-origin",
        )
        assert "Content-Security-Policy" in headers
    hsts = secure["headers"]["Strict-Transport-Security"]
    assert re.fullmatch(r"max-age=(\d+)(; includeSubDomains)?(; preload)?", hsts), hsts
    assert int(hsts.split("=")[1].split(";")[0]) >= 15552000  # at least 180 days
    assert "Strict-Transport-Security" not in plain["headers"]


def test_forwarded_headers_cannot_put_script_urls_in_the_page(site: dict[str, str]) -> None:
    data = event("index", headers={"x-forwarded-proto": "javascript", "host": "x%0aalert(1)//"})
    assert_nothing_runs(call(data)["body"])

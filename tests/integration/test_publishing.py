"""The site as crawlers, link previews and monitors see it (issue 14, items 9, 10 and 11),
over real HTTP through the local server (API Gateway's stand-in: routes from template.yaml,
payload 2.0) and DynamoDB Local behind the fault proxy:

- HEAD works wherever GET does: same status and headers, Content-Length included, no body,
  never counted;
- every other spelling of a page's URL gets a 301 to its one URL;
- the last "Older" link never leads to an empty page (DynamoDB's LastEvaluatedKey at an
  exact Limit), and page N has its own title and canonical URL;
- robots.txt, the sitemap's category pages and last edits, an article's JSON-LD and share
  picture as stored.
"""

from __future__ import annotations

import base64
import gzip
import http.client
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit
from xml.etree import ElementTree

import boto3
import pytest
from newsdesk.config import settings

from local.server import read_template
from tests.html_markup import Markup
from tests.support import PHONE_UA, ROOT, SLUG, import_fixture

SITEMAP = "{http://www.sitemaps.org/schemas/sitemap/0.9}"
# Headers that differ between any two answers (per request or per environment).
VOLATILE = {"apigw-requestid", "x-local-environment", "date", "server", "content-length"}
READER = {"user-agent": PHONE_UA, "accept": "text/html"}


def request(
    base: str, method: str, path: str, headers: dict[str, str] | None = None
) -> tuple[int, dict[str, str], bytes]:
    """One request with the path sent exactly as given (no redirect followed)."""
    parts = urlsplit(base)
    connection = http.client.HTTPConnection(parts.hostname or "", parts.port, timeout=60)
    try:
        connection.request(method, path, headers=headers or {})
        response = connection.getresponse()
        body = response.read()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, body
    finally:
        connection.close()


def views(base: str, slug: str = SLUG) -> int:
    status, _, body = request(base, "GET", f"/api/articles/{slug}/views")
    assert status == 200, body
    return int(json.loads(body)["views"])


def import_json(tmp_path: Path, items: list[dict[str, Any]]) -> None:
    from newsdesk.importer import import_paths

    path = tmp_path / "articles.json"
    path.write_text(json.dumps(items, ensure_ascii=False), encoding="utf-8")
    summary = import_paths([path], report=lambda _: None)
    assert not summary.rejected, summary.rejected


def article(n: int, **fields: Any) -> dict[str, Any]:
    return {
        "slug": f"bai-so-{n}",
        "title": f"Bài số {n}",
        "body": [f"Nội dung {n}."],
        "published_at": f"2024-01-{n:02d}T08:00:00+07:00",
        "category": "Thời sự",
        **fields,
    }


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch) -> Iterator[pytest.MonkeyPatch]:
    """Settings for the functions' environments (new ones start after a change)."""
    for name in ("COUNT_MODE", "PAGE_SIZE", "SITE_URL", "SITE_IMAGE_URL", "VIEW_DEDUPE_SECONDS"):
        monkeypatch.delenv(name, raising=False)
    settings.cache_clear()
    yield monkeypatch
    settings.cache_clear()


# ---- item 9: HEAD --------------------------------------------------------------------------


def test_the_template_sends_head_wherever_get_goes() -> None:
    """API Gateway matches a route's exact method first, then ANY: every GET path's HEAD
    reaches the same function (through its ANY route), as the local server routes it."""
    _, routes = read_template(ROOT / "template.yaml")
    for get in [route for route in routes if route.method == "GET" and route.path]:
        sample = re.sub(r"\{[^}]+\}", "x", get.path or "")
        head = next(route for route in routes if route.match("HEAD", sample) is not None)
        assert head.function == get.function, (get.key, head.key)
        assert head.method in ("HEAD", "ANY")


PAGES_AND_FILES = [
    "/",
    f"/articles/{SLUG}/stats",
    "/feed.xml",
    "/sitemap.xml",
    "/robots.txt",
    "/api/stats",
    f"/api/articles/{SLUG}/views",
]


@pytest.mark.parametrize("encoding", ["identity", "gzip"])
def test_head_answers_as_get_without_a_body(
    env: pytest.MonkeyPatch, local_server: str, encoding: str
) -> None:
    import_fixture()
    compressed = []
    for path in PAGES_AND_FILES:
        asked = {**READER, "accept-encoding": encoding}
        status, got, body = request(local_server, "GET", path, asked)
        head_status, head, head_body = request(local_server, "HEAD", path, asked)
        assert (head_status, status) == (200, 200), path
        assert head_body == b"", path
        assert int(head["content-length"]) == len(body) > 0, path
        same = {k: v for k, v in got.items() if k not in VOLATILE}
        assert {k: v for k, v in head.items() if k not in VOLATILE} == same, path
        if got.get("content-encoding") == "gzip":
            gzip.decompress(body)  # what HEAD measured is the compressed body GET sent
            compressed.append(path)
    assert bool(compressed) == (encoding == "gzip"), compressed


def test_head_of_an_article_is_never_counted(env: pytest.MonkeyPatch, local_server: str) -> None:
    env.setenv("VIEW_DEDUPE_SECONDS", "0")  # every GET of the reader would count
    import_fixture()
    before = views(local_server)
    for _ in range(3):
        status, headers, body = request(local_server, "HEAD", f"/articles/{SLUG}", READER)
        assert status == 200 and body == b""
        assert headers["content-type"].startswith("text/html")
        # Fresh-clone finding 24f: HEAD said 13,206 bytes, the reader's counted GET sent
        # 13,219 (its count, its presence): a size HEAD cannot know is left out (RFC 9110
        # sections 8.6 and 9.3.2).
        assert "content-length" not in headers
    assert views(local_server) == before
    status, got, body = request(local_server, "GET", f"/articles/{SLUG}", READER)
    assert status == 200 and views(local_server) == before + 1  # a GET does count
    assert int(got["content-length"]) == len(body)


def test_head_in_beacon_mode_has_the_pages_etag_and_length(
    env: pytest.MonkeyPatch, local_server: str
) -> None:
    env.setenv("COUNT_MODE", "beacon")
    import_fixture()
    _, got, body = request(local_server, "GET", f"/articles/{SLUG}", READER)
    _, head, empty = request(local_server, "HEAD", f"/articles/{SLUG}", READER)
    assert empty == b"" and head["etag"] == got["etag"]
    assert int(head["content-length"]) == len(body)
    status, cached, _ = request(
        local_server, "HEAD", f"/articles/{SLUG}", {**READER, "if-none-match": got["etag"]}
    )
    assert status == 304 and cached["etag"] == got["etag"]


def test_head_elsewhere_answers_what_get_would(env: pytest.MonkeyPatch, local_server: str) -> None:
    status, headers, body = request(local_server, "HEAD", "/no-such-page")
    assert (status, body) == (404, b"") and int(headers["content-length"]) > 0
    status, headers, body = request(local_server, "HEAD", "/api/visits")
    assert (status, headers["allow"], body) == (405, "POST", b"")
    status, headers, _ = request(local_server, "DELETE", "/feed.xml")
    assert (status, headers["allow"]) == (405, "GET, HEAD")


# ---- item 9: one URL per page ----------------------------------------------------------------

CATEGORY_NFC = "/categories/Th%E1%BB%9Di%20s%E1%BB%B1/"  # "Thời sự/", percent-encoded UTF-8


@pytest.mark.parametrize(
    ("asked", "canonical"),
    [
        (f"/articles/{SLUG}/", f"/articles/{SLUG}"),
        (f"/Articles/{SLUG}", f"/articles/{SLUG}"),
        (f"/articles/{SLUG.upper()}", f"/articles/{SLUG}"),
        (f"/articles/{SLUG}/index.html", f"/articles/{SLUG}"),
        (f"/articles/{SLUG}/stats/", f"/articles/{SLUG}/stats"),
        (CATEGORY_NFC, "/categories/thoi-su"),
        ("/categories/THOI-SU?page=1", "/categories/thoi-su"),
        ("/index.html", "/"),
        ("/?page=1", "/"),
        ("/?paged=1", "/"),
        ("/?cursor=", "/"),
        ("/feed/", "/feed.xml"),
        ("/feed.xml/", "/feed.xml"),
        ("/Sitemap.xml", "/sitemap.xml"),
        ("/robots.txt/", "/robots.txt"),
    ],
)
def test_another_spelling_of_a_page_is_redirected_to_it(
    env: pytest.MonkeyPatch, local_server: str, asked: str, canonical: str
) -> None:
    for method in ("GET", "HEAD"):
        status, headers, body = request(local_server, method, asked, READER)
        assert status == 301, (method, asked, status, body[:200])
        assert headers["location"] == local_server + canonical
        assert body == b""


def test_a_redirect_keeps_the_query_and_the_api_is_never_redirected(
    env: pytest.MonkeyPatch, local_server: str
) -> None:
    status, headers, _ = request(local_server, "GET", "/categories/thoi-su/?utm_source=zalo")
    assert status == 301
    assert headers["location"] == local_server + "/categories/thoi-su?utm_source=zalo"
    status, headers, body = request(local_server, "GET", "/api/stats/")
    assert status == 404 and json.loads(body)["message"]
    status, _, _ = request(local_server, "POST", f"/articles/{SLUG}/")
    assert status == 404  # only GET and HEAD are redirected


def test_an_older_pages_cursor_has_one_spelling(
    env: pytest.MonkeyPatch, local_server: str, tmp_path: Path
) -> None:
    env.setenv("PAGE_SIZE", "2")
    import_json(tmp_path, [article(n) for n in range(1, 6)])
    older = _older_link(request(local_server, "GET", "/", READER)[2])
    assert older is not None
    cursor = older.split("cursor=", 1)[1]
    plain = json.loads(base64.urlsafe_b64decode(unquote(cursor)))
    spaced = base64.urlsafe_b64encode(json.dumps(plain).encode()).decode()
    status, headers, _ = request(local_server, "GET", f"/?cursor={spaced}")
    assert status == 301 and headers["location"] == older
    # Without its base64 padding (fresh-clone finding 24e: a 400): the same page.
    text = json.dumps(plain)
    text += " " * (1 if len(text) % 3 == 0 else 0)  # a length that base64 pads
    unpadded = base64.urlsafe_b64encode(text.encode()).decode()
    assert unpadded.endswith("=")
    status, headers, _ = request(local_server, "GET", f"/?cursor={unpadded.rstrip('=')}")
    assert status == 301 and headers["location"] == older
    assert (
        request(local_server, "GET", urlsplit(older).path + "?" + urlsplit(older).query)[0] == 200
    )


# ---- item 10: pagination -------------------------------------------------------------------


def _older_link(html: bytes) -> str | None:
    links = [a for a in Markup(html.decode()).all("a") if a.get("rel") == "next"]
    return links[0]["href"] if links else None


def _page(base: str, url: str) -> tuple[list[str], str, str, str | None]:
    """A list page's article links, <title>, canonical URL and Older link."""
    parts = urlsplit(url)
    status, _, body = request(base, "GET", parts.path + ("?" + parts.query if parts.query else ""))
    assert status == 200, (url, body[:300])
    markup = Markup(body.decode(), text_of=("title",))
    slugs = [a["href"] for a in markup.all("a") if "/articles/" in a.get("href", "")]
    canonical = next(link["href"] for link in markup.all("link") if link.get("rel") == "canonical")
    return slugs, markup.text["title"][0], canonical, _older_link(body)


@pytest.mark.parametrize("first", ["/", "/categories/thoi-su"])
def test_the_last_older_link_never_leads_to_an_empty_page(
    env: pytest.MonkeyPatch,
    local_server: str,
    dynamodb_proxy: Any,
    tmp_path: Path,
    first: str,
) -> None:
    """4 articles, 2 a page: exactly 2 pages, the second without an Older link."""
    env.setenv("PAGE_SIZE", "2")
    import_json(tmp_path, [article(n) for n in range(1, 5)])
    # What makes the fault possible, shown on this store: a Query stopped by Limit answers a
    # LastEvaluatedKey although nothing follows (DynamoDB does so; moto does not).
    client = boto3.client("dynamodb", endpoint_url=dynamodb_proxy.endpoint)
    answer = client.query(
        TableName=settings().articles_table,
        IndexName="by-published",
        KeyConditionExpression="#s = :s",
        ExpressionAttributeNames={"#s": "status"},
        ExpressionAttributeValues={":s": {"S": "published"}},
        Limit=4,
    )
    assert answer["Count"] == 4 and "LastEvaluatedKey" in answer

    seen: list[str] = []
    url: str | None = local_server + first
    pages = []
    while url:
        links, title, canonical, older = _page(local_server, url)
        pages.append((title, canonical))
        assert len(links) == 2, (url, links)  # never an empty (or short) page
        seen += links
        url = older
    assert len(pages) == 2 and len(set(seen)) == 4
    (title1, canonical1), (title2, canonical2) = pages
    assert canonical1 == local_server + first
    assert "Trang 2" in title2 and "Trang" not in title1
    assert canonical2 != canonical1 and "?cursor=" in canonical2  # page 2's own URL


# ---- item 11: robots.txt, sitemap, an article's JSON-LD and picture --------------------------


def test_robots_txt_names_the_sitemap(env: pytest.MonkeyPatch, local_server: str) -> None:
    status, headers, body = request(local_server, "GET", "/robots.txt")
    assert status == 200 and headers["content-type"] == "text/plain; charset=utf-8"
    lines = body.decode().splitlines()
    assert lines[0] == "User-agent: *"
    assert "Disallow: /api/" in lines
    assert f"Sitemap: {local_server}/sitemap.xml" in lines


def test_the_sitemap_lists_categories_and_last_edits(
    env: pytest.MonkeyPatch, local_server: str, tmp_path: Path
) -> None:
    import_json(
        tmp_path,
        [
            article(1, updated_at="2024-02-01T10:00:00Z"),
            article(2, updated_at="2023-12-01T00:00:00Z"),  # written before it was published
            article(3, category="Thể thao", updated_at="2024-03-05T00:00:00Z"),
            article(4, category="", updated_at="2024-01-04T08:00:00+07:00"),
        ],
    )
    status, _, body = request(local_server, "GET", "/sitemap.xml")
    assert status == 200
    root = ElementTree.fromstring(body)
    lastmod = {
        url.findtext(f"{SITEMAP}loc"): url.findtext(f"{SITEMAP}lastmod")
        for url in root.iter(f"{SITEMAP}url")
    }
    articles = {loc: mod for loc, mod in lastmod.items() if loc and "/articles/" in loc}
    assert articles[f"{local_server}/articles/bai-so-1"] == "2024-02-01T10:00:00Z"
    assert articles[f"{local_server}/articles/bai-so-2"] == "2024-01-02T01:00:00Z"
    assert lastmod[f"{local_server}/categories/thoi-su"] == "2024-02-01T10:00:00Z"
    assert lastmod[f"{local_server}/categories/the-thao"] == "2024-03-05T00:00:00Z"
    assert lastmod[f"{local_server}/"] == "2024-03-05T00:00:00Z"
    assert len(lastmod) == 1 + 2 + 4


def test_a_stored_article_is_shared_with_its_picture_and_json_ld(
    env: pytest.MonkeyPatch, local_server: str, tmp_path: Path
) -> None:
    import_json(
        tmp_path,
        [
            article(
                7,
                author="Trần Thị B",
                updated_at="2024-01-09T00:00:00Z",
                body_html='<p>Mở đầu.</p><p><img src="https://cdn.example/anh.jpg" alt="Ảnh"></p>',
            )
        ],
    )
    status, _, body = request(local_server, "GET", "/articles/bai-so-7", READER)
    assert status == 200
    markup = Markup(body.decode(), text_of=("script",))
    scripts = [attrs for tag, attrs in markup.tags() if tag == "script"]
    (data,) = [
        json.loads(text)
        for attrs, text in zip(scripts, markup.text["script"], strict=True)
        if attrs.get("type") == "application/ld+json"
    ]
    assert data["@type"] == "NewsArticle" and data["headline"] == "Bài số 7"
    assert data["dateModified"] == "2024-01-09T00:00:00Z"
    assert data["datePublished"] == "2024-01-07T01:00:00Z"
    assert data["image"] == ["https://cdn.example/anh.jpg"]
    assert data["author"] == {"@type": "Person", "name": "Trần Thị B"}
    meta = {m.get("property") or m.get("name"): m.get("content") for m in markup.all("meta")}
    assert meta["og:image"] == "https://cdn.example/anh.jpg"
    assert meta["article:modified_time"] == "2024-01-09T00:00:00Z"
    assert meta["article:section"] == "Thời sự"

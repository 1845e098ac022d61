"""GET /feed.xml (RSS 2.0), GET /sitemap.xml and GET /categories/{category} against
DynamoDB Local (the by-category index with its real Limit-then-filter semantics): valid
XML read back with a parser, RFC 822 and W3C dates, absolute URLs, escaping, only visible
articles, pagination, and the category URL's other spellings (a 301 to the slug form)."""

from __future__ import annotations

import html
import json
import re
import unicodedata
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote, urlsplit
from xml.etree import ElementTree

import pytest
from newsdesk.dal import counters, db

from tests.support import SLUG, event, import_fixture, invoke

pytestmark = pytest.mark.usefixtures("ddb_local_tables")

HOST = "abc123.execute-api.us-east-1.amazonaws.com"  # the events' host header
BASE = f"https://{HOST}"
SITEMAP_NS = "{http://www.sitemaps.org/schemas/sitemap/0.9}"
W3C_DATETIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(Z|[+-]\d{2}:\d{2})$")
CATEGORY = "Thời sự"


def import_json(tmp_path: Path, articles: list[dict[str, Any]], name: str = "a.json") -> None:
    from newsdesk.importer import import_paths

    path = tmp_path / name
    path.write_text(json.dumps(articles, ensure_ascii=False), encoding="utf-8")
    summary = import_paths([path], report=lambda _: None)
    assert not summary.rejected, summary.rejected


def article(n: int, **fields: Any) -> dict[str, Any]:
    return {
        "title": f"Bài số {n}",
        "body": [f"Nội dung {n}."],
        "summary": f"Tóm tắt {n}.",
        "published_at": f"2024-01-{n:02d}T08:00:00+07:00",
        **fields,
    }


def category_event(raw: str, method: str = "GET", query: str = "") -> dict[str, Any]:
    data = event("category" if method == "GET" else "category-post")
    data["rawPath"] = data["requestContext"]["http"]["path"] = f"/categories/{raw}"
    data["pathParameters"] = {"category": raw}
    if query:
        data["rawQueryString"] = query
        data["queryStringParameters"] = {k: unquote(v) for k, v in [query.split("=", 1)]}
    return data


def get_category(raw: str, query: str = "") -> dict[str, Any]:
    return invoke("pages", category_event(raw, query=query))


def titles(body: str) -> list[str]:
    """The titles a listing page lists (its <ul class="list">, not the header's menu)."""
    found = re.search(r'<ul class="list">(.*?)</ul>', body, re.S)
    return re.findall(r'<li><a href="[^"]*">([^<]*)</a>', found.group(1)) if found else []


def next_query(body: str) -> str:
    found = re.search(r'rel="next" href="([^"]+)"', body)
    return "cursor=" + found.group(1).split("?cursor=")[1] if found else ""


def feed() -> tuple[dict[str, Any], ElementTree.Element]:
    response = invoke("pages", event("feed"))
    assert response["statusCode"] == 200
    return response, ElementTree.fromstring(response["body"])


def sitemap() -> tuple[dict[str, Any], ElementTree.Element]:
    response = invoke("pages", event("sitemap"))
    assert response["statusCode"] == 200
    return response, ElementTree.fromstring(response["body"])


def sitemap_locs(root: ElementTree.Element) -> list[str]:
    return [url.findtext(f"{SITEMAP_NS}loc") or "" for url in root.findall(f"{SITEMAP_NS}url")]


def settings_changed(monkeypatch: pytest.MonkeyPatch, **env: str) -> None:
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    db.reset()


# ---- RSS ------------------------------------------------------------------------------


def test_feed_of_the_fixture_is_rss_2_with_rfc822_dates_and_absolute_links() -> None:
    import_fixture()
    response, root = feed()
    assert response["headers"]["Content-Type"] == "application/rss+xml; charset=utf-8"
    assert response["headers"]["Cache-Control"] == "public, max-age=300"
    assert response["body"].startswith('<?xml version="1.0" encoding="UTF-8"?>')
    assert root.tag == "rss" and root.get("version") == "2.0"
    channel = root.find("channel")
    assert channel is not None
    assert channel.findtext("title") == "newsdesk"
    assert channel.findtext("link") == f"{BASE}/"
    assert channel.findtext("description")
    assert channel.findtext("language") == "vi"
    assert channel.findtext("lastBuildDate") == "Tue, 27 Nov 2018 01:12:00 GMT"
    (item,) = channel.findall("item")
    assert (item.findtext("title") or "").startswith("Sơ kết chương trình phối hợp")
    assert item.findtext("link") == f"{BASE}/articles/{SLUG}"
    guid = item.find("guid")
    assert guid is not None and guid.get("isPermaLink") == "true"
    assert guid.text == f"{BASE}/articles/{SLUG}"
    # 08:12 in Hồ Chí Minh City is 01:12 UTC; RFC 822 with a four-digit year.
    assert item.findtext("pubDate") == "Tue, 27 Nov 2018 01:12:00 GMT"
    assert parsedate_to_datetime(item.findtext("pubDate") or "") == datetime(
        2018, 11, 27, 1, 12, tzinfo=UTC
    )
    assert item.findtext("description")  # the summary the importer made from the lead
    assert item.find("category") is None  # the fixture has no category


def test_feed_and_sitemap_count_no_view() -> None:
    import_fixture()
    feed()
    sitemap()
    assert counters.views_of([SLUG]) == {SLUG: 9574}


def test_feed_links_use_site_url_when_configured(monkeypatch: pytest.MonkeyPatch) -> None:
    import_fixture()
    settings_changed(monkeypatch, SITE_URL="https://tin.example.vn/")
    _, root = feed()
    assert root.findtext("channel/link") == "https://tin.example.vn/"
    assert root.findtext("channel/item/link") == f"https://tin.example.vn/articles/{SLUG}"
    _, urls = sitemap()
    assert sitemap_locs(urls) == [
        "https://tin.example.vn/",
        f"https://tin.example.vn/articles/{SLUG}",
    ]


def test_feed_escapes_markup_in_titles_and_categories(tmp_path: Path) -> None:
    title = 'Lúa & ngô <mới> "giá" tăng'
    import_json(
        tmp_path, [article(1, title=title, category="Kinh tế & <Đời sống>", summary="A < B & C")]
    )
    response, root = feed()
    assert "Lúa &amp; ngô &lt;mới&gt;" in response["body"]
    assert "<mới>" not in response["body"]
    item = root.find("channel/item")
    assert item is not None
    assert item.findtext("title") == title
    assert item.findtext("category") == "Kinh tế & <Đời sống>"
    # <description> is HTML to feed readers: the text is escaped for HTML inside the XML,
    # so a reader shows "A < B & C" and never meets live markup.
    assert item.findtext("description") == "A &lt; B &amp; C"
    assert html.unescape(item.findtext("description") or "") == "A < B & C"


def test_feed_holds_the_50_newest(tmp_path: Path) -> None:
    import_json(
        tmp_path,
        [
            article(n, published_at=f"2024-{1 + n // 28:02d}-{1 + n % 28:02d}T08:00:00+07:00")
            for n in range(55)
        ],
    )
    _, root = feed()
    items = root.findall("channel/item")
    assert len(items) == 50
    dates = [parsedate_to_datetime(i.findtext("pubDate") or "") for i in items]
    assert dates == sorted(dates, reverse=True)
    assert root.findtext("channel/lastBuildDate") == items[0].findtext("pubDate")
    assert {i.findtext("title") for i in items} == {f"Bài số {n}" for n in range(5, 55)}


# ---- only what readers may see ---------------------------------------------------------

HIDDEN = [
    article(8, title="Bài nháp", status="draft", category=CATEGORY),
    article(9, title="Bài hẹn giờ", published_at="2999-01-01T08:00:00+07:00", category=CATEGORY),
]


def test_drafts_and_scheduled_articles_are_in_no_feed_sitemap_or_category(tmp_path: Path) -> None:
    import_json(tmp_path, [article(1, category=CATEGORY), *HIDDEN])
    slugs = ["bai-nhap", "bai-hen-gio"]
    feed_response, root = feed()
    assert [i.findtext("title") for i in root.findall("channel/item")] == ["Bài số 1"]
    sitemap_response, urls = sitemap()
    assert sitemap_locs(urls) == [
        f"{BASE}/",
        f"{BASE}/categories/thoi-su",
        f"{BASE}/articles/bai-so-1",
    ]
    page = get_category("thoi-su")
    assert page["statusCode"] == 200
    assert titles(page["body"]) == ["Bài số 1"]
    for body in (feed_response["body"], sitemap_response["body"], page["body"]):
        assert not any(slug in body for slug in slugs)
        assert "Bài nháp" not in body and "Bài hẹn giờ" not in body


def test_a_category_of_drafts_and_scheduled_articles_only_is_a_404(tmp_path: Path) -> None:
    import_json(tmp_path, HIDDEN)
    response = get_category("thoi-su")
    assert response["statusCode"] == 404
    assert response["headers"]["Content-Type"].startswith("text/html")
    assert "Không tìm thấy trang" in response["body"]


# ---- sitemap -----------------------------------------------------------------------------


def test_sitemap_is_a_valid_urlset_with_absolute_locs_and_w3c_lastmod(tmp_path: Path) -> None:
    import_fixture()
    import_json(tmp_path, [article(n, updated_at=f"2024-02-0{n}T00:00:00Z") for n in range(1, 4)])
    response, root = sitemap()
    assert response["headers"]["Content-Type"] == "application/xml; charset=utf-8"
    assert response["headers"]["Cache-Control"] == "public, max-age=300"
    assert response["body"].startswith('<?xml version="1.0" encoding="UTF-8"?>')
    assert root.tag == f"{SITEMAP_NS}urlset"
    urls = root.findall(f"{SITEMAP_NS}url")
    assert all(child.tag == f"{SITEMAP_NS}url" for child in root)
    assert sitemap_locs(root) == [
        f"{BASE}/",
        f"{BASE}/articles/bai-so-3",
        f"{BASE}/articles/bai-so-2",
        f"{BASE}/articles/bai-so-1",
        f"{BASE}/articles/{SLUG}",
    ]
    for url in urls:
        assert {child.tag for child in url} <= {f"{SITEMAP_NS}loc", f"{SITEMAP_NS}lastmod"}
        loc = urlsplit(url.findtext(f"{SITEMAP_NS}loc") or "")
        assert (loc.scheme, loc.netloc) == ("https", HOST)
        lastmod = url.findtext(f"{SITEMAP_NS}lastmod") or ""
        assert W3C_DATETIME.match(lastmod), lastmod
    # Each <lastmod> is a last edit (updated_at; the legacy page's is its file's time), the
    # home page's the latest of them (tests/integration/test_publishing.py has the rest).
    lastmods = [u.findtext(f"{SITEMAP_NS}lastmod") or "" for u in urls]
    assert lastmods[1:4] == ["2024-02-03T00:00:00Z", "2024-02-02T00:00:00Z", "2024-02-01T00:00:00Z"]
    assert lastmods[0] == max(lastmods[1:])
    assert lastmods[-1] >= "2018-11-27T01:12:00Z"  # the fixture, published 08:12 at +07:00


def test_sitemap_pages_through_every_article(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from newsdesk import pages

    monkeypatch.setattr(pages, "_SITEMAP_PAGE", 2)
    import_json(tmp_path, [article(n) for n in range(1, 8)])
    _, root = sitemap()
    assert sitemap_locs(root)[1:] == [f"{BASE}/articles/bai-so-{n}" for n in range(7, 0, -1)]
    monkeypatch.setattr(pages, "SITEMAP_MAX_URLS", 4)  # the bound: home and 3 articles
    _, root = sitemap()
    assert sitemap_locs(root) == [f"{BASE}/"] + [f"{BASE}/articles/bai-so-{n}" for n in (7, 6, 5)]


def test_empty_site_has_a_valid_feed_and_sitemap() -> None:
    _, root = feed()
    assert root.findall("channel/item") == []
    assert parsedate_to_datetime(root.findtext("channel/lastBuildDate") or "").tzinfo
    _, urls = sitemap()
    assert sitemap_locs(urls) == [f"{BASE}/"]


# ---- categories ------------------------------------------------------------------------


def test_category_pages_newest_first_two_per_page(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings_changed(monkeypatch, PAGE_SIZE="2")
    import_json(
        tmp_path,
        [
            *(article(n, category=CATEGORY) for n in range(1, 6)),
            article(6, category="Thể thao"),
            article(7),  # no category
            *HIDDEN,  # newer than all of them, same category, never shown
        ],
    )
    pages: list[list[str]] = []
    query = ""
    for _ in range(5):
        response = get_category("thoi-su", query)
        assert response["statusCode"] == 200
        body = response["body"]
        pages.append(titles(body))
        own = f"{BASE}/categories/thoi-su" + (f"?{query}" if query else "")  # page N's own URL
        assert f'<link rel="canonical" href="{own}">' in body
        assert f"<h1>{CATEGORY}</h1>" in body
        assert ("Mới nhất" in body) == bool(query)
        query = next_query(body)
        if not query:
            break
    assert pages == [["Bài số 5", "Bài số 4"], ["Bài số 3", "Bài số 2"], ["Bài số 1"]]
    sport = get_category("the-thao")
    assert sport["statusCode"] == 200 and titles(sport["body"]) == ["Bài số 6"]
    assert next_query(sport["body"]) == ""


def test_category_listing_goes_on_past_runs_of_drafts(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from newsdesk import articles
    from newsdesk.dal import articles as stored

    settings_changed(monkeypatch, PAGE_SIZE="2")
    drafts = [
        article(n, title=f"Nháp {n}", status="draft", category=CATEGORY) for n in range(10, 20)
    ]
    import_json(tmp_path, [article(1, category=CATEGORY), article(2, category=CATEGORY), *drafts])
    # Enough queries: one page with both articles, and no link to an empty page after it.
    response = get_category("thoi-su")
    assert titles(response["body"]) == ["Bài số 2", "Bài số 1"]
    assert next_query(response["body"]) == ""
    # One query per page: short pages, but every article is reached through the cursors.
    monkeypatch.setattr(stored, "CATEGORY_QUERIES", 1)
    seen: list[str] = []
    query = ""
    for _ in range(10):
        listing = articles.list_category("thoi-su", 2, unquote(query[7:]) or None)
        seen += [a.title for a in listing.articles]
        if not listing.next_cursor:
            break
        query = "cursor=" + listing.next_cursor
    assert seen == ["Bài số 2", "Bài số 1"]


@pytest.mark.parametrize(
    "spelling",
    [
        pytest.param(quote(unicodedata.normalize("NFC", CATEGORY)), id="NFC-percent-encoded"),
        pytest.param(quote(unicodedata.normalize("NFD", CATEGORY)), id="NFD-percent-encoded"),
        pytest.param(unicodedata.normalize("NFC", CATEGORY), id="NFC-decoded"),
        pytest.param(
            unicodedata.normalize("NFD", CATEGORY),
            id="NFD-decoded",  # reaches the not-found handler, which redirects too
        ),
        pytest.param("THOI-SU", id="upper-case"),
    ],
)
def test_other_spellings_of_a_category_redirect_to_its_one_url(
    tmp_path: Path, spelling: str
) -> None:
    import_json(tmp_path, [article(1, category=unicodedata.normalize("NFD", CATEGORY))])
    response = get_category(spelling)
    assert response["statusCode"] == 301
    assert response["headers"]["Location"] == f"{BASE}/categories/thoi-su"
    assert get_category("thoi-su")["statusCode"] == 200


def test_a_redirect_keeps_the_cursor(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    settings_changed(monkeypatch, PAGE_SIZE="1")
    import_json(tmp_path, [article(n, category=CATEGORY) for n in (1, 2)])
    query = next_query(get_category("thoi-su")["body"])
    response = get_category("THOI-SU", query)
    assert response["statusCode"] == 301
    location = response["headers"]["Location"]
    assert location == f"{BASE}/categories/thoi-su?{query}"
    assert titles(get_category("thoi-su", query)["body"]) == ["Bài số 1"]


def test_unknown_category_is_an_html_404(tmp_path: Path) -> None:
    import_fixture()  # no category
    import_json(tmp_path, [article(1, category="Thể thao")])
    response = invoke("pages", event("category"))
    assert response["statusCode"] == 404
    assert response["headers"]["Content-Type"].startswith("text/html")
    assert "Không tìm thấy trang" in response["body"]
    assert "Traceback" not in response["body"]


@pytest.mark.parametrize("raw", ["x" * 201, "..%2F..%2Fetc", "a%00b", "a.b", "%2e%2e"])
def test_hostile_categories_get_404_without_touching_dynamodb(raw: str) -> None:
    calls: list[str] = []
    db.client().meta.events.register(
        "before-call.dynamodb", lambda model, **_: calls.append(model.name)
    )
    response = get_category(raw)
    assert response["statusCode"] == 404
    assert calls == []


def test_forged_or_foreign_category_cursors_are_400(tmp_path: Path) -> None:
    import base64

    import_json(tmp_path, [article(1, category=CATEGORY), article(2, category="Thể thao")])

    def cursor(plain: dict[str, str]) -> str:
        return "cursor=" + base64.urlsafe_b64encode(json.dumps(plain).encode()).decode()

    key = {"slug": "bai-so-2", "published_at": "2024-01-02T01:00:00Z"}
    for query in (
        "cursor=bm9wZQ",
        cursor({**key, "category_slug": "the-thao"}),  # another category's cursor
        cursor({**key, "status": "published"}),  # the home page's cursor
        cursor({**key, "category_slug": "thoi-su", "published_at": "2999-01-01T00:00:00Z"}),
    ):
        response = get_category("thoi-su", query)
        assert response["statusCode"] == 400, query
        assert "Yêu cầu không hợp lệ" in response["body"]


def test_article_page_links_to_its_category(tmp_path: Path) -> None:
    import_json(tmp_path, [article(1, category=CATEGORY)])
    data = event("article", rawPath="/articles/bai-so-1", pathParameters={"slug": "bai-so-1"})
    data["requestContext"]["http"]["path"] = data["rawPath"]
    body = invoke("pages", data)["body"]
    assert f'Chuyên mục: <a href="{BASE}/categories/thoi-su">{CATEGORY}</a>' in body
    import_fixture()  # no category: no link
    fixture_page = invoke("pages", event("article"))
    assert fixture_page["statusCode"] == 200
    assert "/categories/" not in fixture_page["body"]


def test_reimport_without_a_category_takes_the_article_out_of_it(tmp_path: Path) -> None:
    import_json(tmp_path, [article(1, category=CATEGORY), article(2, category=CATEGORY)])
    import_json(tmp_path, [article(2, updated_at="2030-01-01T00:00:00Z")], name="b.json")
    assert titles(get_category("thoi-su")["body"]) == ["Bài số 1"]
    import_json(
        tmp_path, [article(1, category="Thể thao", updated_at="2030-01-01T00:00:00Z")], "c.json"
    )
    assert get_category("thoi-su")["statusCode"] == 404
    assert titles(get_category("the-thao")["body"]) == ["Bài số 1"]


@pytest.mark.parametrize("name", ["feed-post", "sitemap-post", "category-post"])
def test_other_methods_are_405_with_allow(name: str) -> None:
    response = invoke("pages", event(name))
    assert response["statusCode"] == 405
    assert response["headers"]["Allow"] == "GET, HEAD"
    assert response["headers"]["Content-Type"].startswith("text/html")


# ---- slugs that cannot be a URL (issue 14) -----------------------------------------------------

# Slugs no request can reach (each spelling a client or API Gateway would turn into another
# path, or into none), as another tool or an old version might have stored them.
UNROUTABLE = [".", "..", "a/b", "%2e%2e", "a%2Fb", "Bài-Số", "tin nhanh", "x" * 201]


def store_unroutable(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Seven good articles (bai-so-1..7, half of them in CATEGORY) and, between them, the
    UNROUTABLE ones, written straight into the table with a counter big enough to lead the
    most-read lists."""
    from newsdesk.articles import Article, to_item

    settings_changed(monkeypatch, PAGE_SIZE="2")
    good = [article(n, category=CATEGORY if n % 2 else "", views=n) for n in range(1, 8)]
    import_json(tmp_path, good)
    for n, slug in enumerate(UNROUTABLE, 1):
        published = datetime(2024, 1, n, 2, tzinfo=UTC)  # just after bai-so-<n>
        bad = Article(slug, f"Lạc {n}", published, (f"Nội dung {n}.",), category=CATEGORY)
        db.client().put_item(TableName=ddb_names()["ARTICLES_TABLE"], Item=to_item(bad))
        db.transact_write([counters.legacy_action(slug, 10**6 + n, keep_existing=False)])


def ddb_names() -> dict[str, str]:
    import os

    return {"ARTICLES_TABLE": os.environ["ARTICLES_TABLE"]}


def listed(first: dict[str, Any], follow: Any) -> list[str]:
    """The titles of a listing page after page: `first` the first page's answer,
    `follow(query)` the next's."""
    seen: list[str] = []
    response = first
    for _ in range(10):
        assert response["statusCode"] == 200, response["body"][:300]
        seen += titles(response["body"])
        query = next_query(response["body"])
        if not query:
            return seen
        response = follow(query)
    raise AssertionError(f"more than 10 pages: {seen}")


def home(query: str = "") -> dict[str, Any]:
    data = event("index")
    if query:
        data["rawQueryString"] = query
        data["queryStringParameters"] = {"cursor": unquote(query.split("=", 1)[1])}
    return invoke("pages", data)


def test_stored_slugs_that_cannot_be_a_url_are_left_out_of_every_listing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from newsdesk import mostread

    store_unroutable(tmp_path, monkeypatch)
    good = [f"Bài số {n}" for n in range(7, 0, -1)]

    response, root = feed()
    assert [item.findtext("title") for item in root.iter("item")] == good
    _, urls = sitemap()
    assert sitemap_locs(urls) == [
        f"{BASE}/",
        f"{BASE}/categories/thoi-su",
        *(f"{BASE}/articles/bai-so-{n}" for n in range(7, 0, -1)),
    ]
    # The home page and the category, page after page: every good article, no other.
    assert listed(home(), home) == good
    in_category = ["Bài số 7", "Bài số 5", "Bài số 3", "Bài số 1"]
    assert listed(get_category("thoi-su"), lambda q: get_category("thoi-su", q)) == in_category
    # The most-read job lists only articles a reader can reach (the others have more views),
    # and every page shows its lists.
    lists = mostread.refresh()
    assert [entry["slug"] for entry in lists["all"]] == [f"bai-so-{n}" for n in (7, 6, 5, 4, 3)]
    mostread.forget()
    assert home()["statusCode"] == 200
    # Lists stored by an older job, with one of them: the pages still show.
    counters.store_most_read({**lists, "all": [{"slug": "..", "title": "Lạc", "views": 9}]}, "t")
    mostread.forget()
    response = home()
    assert response["statusCode"] == 200 and "Lạc" not in response["body"]

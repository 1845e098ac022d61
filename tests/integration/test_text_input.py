"""Text on the way in and out (issue 14, items 4 and 5).

- /feed.xml and /sitemap.xml are well-formed XML whatever is stored: a hostile corpus
  (every character XML 1.0 cannot carry, noncharacters, markup, entities, CDATA ends, odd
  slugs) is written straight into the articles table, bypassing the importer, and both
  documents are read back by an XML parser.
- The admin API cleans what XML cannot carry out of every field it stores, and refuses
  mojibake and VNI with the reason (a 400), as the importer does.
"""

from __future__ import annotations

import json
import unicodedata
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import unquote
from xml.etree import ElementTree

import pytest
from newsdesk.articles import Article, to_item

from tests.support import SLUG, event, import_fixture, invoke
from tests.unit.test_text import sloppy
from tests.unit.vni import to_vni

SITEMAP_NS = "{http://www.sitemaps.org/schemas/sitemap/0.9}"
NOT_XML = "".join(chr(c) for c in (*range(0x00, 0x09), 0x0B, 0x0C, *range(0x0E, 0x20)))
DISCOURAGED = "".join(chr(c) for c in range(0x7F, 0xA0)) + "\ufdd0\ufffe\uffff\U0001fffe"
SPACE_LIKE = "\x0b\x0c\x1c\x1d\x1e\x1f\x85"  # controls Python counts as white space
HOSTILE_TEXT = [
    f"Tin{NOT_XML} nhanh",
    f"Tin{DISCOURAGED} chậm",
    "]]> <![CDATA[ x ]]> <!-- c --> <?pi x?>",
    "<script>alert(1)</script> & &amp; &#8211; &#0; &#x1; &lt;b&gt; \"'",
    "Thời sự \U0001f600 \u2028 \u200b",
]
HOSTILE_SLUGS = ["tin-\x01-nhanh", "tin nhanh?x=1&y=<2>", "thời-sự", "a" * 200, "%00"]


def store_directly(names: dict[str, str]) -> list[Article]:
    """Articles written with PutItem, as another tool or an old version might have."""
    from newsdesk.dal import db

    articles = []
    start = datetime(2024, 1, 1, tzinfo=UTC)
    for n, (text, slug) in enumerate(zip(HOSTILE_TEXT, HOSTILE_SLUGS, strict=True)):
        article = Article(
            slug=slug,
            title=text,
            published_at=start + timedelta(hours=n),
            body=(text,),
            summary=text,
            category=text,
            byline=text,
        )
        db.client().put_item(TableName=names["ARTICLES_TABLE"], Item=to_item(article))
        articles.append(article)
    return articles


def test_feed_and_sitemap_are_well_formed_whatever_is_stored(
    moto_tables: dict[str, str],
) -> None:
    import_fixture()
    stored = store_directly(moto_tables)
    feed = invoke("pages", event("feed"))
    sitemap = invoke("pages", event("sitemap"))
    assert (feed["statusCode"], sitemap["statusCode"]) == (200, 200)

    channel = ElementTree.fromstring(feed["body"]).find("channel")
    assert channel is not None
    items = {item.findtext("title"): item for item in channel.iter("item")}
    for article in stored:
        # Each hostile article is in the feed, its text kept but for what XML cannot carry.
        title = "".join(
            " " if c in SPACE_LIKE else "" if c in NOT_XML + DISCOURAGED else c
            for c in article.title
        )
        item = items[title]
        assert item.findtext("category") == title
        described = ElementTree.fromstring(f"<d>{item.findtext('description')}</d>")
        assert "".join(described.itertext()) == title  # HTML-escaped text, once
    assert len(items) == len(stored) + 1  # and the fixture article

    urls = [
        loc.text or "" for loc in ElementTree.fromstring(sitemap["body"]).iter(f"{SITEMAP_NS}loc")
    ]
    slugs = {unquote(url.rsplit("/articles/", 1)[1]) for url in urls if "/articles/" in url}
    assert slugs == {SLUG, *HOSTILE_SLUGS}


# ---- the admin API ---------------------------------------------------------------------------

ARTICLE = {
    "title": "Tin\u0001 nhanh\ufffe",
    "body": ["Đoạn\u0002 một\x85hai.", "Đoạn\x7f hai."],
    "body_html": "<p>Đoạn\u0002 một</p><pre>\u0003x</pre>",
    "author": "Phóng\u001f viên",
    "summary": "Tóm\u000b tắt",
    "category": "Thời\u0008 sự",
    "published_at": "2024-05-01T08:00:00+07:00",
    "status": "published",
}


def put(slug: str, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    data = event("admin-put-article")
    data["rawPath"] = data["requestContext"]["http"]["path"] = f"/api/admin/articles/{slug}"
    data["pathParameters"] = {"slug": slug}
    data["body"] = json.dumps(body, ensure_ascii=False)
    response = invoke("admin", data)
    return response["statusCode"], json.loads(response["body"])


@pytest.fixture
def admin(moto_tables: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    monkeypatch.delenv("ADMIN_TOKEN", raising=False)
    return moto_tables


def test_the_admin_api_stores_no_character_xml_cannot_carry(admin: dict[str, str]) -> None:
    from newsdesk.articles import get_article

    status, answer = put("tin-nhanh", ARTICLE)
    assert status == 201, answer
    stored = get_article("tin-nhanh")
    assert stored.title == "Tin nhanh"
    assert stored.body == ("Đoạn một hai.", "Đoạn hai.")
    assert stored.body_html == "<p>Đoạn một</p><pre>x</pre>"
    assert (stored.byline, stored.summary, stored.category) == ("Phóng viên", "Tóm tắt", "Thời sự")
    feed = invoke("pages", event("feed"))
    ElementTree.fromstring(feed["body"])


@pytest.mark.parametrize(
    ("field", "value", "reason"),
    [
        ("title", sloppy("Bão lớn đổ bộ miền Trung", "cp1252"), "mojibake"),
        ("title", sloppy("Bão lớn đổ bộ miền Trung", "cp1258", nfc=True), "mojibake"),
        ("author", sloppy("Nguyễn Văn An", "cp1252"), "mojibake"),
        ("body_html", "<p>" + sloppy("Nội dung bài viết", "latin-1") + "</p>", "mojibake"),
        ("title", to_vni("Bão lớn đổ bộ miền Trung"), "VNI-encoded"),
        ("body", [to_vni("Độc lập – Tự do – Hạnh phúc")], "VNI-encoded"),
    ],
)
def test_the_admin_api_refuses_mojibake_and_vni_with_the_reason(
    admin: dict[str, str], field: str, value: Any, reason: str
) -> None:
    status, answer = put("tin-hong", {**ARTICLE, field: value})
    assert status == 400, answer
    assert f"the text is {reason}" in answer["message"], answer


def test_a_decomposed_title_is_stored_composed(admin: dict[str, str]) -> None:
    from newsdesk.articles import get_article

    title = unicodedata.normalize("NFD", "Thời sự tỉnh nhà")
    assert put("thoi-su", {**ARTICLE, "title": title})[0] == 201
    assert get_article("thoi-su").title == unicodedata.normalize("NFC", title)

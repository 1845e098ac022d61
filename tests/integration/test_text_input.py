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
# Stored slugs: routable ones carry the hostile text; the others no request can reach, so
# they are left out of the feed and the sitemap (newsdesk.slugs.routable).
HOSTILE_SLUGS = ["tin-nhanh", "a" * 200, "tin-cham", "cdata", "markup"]
UNROUTABLE_SLUGS = ["tin-\x01-nhanh", "tin nhanh?x=1&y=<2>", "thời-sự", "%00", ".", ".."]


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
    for n, slug in enumerate(UNROUTABLE_SLUGS):
        unreachable = Article(slug, "Không tới được", start + timedelta(minutes=n), ("x",))
        db.client().put_item(TableName=names["ARTICLES_TABLE"], Item=to_item(unreachable))
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


def test_vni_in_short_fields_is_refused_over_the_whole_article(admin: dict[str, str]) -> None:
    """BREAK14 finding 13: each field alone has too few VNI signs to tell; together they do."""
    body = {
        **ARTICLE,
        "title": "Hoäi nghò toång keát naêm",
        "body": "Nguyeãn Vaên Vaân - Phoù Tröôûng Ban Tuyeân giaùo Tænh uûy",
        "body_html": None,
        "summary": None,
    }
    status, answer = put("admin-vni", body)
    assert status == 400, answer
    assert "the text is VNI-encoded" in answer["message"], answer


def test_a_count_no_counter_could_have_is_a_400_naming_views(admin: dict[str, str]) -> None:
    """BREAK14 finding 12: 10**42 views were stored; every page then failed to render."""
    status, answer = put("admin-huge", {**ARTICLE, "views": 10**42})
    assert status == 400, answer
    assert "'views' must be a whole number from 0 to 1,000,000,000,000" in answer["message"]
    assert invoke("pages", event("index"))["statusCode"] == 200


def test_one_garbled_paragraph_of_a_legacy_page_is_refused(tmp_path: Any) -> None:
    """BREAK14 finding 11: one mojibake paragraph among clean ones was out-voted and stored."""
    from zoneinfo import ZoneInfo

    from newsdesk.importer import InvalidArticle, parse_legacy

    from tests.support import FIXTURE

    text = FIXTURE.read_text("utf-8")
    lead = text.split("\n\n")[1].strip()
    garbled = text.replace(lead, lead.encode("utf-8").decode("cp1252", errors="ignore"), 1)
    with pytest.raises(InvalidArticle, match="mojibake"):
        parse_legacy(garbled, ZoneInfo("Asia/Ho_Chi_Minh"))
    parse_legacy(text, ZoneInfo("Asia/Ho_Chi_Minh"))  # the page as it is: fine
    # VNI text whose page chrome (the old widget) is Unicode: its letters out-voted the signs.
    vni = (
        f"{to_vni('Hội nghị tổng kết năm 2018')}\n"
        "cms-publish-date 07/10/2020 | 09:00  | cms-view-count: 50\n\n"
        f"{to_vni('Nguyễn Văn Vân - Phó Trưởng Ban Tuyên giáo Tỉnh ủy')}\n\n"
        "Thanh Tùng\n\nSố lượng truy cập\nĐang truy cập: 5\nTổng: 123.456\n"
    )
    with pytest.raises(InvalidArticle, match="VNI-encoded"):
        parse_legacy(vni, ZoneInfo("Asia/Ho_Chi_Minh"))


def test_a_new_articles_starting_count_raises_the_site_total(admin: dict[str, str]) -> None:
    """BREAK14 finding 22: the total is never below a count the site shows."""
    from newsdesk.dal import counters

    assert put("nhieu-luot-xem", {**ARTICLE, "views": 200_000_000})[0] == 201
    assert counters.site().total_visits >= 200_000_000

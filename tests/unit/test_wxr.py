"""WordPress exports (issue 14, item 6): tests/data/wxr/ holds a WordPress 6.5 export of a
Vietnamese news site: block and classic posts, a draft, a scheduled, a pending, a private and
a password-protected post, one in the trash, an attachment, a page, a menu item and a
navigation block. Each post, parsed by the importer's JSON article parser (newsdesk.wxr.parse),
must come out as WordPress showed it, formatting intact after sanitising, and nothing that
is not a public post may be published (tests/integration/test_wxr_import.py imports it
into DynamoDB Local with the import command). The XML is read safely (no DTD, no entities) and as a
stream."""

from __future__ import annotations

import tracemalloc
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from newsdesk.articles import Article
from newsdesk.importer import InvalidArticle
from newsdesk.wxr import VIEW_META_KEYS, Export, content_html, parse, read

from tests.html_markup import Markup
from tests.support import ROOT
from tests.unit.test_sanitize import PAYLOADS, XSS_PAYLOADS, assert_inert
from tests.unit.test_text import sloppy

HCM = ZoneInfo("Asia/Ho_Chi_Minh")
WXR = ROOT / "tests" / "data" / "wxr" / "baotinh.WordPress.2024-05-02.xml"
HEAD, _, _ = WXR.read_text(encoding="utf-8").partition("\t\t<item>")
TAIL = "\t</channel>\n</rss>\n"


@pytest.fixture(scope="module")
def posts() -> dict[str, Article]:
    return {p.article.title: p.article for p in parse(WXR, HCM)}


def by_slug(posts: dict[str, Article]) -> dict[str, Article]:
    return {a.slug: a for a in posts.values()}


def item(post_id: int, content: str = "<p>Nội dung.</p>", **fields: str) -> str:
    """One WXR <item> as WordPress writes it (a published post unless fields say otherwise)."""
    values = {
        "title": f"Bài số {post_id}",
        "post_type": "post",
        "status": "publish",
        "post_name": f"bai-so-{post_id}",
        "post_date": "2024-04-29 07:45:00",
        "post_date_gmt": "2024-04-29 00:45:00",
        **fields,
    }
    return f"""\t\t<item>
\t\t<title><![CDATA[{values["title"]}]]></title>
\t\t<dc:creator><![CDATA[phongvien.an]]></dc:creator>
\t\t<guid isPermaLink="false">https://baotinh.example.vn/?p={post_id}</guid>
\t\t<content:encoded><![CDATA[{content}]]></content:encoded>
\t\t<excerpt:encoded><![CDATA[]]></excerpt:encoded>
\t\t<wp:post_id>{post_id}</wp:post_id>
\t\t<wp:post_date><![CDATA[{values["post_date"]}]]></wp:post_date>
\t\t<wp:post_date_gmt><![CDATA[{values["post_date_gmt"]}]]></wp:post_date_gmt>
\t\t<wp:post_name><![CDATA[{values["post_name"]}]]></wp:post_name>
\t\t<wp:status><![CDATA[{values["status"]}]]></wp:status>
\t\t<wp:post_type><![CDATA[{values["post_type"]}]]></wp:post_type>
\t\t<wp:post_password><![CDATA[]]></wp:post_password>
\t\t</item>
"""


def export(tmp_path: Path, *items: str, head: str = HEAD) -> Path:
    path = tmp_path / "export.xml"
    path.write_text(head + "".join(items) + TAIL, encoding="utf-8")
    return path


# ---- what is imported, and how ----------------------------------------------------------------


def test_only_posts_are_articles_and_only_public_ones_are_published(
    posts: dict[str, Article],
) -> None:
    status = {a.slug: a.status for a in posts.values()}
    assert status == {
        "da-nang-hoi-an-mua-le-hoi": "published",
        "ban-tin-sang-27-11": "published",  # post_name b%e1%ba%a3n-tin-s%c3%a1ng-27-11
        "bo-doi-bien-phong-giup-dan": "published",
        posts["Bài nháp: kế hoạch phòng chống lụt bão"].slug: "draft",  # no post_name: none
        "khai-truong-cau-moi": "draft",  # scheduled (future) for 2031
        "hoi-nghi-tong-ket-nam": "draft",  # pending review
        "ghi-chu-noi-bo": "draft",  # private
        "tai-lieu-hoi-nghi": "draft",  # published behind a password
    }


def test_what_is_skipped_is_counted_by_kind() -> None:
    found = read(WXR)
    assert len(list(found.articles())) == 8
    assert found.summary() == (
        "skipped (not posts to import): 1 attachment, 1 nav_menu_item, 1 page, "
        "1 post (trash), 1 wp_navigation"
    )


def test_titles_with_entities_are_text_once(posts: dict[str, Article]) -> None:
    assert "Đà Nẵng & Hội An – mùa lễ hội rực rỡ" in posts  # &amp; &#8211; <em> in the export
    assert "Bản tin sáng 27/11: Bão số 9 đổ bộ “miền Trung”" in posts  # &#8220; &#8221;
    article = by_slug(posts)["da-nang-hoi-an-mua-le-hoi"]
    assert article.summary == "Lễ hội pháo hoa & đua thuyền thu hút du khách."


def test_dates_authors_categories_and_view_counts(tmp_path: Path) -> None:
    parsed = {p.article.slug: p for p in parse(WXR, HCM)}
    block, classic = parsed["da-nang-hoi-an-mua-le-hoi"], parsed["ban-tin-sang-27-11"]
    assert block.article.published_at == datetime(2024, 4, 20, 1, 30, tzinfo=UTC)  # post_date_gmt
    assert block.version == "2024-04-21T03:00:00Z"  # post_modified_gmt
    assert (block.article.byline, block.article.category) == ("Nguyễn Văn An", "Du lịch")
    assert (classic.article.byline, classic.article.category) == (
        "Trần Thị Hoa & nhóm PV",
        "Thời sự",
    )
    # views (WP-PostViews); the larger of views and post_views_count; tie_views (TieLabs)
    assert [
        parsed[s].legacy_views for s in ("da-nang-hoi-an-mua-le-hoi", "ban-tin-sang-27-11")
    ] == [
        1523,
        9575,
    ]
    assert parsed["bo-doi-bien-phong-giup-dan"].legacy_views == 4031
    (draft,) = [p for p in parsed.values() if p.article.title.startswith("Bài nháp")]
    # A draft has no GMT date: its local post_date, in the site's time zone.
    assert draft.article.published_at == datetime(2024, 4, 25, 7, 0, tzinfo=UTC)
    assert draft.legacy_views == 0


@pytest.mark.parametrize("key", sorted(VIEW_META_KEYS))
def test_each_view_counter_plugins_meta_key_is_read(tmp_path: Path, key: str) -> None:
    meta = f"<wp:postmeta><wp:meta_key><![CDATA[{key}]]></wp:meta_key><wp:meta_value><![CDATA[812]]></wp:meta_value></wp:postmeta>"
    post = item(7).replace("\t\t</item>", meta + "\n\t\t</item>")
    (parsed,) = parse(export(tmp_path, post), HCM)
    assert parsed.legacy_views == 812


def test_block_content_keeps_its_formatting(posts: dict[str, Article]) -> None:
    html = by_slug(posts)["da-nang-hoi-an-mua-le-hoi"].body_html
    page = Markup(html, text_of=("h3", "h6", "figcaption", "pre", "del", "ins", "mark"))
    assert "wp:" not in html and "<!--" not in html  # block comments gone
    assert page.text["h3"] == ["Lịch trình chính"]
    assert page.text["h6"] == ["Nguồn: Sở Du lịch"]
    assert page.text["figcaption"] == [
        "Pháo hoa trên sông Hàn đêm khai mạc.",
        "Lịch sự kiện",
        "Video khai mạc",
    ]
    assert page.all("figure")[0] == {"class": "aligncenter"}
    assert page.all("img") == [
        {
            "src": "https://baotinh.example.vn/wp-content/uploads/2024/04/le-hoi-1024x683.jpg",
            "alt": "Pháo hoa trên sông Hàn",
        }
    ]
    assert [tag for tag, _ in page.elements if tag in ("table", "thead", "th", "td")] == [
        "table",
        "thead",
        "th",
        "th",
        "td",
        "td",
        "td",
        "td",
    ]
    assert page.text["pre"] == ["08:00  Khai mạc\n    20:00  Bắn pháo hoa"]
    assert (page.text["del"], page.text["ins"], page.text["mark"]) == (
        ["200.000 đồng"],
        ["150.000 đồng"],
        ["miễn phí cho trẻ em"],
    )
    assert page.all("video") == [
        {
            "controls": "",
            "poster": "https://baotinh.example.vn/wp-content/uploads/2024/04/poster.jpg",
            "src": "https://baotinh.example.vn/wp-content/uploads/2024/04/khai-mac.mp4",
        }
    ]
    assert page.all("audio")[0]["src"].endswith("/phong-van.mp3")
    assert {
        "href": "https://www.youtube.com/watch?v=dQw4w9WgXcQ",
        "rel": "noopener noreferrer nofollow",
    } in page.all("a")
    assert_inert(html)


def test_classic_content_gets_its_paragraphs_captions_and_media(posts: dict[str, Article]) -> None:
    html = by_slug(posts)["ban-tin-sang-27-11"].body_html
    page = Markup(html, text_of=("p", "figcaption", "h2", "pre"))
    assert (
        page.text["p"][0]
        == "Sáng 27/11, bão số 9 đã đổ bộ vào các tỉnh miền Trung.\nNgười dân đã được sơ tán kịp thời."
    )
    assert "<br>" in html  # the single line break, as WordPress shows it
    assert page.all("figure") == [{"class": "alignleft"}]
    assert page.text["figcaption"] == ["Gió giật mạnh tại Quảng Ngãi."]
    assert page.all("img")[0]["alt"] == "Bão số 9"
    assert page.text["h2"] == ["Thiệt hại ban đầu"]
    assert "<blockquote><p>Chúng tôi đã chuẩn bị từ ba ngày trước.</p></blockquote>" in html
    assert page.text["pre"] == ["Mực nước sông Trà Khúc:\n  07:00   3,2 m\n  11:00   3,9 m"]
    assert page.all("source") == [
        {"src": "https://baotinh.example.vn/wp-content/uploads/2018/11/bao.mp4"}
    ]
    assert page.text["p"][-1] == "Ban biên tập."
    assert "[caption" not in html and "[video" not in html
    assert_inert(html)


def test_classic_paragraphs_as_wordpress_makes_them() -> None:
    assert content_html("Một\nhai\n\nBa") == "<p>Một<br>\nhai</p>\n<p>Ba</p>"
    assert content_html("<ul>\n<li>a</li>\n<li>b</li>\n</ul>\nSau") == (
        "<ul>\n<li>a</li>\n<li>b</li>\n</ul>\n<p>Sau</p>"
    )
    assert content_html("<blockquote>Một\n\nHai</blockquote>") == (
        "<blockquote><p>Một</p>\n<p>Hai</p></blockquote>"
    )
    assert content_html("<pre>a\n\n  b</pre>") == "<pre>a\n\n  b</pre>"
    assert content_html('Xem [Ảnh: TTXVN] và [gallery ids="1,2"] nhé') == (
        "<p>Xem [Ảnh: TTXVN] và  nhé</p>"
    )
    assert (
        content_html("https://youtu.be/x")
        == '<p><a href="https://youtu.be/x">https://youtu.be/x</a></p>'
    )


def test_hostile_content_comes_out_inert(tmp_path: Path) -> None:
    hostile = "\n\n".join(PAYLOADS + XSS_PAYLOADS)
    path = export(
        tmp_path,
        item(1, hostile, title="<script>alert(1)</script>Tin &lt;b&gt;"),
        item(2, "<!-- wp:paragraph --><p>x</p><!-- /wp:paragraph -->" + hostile),
        item(
            3,
            f'[caption align="x\\" onclick=\\"alert(1)"]<img src=x onerror=alert(1)>{XSS_PAYLOADS[0]}[/caption][video mp4="javascript:alert(1)" poster="javascript:alert(1)"][/video]',
        ),
    )
    parsed = parse(path, HCM)
    assert parsed[0].article.title == "Tin <b>"  # text: escaped when shown
    for p in parsed:
        assert_inert(p.article.body_html)


# ---- rejected -----------------------------------------------------------------------------------


def test_a_post_in_mojibake_is_rejected_by_name(tmp_path: Path) -> None:
    bad = item(9, "<p>" + sloppy("Người dân đã được sơ tán.", "cp1252") + "</p>", title="Tin bão")
    with pytest.raises(InvalidArticle, match=r"post 9 'Tin bão': the text is mojibake"):
        parse(export(tmp_path, item(8), bad), HCM)


@pytest.mark.parametrize("codec", ["cp1252", "cp1258", "latin-1"])
def test_a_title_or_excerpt_in_mojibake_is_rejected(tmp_path: Path, codec: str) -> None:
    """Latin-1 mojibake of "ễ" holds U+0085, which text_of would turn into a space."""
    title = sloppy("Tin bão: miễn phí", codec)
    with pytest.raises(InvalidArticle, match=r"post 9 .*: the text is mojibake"):
        parse(export(tmp_path, item(9, title=title)), HCM)
    excerpt = item(9).replace(
        "<excerpt:encoded><![CDATA[]]>", f"<excerpt:encoded><![CDATA[{title}]]>"
    )
    with pytest.raises(InvalidArticle, match=r"post 9 .*: the text is mojibake"):
        parse(export(tmp_path, excerpt), HCM)


def test_an_xml_file_that_is_not_a_wordpress_export_is_named(tmp_path: Path) -> None:
    path = tmp_path / "feed.xml"
    path.write_text('<?xml version="1.0"?><rss version="2.0"><channel/></rss>', "utf-8")
    with pytest.raises(InvalidArticle, match="not a WordPress export"):
        parse(path, HCM)


@pytest.mark.parametrize(
    ("doctype", "reason"),
    [
        (  # "billion laughs": entities that expand to gigabytes
            '<!DOCTYPE rss [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]>',
            "refused",
        ),
        ('<!DOCTYPE rss [<!ENTITY x SYSTEM "file:///etc/passwd">]>', "refused"),
        ('<!DOCTYPE rss SYSTEM "https://evil.example/wxr.dtd">', "refused"),
    ],
)
def test_dtds_and_entities_are_refused(tmp_path: Path, doctype: str, reason: str) -> None:
    head = HEAD.replace("<rss version", doctype + "\n<rss version", 1)
    path = export(tmp_path, item(1, "&b; &x;"), head=head)
    with pytest.raises(InvalidArticle, match=reason):
        parse(path, HCM)


def test_malformed_xml_is_rejected_with_its_line(tmp_path: Path) -> None:
    path = export(tmp_path, item(1).replace("</wp:post_id>", "</wp:post_idx>"))
    with pytest.raises(InvalidArticle, match=r"not well-formed XML: mismatched tag: line \d+"):
        parse(path, HCM)


def test_an_older_export_format_is_read(tmp_path: Path) -> None:
    head = HEAD.replace("export/1.2/", "export/1.1/").replace(
        "<wp:wxr_version>1.2", "<wp:wxr_version>1.1"
    )
    (parsed,) = parse(export(tmp_path, item(5), head=head), HCM)
    assert parsed.article.slug == "bai-so-5"


def test_a_big_export_is_read_as_a_stream(tmp_path: Path) -> None:
    """2,000 posts of 6 KB each (12 MB of XML): what stays in memory while they are read is
    one post at a time, not the document."""
    body = "<p>" + "Nội dung bài viết dài. " * 250 + "</p>"
    path = export(tmp_path, *(item(n, body) for n in range(1, 2001)))
    assert path.stat().st_size > 12_000_000
    tracemalloc.start()
    try:
        count = sum(1 for _ in Export(path).articles())
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert count == 2000
    assert peak < 2_000_000, f"{peak:,} bytes at the peak"

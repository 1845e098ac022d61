"""A WordPress site moves in (issue 14, item 6), end to end against DynamoDB Local: the
export in tests/data/wxr/ is imported with `python -m newsdesk import` (its function), then
read the way readers, feed readers and the API read it: the old post_name is the URL, the
formatting survives to the page, titles with entities show as text once, counts are the
view counter plugins', and nothing that was not public in WordPress is public here."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

import pytest

from tests.html_markup import Markup
from tests.support import event, invoke
from tests.unit.test_text import sloppy
from tests.unit.test_wxr import WXR, export, item

pytestmark = pytest.mark.usefixtures("ddb_local_tables")

PUBLISHED = {
    "da-nang-hoi-an-mua-le-hoi": 1523,
    "ban-tin-sang-27-11": 9575,
    "bo-doi-bien-phong-giup-dan": 4031,
}
NOT_PUBLIC = [
    "bai-nhap-ke-hoach-phong-chong-lut-bao",  # draft
    "khai-truong-cau-moi",  # scheduled
    "hoi-nghi-tong-ket-nam",  # pending
    "ghi-chu-noi-bo",  # private
    "tai-lieu-hoi-nghi",  # password-protected
    "gioi-thieu",  # a page
    "anh-le-hoi",  # an attachment
]


def import_wxr() -> Any:
    from newsdesk.importer import import_paths

    lines: list[str] = []
    summary = import_paths([WXR], report=lines.append)
    assert not summary.rejected, summary.rejected
    return summary


def page(slug: str) -> dict[str, Any]:
    data = event("article-bot")  # a crawler: the page, without counting a view
    data["rawPath"] = data["requestContext"]["http"]["path"] = f"/articles/{slug}"
    data["pathParameters"] = {"slug": slug}
    return invoke("pages", data)


def category_page(slug: str) -> dict[str, Any]:
    data = event("category")
    data["rawPath"] = data["requestContext"]["http"]["path"] = f"/categories/{slug}"
    data["pathParameters"] = {"category": slug}
    return invoke("pages", data)


def views(slug: str) -> int:
    data = event("article-views")
    data["rawPath"] = data["requestContext"]["http"]["path"] = f"/api/articles/{slug}/views"
    data["pathParameters"] = {"slug": slug}
    response = invoke("api", data)
    assert response["statusCode"] == 200, response
    return int(json.loads(response["body"])["views"])


def test_a_wordpress_export_imports_and_reimports_as_unchanged() -> None:
    first = import_wxr()
    assert (first.imported, first.updated) == (8, 0)
    assert first.notes == [
        f"{WXR}: skipped (not posts to import): 1 attachment, 1 nav_menu_item, 1 page, "
        "1 post (trash), 1 wp_navigation"
    ]
    again = import_wxr()
    assert (again.imported, again.updated, again.unchanged) == (0, 0, 8)


def test_a_post_in_mojibake_is_rejected_alone(tmp_path: Path) -> None:
    from newsdesk.importer import import_paths

    garbage = "<p>" + sloppy("Người dân đã được sơ tán.", "cp1252") + "</p>"
    path = export(tmp_path, item(8), item(9, garbage, title="Tin bão"))
    summary = import_paths([path], report=lambda _: None)
    assert summary.imported == 1
    [(where, reason)] = summary.rejected
    assert where == f"{path} post 9 'Tin bão'"
    assert (
        reason.startswith("the text is mojibake")
        and "should read 'Người dân đã được sơ tán.</p>'" in reason  # from the garbled word
    )
    assert page("bai-so-8")["statusCode"] == 200 and page("bai-so-9")["statusCode"] == 404


def test_public_posts_keep_their_urls_and_counts_and_nothing_else_is_public() -> None:
    import_wxr()
    for slug, count in PUBLISHED.items():
        assert page(slug)["statusCode"] == 200, slug
        assert views(slug) == count, slug
    for slug in NOT_PUBLIC:
        assert page(slug)["statusCode"] == 404, slug


def test_the_page_shows_the_formatting_and_the_title_once() -> None:
    import_wxr()
    response = page("da-nang-hoi-an-mua-le-hoi")
    html = response["body"]
    assert "Đà Nẵng &amp; Hội An – mùa lễ hội rực rỡ" in html
    assert "&amp;amp;" not in html and "&amp;#8211;" not in html and "&lt;em&gt;" not in html
    body = html[html.index("<article") : html.index("</article>")]
    shown = Markup(body, text_of=("h1", "h2", "h3", "figcaption", "pre", "del", "ins", "mark"))
    assert shown.text["h1"] == ["Đà Nẵng & Hội An – mùa lễ hội rực rỡ"]
    assert shown.text["h2"] == ["Lịch trình chính"] and shown.text["h3"] == ["Nguồn: Sở Du lịch"]
    assert "Pháo hoa trên sông Hàn đêm khai mạc." in shown.text["figcaption"]
    assert {"class": "aligncenter"} in shown.all("figure")
    assert shown.text["pre"] == ["08:00  Khai mạc\n    20:00  Bắn pháo hoa"]
    assert (shown.text["del"], shown.text["ins"], shown.text["mark"]) == (
        ["200.000 đồng"],
        ["150.000 đồng"],
        ["miễn phí cho trẻ em"],
    )
    assert [tag for tag, _ in shown.elements].count("td") == 4
    assert shown.all("video")[0]["controls"] == "" and shown.all("audio")[0]["controls"] == ""

    classic = page("ban-tin-sang-27-11")["body"]
    figure = re.search(r'<figure class="alignleft">.*?</figure>', classic, re.S)
    assert figure and "<figcaption>Gió giật mạnh tại Quảng Ngãi.</figcaption>" in figure[0]
    assert "Bão số 9 đổ bộ “miền Trung”" in classic


def test_feed_and_category_pages_list_the_published_posts() -> None:
    import_wxr()
    feed = ElementTree.fromstring(invoke("pages", event("feed"))["body"])
    titles = [t.text for t in feed.iter("title")][1:]
    assert titles == [  # newest first; drafts, scheduled and private posts left out
        "Bộ đội biên phòng giúp dân dựng nhà",
        "Đà Nẵng & Hội An – mùa lễ hội rực rỡ",
        "Bản tin sáng 27/11: Bão số 9 đổ bộ “miền Trung”",
    ]
    listing = category_page("du-lich")
    assert listing["statusCode"] == 200
    assert "Đà Nẵng &amp; Hội An – mùa lễ hội rực rỡ" in listing["body"]


def test_the_old_wordpress_permalinks_redirect_to_the_articles() -> None:
    """BREAK14 finding 4: links to the old site's permalinks answered 404 after the move."""
    import_wxr()
    base = "https://abc123.execute-api.us-east-1.amazonaws.com"
    for old, new in (
        ("/2024/04/20/da-nang-hoi-an-mua-le-hoi/", "/articles/da-nang-hoi-an-mua-le-hoi"),
        ("/da-nang-hoi-an-mua-le-hoi/", "/articles/da-nang-hoi-an-mua-le-hoi"),
        ("/category/du-lich/", "/categories/du-lich"),
    ):
        data = event("not-found")
        data["rawPath"] = data["requestContext"]["http"]["path"] = old
        response = invoke("pages", data)
        assert (response["statusCode"], response["headers"]["Location"]) == (301, base + new)
    assert page("da-nang-hoi-an-mua-le-hoi")["statusCode"] == 200  # where they lead
    assert category_page("du-lich")["statusCode"] == 200

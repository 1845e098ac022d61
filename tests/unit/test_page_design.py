"""The portal's page chrome as rendered (issue 14, item 12): the header's category menu, the
footer's details, and where the stats chart puts its date labels. The browser tests
(tests/e2e/test_layout.py) measure the same pages as a reader sees them."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from itertools import pairwise

import pytest
from newsdesk import rendering, views_chart
from newsdesk.articles import Listing
from newsdesk.config import settings
from newsdesk.menu import Category

from tests.support import ROOT

MENU = [Category("thoi-su", "Thời sự", 3), Category("kinh-te", "Kinh tế & <Tài chính>", 2)]


def index(cursor: str | None = None, **context: object) -> str:
    settings.cache_clear()
    return rendering.render(
        "index.html",
        base_url="https://news.example",
        listing=Listing([]),
        cursor=cursor,
        canonical="https://news.example/",
        **context,
    )


def footer(page: str) -> str:
    return page.split('<footer class="site">', 1)[1]


def test_the_menu_links_each_category_escaped_and_marks_the_page_it_is_on() -> None:
    page = index(categories=MENU)
    nav = re.search(r'<nav class="menu" aria-label="Chuyên mục">(.*?)</nav>', page, re.S)
    assert nav, page
    assert re.findall(r'<a href="([^"]+)"( aria-current="page")?>([^<]*)</a>', nav.group(1)) == [
        ("https://news.example/", ' aria-current="page"', "Trang chủ"),
        ("https://news.example/categories/thoi-su", "", "Thời sự"),
        ("https://news.example/categories/kinh-te", "", "Kinh tế &amp; &lt;Tài chính&gt;"),
    ]
    older = index(categories=MENU, cursor="abc")  # an older page is not the home page
    assert 'aria-current="page"' not in older.split('<nav class="menu"', 1)[1].split("</nav>")[0]


def test_the_footer_shows_the_details_that_are_set(monkeypatch: pytest.MonkeyPatch) -> None:
    assert footer(index()).count("<p") == 3  # the name, the portal's publisher, RSS
    assert "<p>Cơ quan chủ quản: Ban Tuyên giáo Tỉnh ủy</p>" in footer(index())
    for name, value in {
        "SITE_PUBLISHER": "Sở <Thông tin>",
        "SITE_EDITOR": "Nguyễn Văn A",
        "SITE_LICENSE": "Số 12/GP-TTĐT",
        "SITE_ADDRESS": "Số 1 Lê Lợi",
        "SITE_PHONE": "0235 3812 345",
        "SITE_EMAIL": "toasoan@baotinh.vn",
    }.items():
        monkeypatch.setenv(name, value)
    shown = footer(index())
    for line in (
        "<p>Cơ quan chủ quản: Sở &lt;Thông tin&gt;</p>",
        "<p>Chịu trách nhiệm chính: Nguyễn Văn A</p>",
        "<p>Giấy phép: Số 12/GP-TTĐT</p>",
        "<span>Địa chỉ: Số 1 Lê Lợi</span>",
        '<a href="tel:02353812345">0235 3812 345</a>',
        '<a href="mailto:toasoan@baotinh.vn">toasoan@baotinh.vn</a>',
    ):
        assert line in shown, shown


def chart(days: int = views_chart.DAYS) -> views_chart.Chart:
    today = date(2018, 11, 27)
    per_day = [(today - timedelta(days=days - 1 - n), n % 5) for n in range(days)]
    return views_chart.layout(per_day, 100)


def test_chart_labels_are_weekly_back_from_today_and_inside_the_chart() -> None:
    found = chart()
    labelled = [bar for bar in found.bars if bar.labelled]
    assert [bar.day for bar in labelled] == [
        date(2018, 10, 30) + timedelta(days=7 * n) for n in range(5)
    ]
    assert [bar.label_anchor for bar in labelled] == ["start", "middle", "middle", "middle", "end"]
    # Each label's extent at the largest size the stylesheet sets (a "26/11" is under 3.2
    # times its font size wide in any sans-serif): apart, and within the chart.
    width = 3.2 * views_chart.LABEL_SIZE
    extents = []
    for bar in labelled:
        start = {"start": 0, "middle": width / 2, "end": width}[bar.label_anchor]
        extents.append((bar.label_x - start, bar.label_x - start + width))
    assert extents[0][0] >= 0 and extents[-1][1] <= found.width, extents
    assert all(left[1] < right[0] for left, right in pairwise(extents))


def test_the_stylesheet_draws_chart_labels_at_the_size_the_layout_allows_for() -> None:
    css = (ROOT / "templates" / "style.css").read_text(encoding="utf-8")
    sizes = [float(s) for s in re.findall(r"\.chart text\{[^}]*font-size:([0-9.]+)px", css)]
    assert sizes and max(sizes) == views_chart.LABEL_SIZE, sizes
    # On a 360 px phone (328 px of column) the largest size is still 12 px on screen.
    assert views_chart.LABEL_SIZE * (360 - 32) / views_chart.WIDTH >= 12


def test_a_chart_of_no_views_has_no_bars_but_its_labels() -> None:
    per_day = [
        (datetime(2018, 11, 27, tzinfo=UTC).date() - timedelta(days=n), 0) for n in range(30)
    ]
    found = views_chart.layout(list(reversed(per_day)), 0)
    assert {bar.height for bar in found.bars} == {0.0}
    assert sum(bar.labelled for bar in found.bars) == 5

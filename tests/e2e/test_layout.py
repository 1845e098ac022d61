"""The page of a provincial portal (issue 14, item 12), measured in a real Chromium on a
desktop (1280 x 900) and phones (390 x 844, 360 x 740), on the sample portal
(tests/e2e/content.py):

- a header with the site's name and the category menu, from the published articles;
- a footer with the site's details (template parameters Site*) and the visitor widget at the
  foot of the page, as on the portal this site replaces; on wide screens "most read" and the
  widget in a side column, on screen without scrolling;
- article pictures fitting the column, with their captions under them;
- underlines of bold headline links that neither break at nor touch the dot below ợ ộ ị ụ;
- the stats chart's date labels apart, 12 px or more on a phone, contrast >= 4.5:1.

Screenshots of each layout go to artifacts/e2e/layout-*.png.
"""

from __future__ import annotations

from collections.abc import Callable
from itertools import combinations
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import DESKTOP_UA, IPHONE_UA, Reader, Site
from tests.e2e.content import (
    CATEGORIES,
    MARKED_SLUG,
    MARKED_TITLE,
    PICTURE_CAPTION,
    PICTURE_SLUG,
)
from tests.e2e.measure import (
    Box,
    box,
    colours,
    contrast,
    first_line_ink,
    marks_cut,
    no_horizontal_scroll,
)
from tests.support import SLUG

pytestmark = pytest.mark.e2e

OpenReader = Callable[..., Reader]
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}
SMALL_PHONE = {"width": 360, "height": 740}


def _open(open_reader: OpenReader, viewport: dict[str, int], **options: object) -> Reader:
    ua = IPHONE_UA if viewport["width"] < 600 else DESKTOP_UA
    return open_reader(ua, viewport=viewport, **options)


def _goto(reader: Reader, url: str) -> Page:
    response = reader.page.goto(url)
    assert response is not None and response.ok, f"GET {url}: {response}"
    reader.page.wait_for_load_state("networkidle")  # the widget's first request answered
    return reader.page


def _shot(page: Page, artifacts: Path, name: str) -> None:
    shot = artifacts / f"layout-{name}.png"
    shot.unlink(missing_ok=True)
    page.screenshot(path=shot, full_page=True)
    assert shot.read_bytes().startswith(b"\x89PNG"), shot


def test_header_has_the_site_name_and_the_category_menu(
    portal: Site, open_reader: OpenReader
) -> None:
    reader = _open(open_reader, PHONE)
    page = _goto(reader, portal.base_url + "/")
    header = page.locator("body > header")
    expect(header.get_by_role("link", name="newsdesk", exact=True)).to_have_attribute(
        "href", portal.base_url + "/"
    )
    menu = header.get_by_role("navigation", name="Chuyên mục")
    # Most articles first (Thời sự 3, Kinh tế 2), then by name; the fixture has no category.
    expect(menu.get_by_role("link")).to_have_text(["Trang chủ", *CATEGORIES.values()])
    expect(menu.get_by_role("link", name="Trang chủ")).to_have_attribute("aria-current", "page")
    menu.get_by_role("link", name="Văn hóa").click()
    expect(page).to_have_url(f"{portal.base_url}/categories/van-hoa")
    expect(page.locator("main h1")).to_have_text("Văn hóa")
    page.wait_for_load_state("networkidle")
    current = menu.locator("[aria-current=page]")
    expect(current).to_have_text("Văn hóa")
    # The menu is on every page; a 404 page reads nothing, it shows what its container has.
    _goto(reader, f"{portal.base_url}/articles/{SLUG}")
    expect(menu.get_by_role("link")).to_have_count(1 + len(CATEGORIES))
    missing = f"{portal.base_url}/khong-co-trang-nay"
    page.goto(missing)
    expect(menu.get_by_role("link", name="Trang chủ")).to_be_visible()
    reader.expect_error_answer(missing)
    reader.assert_clean()


def test_the_footer_shows_the_sites_details(
    portal: Site, open_reader: OpenReader, monkeypatch: pytest.MonkeyPatch
) -> None:
    details = {
        "SITE_PUBLISHER": "Sở Thông tin và Truyền thông",
        "SITE_EDITOR": "Nguyễn Văn A",
        "SITE_LICENSE": "Số 12/GP-TTĐT ngày 01/02/2018",
        "SITE_ADDRESS": "Số 1 Lê Lợi, thành phố Tam Kỳ",
        "SITE_PHONE": "(0235) 3.812.345",
        "SITE_EMAIL": "toasoan@baotinh.vn",
    }
    for name, value in details.items():
        monkeypatch.setenv(name, value)
    reader = _open(open_reader, PHONE)
    page = _goto(reader, f"{portal.base_url}/articles/{SLUG}")
    footer = page.get_by_role("contentinfo")
    for line in (
        "Cơ quan chủ quản: Sở Thông tin và Truyền thông",
        "Chịu trách nhiệm chính: Nguyễn Văn A",
        "Giấy phép: Số 12/GP-TTĐT ngày 01/02/2018",
        "Địa chỉ: Số 1 Lê Lợi, thành phố Tam Kỳ",
        "Điện thoại: (0235) 3.812.345",
        "Email: toasoan@baotinh.vn",
    ):
        expect(footer).to_contain_text(line)
    expect(footer.get_by_role("link", name="(0235) 3.812.345")).to_have_attribute(
        "href", "tel:(0235)3.812.345"
    )
    expect(footer.get_by_role("link", name="toasoan@baotinh.vn")).to_have_attribute(
        "href", "mailto:toasoan@baotinh.vn"
    )
    reader.assert_clean()


PAGES = {"home": "/", "article": f"/articles/{SLUG}", "stats": f"/articles/{MARKED_SLUG}/stats"}


@pytest.mark.parametrize("kind", ["home", "article"])
def test_on_a_phone_the_widget_is_at_the_foot_of_the_page(
    portal: Site, open_reader: OpenReader, artifacts: Path, kind: str
) -> None:
    """One column: the page, "most read", then the visitor widget right above the footer
    (the portal's widget closed its pages), nothing wider than the screen."""
    reader = _open(open_reader, PHONE)
    page = _goto(reader, portal.base_url + PAGES[kind])
    main, mostread = box(page.locator("main")), box(page.locator(".mostread"))
    widget, footer = box(page.locator("#visitors")), box(page.get_by_role("contentinfo"))
    assert main.bottom <= mostread.y < mostread.bottom <= widget.y, (main, mostread, widget)
    assert 0 <= footer.y - widget.bottom <= 48, f"widget {widget} is not at the footer {footer}"
    assert abs(widget.x - main.x) < 1 and abs(widget.right - main.right) < 1, (widget, main)
    assert no_horizontal_scroll(page)
    _shot(page, artifacts, f"phone-{kind}")
    reader.assert_clean()


@pytest.mark.parametrize("kind", sorted(PAGES))
def test_on_a_wide_screen_most_read_and_the_widget_are_in_a_side_column(
    portal: Site, open_reader: OpenReader, artifacts: Path, kind: str
) -> None:
    """Beside the page, on screen without scrolling (they were under the article, off
    screen)."""
    reader = _open(open_reader, DESKTOP)
    page = _goto(reader, portal.base_url + PAGES[kind])
    main, widget = box(page.locator("main")), box(page.locator("#visitors"))
    side = [widget]
    if kind != "stats":  # the stats page has no "most read"
        mostread = box(page.locator(".mostread"))
        assert mostread.bottom <= widget.y, (mostread, widget)
        side.append(mostread)
    for found in side:
        assert found.x >= main.right + 16, f"{found} is not beside the page {main}"
        assert found.y >= main.y - 1 and found.bottom <= DESKTOP["height"], found
    assert main.width >= 600, main
    assert no_horizontal_scroll(page)
    _shot(page, artifacts, f"desktop-{kind}")
    reader.assert_clean()


@pytest.mark.parametrize("viewport", [SMALL_PHONE, DESKTOP], ids=["phone", "desktop"])
def test_an_article_picture_fits_the_column_with_its_caption_under_it(
    portal: Site, open_reader: OpenReader, artifacts: Path, viewport: dict[str, int]
) -> None:
    reader = _open(open_reader, viewport)
    page = _goto(reader, f"{portal.base_url}/articles/{PICTURE_SLUG}")
    figure = page.locator("article figure")
    picture, caption = figure.locator("img"), figure.locator("figcaption")
    expect(caption).to_have_text(PICTURE_CAPTION)
    expect(caption).to_be_visible()
    assert picture.evaluate("img => img.complete && img.naturalWidth") == 1200
    column, shown, under = box(page.locator("article")), box(picture), box(caption)
    assert shown.within(column) and shown.width > 0.9 * column.width, (shown, column)
    assert abs(shown.height / shown.width - 800 / 1200) < 0.01, f"distorted: {shown}"
    assert 0 <= under.y - shown.bottom <= 16, f"caption {under} not under the picture {shown}"
    assert under.within(column) and under.x < shown.right and shown.x < under.right
    assert no_horizontal_scroll(page)
    _shot(page, artifacts, f"picture-{'phone' if viewport is SMALL_PHONE else 'desktop'}")
    reader.assert_clean()


@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["phone", "desktop"])
def test_headline_underlines_keep_clear_of_the_marks_below_letters(
    portal: Site, open_reader: OpenReader, viewport: dict[str, int]
) -> None:
    """Under every ợ ộ ị ụ of a bold headline link the underline runs unbroken, with a clear
    row of pixels between the dot and the line (Chromium's skip-ink used to cut the line
    around each dot, which sat on it)."""
    reader = _open(open_reader, viewport, device_scale_factor=2, color_scheme="light")
    page = _goto(reader, portal.base_url + "/")
    link = page.locator("main .list a", has_text=MARKED_TITLE)
    expect(link).to_have_css("font-weight", "600")
    ink = first_line_ink(link)
    marked = [c for c in ink.characters if c in "ạặậẹệịọộợụựỵ"]
    assert len(marked) >= 3, f"the first line has too few marks below: {ink.characters!r}"
    problems = marks_cut(ink)
    assert not problems, "\n".join([*problems, ink.picture()])
    reader.assert_clean()


def _labels(page: Page) -> tuple[Box, list[Box]]:
    """The chart's box and its date labels' boxes, left to right."""
    chart = page.locator("main figure svg")
    labels = chart.locator("text")
    return box(chart), [box(labels.nth(n)) for n in range(labels.count())]


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_chart_labels_are_apart_readable_and_contrasted_on_a_phone(
    portal: Site, open_reader: OpenReader, artifacts: Path, scheme: str
) -> None:
    reader = _open(open_reader, SMALL_PHONE, color_scheme=scheme)
    _goto(reader, f"{portal.base_url}/articles/{MARKED_SLUG}")  # today's bar, counted
    page = _goto(reader, f"{portal.base_url}/articles/{MARKED_SLUG}/stats")
    area, boxes = _labels(page)
    assert len(boxes) >= 4, boxes
    for one, other in combinations(boxes, 2):
        assert not one.overlaps(other), f"labels overlap: {one} {other}"
    assert all(found.within(area) for found in boxes), (boxes, area)
    labels = page.locator("main figure svg text")
    for n in range(len(boxes)):
        label = labels.nth(n)
        size = label.evaluate(
            "t => parseFloat(getComputedStyle(t).fontSize) * t.ownerSVGElement.getScreenCTM().a"
        )
        assert size >= 12, f"{label.text_content()} is drawn at {size:.1f} px"
        fill, behind = colours(label, "fill")
        assert contrast(fill, behind) >= 4.5, f"{fill} on {behind}: {contrast(fill, behind):.2f}"
    assert len(boxes) == 5  # weekly, counting back from today
    _shot(page, artifacts, f"stats-phone-{scheme}")
    reader.assert_clean()


def test_chart_labels_are_apart_on_a_wide_screen(portal: Site, open_reader: OpenReader) -> None:
    reader = _open(open_reader, DESKTOP)
    page = _goto(reader, f"{portal.base_url}/articles/{MARKED_SLUG}/stats")
    area, boxes = _labels(page)
    assert len(boxes) >= 4, boxes
    assert not any(one.overlaps(other) for one, other in combinations(boxes, 2)), boxes
    assert all(found.within(area) for found in boxes), (boxes, area)
    reader.assert_clean()

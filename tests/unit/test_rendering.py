"""Pages render like the original: Vietnamese labels, local dates, '.' thousands separators."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from html.parser import HTMLParser

import pytest
from newsdesk import rendering
from newsdesk.articles import Article, Listing
from newsdesk.config import LOCALES, settings

ARTICLE = Article(
    slug="so-ket-2018",
    title="Sơ kết chương trình <phối hợp> & công tác",
    published_at=datetime(2018, 11, 27, 1, 12, tzinfo=UTC),
    body=("Đoạn một <script>alert(1)</script>.", "Đoạn hai."),
    byline="Thanh Tùng",
)


class Meta(HTMLParser):
    """Collects what a browser and a link previewer read from <head>."""

    def __init__(self) -> None:
        super().__init__()
        self.meta: dict[str, str] = {}
        self.links: dict[str, str] = {}
        self.lang = ""
        self.scripts = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "html":
            self.lang = a.get("lang", "")
        if tag == "meta" and ("property" in a or "name" in a):
            self.meta[a.get("property") or a["name"]] = a.get("content", "")
        if tag == "link":
            self.links[a.get("rel", "")] = a.get("href", "")
        if tag == "script":
            self.scripts += 1


def page(article: Article = ARTICLE, views: int | None = 9575) -> str:
    return rendering.render(
        "article.html",
        base_url="https://news.example",
        article=article,
        views=views,
        canonical=f"https://news.example/articles/{article.slug}",
        stats=None,
    )


def test_numbers_and_dates_follow_the_locale() -> None:
    assert rendering.format_number(9575, "vi") == "9.575"
    assert rendering.format_number(1234567, "vi") == "1.234.567"
    assert rendering.format_number(9575, "en") == "9,575"
    assert rendering.format_date(ARTICLE.published_at, "vi", "Asia/Ho_Chi_Minh") == (
        "27/11/2018 | 08:12"
    )
    assert rendering.format_date(ARTICLE.published_at, "vi", "UTC") == "27/11/2018 | 01:12"


@pytest.mark.parametrize("locale", LOCALES)
def test_whole_numbers_are_written_as_babel_writes_them(locale: str) -> None:
    """format_number groups whole numbers itself (no Babel at a cold start): the same text
    as Babel's format_decimal for every digit count and sign (a fixed, seeded sample)."""
    import random

    from babel.numbers import format_decimal

    rnd = random.Random(15)
    values = [0, 7, -7] + [rnd.randrange(10**n, 10 ** (n + 1)) for n in range(16) for _ in range(8)]
    values += [-v for v in values[3:20]]
    babel_locale = rendering.labels(locale)["babel_locale"]
    for value in values:
        assert rendering.format_number(value, locale) == format_decimal(value, locale=babel_locale)


def test_article_page_shows_date_views_body_byline_widget() -> None:
    html = page()
    assert '<time datetime="2018-11-27T01:12:00Z">27/11/2018 | 08:12</time>' in html
    assert "Lượt xem: <span data-views>9.575</span>" in html
    assert "<p>Đoạn hai.</p>" in html
    assert '<p class="byline">Thanh Tùng</p>' in html
    assert "Số lượng truy cập" in html and "Đang truy cập" in html and "Tổng" in html


def test_article_page_head_for_browsers_search_and_previews() -> None:
    parser = Meta()
    parser.feed(page())
    assert parser.lang == "vi"
    assert parser.links["canonical"] == "https://news.example/articles/so-ket-2018"
    assert parser.meta["og:title"] == ARTICLE.title
    assert parser.meta["og:url"] == parser.links["canonical"]
    assert parser.meta["og:type"] == "article"
    assert parser.meta["description"].startswith("Đoạn một")
    assert "width=device-width" in parser.meta["viewport"]


def test_article_text_is_escaped() -> None:
    html = page()
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;" in html
    assert "&lt;phối hợp&gt; &amp; công tác" in html
    parser = Meta()
    parser.feed(html)
    assert parser.scripts == 1  # only the widget's own script


def test_unknown_count_is_left_out() -> None:
    assert "Lượt xem" not in page(views=None)


def test_index_lists_articles_with_counts_and_next_link() -> None:
    listing = Listing([ARTICLE], next_cursor="abc=", views={"so-ket-2018": 1234})
    html = rendering.render(
        "index.html", base_url="", listing=listing, cursor=None, canonical="/", stats=None
    )
    assert 'href="/articles/so-ket-2018"' in html
    assert "1.234" in html
    assert 'href="/?cursor=abc%3D"' in html


def test_english_labels_by_configuration(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LOCALE", "en")
    settings.cache_clear()
    rendering.environment.cache_clear()
    try:
        html = page()
        assert '<html lang="en">' in html
        assert "Views: <span data-views>9,575</span>" in html
        assert "Online now" in html
    finally:
        rendering.environment.cache_clear()


def test_label_catalogues_have_the_same_keys() -> None:
    assert rendering.labels("vi").keys() == rendering.labels("en").keys()


@pytest.mark.parametrize(
    "value, digits",
    [
        (Decimal(10**30), "1" + "0" * 30),  # Babel's 28-digit context raised InvalidOperation
        (Decimal("1E+40"), "1" + "0" * 40),
    ],
)
def test_a_number_babel_cannot_format_shows_as_its_digits(value: Decimal, digits: str) -> None:
    """A stored count too big for Babel (a site total a bad import raised) never makes a
    page fail: it shows as plain digits."""
    for locale in ("vi", "en"):
        assert rendering.format_number(value, locale) == digits

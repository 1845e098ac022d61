"""Links: every route has a name, every name builds the URL a reader follows, and the names
agree with the routes API Gateway actually serves (template.yaml)."""

from __future__ import annotations

from datetime import UTC, datetime
from html.parser import HTMLParser
from types import SimpleNamespace
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

import pytest
from hypothesis import example, given
from hypothesis import strategies as st
from newsdesk import rendering
from newsdesk.urls import ROUTES, BuildError, path_parameters, url_for

from local.tables import load_template

# What a reader's browser is sent to, route by route (slug "so-ket", category "thoi-su").
EXPECTED = {
    "home": "/",
    "article": "/articles/so-ket",
    "article_stats": "/articles/so-ket/stats",
    "category": "/categories/thoi-su",
    "feed": "/feed.xml",
    "sitemap": "/sitemap.xml",
    "robots": "/robots.txt",
    "api_article_views": "/api/articles/so-ket/views",
    "api_visits": "/api/visits",
    "api_stats": "/api/stats",
    "admin_article": "/api/admin/articles/so-ket",
    "admin_article_views": "/api/admin/articles/so-ket/views",
}
SAMPLE = {"slug": "so-ket", "category": "thoi-su"}


def build(name: str, base_url: str = "", **query: str | None) -> str:
    path = {key: SAMPLE[key] for key in path_parameters(name)}
    return url_for(name, base_url=base_url, **path, **query)


def test_every_route_has_an_expected_url() -> None:
    assert set(EXPECTED) == set(ROUTES)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_every_route_name_resolves(name: str) -> None:
    assert build(name) == EXPECTED[name]
    assert build(name, "https://news.example") == "https://news.example" + EXPECTED[name]


def test_base_url_with_a_trailing_slash_adds_no_empty_segment() -> None:
    assert url_for("home", base_url="https://news.example/") == "https://news.example/"
    assert url_for("article", base_url="http://127.0.0.1:3000/", slug="a") == (
        "http://127.0.0.1:3000/articles/a"
    )


def _http_api_paths() -> set[str]:
    """Every HttpApi event path in template.yaml (the $default catch-all has none)."""
    paths = set()
    for resource in load_template()["Resources"].values():
        events = (resource.get("Properties") or {}).get("Events") or {}
        for event in events.values():
            if event.get("Type") == "HttpApi" and "Path" in event.get("Properties", {}):
                paths.add(event["Properties"]["Path"])
    return paths


def test_route_names_and_template_routes_agree() -> None:
    """Each name builds a path API Gateway routes, and each routed path has a name."""
    assert _http_api_paths() == set(ROUTES.values())


def test_path_parameters_are_escaped_as_one_segment() -> None:
    url = url_for("category", category="thời sự/x?y#z&1%")
    assert url == "/categories/th%E1%BB%9Di%20s%E1%BB%B1%2Fx%3Fy%23z%261%25"
    parts = urlsplit(url)
    assert parts.query == "" and parts.fragment == ""
    assert unquote(parts.path.split("/")[2]) == "thời sự/x?y#z&1%"


@given(st.text(min_size=1).filter(lambda value: value not in (".", "..")))
@example("a/b")
@example("..%2F")
@example("thời-sự")
def test_any_path_parameter_round_trips(value: str) -> None:
    parts = urlsplit(url_for("article_stats", base_url="https://news.example", slug=value))
    assert parts.netloc == "news.example" and parts.query == "" and parts.fragment == ""
    segments = parts.path.split("/")
    assert segments[:2] == ["", "articles"] and segments[3:] == ["stats"]
    assert unquote(segments[2], errors="strict") == value
    assert parts.path.isascii()


@pytest.mark.parametrize("value", ["", ".", ".."])
def test_a_path_parameter_that_is_not_a_segment_is_refused(value: str) -> None:
    with pytest.raises(BuildError):
        url_for("article", slug=value)


@given(st.text())
@example("eyJzbHVnIjoiYS1iIn0=")
@example("a+b==/c d&e=f")
def test_a_cursor_survives_the_query_string(cursor: str) -> None:
    url = url_for("category", base_url="https://news.example", category="thoi-su", cursor=cursor)
    parts = urlsplit(url)
    assert parts.path == "/categories/thoi-su"
    assert parse_qs(parts.query, keep_blank_values=True, strict_parsing=True) == {
        "cursor": [cursor]
    }


def test_a_cursor_is_percent_encoded() -> None:
    assert url_for("home", cursor="ab+c=/ d") == "/?cursor=ab%2Bc%3D%2F%20d"


def test_no_cursor_means_no_query_string() -> None:
    assert url_for("category", category="thoi-su", cursor=None) == "/categories/thoi-su"
    assert url_for("home", cursor=None) == "/"


@pytest.mark.parametrize(
    "name, params",
    [
        ("nowhere", {}),
        ("article", {}),
        ("article", {"slug": None}),
        ("article", {"slug": True}),
        ("home", {"cursor": ["a", "b"]}),
    ],
)
def test_what_cannot_be_built_is_refused(name: str, params: dict[str, Any]) -> None:
    with pytest.raises(BuildError):
        url_for(name, **params)


class Links(HTMLParser):
    """Every href on a page, and the widget script's data- attributes."""

    def __init__(self) -> None:
        super().__init__()
        self.hrefs: list[str] = []
        self.widget: dict[str, str] = {}

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = {key: value or "" for key, value in attrs}
        if "href" in found:
            self.hrefs.append(found["href"])
        if tag == "script" and found.get("id") == "nd-widget":
            self.widget = found


def _links(html: str) -> Links:
    parser = Links()
    parser.feed(html)
    return parser


CURSOR = "eyJzbHVnIjoiYS1iIn0="
ARTICLE = SimpleNamespace(
    slug="so-ket",
    title="Sơ kết",
    published_at=datetime(2018, 11, 27, 1, 12, tzinfo=UTC),
    modified_at=datetime(2018, 11, 27, 1, 12, tzinfo=UTC),
    description="",
    category="Thời sự",
    category_slug="thoi-su",
    body_html="",
    body=("Đoạn một.",),
    byline="",
)


def test_a_category_page_links_its_articles_and_its_pages() -> None:
    listing = SimpleNamespace(articles=[ARTICLE], next_cursor=CURSOR, views={}, page=2)
    html = rendering.render(
        "category.html",
        base_url="https://news.example",
        category="Thời sự",
        category_slug="thoi-su",
        listing=listing,
        cursor="older",
        canonical=url_for("category", base_url="https://news.example", category="thoi-su"),
    )
    hrefs = _links(html).hrefs
    assert "https://news.example/articles/so-ket" in hrefs
    assert "https://news.example/categories/thoi-su" in hrefs  # back to the first page
    older = [href for href in hrefs if "?" in href]
    assert older == ["https://news.example/categories/thoi-su?cursor=eyJzbHVnIjoiYS1iIn0%3D"]
    assert parse_qs(urlsplit(older[0]).query) == {"cursor": [CURSOR]}


def test_the_widget_calls_the_api_at_the_urls_the_page_gives_it() -> None:
    def widget(beacon_slug: str | None) -> dict[str, str]:
        html = rendering.render(
            "article.html",
            base_url="https://news.example",
            article=ARTICLE,
            views=1,
            canonical="https://news.example/articles/so-ket",
            beacon_slug=beacon_slug,
        )
        return _links(html).widget

    counted = widget("so-ket")
    assert counted["data-heartbeat"] == url_for("api_visits") == "/api/visits"
    assert counted["data-beacon"] == url_for("api_article_views", slug="so-ket")
    assert counted["data-slug"] == "so-ket"
    assert "data-beacon" not in widget(None)
    # The script builds no URL of its own: every path it calls comes from those attributes.
    script = (rendering.templates_dir() / "widget.js").read_text(encoding="utf-8")
    assert "/api/" not in script
    assert "post(s.heartbeat)" in script and "post(s.beacon)" in script

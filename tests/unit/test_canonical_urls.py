"""One URL per page (issue 14, items 9 and 10): every other spelling of a page's path maps to
that page's path (the handlers answer it with a 301), and a list page's cursor has one
encoding, which carries the page's number."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator

import pytest
from hypothesis import given
from hypothesis import strategies as st
from newsdesk import articles
from newsdesk.articles import BadCursor, canonical_cursor
from newsdesk.config import settings
from newsdesk.slugs import canonical_slug
from newsdesk.urls import canonical_path


@pytest.mark.parametrize(
    ("asked", "canonical"),
    [
        ("/articles/so-ket/", "/articles/so-ket"),
        ("/articles/so-ket/index.html", "/articles/so-ket"),
        ("/Articles/So-Ket", "/articles/so-ket"),
        ("//articles//so-ket", "/articles/so-ket"),
        ("/ARTICLES/SO-KET/STATS/", "/articles/so-ket/stats"),
        ("/articles/Sơ Kết/", "/articles/so-ket"),  # decoded Vietnamese, in one hop
        ("/categories/Thời sự/", "/categories/thoi-su"),
        ("/index.html", "/"),
        ("/index.php", "/"),
        ("//", "/"),
        ("/feed.xml/", "/feed.xml"),
        ("/FEED.XML", "/feed.xml"),
        ("/feed/", "/feed.xml"),  # WordPress's feed
        ("/rss", "/feed.xml"),
        ("/rss.xml", "/feed.xml"),
        ("/wp-sitemap.xml", "/sitemap.xml"),
        ("/sitemap_index.xml", "/sitemap.xml"),
        ("/Robots.txt", "/robots.txt"),
        # A WordPress site's permalinks (BREAK14 finding 4): the post_name is the slug.
        ("/2024/04/20/da-nang-hoi-an-mua-le-hoi/", "/articles/da-nang-hoi-an-mua-le-hoi"),
        ("/2024/04/da-nang-hoi-an-mua-le-hoi/", "/articles/da-nang-hoi-an-mua-le-hoi"),
        ("/2024/da-nang-hoi-an-mua-le-hoi/", "/articles/da-nang-hoi-an-mua-le-hoi"),
        ("/da-nang-hoi-an-mua-le-hoi/", "/articles/da-nang-hoi-an-mua-le-hoi"),
        ("/2018/11/27/bản-tin-sáng/", "/articles/ban-tin-sang"),  # decoded post_name
        ("/category/du-lich/", "/categories/du-lich"),
        ("/category/thoi-su/trong-nuoc/", "/categories/trong-nuoc"),
    ],
)
def test_another_spelling_maps_to_the_page(asked: str, canonical: str) -> None:
    assert canonical_path(asked, canonical_slug) == canonical


@pytest.mark.parametrize(
    "path",
    [
        "/",
        "/articles/so-ket",
        "/feed.xml",
        "/nothing-here",
        "/articles/",  # no slug: no page
        "/articles/a.b/",  # a slug with a dot is refused, not redirected
        "/articles/so-ket/comments",
        "/api/stats/",  # the JSON API is no page
        "/API/visits",
        "/2024/04/20/",  # a WordPress date archive: no page here
        "/wp-admin/",
        "/tag/bao/",
        "/page/2/",
        "/articles/",
        "/categories/",
        "/da-nang/comments/",
    ],
)
def test_a_canonical_or_unknown_path_maps_to_nothing(path: str) -> None:
    assert canonical_path(path, canonical_slug) is None


@given(st.text(alphabet=st.sampled_from("/aAé.-%0 x"), max_size=30))
def test_a_mapped_path_is_canonical_itself(path: str) -> None:
    """Following a redirect never leads to another redirect."""
    found = canonical_path("/" + path, canonical_slug)
    if found is not None:
        assert canonical_path(found, canonical_slug) is None


# ---- cursors -------------------------------------------------------------------------------


@pytest.fixture
def tables_env(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for name in ("ARTICLES_TABLE", "COUNTERS_TABLE", "CONNECTIONS_TABLE"):
        monkeypatch.setenv(name, name.lower())
    settings.cache_clear()
    yield
    settings.cache_clear()


def encode(plain: dict[str, object], **dump: object) -> str:
    return base64.urlsafe_b64encode(json.dumps(plain, **dump).encode()).decode()  # type: ignore[arg-type]


KEY = {"slug": "a", "status": "published", "published_at": "2024-01-02T01:00:00Z"}


def test_a_cursor_has_one_spelling_with_its_page_number(tables_env: None) -> None:
    canonical = canonical_cursor(encode({**KEY, "page": 3}, separators=(",", ":")))
    assert canonical_cursor(canonical) == canonical
    assert json.loads(base64.urlsafe_b64decode(canonical))["page"] == 3
    spaced = encode({**KEY, "page": 3})
    reordered = encode(dict(reversed(list({**KEY, "page": 3}.items()))))
    assert len({canonical, spaced, reordered}) == 3
    assert canonical_cursor(spaced) == canonical_cursor(reordered) == canonical


def test_a_cursor_issued_before_page_numbers_still_works(tables_env: None) -> None:
    old = encode({"slug": "a", "published_at": KEY["published_at"], "status": "published"})
    canonical = canonical_cursor(old)
    assert "page" not in json.loads(base64.urlsafe_b64decode(canonical))


@pytest.mark.parametrize("page", [0, 1, -2, "2", True, 1.5, articles.MAX_PAGE + 1])
def test_a_cursor_with_a_wrong_page_number_is_refused(tables_env: None, page: object) -> None:
    with pytest.raises(BadCursor):
        canonical_cursor(encode({**KEY, "page": page}))


def test_a_category_cursor_is_not_a_home_cursor(tables_env: None) -> None:
    category = encode(
        {"slug": "a", "category_slug": "thoi-su", "published_at": "2024-01-02T01:00:00Z"}
    )
    assert canonical_cursor(category, "thoi-su")
    with pytest.raises(BadCursor):
        canonical_cursor(category)
    with pytest.raises(BadCursor):
        canonical_cursor(category, "the-thao")

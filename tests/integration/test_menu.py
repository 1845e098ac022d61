"""The header's category menu and the footer's details (issue 14, item 12), with the handlers
against moto: the scheduled job computes the menu from the published articles (drafts,
scheduled articles and articles without a category left out; spellings of one category
together; most articles first; at most MENU_SIZE), pages read it at most once per container
per minute, and a page shows without it when it cannot be read."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError
from newsdesk import caches, menu, mostread
from newsdesk.dal import counters

from tests.support import SLUG, Calls, event, import_fixture, invoke

pytestmark = pytest.mark.usefixtures("moto_tables")


def import_json(tmp_path: Path, articles: list[dict[str, Any]]) -> None:
    from newsdesk.importer import import_paths

    path = tmp_path / "articles.json"
    path.write_text(json.dumps(articles, ensure_ascii=False), encoding="utf-8")
    summary = import_paths([path], report=lambda _: None)
    assert not summary.rejected, summary.rejected


def article(n: int, category: str | None, **fields: Any) -> dict[str, Any]:
    return {
        "slug": f"bai-{n}",
        "title": f"Bài số {n}",
        "body": [f"Nội dung {n}."],
        "published_at": f"2024-01-{n:02d}T08:00:00+07:00",
        **({"category": category} if category else {}),
        **fields,
    }


def menu_links(body: str) -> list[tuple[str, str]]:
    """(path, text) of the header menu's links."""
    nav = re.search(r'<nav class="menu"[^>]*>(.*?)</nav>', body, re.S)
    assert nav, "the page has no menu"
    return [
        (re.sub(r"^https?://[^/]+", "", href), text)
        for href, text in re.findall(r'<a href="([^"]+)"[^>]*>([^<]*)</a>', nav.group(1))
    ]


def test_the_menu_lists_categories_with_visible_articles_most_articles_first(
    tmp_path: Path,
) -> None:
    import_json(
        tmp_path,
        [
            article(1, "Thời sự"),
            article(2, "thời sự"),  # the same category (slug thoi-su), older spelling
            article(3, "Thời Sự"),  # the newest spelling names it
            article(4, "Kinh tế"),
            article(5, "Kinh tế"),
            article(6, "Giải trí", status="draft"),
            article(7, "Thể thao", published_at="2999-01-01T08:00:00+07:00"),
            article(8, None),
            *(article(10 + n, f"Chuyên mục {n}") for n in range(9)),
        ],
    )
    found = menu.refresh()
    assert [(c.slug, c.name, c.articles) for c in found[:2]] == [
        ("thoi-su", "Thời Sự", 3),
        ("kinh-te", "Kinh tế", 2),
    ]
    # Then one article each, by name, cut at MENU_SIZE.
    assert [c.name for c in found[2:]] == [f"Chuyên mục {n}" for n in range(6)]
    assert len(found) == menu.MENU_SIZE
    assert menu.categories() == found


def test_one_article_without_diacritics_does_not_rename_a_category(tmp_path: Path) -> None:
    """Fresh-clone finding 17: the newest article spelling "Thoi Su" left the menu saying
    "Thoi Su" for every "Thời sự" article; the spelling most articles use names it."""
    import_json(
        tmp_path,
        [
            article(1, "Thời sự"),
            article(2, "Thời sự"),
            article(3, "Thoi Su"),  # the newest
            article(4, "Kinh te"),  # a tie: the one with Vietnamese letters wins
            article(5, "Kinh tế"),
        ],
    )
    names = {c.slug: c.name for c in menu.refresh()}
    assert names == {"thoi-su": "Thời sự", "kinh-te": "Kinh tế"}


def h1(body: str) -> str:
    found = re.search(r"<h1[^>]*>([^<]*)</h1>", body)
    assert found, "no h1"
    return found.group(1)


def test_the_category_page_is_named_as_the_menu_names_it(tmp_path: Path) -> None:
    """The newest article spelling "Thoi Su" named the category page while the menu used
    the spelling most articles use: both say "Thời sự" now, in the menu or not."""
    many = [  # categories of 4 articles each: kinh-te (3) is left out of the menu
        article(100 + 10 * c + k, f"Mục {c}", published_at=f"2023-0{k + 1}-1{c}T08:00:00Z")
        for c in range(menu.MENU_SIZE - 1)
        for k in range(4)
    ]
    import_json(
        tmp_path,
        [
            *many,
            *(article(n, "Thời sự") for n in range(1, 5)),
            article(5, "Thoi Su"),  # the newest
            article(6, "Kinh tế"),
            article(7, "Kinh tế"),
            article(8, "kinh te"),  # the newest
        ],
    )
    mostread.refresh()
    caches.clear_all()
    names = {c.slug: c.name for c in menu.categories()}
    assert names["thoi-su"] == "Thời sự"
    assert "kinh-te" not in names  # the menu is full of categories with more articles
    body = invoke("pages", event("category") | category_path("thoi-su"))["body"]
    assert h1(body) == "Thời sự" and "<title>Thời sự |" in body
    body = invoke("pages", event("category") | category_path("kinh-te"))["body"]
    assert h1(body) == "Kinh tế"


def test_every_page_has_the_menu_and_the_footer(tmp_path: Path) -> None:
    import_fixture()
    import_json(tmp_path, [article(1, "Thời sự"), article(2, "Kinh tế")])
    mostread.refresh()  # the scheduled job: the lists, then the menu
    for name in ("index", "article", "article-stats", "not-found", "article-unknown"):
        body = invoke("pages", event(name))["body"]
        assert menu_links(body)[1:] == [
            ("/categories/kinh-te", "Kinh tế"),
            ("/categories/thoi-su", "Thời sự"),
        ], name
        footer = body.split('<footer class="site">', 1)[1]
        assert "<p>Cơ quan chủ quản: Ban Tuyên giáo Tỉnh ủy</p>" in footer, name
        assert "Giấy phép" not in footer and "<address>" not in footer, name  # none set
    category = invoke("pages", event("category") | category_path("kinh-te"))["body"]
    assert (
        '<a href="https://abc123.execute-api.us-east-1.amazonaws.com/categories/kinh-te"'
        ' aria-current="page">Kinh tế</a>' in category
    )


def category_path(slug: str) -> dict[str, Any]:
    data = event("category")
    data["rawPath"] = data["requestContext"]["http"]["path"] = f"/categories/{slug}"
    data["pathParameters"] = {"category": slug}
    return data


def test_before_the_jobs_first_run_the_menu_has_home_only() -> None:
    import_fixture()
    assert menu_links(invoke("pages", event("index"))["body"]) == [("/", "Trang chủ")]


def test_pages_read_the_menu_at_most_once_per_container_per_minute(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import_fixture()
    import_json(tmp_path, [article(1, "Thời sự")])
    mostread.refresh()
    caches.clear_all()  # a new container
    now = [1000.0]
    monkeypatch.setattr(caches, "clock", lambda: now[0])
    calls = Calls()
    for _ in range(3):
        invoke("pages", event("article"))
    assert calls.count("GetItem", "-counters", "menu") == 1
    now[0] += menu.CACHE_SECONDS + 1
    invoke("pages", event("article-stats"))
    assert calls.count("GetItem", "-counters", "menu") == 2
    caches.clear_all()  # a new container's error page shows no menu rather than read one
    assert menu_links(invoke("pages", event("not-found"))["body"]) == [("/", "Trang chủ")]
    assert calls.count("GetItem", "-counters", "menu") == 2
    assert calls.count("Query", "-articles") == 0, "no page lists the categories itself"


def test_a_page_shows_without_its_menu_when_it_cannot_be_read(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import_fixture()
    mostread.refresh()

    def refuse() -> None:
        raise ClientError({"Error": {"Code": "InternalServerError"}}, "GetItem")

    monkeypatch.setattr(counters, "menu", refuse)
    page = invoke("pages", event("article"))
    assert page["statusCode"] == 200
    assert menu_links(page["body"]) == [("/", "Trang chủ")]
    assert SLUG in page["body"]
